"""`inspect --json` to a pipe or a file makes its flags section in a second process
(``cli/inspect_flags``): the same bytes one process makes, and the same again when that process
fails; run as its own process, the command ends without freeing its report (hard_exit) and loses
no output."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from smvue_tui.cli import inspect_flags
from smvue_tui.cli.inspect_flags import Child
from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.inspection.report import inspect
from smvue_tui.store.db import open_store
from smvue_tui.store.org_stores import paths_for_login
from smvue_tui.store.setting import ENV_VAR
from tests.integration.test_inspect import _create, _patch, _sql, _sync
from tests.integration.test_sync_cli import _log_in


def _bytes(report: dict) -> bytes:
    return orjson.dumps(report, option=orjson.OPT_SORT_KEYS)


@pytest.fixture
def changed_org(make_org, capsys):
    """A synced demo org with deals changed since: pushed, dropped, moved back, reassigned."""
    org = make_org()
    _log_in(org)
    _sync(capsys)
    day = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    deals = [_create(org, Name=f"Two {n}", Amount=50_000.0, StageName="Proposal/Price Quote",
                     CloseDate=day) for n in range(3)]
    _patch(org, "Opportunity", deals[0], CloseDate="2099-01-31")
    _patch(org, "Opportunity", deals[1], Amount=1_000.0)
    _patch(org, "Opportunity", deals[2], StageName="Qualification")
    _sync(capsys)
    db = open_store(paths_for_login(app_paths()).database)
    yield org
    db.close()


def _rep() -> str:
    """The owner of the deals changed (one rep's report must still show their flags)."""
    return _sql('SELECT u."Name" FROM opportunity o JOIN sf_user u ON u."Id" = o."OwnerId" '
                'WHERE o."Name" = \'Two 1\'')[0][0]


@pytest.mark.parametrize("span", [{"since": "7d"}, {"period": "this-quarter"},
                                  {"since": "30d", "rep": "(the changed deals' owner)"}])
def test_two_processes_make_the_bytes_one_makes(changed_org, span):
    span = {**span, "rep": _rep()} if "rep" in span else span
    now = datetime.now(UTC)
    child = Child.start(span.get("rep"), now)
    assert child is not None
    child.go()
    two = inspect({}, now=now, elsewhere=child, **span)
    assert isinstance(two["flags"]["deals"], orjson.Fragment)  # made by the child
    one = inspect({}, now=now, **span)
    assert one["flags"]["deals"] and {"amount_dropped", "stage_moved_back"} <= {
        f["rule"] for deal in one["flags"]["deals"] for f in deal["flags"]}
    assert _bytes(two) == _bytes(one)


def test_a_child_that_fails_leaves_the_section_to_the_parent(changed_org):
    now = datetime.now(UTC)
    failing = Child(subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    failing.go()
    report = inspect({}, now=now, elsewhere=failing)
    assert isinstance(report["flags"]["deals"], list)
    assert _bytes(report) == _bytes(inspect({}, now=now))


def test_the_command_uses_the_child_when_writing_to_a_pipe(changed_org, capsys, monkeypatch):
    made: list[object] = []
    collect = Child.collect

    def recorded(self):
        made.append(collect(self))
        return made[-1]

    monkeypatch.setattr(inspect_flags.Child, "collect", recorded)
    assert main(["inspect", "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert len(made) == 1 and made[0] is not None
    assert report["flags"]["counts"]["amount_dropped"] >= 1 and report["flags"]["deals"]


def test_as_its_own_process_the_whole_report_is_written(changed_org):
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "inspect", "--json"],
                          capture_output=True, env=os.environ.copy(), timeout=120)
    assert done.returncode == 0, done.stderr
    report = orjson.loads(done.stdout)  # flushed before the process ended
    assert done.stdout.endswith(b"\n") and report["flags"]["deals"] and report["reps"]


def test_a_child_that_hangs_is_stopped_and_the_parent_makes_the_section(changed_org,
                                                                        monkeypatch):
    monkeypatch.setattr(inspect_flags, "WAIT_S", 0.5)
    now = datetime.now(UTC)
    stuck = Child(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    stuck.go()
    report = inspect({}, now=now, elsewhere=stuck)
    assert stuck.proc.returncode is not None  # stopped, not left running
    assert _bytes(report) == _bytes(inspect({}, now=now))


def test_with_a_sqlite_store_psycopg_is_never_imported(changed_org):
    """peewee imports psycopg eagerly (~0.1 s); `inspect` on a SQLite store keeps it out."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop(ENV_VAR, None)
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "inspect", "--json"],
                          capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines()
              if line.startswith("import time:")}  # each module asked for, found or not
    assert "peewee" in loaded  # the store was read…
    # …and psycopg was only asked for (peewee's try-import), never loaded: none of its parts
    assert not {"psycopg.pq", "psycopg.connection", "psycopg_binary"} & loaded, sorted(loaded)


def test_with_a_store_setting_psycopg_is_left_importable(tmp_path):
    code = ("import sys; from smvue_tui.config import app_paths; "
            "from smvue_tui.store.setting import without_postgres_driver; "
            "without_postgres_driver(app_paths()); import peewee; "
            "print(peewee.psycopg is not None)")
    for url, expected in (("", b"False"), ("postgresql://u@h/db", b"True")):
        env = {**os.environ, ENV_VAR: url, "SMVUE_HOME": str(tmp_path)}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env,
                              timeout=60, check=True)
        assert done.stdout.strip() == expected, (url, done.stderr)


def test_the_ended_processes_leave_no_open_marker_behind(changed_org):
    """Each process marks the store open and unmarks it at exit; a marker left by a process
    that ended makes the next open take it for a crash and check the whole file."""
    store = paths_for_login(app_paths()).database
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "inspect", "--json"],
                          capture_output=True, env=os.environ.copy(), timeout=120)
    assert done.returncode == 0, done.stderr
    mine = f".{store.name}.open-{os.getpid()}"  # this test's own open (the fixture's)
    assert [m.name for m in store.parent.glob(f".{store.name}.open-*")] == [mine]


def test_a_child_running_another_copy_of_the_code_leaves_the_section_to_the_parent(
        changed_org, tmp_path):
    """`python -m smvue_tui` from a checkout while another copy is installed: the child (-P,
    not from the current folder) could import the other; it says so by ending, unused."""
    now = datetime.now(UTC)
    other = Child(subprocess.Popen(
        [sys.executable, "-P", "-m", "smvue_tui.cli.inspect_flags", f"--now={now.isoformat()}",
         f"--package={tmp_path}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    other.go()
    report = inspect({}, now=now, elsewhere=other)
    assert other.proc.returncode == 1 and isinstance(report["flags"]["deals"], list)
    assert _bytes(report) == _bytes(inspect({}, now=now))


@pytest.mark.parametrize("form", [["--json"], []])
def test_a_report_that_cannot_be_written_is_said_in_words_and_fails(changed_org, form):
    """A full disk under the file the report goes to: words on stderr, not a traceback, and
    not a success (the status hard_exit gives when the loss shows only at its flush)."""
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "smvue_tui", "inspect", *form],
                              stdout=full, stderr=subprocess.PIPE, env=os.environ.copy(),
                              timeout=120)
    words = done.stderr.decode()
    assert done.returncode == 120, words
    assert "could not write the output: No space left on device" in words, words
    assert "Traceback" not in words and "Exception ignored" not in words, words
