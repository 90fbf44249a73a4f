"""`smvue-tui sync` and `smvue-tui status` in-process against a demo org, as a user runs them."""

from __future__ import annotations

import json

import pytest

from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.store import models as m
from smvue_tui.store.backend import schema_for
from smvue_tui.store.org_stores import open_org_store, paths_for_login


def _log_in(running) -> None:
    token = running.web_login()
    creds = credentials_from_token(token, environment=resolve_environment(running.base_url),
                                   client_id=running.org.client_id)
    TokenStore().save(creds)


def _live_opportunities(running) -> set[str]:
    conn = running.org.store.reader()
    try:
        return {r[0] for r in conn.execute("SELECT Id FROM Opportunity WHERE IsDeleted = 0 "
                                           "AND (IsClosed = 0 OR CloseDate >= date('now', "
                                           "'-365 days'))")}
    finally:
        conn.close()


@pytest.fixture
def store():
    """Open the store the CLI wrote (the login's org's, after it ran), closed after the test."""
    opened = []

    def open_it():
        db = open_org_store(paths_for_login(app_paths()))  # SMVUE_STORE_URL's, when set
        opened.append(db)
        return db

    yield open_it
    for db in opened:
        db.close()


def test_sync_then_status(demo, capsys, store, store_backend):
    _log_in(demo)
    assert main(["sync"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("initial sync ok:")
    assert "API calls" in out
    assert "Opportunity" in err and "rec/s" in err  # one progress line per event (not a TTY)

    assert main(["sync", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "incremental" and report["status"] == "ok"
    assert report["api_calls"] <= 4

    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["connection"]["org_id"] == demo.org.org_id
    assert status["last_sync"]["kind"] == "incremental"
    assert status["last_sync"]["status"] == "ok"
    assert status["api_usage"]["max"] == demo.org.usage.daily_limit
    assert status["next_sync"] == "on demand (smvue-tui sync)"

    store()
    stored = {o.id for o in m.Opportunity.select()}
    assert stored == _live_opportunities(demo)
    assert status["objects"]["Opportunity"] == len(stored)
    connection = m.Connection.get()
    assert (connection.org_id, connection.environment) == (demo.org.org_id, "demo")
    assert [r.status for r in m.SyncRun.select().order_by(m.SyncRun.id)] == ["ok", "ok"]
    # One setting chose the store: with SMVUE_STORE_URL nothing was written to a file.
    sqlite_file = paths_for_login(app_paths()).database
    if store_backend.is_postgres:
        assert not sqlite_file.exists()
        assert status["store_path"].endswith(f"(schema {schema_for(demo.org.org_id)})")
    else:
        assert status["store_path"] == str(sqlite_file) and sqlite_file.exists()


def test_status_text_after_sync(demo, capsys, store_backend):
    _log_in(demo)
    assert main(["sync"]) == 0
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"org {demo.org.org_id}" in out
    assert "Last sync: initial ok" in out
    assert "Next sync: on demand (smvue-tui sync)" in out
    assert "API usage:" in out and "not known" not in out


def test_not_logged_in(capsys):
    assert main(["sync"]) == 2
    assert "Not connected to Salesforce — run `smvue-tui login` first" in capsys.readouterr().err
    assert not app_paths().database.exists()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "not connected" in out and "Store: none yet" in out


def test_api_limit_exhausted_pauses(demo, capsys, store):
    _log_in(demo)
    demo.admin("POST", "/usage", json={"used": demo.org.usage.daily_limit})
    assert main(["sync"]) == 3
    out, err = capsys.readouterr()
    assert "paused: Salesforce API rate limit exceeded — resumes at " in err
    assert "sync ok" not in out

    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_sync"]["status"] == "paused"
    assert status["last_sync"]["resumes_at"]
    assert status["last_sync"]["errors"][0]["code"] == "REQUEST_LIMIT_EXCEEDED"
    store()
    assert m.SyncRun.get().status == "paused"


def test_full_and_reconcile_runs(demo, capsys):
    _log_in(demo)
    assert main(["sync", "--full", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "full"
    victim = sorted(_live_opportunities(demo))[0]
    demo.admin("DELETE", f"/records/Opportunity/{victim}")
    assert main(["sync", "--reconcile", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "reconcile" and report["status"] == "ok"
    assert report["removed"].get("Opportunity", 0) >= 1


def test_reconcile_summary_reports_repaired_drift(demo, capsys, store):
    _log_in(demo)
    assert main(["sync"]) == 0
    db = store()
    # Rows gone astray that no closure rule brings back: only the count check finds them.
    lost = m.Activity.select(m.Activity.id).where(m.Activity.kind == "Task").limit(3)
    assert m.Activity.delete().where(m.Activity.id.in_(lost)).execute() == 3
    db.close()
    capsys.readouterr()
    assert main(["sync", "--reconcile"]) == 0
    out = capsys.readouterr().out
    assert "drift repaired" in out and "Task 3" in out
    assert main(["sync", "--reconcile"]) == 0
    assert "reconciled: every object's Ids and counts match the org" in capsys.readouterr().out


def test_a_damaged_store_is_reported_then_moved_aside_keeping_the_notes(demo, capsys, store):
    """Issue 20 item 5, as the user meets it: `status` and `sync` on a store with a destroyed
    header end in words (no traceback, no advice to run sync again for a damaged file); the
    sync moves the file aside, keeps the notes and reads Salesforce again."""
    _log_in(demo)
    assert main(["sync"]) == 0
    db = store()
    deal = m.Opportunity.select().first().id
    m.Note.create(opportunity_id=deal, body="Champion is the CFO")
    m.ActionItem.create(opportunity_id=deal, text="Book the demo")
    db.close()
    path = paths_for_login(app_paths()).database
    with path.open("r+b") as fh:
        fh.write(b"\x8f" * 100)  # a random header
    capsys.readouterr()
    assert main(["status"]) == 0
    out, _err = capsys.readouterr()
    assert f"Store: {path} is DAMAGED" in out and "Traceback" not in out
    assert main(["store", "check"]) == 1
    assert f"DAMAGED  {path}" in capsys.readouterr().out
    assert main(["sync"]) == 0
    out, err = capsys.readouterr()
    assert f"The store {path} was damaged" in err and "moved aside to" in err
    assert out.startswith("initial sync ok:")
    db = store()
    assert [n.body for n in m.Note.select()] == ["Champion is the CFO"]
    assert [a.text for a in m.ActionItem.select()] == ["Book the demo"]
    assert m.Opportunity.get_or_none(m.Opportunity.id == deal) is not None
    assert list(path.parent.glob(f"{path.name}.damaged-*"))


def test_damage_found_mid_sync_is_reported_then_repaired_by_the_next_run(demo, capsys, store):
    """Garbage over the data pages of a store that stopped cleanly (so no quick_check at the
    open): the sync that meets it fails in words, and the next one moves it aside."""
    import random

    _log_in(demo)
    assert main(["sync"]) == 0
    db = store()
    m.Note.create(opportunity_id=m.Opportunity.select().first().id, body="Keep me")
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    db.close()
    path = paths_for_login(app_paths()).database
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 3)
        fh.write(random.Random(3).randbytes(size - size // 3))
    capsys.readouterr()
    codes = [main(["sync", "--full"])]
    _out, err = capsys.readouterr()
    if codes[0] != 0:  # met it mid-run: said so, and marked the store for the next open
        assert "The local store is damaged" in err and "Traceback" not in err
        codes.append(main(["sync"]))
        _out, err = capsys.readouterr()
    assert codes[-1] == 0
    assert f"The store {path} was damaged" in err
    store()
    assert [n.body for n in m.Note.select()] == ["Keep me"]
