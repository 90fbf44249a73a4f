"""Team mode: two TUIs (Pilot) on a team store that `smvue-tui serve` (a real process) keeps
fresh from a demo org. A change made in the org reaches both pipeline screens without a key
press — the writer's commit NOTIFYs, each TUI hears it — and neither TUI calls Salesforce. The
header says who writes and, once the writer is killed, that there is none.

``team_change_to_screen`` is shared with ``tests/benchmarks/team_screen_bench.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from smvue_tui.config import app_paths
from smvue_tui.salesforce.guard import recording
from smvue_tui.services.team_mode import open_team_services
from smvue_tui.store import models as m
from smvue_tui.store.identity import set_manager
from smvue_tui.tui.app import SmvueApp
from tests.integration.team_serve_support import Serve, save_login
from tests.tui.test_live_screen import _wait as wait


def writer_config(home: Path, running) -> None:
    """The writer hears the org by Change Data Capture (the demo org's Pub/Sub API)."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        f'[live]\nmode = "cdc"\npubsub_endpoint = "{running.org.pubsub_endpoint}"\n')


def manager_services(home: Path, url: str, manager: str):
    """A manager's machine: no Salesforce login, only the store's URL and who they are."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        f'[store]\nurl = "{url}"\n\n[team]\nmanager = "{manager}"\n')
    services = open_team_services(app_paths({"SMVUE_HOME": str(home)}))
    services.background = False
    return services




async def team_change_to_screen(apps: list[SmvueApp], running, changes: int
                                ) -> tuple[list[float], list[float], list[float]]:
    """(change→store, change→every screen, heard→screen) seconds, in change order, for
    ``changes`` sequential Amount edits in the org, the apps already running on their pipeline
    screens; ``serve`` writes the store. heard→screen is team mode's own part: from the
    NOTIFY reaching an app to its screen's re-read figures (the slowest app's)."""
    screens = [app.screen for app in apps]
    deals = [d.id for d in m.Opportunity.select().where(
        m.Opportunity.is_closed == False).limit(20)]  # noqa: E712
    to_store, to_screen, woken = [], [], []
    for n in range(changes):
        deal, amount = deals[n % len(deals)], 700_000.0 + n
        before = [screen.summary for screen in screens]
        started = time.perf_counter()
        running.admin("PATCH", f"/records/Opportunity/{deal}", json={"Amount": amount})
        assert await wait(lambda d=deal, a=amount: m.Opportunity.get_by_id(d).amount == a), (
            f"serve never stored change {n}")
        to_store.append(time.perf_counter() - started)
        shown = []
        for screen, old in zip(screens, before, strict=True):
            assert await wait(lambda s=screen, o=old: s.summary is not o), (
                f"a screen never showed change {n}")
            shown.append(time.perf_counter())
        to_screen.append(shown[-1] - started)
        woken.append(max(at - app.team.heard_at for at, app in zip(shown, apps, strict=True)))
    return to_store, to_screen, woken


@pytest.mark.parametrize("make_org_options", [{"pubsub": True}])
async def test_two_team_mode_tuis_show_an_org_change_by_themselves(
        make_org, make_org_options, tmp_path, pg_url, serves, monkeypatch):
    monkeypatch.delenv("SMVUE_STORE_URL", raising=False)
    running = make_org(**make_org_options)
    writer_home = tmp_path / "writer"
    save_login(running, writer_home)
    writer_config(writer_home, running)
    serve = Serve(writer_home, pg_url)
    serves.append(serve)
    serve.wait_for("sync: ok")
    serve.wait_for("live updates: Change Data Capture")
    ann = manager_services(tmp_path / "ann", pg_url, "ann@acme.example")
    bob = manager_services(tmp_path / "bob", pg_url, "bob@acme.example")
    apps = [SmvueApp(ann), SmvueApp(bob)]
    try:
        with recording() as log:
            async with contextlib.AsyncExitStack() as stack:
                for app in apps:
                    await stack.enter_async_context(app.run_test(size=(120, 40)))
                for app in apps:
                    assert app.current_mode == "pipelines"  # no Connect: nothing to log in to
                    assert await wait(lambda a=app: a.screen.summary is not None)
                    assert await wait(lambda a=app: a.team.listener.listening.is_set())
                    assert await wait(lambda a=app: "serve on " in a.sub_title), app.sub_title
                _store, timings, _woken = await team_change_to_screen(apps, running, 3)
                assert all(app.team.heard for app in apps)
                serve.kill()  # the writer is gone: both headers say so
                for app in apps:
                    # once the server has seen the connection go (its lock goes with it: on
                    # a loaded machine the server may notice after the process is reaped)
                    for _ in range(100):
                        await app.team.refresh_status()
                        if "NO WRITER" in app.sub_title:
                            break
                        await asyncio.sleep(0.1)
                    assert "NO WRITER" in app.sub_title, app.sub_title
        assert log.entries == [] and log.refused == []  # neither TUI called Salesforce
    finally:
        set_manager("")
        ann.db.close()
    print(f"\nteam change→screen (both TUIs): {', '.join(f'{t:.2f}s' for t in timings)}")
