"""A damaged store is moved aside with a message naming the file, and the manager's own data
(notes, action items, team, overrides) is kept in the new one (issue 20, item 5); runs left
``running`` by a killed process are closed as ``interrupted``."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import textwrap

import pytest

from smvue_tui.cli.store import check
from smvue_tui.store import health
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.sync.status import collect_status, render_text

DEAL = "0068W0000000001QAA"


def _filled_store(path, deals: int = 3000):
    """A store with the manager's data written first, then a lot of mirrored deals."""
    db = open_store(path)
    m.Note.create(opportunity_id=DEAL, body="Call the CFO before Friday")
    m.ActionItem.create(opportunity_id=DEAL, text="Send the order form")
    boss = m.TeamMember.create(name="Dana Boss", role="Manager")
    m.TeamMember.create(name="Ari Seller", role="AE", manager=boss)
    m.StageOverride.create(stage_name="Negotiation/Review", probability=0.7)
    m.DealChange.create(opportunity_id=DEAL, changed_at="2026-11-02T09:00:00.000+0000",
                        seen_at="2026-11-02T09:05:00.000+0000",
                        changes='{"Amount": [1000, 2000]}')
    with db.atomic():
        for n in range(deals):
            m.Opportunity.create(id=f"0068W{n:010d}AAA", name=f"Deal {n} " + "x" * 200,
                                 stage_name="Prospecting", amount=1000.0 + n)
    db.close()


def _kept_own_data() -> None:
    assert [n.body for n in m.Note.select()] == ["Call the CFO before Friday"]
    assert [a.text for a in m.ActionItem.select()] == ["Send the order form"]
    team = {t.name: t for t in m.TeamMember.select()}
    assert team["Ari Seller"].manager.name == "Dana Boss"
    override = m.StageOverride.get(m.StageOverride.stage_name == "Negotiation/Review")
    assert override.probability == 0.7
    assert [c.changes for c in m.DealChange.select()] == ['{"Amount": [1000, 2000]}']


def _truncate(path):
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 2)


def _random_header(path):
    with path.open("r+b") as fh:
        fh.write(random.Random(7).randbytes(100))


def _garbage_tail(path):
    """Random bytes over the second half, as a crash in mid-write or a bad disk leaves."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2)
        fh.write(random.Random(8).randbytes(size - size // 2))


def _kill_a_process_using(path):
    """A real unclean stop: another process opens the store and is SIGKILLed."""
    code = textwrap.dedent(f"""
        import os, signal
        from smvue_tui.store.db import open_store
        from smvue_tui.store import models as m
        open_store({str(path)!r})
        m.SyncRun.create(kind="initial", pid=os.getpid())
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ}, check=False)
    assert proc.returncode == -9


@pytest.mark.parametrize("damage", [_truncate, _random_header, _garbage_tail])
def test_a_damaged_store_is_moved_aside_and_the_managers_data_kept(tmp_path, damage):
    path = tmp_path / "smvue.sqlite3"
    _filled_store(path)
    if damage is _garbage_tail:
        _kill_a_process_using(path)  # an unclean stop: the next open runs quick_check
    damage(path)
    db = open_store(path)
    try:
        recovery = db.recovery
        assert recovery.moved_to.exists() and recovery.moved_to.name.startswith(
            "smvue.sqlite3.damaged-")
        message = recovery.message()
        assert str(path) in message and str(recovery.moved_to) in message
        assert "Traceback" not in message
        _kept_own_data()
        assert m.Opportunity.select().count() == 0  # mirrored data: read again by the sync
        assert not m.SyncCursor.select().exists()
    finally:
        db.close()
    # The damaged file is kept as it was: never rebuilt or written over.
    assert health.inspect(recovery.moved_to, thorough=True) is not None


def test_an_empty_store_that_had_data_is_not_silently_rebuilt(tmp_path):
    path = tmp_path / "smvue.sqlite3"
    _filled_store(path, deals=10)
    path.write_bytes(b"")
    db = open_store(path)
    try:
        assert "empty" in db.recovery.reason
        assert str(path) in db.recovery.message()
        assert db.recovery.moved_to.exists()
    finally:
        db.close()


def test_status_and_store_check_name_the_damage_without_a_traceback(tmp_path, paths):
    _filled_store(paths.database, deals=500)
    _random_header(paths.database)
    status = collect_status(paths)  # status only looks: it moves nothing
    assert status.store_damage and "header" in status.store_damage
    text = render_text(status)
    assert "DAMAGED" in text and str(paths.database) in text
    out = io.StringIO()
    assert check(paths.data_dir, paths.database, out) == 1
    assert f"DAMAGED  {paths.database}" in out.getvalue()
    assert paths.database.exists() and not health.moved_aside(paths.database)


def test_store_check_runs_quick_check_on_a_store_that_opens(tmp_path):
    path = tmp_path / "smvue.sqlite3"
    _filled_store(path)
    _garbage_tail(path)
    out = io.StringIO()
    assert check(tmp_path, path, out) == 1
    assert "quick_check" in out.getvalue() or "cannot read" in out.getvalue()


@pytest.mark.parametrize("folder", ["plain", "x%20y", "a#b", "q?mode=rw"])
def test_a_sound_store_reopens_as_it_was(tmp_path, folder):
    """Also where the folder's name means something in a URI (a raw file: URI once failed on
    %20 — a sound store moved aside — and opened another file for # and ?)."""
    path = tmp_path / folder / "smvue.sqlite3"
    path.parent.mkdir()
    _filled_store(path, deals=20)
    _kill_a_process_using(path)  # unclean stop, but nothing damaged
    db = open_store(path)
    try:
        assert getattr(db, "recovery", None) is None
        _kept_own_data()
        assert m.Opportunity.select().count() == 20
    finally:
        db.close()
    out = io.StringIO()
    assert check(tmp_path, path, out) == 0 and out.getvalue().startswith("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # no stray file beside it


def test_runs_of_a_killed_process_are_closed_as_interrupted(tmp_path, paths):
    open_store(paths.database).close()
    _kill_a_process_using(paths.database)
    db = open_store(paths.database)
    try:
        [run] = m.SyncRun.select()
        assert run.status == "interrupted" and run.finished_at
        assert "interrupted" in render_text(collect_status(paths))
        mine = m.SyncRun.create(kind="incremental", pid=os.getpid())  # alive: left alone
    finally:
        db.close()
    db = open_store(paths.database)
    try:
        assert m.SyncRun.get_by_id(mine.id).status == "running"
    finally:
        db.close()
