"""The app picks its live mode against a real demo org and says which and why (status, card)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from smvue_demo_org.profile import OrgProfile
from smvue_tui.config import app_paths
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.connection import record_connection
from smvue_tui.services.integration_card import load_card
from smvue_tui.services.live_choice import start_best_mode
from smvue_tui.store.db import open_store
from smvue_tui.sync.status import write_status
from tests.integration.sync_support import client_for
from tests.integration.test_live_latency import Live


@pytest.fixture
def paths():
    return app_paths()  # under the test's SMVUE_HOME


async def _start(running, paths, config=None):
    creds = credentials_from_token(running.web_login(),
                                   environment=resolve_environment(running.base_url),
                                   client_id=running.org.client_id)
    TokenStore(paths.token_file).save(creds)
    paths = paths.for_org(creds.org_id)  # the org's own store, as the app opens it
    db = open_store(paths.database)
    connection = record_connection(creds)
    live = Live(running, db)
    choice = await start_best_mode(
        live.live, paths=paths, config=config or {}, db=db, connection=connection,
        public_url=None, loopback_ok=False, client_factory=lambda: client_for(running),
        demo_targets=[SimpleNamespace(org=running.org)])
    return db, live, choice, paths


def _status(paths) -> str:
    out = io.StringIO()
    write_status(paths, as_json=False, out=out)
    return out.getvalue()


async def test_an_org_with_cdc_gets_change_data_capture(make_org, paths):
    running = make_org(size=60, pubsub=True)
    db, live, choice, paths = await _start(running, paths)
    try:
        assert choice.mode == "cdc" and live.live.mode.name == "Change Data Capture"
        assert "Live updates: Change Data Capture" in _status(paths)
        assert "Change Data Capture is on for Opportunity" in load_card(paths).notifications
    finally:
        await live.live.stop()
        db.close()


async def test_no_cdc_and_no_public_url_polls_and_says_why(make_org, paths):
    running = make_org(size=60, pubsub=True, profile=OrgProfile(change_data_capture=()))
    db, live, choice, paths = await _start(running, paths)
    try:
        assert choice.mode == "polling" and live.live.mode.name == "Polling"
        assert "Change Data Capture is off for Opportunity" in choice.reason
        assert "Live updates: Polling" in _status(paths)
    finally:
        await live.live.stop()
        db.close()


async def test_config_toml_overrides_the_choice(make_org, paths):
    running = make_org(size=60, pubsub=True)
    db, live, choice, paths = await _start(running, paths, {"live": {"mode": "polling"}})
    try:
        assert choice.mode == "polling"
        assert 'mode = "polling" in config.toml' in _status(paths)
    finally:
        await live.live.stop()
        db.close()



async def test_the_saved_live_state_is_read_and_written_off_the_event_loop(make_org, paths,
                                                                          monkeypatch):
    """Polling restores today's call count from a file, and the reporter saves the mode's
    state to one: both on a worker thread — a slow disk must not stall the app's loop (the
    screens, the listener) — and on stop too."""
    import threading

    from smvue_tui.services import live_choice

    loop_thread, threads = threading.get_ident(), []
    for name in ("load_live_state", "save_live_state"):
        real = getattr(live_choice, name)

        def recorded(*args, _real=real, _name=name, **kwargs):
            threads.append((_name, threading.get_ident()))
            return _real(*args, **kwargs)

        monkeypatch.setattr(live_choice, name, recorded)
    running = make_org(size=60, pubsub=True, profile=OrgProfile(change_data_capture=()))
    db, live, choice, paths = await _start(running, paths)
    try:
        assert choice.mode == "polling"
    finally:
        await live.live.stop()
        db.close()
    assert {name for name, _ in threads} == {"load_live_state", "save_live_state"}
    assert [name for name, ident in threads if ident == loop_thread] == []
    assert "Live updates: Polling" in _status(paths)  # saved all the same


async def test_preflight_says_which_objects_have_cdc_and_what_to_enable(make_org):
    from smvue_tui.salesforce.preflight import PreflightReport
    from smvue_tui.services.live_choice import add_cdc_preflight

    running = make_org(size=60, pubsub=True,
                       profile=OrgProfile(change_data_capture=("Opportunity", "Account")))
    creds = credentials_from_token(running.web_login(),
                                   environment=resolve_environment(running.base_url),
                                   client_id=running.org.client_id)
    report = PreflightReport()
    await add_cdc_preflight(report, creds, {}, [SimpleNamespace(org=running.org)])
    line = report.line("Change Data Capture")
    assert line.status == "warn" and report.ok  # a warning: live updates still work
    assert line.message == ("on for Opportunity, Account; off for Contact, Task, Event, "
                            "OpportunityContactRole")
    assert "Setup → Integrations → Change Data Capture" in line.remedy
