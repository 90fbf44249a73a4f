"""`smvue-tui status` from the files on disk: no store, no login, a synced store, a paused run."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from smvue_tui.config import app_paths
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.sync.fields import FieldPlan, save_plans
from smvue_tui.sync.status import (
    ON_DEMAND,
    collect_status,
    load_usage,
    render_text,
    save_usage,
    status_json,
    write_status,
)


def _login() -> Credentials:
    creds = Credentials(
        access_token="00Dsecret!token", refresh_token="5Aep-refresh", user_id="005000000000001AAA",
        instance_url="https://acme.my.salesforce.com", org_id="00D000000000001AAA",
        identity_url="https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
        environment=resolve_environment("production"), username="jane@acme.com",
        display_name="Jane Doe")
    TokenStore().save(creds)
    return creds


@pytest.fixture
def store():
    db = open_store(app_paths().database)
    yield db
    db.close()


def test_nothing_yet_is_a_state_not_an_error():
    out = io.StringIO()
    assert write_status(app_paths(), as_json=False, out=out) == 0
    text = out.getvalue()
    assert "not connected (run `smvue-tui login`)" in text
    assert "Store: none yet" in text and "Last sync: never" in text
    assert f"Next sync: {ON_DEMAND}" in text
    assert not app_paths().database.exists()  # status never creates the store


def test_synced_store_counts_last_run_and_skips(store):
    _login()
    m.Opportunity.insert_many([{"id": f"006{i:015d}"} for i in range(3)]).execute()
    m.StageHistory.insert_many([
        {"id": "008000000000001AAA", "sobject": "OpportunityHistory"},
        {"id": "017000000000001AAA", "sobject": "LeadHistory"}]).execute()
    save_plans([FieldPlan("Opportunity", True, ("Id",), ("NextStep",)),
                FieldPlan("EmailMessage", False, (), ("Id",))])
    m.SyncRun.create(kind="initial", status="ok", api_calls=40,
                     finished_at="2026-11-26T10:00:00+00:00")
    m.SyncRun.create(kind="incremental", status="ok", api_calls=4,
                     finished_at="2026-11-26T11:00:00+00:00")
    status = collect_status(app_paths())
    assert status.connection["org_id"] == "00D000000000001AAA"
    assert status.connection["user"] == "Jane Doe <jane@acme.com>"
    assert status.objects["Opportunity"] == 3
    assert status.objects["OpportunityHistory"] == 1 and status.objects["LeadHistory"] == 1
    assert status.last_sync["kind"] == "incremental" and status.last_sync["api_calls"] == 4
    assert status.next_sync == ON_DEMAND
    assert set(status.skipped) == {"Opportunity", "EmailMessage"}
    assert "NextStep" in status.skipped["Opportunity"]
    text = render_text(status, now=datetime(2026, 11, 26, 11, 30, tzinfo=UTC))
    assert "Last sync: incremental ok" in text and "(30 min ago)" in text
    assert "EmailMessage is not available" in text
    assert "secret" not in text and "secret" not in status_json(status)
    assert m.Opportunity._meta.database is store  # the caller's store is still the bound one


def test_paused_run_shows_when_it_resumes_and_what_to_do(store):
    m.SyncRun.create(kind="incremental", status="paused", resumes_at="2026-11-27T08:00:00+00:00",
                     errors=json.dumps([{"object": "", "code": "REQUEST_LIMIT_EXCEEDED",
                                         "message": "Salesforce API rate limit exceeded",
                                         "detail": "TotalRequests Limit exceeded.",
                                         "remedy": "Syncing resumes when the limit resets."}]))
    status = collect_status(app_paths())
    assert status.next_sync.startswith("after the API limit resets")
    text = render_text(status)
    assert "paused: Salesforce API rate limit exceeded — resumes at 2026-11-27" in text
    assert "What failed:" in text and "[REQUEST_LIMIT_EXCEEDED]" in text
    assert "what to do: Syncing resumes when the limit resets." in text


def test_interrupted_run_resumes_next_time(store):
    m.SyncRun.create(kind="initial", status="cancelled")
    assert "resumes where the last run stopped" in collect_status(app_paths()).next_sync


def test_usage_reading_round_trip():
    paths = app_paths()
    assert load_usage(paths) is None
    save_usage(paths, SimpleNamespace(used=0, max=None, updated_at=None))  # no reading: kept out
    assert load_usage(paths) is None
    save_usage(paths, SimpleNamespace(used=1234, max=15000,
                                      updated_at=datetime(2026, 11, 26, tzinfo=UTC)))
    assert load_usage(paths) == {"used": 1234, "max": 15000,
                                 "updated_at": "2026-11-26T00:00:00+00:00"}
    text = render_text(collect_status(paths))
    assert "API usage: 1,234 / 15,000 today (8%)" in text


def test_damaged_usage_file_is_unknown_usage():
    paths = app_paths()
    paths.data_dir.mkdir(parents=True)
    (paths.data_dir / "api-usage.json").write_text("{not json")
    assert load_usage(paths) is None


def test_damaged_login_is_reported_not_raised():
    paths = app_paths()
    paths.data_dir.mkdir(parents=True)
    paths.token_file.write_text("garbage")
    status = collect_status(paths)
    assert status.connection is None
    assert "could not be read" in status.login_problem
    assert "login unreadable" in render_text(status)
