"""An initial sync killed with SIGKILL at random pages, again and again, then let finish: the
store equals the org, nothing is stored twice, and SyncRun shows every interrupted run.

The sync runs in a child process (``sync_child.py``) against the org served by this one; the
kill comes after a random number of progress lines, each printed after its page committed.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from smvue_tui.store import models as m
from smvue_tui.sync import repair
from tests.integration.sync_run import LOOKBACKS, diff, duplicated_tables, sync, today
from tests.postgres_server import open_test_store

ROOT = Path(__file__).resolve().parents[2]
LINE_TIMEOUT = 60.0  # seconds without a line before the child counts as hung


class Child:
    """One sync process; reads its progress lines without ever blocking forever."""

    def __init__(self, running, store: Path, kind: str = "initial") -> None:
        token = running.web_login()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SYNC_CHILD_TOKEN": json.dumps(token),
               "SYNC_CHILD_BASE_URL": running.base_url,
               "SYNC_CHILD_CLIENT_ID": running.org.client_id}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.sync_child", str(store), kind],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._buffer = b""
        self.lines: list[str] = []

    def next_line(self) -> str | None:
        """The next stdout line, or None at end of output."""
        deadline = time.monotonic() + LINE_TIMEOUT
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"sync child silent for {LINE_TIMEOUT} s: {self.lines[-3:]}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        self.lines.append(line.decode())
        return self.lines[-1]

    def kill_after(self, pages: int) -> bool:
        """SIGKILL once ``pages`` progress lines arrived; False if it finished first."""
        for _ in range(pages):
            line = self.next_line()
            if line is None or line.startswith("END"):
                return False
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        return True

    def finish(self) -> str:
        while (line := self.next_line()) is not None:
            if line.startswith("END"):
                self.proc.wait(timeout=30)
                return line.split()[1]
        self.proc.wait(timeout=30)
        raise AssertionError(f"sync child died: {self.proc.stderr.read().decode()[-2000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def children():
    started: list[Child] = []
    yield started
    for child in started:
        child.close()


def _kill_then_finish(running, store: Path, children: list, kind: str,
                     kill_points: list[int]) -> int:
    """Start a sync of ``kind`` once per kill point, SIGKILL each after that many pages, then
    let one finish. Returns how many were really killed (a run may end before its point)."""
    killed = 0
    for pages in kill_points:
        child = Child(running, store, kind)
        children.append(child)
        killed += child.kill_after(pages)
    final = Child(running, store, kind)
    children.append(final)
    assert final.finish() == "ok"
    return killed


def test_sync_killed_at_random_pages_then_finished(demo, tmp_path, children, store_backend):
    store = tmp_path / "store.sqlite3"
    rng = random.Random(7)
    killed = _kill_then_finish(demo, store, children, "initial",
                               [rng.randint(2, 12) for _ in range(4)])
    assert killed >= 3, "the initial sync finished before it could be killed"
    # Then an incremental with more changes than one /composite answer holds: killed while
    # it pages the rest.
    demo.admin("POST", "/mutate", json={"count": 4000}).raise_for_status()
    assert _kill_then_finish(demo, store, children, "incremental", [1, 2]) >= 1
    db = open_test_store(store)
    try:
        assert diff(demo) == []
        assert duplicated_tables(db) == []
        runs = list(m.SyncRun.select().order_by(m.SyncRun.id))
        assert [r.kind for r in runs] == ["initial"] * 5 + ["incremental"] * 3
        # A killed run never wrote its end: the next start closed it as interrupted (issue 20).
        interrupted = [r for r in runs if r.status == "interrupted"]
        assert len(interrupted) >= killed + 1
        assert all(r.finished_at for r in runs) and not any(r.status == "running" for r in runs)
        assert runs[4].status == runs[-1].status == "ok"
    finally:
        db.close()


# --- a crash between a change page and its closure top-up (in process) -------------------------


class Crash(Exception):
    """Stands in for the process dying: nothing after it runs."""


@pytest.fixture
def db(tmp_path, store_backend):
    database = open_test_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


def _org_ids(running, sql: str) -> list[str]:
    conn = running.org.store.reader()
    try:
        return [row[0] for row in conn.execute(sql)]
    finally:
        conn.close()


def _account_outside_the_store(running) -> str:
    stored = {a for (a,) in m.Account.select(m.Account.id).tuples()}
    with_contacts = _org_ids(running, "SELECT AccountId FROM Contact WHERE IsDeleted = 0 "
                                      "GROUP BY AccountId ORDER BY COUNT(*) DESC, AccountId")
    return next(a for a in with_contacts if a and a not in stored)


def _open_deal() -> str:
    return m.Opportunity.select().where(m.Opportunity.is_closed == False).first().id  # noqa: E712


def _reopen_a_closed_out_deal(running) -> None:
    cutoff = LOOKBACKS.closed_cutoff(today()).isoformat()
    deal = _org_ids(running, "SELECT Id FROM Opportunity WHERE IsDeleted = 0 AND IsClosed = 1 "
                             f"AND CloseDate < '{cutoff}' AND Id IN (SELECT OpportunityId FROM "
                             "OpportunityContactRole) ORDER BY Id")[0]
    running.admin("PATCH", f"/records/Opportunity/{deal}", json={
        "StageName": "Negotiation/Review",
        "CloseDate": (today() + timedelta(days=30)).isoformat()})


def _move_a_deal_to_a_new_account(running) -> None:
    account = _account_outside_the_store(running)
    running.admin("PATCH", f"/records/Opportunity/{_open_deal()}", json={"AccountId": account})


@pytest.mark.parametrize(("change", "crash_after"), [
    (_reopen_a_closed_out_deal, 0),  # the deal stored, none of its children yet
    (_move_a_deal_to_a_new_account, 1),  # the account stored, its contacts not yet
])
async def test_crash_between_a_change_and_its_top_up_is_repaired(demo, db, monkeypatch,
                                                                  change, crash_after):
    await sync(demo, db, "initial")
    change(demo)
    real = repair.fetch_by_ids
    calls = 0

    async def dying(*args, **kw):
        nonlocal calls
        calls += 1
        if calls > crash_after:
            raise Crash
        return await real(*args, **kw)

    monkeypatch.setattr(repair, "fetch_by_ids", dying)
    with pytest.raises(Crash):
        await sync(demo, db)
    monkeypatch.setattr(repair, "fetch_by_ids", real)
    assert diff(demo) != []  # the crash really left work undone
    report = await sync(demo, db)
    assert report.status == "ok", report.errors
    assert diff(demo) == []


async def test_deal_moved_to_an_account_changed_in_the_same_window(demo, db):
    await sync(demo, db, "initial")
    account = _account_outside_the_store(demo)
    demo.admin("PATCH", f"/records/Account/{account}", json={"Industry": "Energy"})
    demo.admin("PATCH", f"/records/Opportunity/{_open_deal()}", json={"AccountId": account})
    report = await sync(demo, db)
    assert report.status == "ok", report.errors
    assert diff(demo) == []
