"""The flags child of `inspect --json` (``cli/inspect_flags``) at its edges: a child that never
reads what the parent sends, a store whose facts a sync left to recompute, output that cannot
be written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import orjson
import pytest

from smvue_tui.cli import inspect_flags
from smvue_tui.cli.inspect_flags import Child
from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.inspection.flags import flag
from smvue_tui.inspection.report import inspect
from smvue_tui.store.org_stores import paths_for_login
from tests.integration.test_inspect import _sql
from tests.integration.test_inspect_two_processes import (
    _bytes,
    changed_org,  # noqa: F401 - a fixture
)


def test_a_child_that_reads_nothing_cannot_hold_the_report(monkeypatch):
    """The last two rules' flags are more than a pipe holds (64 KiB here, 4 KiB on Windows):
    handing them over must not wait for a child that is stuck, or busy with its own rules."""
    monkeypatch.setattr(inspect_flags, "WAIT_S", 0.5)
    stuck = Child(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    try:
        stuck.go()
        recent = {f"0068W{i:013d}": [flag("amount_dropped", "amount dropped 50% " * 5)]
                  for i in range(20_000)}  # ~2.5 MB
        sent = threading.Thread(target=stuck.send_recent, args=(recent,), daemon=True)
        sent.start()
        sent.join(10)
        assert not sent.is_alive(), "send_recent waited for the child to read"
        assert stuck.collect() is None  # then given up after WAIT_S: the parent makes it
        assert stuck.proc.returncode is not None
        assert stuck.proc.stdout.closed  # its pipe not left open to the garbage collector
    finally:
        stuck.stop()


def test_the_facts_a_sync_left_stale_are_written_before_the_child_reads(
        changed_org, capsys, monkeypatch):  # noqa: F811
    """After an initial or full sync the deal facts are recomputed whole by the first reader.
    Two readers at once would both start it: one waits on the other's write lock (SQLite's
    busy timeout, 10 s — longer at 100,000 deals and the report fails), or on PostgreSQL
    recomputes it all again. The parent does it before it lets the child read."""
    conn = sqlite3.connect(paths_for_login(app_paths()).database)
    with conn:
        conn.executemany("INSERT OR IGNORE INTO facts_stale (source) VALUES (?)",
                         [(s,) for s in ("history", "log", "activity", "contacts")])
    conn.close()
    at_go: list[int] = []
    go = Child.go

    def counted(self):
        at_go.append(_sql("SELECT count(*) FROM facts_stale")[0][0])
        go(self)

    monkeypatch.setattr(inspect_flags.Child, "go", counted)
    assert main(["inspect", "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert at_go == [0]
    assert report["flags"]["deals"] and _sql("SELECT count(*) FROM facts_stale") == [(0,)]


@pytest.mark.skipif(sys.platform == "win32", reason="a file size limit (POSIX) fills the disk")
def test_output_that_could_not_be_written_is_not_a_success(tmp_path):
    """``hard_exit`` ends the process without Python's own exit: when its last flush fails (a
    full disk under cron: a short text report is written only then) the process must still
    end with a failure and say why, as Python's exit does — not report success."""
    code = ("import sys; from smvue_tui.cli.main import hard_exit; "
            "print('report line ' * 100); hard_exit(0)")

    def full_after_100_bytes() -> None:  # writes past it fail (EFBIG) instead of a signal
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as cron runs it
    with open(tmp_path / "report.txt", "w") as out:
        done = subprocess.run([sys.executable, "-c", code], stdout=out, stderr=subprocess.PIPE,
                              env=env, timeout=60,
                              preexec_fn=full_after_100_bytes)
    assert (tmp_path / "report.txt").stat().st_size <= 100
    assert done.returncode != 0
    assert b"could not write" in done.stderr, done.stderr


def test_a_rep_named_from_a_dash_is_the_childs_rep_too(changed_org):  # noqa: F811
    """``--rep=-Luc`` (a part of "Jean-Luc Roy") is a value, not an option, in the child too:
    else it failed on its arguments and the report made the section alone."""
    conn = sqlite3.connect(paths_for_login(app_paths()).database)
    with conn:
        conn.execute('UPDATE sf_user SET "Name" = \'Jean-Luc Roy\' WHERE "Id" = (SELECT '
                     '"OwnerId" FROM opportunity WHERE "Name" = \'Two 1\')')
    conn.close()
    now = datetime.now(UTC)
    child = Child.start("-Luc", now)
    assert child is not None
    child.go()
    two = inspect({}, now=now, rep="-Luc", elsewhere=child)
    assert isinstance(two["flags"]["deals"], orjson.Fragment)  # made by the child
    assert _bytes(two) == _bytes(inspect({}, now=now, rep="-Luc"))


@pytest.mark.skipif(sys.platform == "win32", reason="a process ended from outside runs no "
                                                    "exit handlers on Windows")
def test_a_child_stopped_after_opening_the_store_leaves_no_open_marker(changed_org):  # noqa: F811
    """The report failed after "go" (a rep or a setting it refused) or gave the child up:
    stopping it must let it remove its open marker, or the next open of the store takes it
    for a crash and checks the whole file."""
    store = paths_for_login(app_paths()).database
    child = Child.start(None, datetime.now(UTC))
    assert child is not None
    child.go()
    marker = store.parent / f".{store.name}.open-{child.proc.pid}"
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:  # it has opened the store
        time.sleep(0.02)
    assert marker.exists()
    child.stop()
    assert child.proc.returncode is not None
    assert not marker.exists()
