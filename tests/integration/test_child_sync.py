"""Syncs in a child process (as the TUI runs them) against a demo org over loopback."""

from __future__ import annotations

import asyncio

import pytest

from smvue_tui.config import app_paths
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.sync_child import ChildSync
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.object_spec import Lookbacks
from tests.integration.sync_support import differences


def _log_in(running, paths) -> None:
    creds = credentials_from_token(running.web_login(),
                                   environment=resolve_environment(running.base_url),
                                   client_id=running.org.client_id)
    TokenStore(paths.token_file).save(creds)


@pytest.fixture
def paths():
    return app_paths()  # under the test's own SMVUE_HOME


@pytest.fixture
def db(paths):
    database = open_store(paths.database)
    yield database
    database.close()


def _diff(running) -> list[str]:
    from datetime import UTC, datetime

    conn = running.org.store.reader()
    try:
        return differences(conn, Lookbacks(), datetime.now(UTC).date())
    finally:
        conn.close()


async def test_initial_then_incremental_in_a_child_equal_the_org(demo, paths, db):
    _log_in(demo, paths)
    runner = ChildSync(paths)
    events = []
    report = await runner.run("initial", progress=events.append)
    assert report.status == "ok", report.errors
    assert report.counts["Opportunity"] > 0 and report.api_calls > 0
    assert {e.sobject for e in events} >= {"Opportunity", "Account", "Contact"}
    assert [e.phase for e in events if e.sobject == "Opportunity"][-1] == "done"
    assert runner.usage.max and runner.usage.used > 0  # the child's API reading came along
    assert _diff(demo) == []

    demo.admin("POST", "/mutate", json={"count": 20, "seed": 5})
    again = await ChildSync(paths).run("incremental")
    assert again.status == "ok" and again.kind == "incremental"
    assert _diff(demo) == []
    runs = [r.status for r in m.SyncRun.select().order_by(m.SyncRun.id)]
    assert runs == ["ok", "ok"]  # the child logged both runs in the shared store


async def test_without_a_login_the_report_says_so(paths, db):
    report = await ChildSync(paths).run("initial")
    assert report.status == "failed"
    assert report.errors[0]["code"] == "not_logged_in"


async def test_cancelling_stops_the_child_and_the_next_run_resumes(make_org, paths, db):
    running = make_org()
    running.admin("POST", "/faults", json={"latency_ms": 40}).raise_for_status()
    _log_in(running, paths)
    runner = ChildSync(paths)
    first_page = asyncio.Event()
    task = asyncio.create_task(runner.run("initial", progress=lambda e: first_page.set()))
    await asyncio.wait_for(first_page.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    statuses = [r.status for r in m.SyncRun.select()]
    assert statuses == ["cancelled"]  # stopped between pages, and recorded as such

    report = await ChildSync(paths).run("initial")
    assert report.status == "ok", report.errors
    assert _diff(running) == []


async def test_a_child_that_dies_gives_a_failed_report_with_a_remedy(demo, paths):
    _log_in(demo, paths)
    paths.database.parent.mkdir(parents=True, exist_ok=True)
    paths.database.mkdir()  # the store cannot open: the child stops with a traceback
    report = await ChildSync(paths).run("initial")
    assert report.status == "failed"
    error = report.errors[0]
    assert error["code"] == "SYNC_PROCESS_FAILED"
    assert "resumes where it stopped" in error["remedy"]
    assert error["detail"]  # the child's last words, not an empty message


async def test_an_over_long_output_line_is_skipped_not_fatal(paths, tmp_path, monkeypatch):
    """A stray line longer than the protocol's limit (a library dumping a huge value) on
    stderr or stdout must neither stop the parent from reading nor hide the report."""
    import json
    import sys

    from smvue_tui.services import sync_child as child

    fake = tmp_path / "fake_child.py"
    report = {"kind": "initial", "status": "ok"}
    fake.write_text(
        "import sys\n"
        "sys.stdin.read()\n"
        f"huge = 'x' * ({child.LINE_LIMIT} * 2)\n"
        "sys.stderr.write(huge + '\\n'); sys.stderr.flush()\n"
        "sys.stdout.write(huge + '\\n')\n"
        f"sys.stdout.write({json.dumps(json.dumps({'report': report}))} + '\\n')\n"
        "sys.stderr.write('x' * 300000)\n")  # and more than a pipe holds after it
    launcher = tmp_path / "python"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {fake}\n")
    launcher.chmod(0o755)
    monkeypatch.setattr(child.sys, "executable", str(launcher))
    got = await asyncio.wait_for(ChildSync(paths).run("initial"), 30)
    assert got.status == "ok" and got.kind == "initial"


def test_a_child_whose_app_is_gone_stops_and_records_a_cancelled_run(make_org, paths, db):
    """The app killed outright (its pipe closed): the child stops at its next page instead of
    syncing on alone, and the run reads as cancelled (resumable), not as a crash."""
    import dataclasses
    import json
    import subprocess
    import sys

    from smvue_tui.config import Paths

    running = make_org()
    running.admin("POST", "/faults", json={"latency_ms": 40}).raise_for_status()
    _log_in(running, paths)
    proc = subprocess.Popen([sys.executable, "-m", "smvue_tui.services.sync_child"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    request = {"kind": "initial", "paths": {f.name: str(getattr(paths, f.name))
                                            for f in dataclasses.fields(Paths)}}
    proc.stdin.write(json.dumps(request).encode())
    proc.stdin.close()
    assert "progress" in json.loads(proc.stdout.readline())  # it is under way…
    proc.stdout.close()  # …and the app is gone
    proc.wait(timeout=60)
    assert [r.status for r in m.SyncRun.select()] == ["cancelled"]
