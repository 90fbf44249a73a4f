"""How the inspection's screens read the store: the Risk column reads the flags of the rows the
deal list holds and nothing else, one read at a time and spaced (live updates may change the
store every second), the latest change shown in the end; a sync holding the store's write lock
while the facts need catching up is said in words and read again later — over the hand-built
store of ``test_inspection.py`` (fixed clock)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from smvue_tui.inspection import report
from smvue_tui.inspection.periods import PERIODS, window
from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.store.deals import ID_INDEX
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens import pipeline_risk
from smvue_tui.tui.screens.inspection import InspectionScreen
from smvue_tui.tui.screens.pipelines import PipelinesScreen
from smvue_tui.tui.widgets.paged_table import PagedTable
from tests.tui.test_inspection import NOW, _app, _open
from tests.tui.test_inspection_pipelines import _flags_read, _pipelines, _risk_cells
from tests.tui.test_pipelines import screen_text, settle
from tests.unit.store.pipeline_fixtures import deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture


def test_flags_read_for_some_deals_are_those_of_the_whole_store(store):
    deal_facts.rebuild()
    whole = report.flagged_rules({}, NOW)
    assert len(whole) >= 3
    some = [*sorted(whole)[:2], deal_id("06")]  # two flagged, one won (never flagged)
    assert report.flagged_rules({}, NOW, ids=some) == {d: whole[d] for d in some if d in whole}
    assert report.flagged_rules({}, NOW, ids=[]) == {}


async def test_the_risk_column_keeps_only_the_rows_the_table_holds(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, table = await _pipelines(app, pilot)
        whole = report.flagged_rules(app.services.config(), NOW)
        await pilot.press("slash", *"Acme")  # the deal list narrows to the Acme deals
        for _ in range(50):
            await settle(app, pilot)
            held = {str(r[ID_INDEX]) for r in table.cached_rows()}
            if table.loaded and held == screen.risk.read:
                break
        names = {r[0] for r in table.cached_rows()}
        assert names and all("Acme" in n for n in names)
        assert screen.risk.read == held
        assert screen.risk.counts == {d: len(whole[d]) for d in held if d in whole}
        assert set(whole) - held  # flagged deals the table does not hold: nothing kept for them


async def test_changes_during_a_read_make_one_more_read_spaced_and_the_latest_shows(
        store, tmp_path, monkeypatch):
    calls: list[frozenset[str]] = []
    release = threading.Event()
    real = pipeline_risk.flagged_rules

    def counted(config, now=None, ids=None):
        calls.append(frozenset(ids))
        release.wait(30)  # the first read is held until the changes below have come in
        return real(config, now, ids=ids)

    monkeypatch.setattr(pipeline_risk, "flagged_rules", counted)
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        # The app opens on Pipelines. No settle() or pilot.pause() while the read is held:
        # they wait for every worker, or for the screen to be idle.
        for _ in range(600):
            await asyncio.sleep(0.05)
            if calls:
                break
        screen = app.screen
        assert isinstance(screen, PipelinesScreen) and len(calls) == 1
        screen.risk_gate.min_gap = screen.risk_gate.cost_factor = 0.0  # spacing: below
        for _ in range(10):  # live updates arriving while the read runs
            app.post_message(StoreChanged(frozenset({"Opportunity"})))
            await asyncio.sleep(0.02)
        for _ in range(600):
            await asyncio.sleep(0.05)
            if screen.risk_gate.wanted:  # the changes have reached the screen
                break
        assert screen.risk_gate.wanted and len(calls) == 1  # never two reads at once
        release.set()
        for _ in range(50):
            await settle(app, pilot)
            if _flags_read(screen) and not screen.risk_gate.running:
                break
        assert len(calls) == 2  # ten changes, one more read

        # Spaced: a change right after a read waits for the gap (a timer), then is read.
        timers: list[tuple[float, object]] = []
        monkeypatch.setattr(screen, "set_timer",
                            lambda delay, callback, name=None: timers.append((delay, callback)))
        screen.risk_gate.min_gap = 60.0
        target = _a_deal_not_past_due(app)
        m.Opportunity.update(close_date="2026-01-01").where(
            m.Opportunity.id == target["id"]).execute()
        app.post_message(StoreChanged(frozenset({"Opportunity"})))
        await settle(app, pilot)
        spaced = [callback for delay, callback in timers if delay > 50]
        assert len(calls) == 2 and len(spaced) == 1, timers
        screen.risk_gate.started_at -= 61  # … the gap has passed: the timer fires
        spaced[0]()
        wanted = f"⚑{target['count'] + 1}"
        table = screen.query_one("#deals", PagedTable)
        for _ in range(50):
            await settle(app, pilot)
            if _risk_cells(table).get(target["name"]) == wanted:
                break
        assert len(calls) == 3 and _risk_cells(table)[target["name"]] == wanted


def _a_deal_not_past_due(app) -> dict:
    full = report.inspect(app.services.config(), now=NOW)
    row = next(d for d in full["flags"]["deals"]
               if "close_date_past" not in {f["rule"] for f in d["flags"]})
    return {"id": row["id"], "name": row["name"], "count": len(row["flags"])}


def _hold_the_write_lock(store) -> sqlite3.Connection:
    """What a sync's long write looks like to a reader: another connection holding the write
    lock while the facts wait to be recomputed (a big page marked them stale)."""
    m.FactsStale.create(source="log")
    store.pragma("busy_timeout", 200, permanent=True)  # the reader's threads give up sooner
    holder = sqlite3.connect(store.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def test_a_sync_holding_the_write_lock_is_said_in_words_and_read_again(store, tmp_path):
    app = _app(tmp_path)
    holder = _hold_the_write_lock(store)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        screen = InspectionScreen(now=NOW)
        screen.BUSY_RETRY = 0.05
        await app.push_screen(screen)
        for _ in range(50):
            await settle(app, pilot, rounds=1)
            if "sync is writing" in screen_text(app):
                break
        text = screen_text(app)
        assert "a sync is writing to the store right now" in text, text
        assert "locked" not in text
        holder.rollback()  # the sync's write ends
        for _ in range(100):
            await settle(app, pilot, rounds=1)
            if screen.report is not None:
                break
        assert screen.report is not None and "4 changed" in screen_text(app), screen_text(app)[:600]
        assert not m.FactsStale.select().exists()  # caught up
    holder.close()


async def test_the_risk_column_meets_the_lock_with_words_and_reads_again(store, tmp_path,
                                                                        monkeypatch):
    app = _app(tmp_path)
    holder = _hold_the_write_lock(store)
    notes: list[str] = []
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))
        monkeypatch.setattr(PipelinesScreen, "BUSY_RETRY", 0.05)
        await settle(app, pilot)
        app.switch_mode("pipelines")
        for _ in range(50):
            await settle(app, pilot, rounds=1)
            if notes:
                break
        assert any("a sync is writing to the store" in n for n in notes), notes
        assert not any("locked" in n for n in notes)
        holder.rollback()
        screen = app.screen
        for _ in range(100):
            await settle(app, pilot, rounds=1)
            if _flags_read(screen):
                break
        assert _flags_read(screen) and screen.risk.counts
    holder.close()


async def test_the_period_key_goes_round_the_inspections_own_periods(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _open(app, pilot)
        start = PERIODS.index("last-7d")
        seen = []
        for _ in PERIODS:
            seen.append(screen.report["window"]["label"])
            await pilot.press("full_stop")
            await settle(app, pilot)
        order = PERIODS[start:] + PERIODS[:start]
        assert seen == [window(period=p, now=NOW).label for p in order]
        assert screen.report["window"]["label"] == "last 7d"  # round again
        assert "Last 7 days ·" in screen_text(app)


async def test_the_deal_screen_meets_the_lock_with_words_and_reads_its_flags_again(
        store, tmp_path, monkeypatch):
    from smvue_tui.tui.screens.deal_detail import DealDetailScreen

    app = _app(tmp_path)
    holder = _hold_the_write_lock(store)
    monkeypatch.setattr(DealDetailScreen, "BUSY_RETRY", 0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await app.push_screen(DealDetailScreen(deal_id("01")))  # Acme expansion: past due
        for _ in range(50):
            await settle(app, pilot, rounds=1)
            if "sync is writing" in screen_text(app):
                break
        text = screen_text(app)
        assert "a sync is writing to the store right now" in text and "locked" not in text
        holder.rollback()
        for _ in range(100):
            await settle(app, pilot, rounds=1)
            if "close date 2026-11-10 is" in screen_text(app):
                break
        assert "At risk" in screen_text(app) and "close date 2026-11-10 is" in screen_text(app)
    holder.close()


async def test_a_spaced_read_that_comes_due_while_hidden_is_made_on_return(store, tmp_path,
                                                                           monkeypatch):
    # New rows ask for their flags; the gap holds the read back (a timer); the manager
    # switches to another mode before it fires. The read is owed: on return it is made, not
    # left as "…" in the Risk column until some other change.
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, table = await _pipelines(app, pilot)
        await pilot.press("slash", *"Acme")  # fewer rows: their flags are already read
        for _ in range(50):
            await settle(app, pilot)
            names = {r[0] for r in table.cached_rows()}
            if table.loaded and names and all("Acme" in n for n in names):
                break
        assert _flags_read(screen)
        timers: list[object] = []
        monkeypatch.setattr(screen, "set_timer",
                            lambda delay, callback, name=None: timers.append(callback))
        screen.risk_gate.min_gap = 60.0
        await pilot.press("escape")  # the search cleared: every deal again, new rows
        for _ in range(50):
            await settle(app, pilot)
            if timers:
                break
        assert len(timers) == 1 and not _flags_read(screen)  # held back by the gap
        app.switch_mode("team")
        await settle(app, pilot)
        screen.risk_gate.started_at -= 61  # the gap passes while Team is shown
        timers.pop()()
        await settle(app, pilot)
        app.switch_mode("pipelines")
        for _ in range(50):
            await settle(app, pilot)
            if _flags_read(screen):
                break
        assert _flags_read(screen), [c for c in _risk_cells(table).values()]


class _Retries:
    """A screen's set_timer, recording the busy retries (those of ``delay``) without running
    them, and which of them were stopped; any other timer is the screen's own."""

    def __init__(self, screen, delay: float) -> None:
        self.real, self.delay, self.set = screen.set_timer, delay, []

    def __call__(self, delay, callback=None, *args, **kwargs):
        if delay != self.delay:
            return self.real(delay, callback, *args, **kwargs)
        retry = _Retry()
        self.set.append(retry)
        return retry

    def pending(self) -> int:
        return sum(not r.stopped for r in self.set)


class _Retry:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


async def said_after_a_change(app, pilot, words: str) -> str:
    """A store change posted, then the screen's text once ``words`` are on it (or at last)."""
    app.post_message(StoreChanged(frozenset({"Opportunity"})))
    for _ in range(50):
        await settle(app, pilot)
        if words in screen_text(app):
            break
    return screen_text(app)


def _locked(*args, **kwargs):
    raise sqlite3.OperationalError("database is locked")


@pytest.mark.parametrize("where", ["inspection", "deal"])
async def test_store_changes_while_the_lock_is_held_leave_one_retry(store, tmp_path, monkeypatch,
                                                                    where):
    # A sync's pages each post StoreChanged while its long writes hold the lock: each change
    # reads, each read meets the lock. One retry stays pending, not one per change — else each
    # change starts a chain of reads every few seconds, and all of them read when the lock goes.
    from smvue_tui.tui.screens import inspection as inspection_screen
    from smvue_tui.tui.screens.deal_detail import DealDetailScreen

    if where == "inspection":
        monkeypatch.setattr(inspection_screen, "inspect", _locked)
        # Unspaced, so each change reads and meets the lock (spacing: test_inspection_gate.py).
        monkeypatch.setattr(InspectionScreen, "READ_GAP", 0.0)
        screen = InspectionScreen(now=NOW)
    else:
        monkeypatch.setattr(report, "deal_risks", _locked)
        monkeypatch.setattr(DealDetailScreen, "FLAGS_GAP", 0.0)  # unspaced, as above
        screen = DealDetailScreen(deal_id("01"))
    monkeypatch.setattr(type(screen), "BUSY_RETRY", 987.0)
    retries = _Retries(screen, 987.0)
    monkeypatch.setattr(screen, "set_timer", retries)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await app.push_screen(screen)
        for _ in range(50):
            await settle(app, pilot)
            if retries.set:
                break
        for _ in range(4):
            app.post_message(StoreChanged(frozenset({"Opportunity"})))
            await settle(app, pilot)
        assert len(retries.set) == 5 and "sync is writing" in screen_text(app)
        assert retries.pending() == 1


async def test_the_lock_met_after_a_report_is_shown_keeps_it_and_says_why(store, tmp_path,
                                                                         monkeypatch):
    # The common case: the manager reads a report, a sync starts, a change meets the lock.
    # The report shown stays, under words saying it is not new (its first line kept).
    from smvue_tui.tui.screens import inspection as inspection_screen

    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _open(app, pilot)
        shown = screen.report
        assert shown is not None and "Last 7 days ·" in screen_text(app)
        monkeypatch.setattr(inspection_screen, "inspect", _locked)
        monkeypatch.setattr(InspectionScreen, "BUSY_RETRY", 987.0)
        text = await said_after_a_change(app, pilot, "sync is writing")
        assert app.is_running and app.return_code is None
        assert "Not read: a sync is writing to the store right now" in text, text[:400]
        assert "Last 7 days ·" in text and screen.report is shown


async def test_a_read_that_waited_on_the_lock_does_not_space_the_retry(store, tmp_path,
                                                                      monkeypatch):
    # A read that met the lock spent the busy timeout (10 s) waiting, not working: it must not
    # count as a 10 s read (4 × 10 s before the next), or "reading again in a few seconds" is
    # half a minute, and each retry that meets the lock pushes the next as far again.
    clock = [1000.0]
    calls: list[int] = []

    def locked(config, now=None, ids=None):
        calls.append(1)
        clock[0] += 10.0  # the busy timeout, spent waiting
        raise sqlite3.OperationalError("database is locked")

    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, _ = await _pipelines(app, pilot)
        gate = screen.risk_gate
        gate.clock = lambda: clock[0]
        gate.started_at, gate.last_cost = None, 0.0
        timers: list[tuple[float, object]] = []
        monkeypatch.setattr(screen, "set_timer",
                            lambda delay, callback, name=None: timers.append((delay, callback)))
        monkeypatch.setattr(pipeline_risk, "flagged_rules", locked)
        screen.load_risk()
        for _ in range(50):
            await settle(app, pilot)
            if timers:
                break
        assert calls == [1] and [d for d, _ in timers] == [screen.BUSY_RETRY]
        clock[0] += screen.BUSY_RETRY  # the retry's timer fires
        timers.pop()[1]()
        await settle(app, pilot)
        assert calls == [1, 1], timers  # read again now, not after a 4 × 10 s gap
