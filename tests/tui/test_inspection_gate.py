"""The inspection screen's reads go through ``LatestRead``: a report (or the weekly trend) is
seconds of work on a big store and a sync posts StoreChanged about once a second, so one read at
a time, one more for every change during it, and the report shown is always the newest — over
the hand-built store of ``test_inspection.py`` (fixed clock)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from textual.widgets import DataTable

from smvue_tui.inspection.periods import PERIODS, window
from smvue_tui.store import models as m
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens import inspection as inspection_screen
from smvue_tui.tui.screens.inspection import InspectionScreen
from tests.tui.test_inspection import NOW, _app
from tests.tui.test_pipelines import settle
from tests.unit.store.pipeline_fixtures import deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture


class _Held:
    """A read that records each call and its result, and holds the first until ``release``."""

    def __init__(self, real) -> None:
        self.real, self.calls, self.results = real, [], []
        self.release = threading.Event()

    def __call__(self, *args, **kwargs):
        self.calls.append(kwargs)
        if len(self.calls) == 1:
            self.release.wait(30)
        result = self.real(*args, **kwargs)
        self.results.append(result)
        return result


async def _pushed(app, pilot) -> InspectionScreen:
    """The inspection opened (not waiting for its read: settle() would wait for a held one)."""
    await settle(app, pilot)
    screen = InspectionScreen(now=NOW)
    await app.push_screen(screen)
    return screen


async def _wait(check, rounds: int = 600) -> None:
    """Poll without settle(): it waits for every worker, and one is held on purpose."""
    for _ in range(rounds):
        if check():
            return
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("what", ["report", "trend"])
async def test_changes_during_a_slow_read_make_one_more_and_the_newest_shows(
        store, tmp_path, monkeypatch, what):
    real = inspection_screen.inspect if what == "report" else inspection_screen.weekly
    held = _Held(real)
    monkeypatch.setattr(inspection_screen, "inspect" if what == "report" else "weekly", held)
    # No spacing here (test_latest_read.py has it): the one more read starts at once.
    monkeypatch.setattr(InspectionScreen, "READ_GAP", 0.0, raising=False)
    monkeypatch.setattr(InspectionScreen, "READ_COST_FACTOR", 0.0, raising=False)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        try:
            screen = await _pushed(app, pilot)
            if what == "trend":
                await _wait(lambda: screen.report is not None)
                await pilot.press("5")  # the trend is read only while its tab is shown
            await _wait(lambda: held.calls)
            for _ in range(10):  # a sync's pages, about one a second, during the read
                app.post_message(StoreChanged(frozenset({"Opportunity"})))
                await asyncio.sleep(0.02)
            await _wait(lambda: len(held.calls) > 1, rounds=20)
            assert len(held.calls) == 1  # never two at once
            gate = screen.report_gate if what == "report" else screen.trend_gate
            assert gate.wanted  # the changes have reached the screen: one more is owed
        finally:
            held.release.set()
        for _ in range(50):
            await settle(app, pilot)
            if not gate.running and not gate.wanted and len(held.calls) == 2:
                break
        assert len(held.calls) == 2  # ten changes, one more read
        shown = screen.report if what == "report" else screen.trend
        assert shown is held.results[1]  # the newest


async def test_a_key_during_a_slow_read_reads_after_it_and_its_report_stays(
        store, tmp_path, monkeypatch):
    # The manager picks the next period while the last 7 days are still being read: the read
    # for the new period starts when that one ends (no spacing: a key, not a store change),
    # and the older report never replaces the newer.
    held = _Held(inspection_screen.inspect)
    monkeypatch.setattr(inspection_screen, "inspect", held)
    monkeypatch.setattr(InspectionScreen, "READ_GAP", 60.0, raising=False)  # changes: a minute
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        try:
            screen = await _pushed(app, pilot)
            await _wait(lambda: held.calls)
            await pilot.press("full_stop")
            await _wait(lambda: len(held.calls) > 1, rounds=20)
            assert len(held.calls) == 1  # never two at once
        finally:
            held.release.set()
        for _ in range(50):
            await settle(app, pilot)
            if len(held.results) == 2 and screen.report is held.results[-1]:
                break
        following = PERIODS[(PERIODS.index("last-7d") + 1) % len(PERIODS)]
        assert [c["period"] for c in held.calls] == ["last-7d", following]
        assert screen.report is held.results[1]
        assert screen.report["window"]["label"] == window(period=following, now=NOW).label


async def test_the_tables_are_laid_out_again_when_the_width_crosses_a_band(store, tmp_path):
    # Fitted when the report arrives, and again on a resize: a window made narrower than 110
    # columns shortens the Reps headers and the names so every column stays on screen (and
    # wider again, back); the cursor stays on its row.
    app = _app(tmp_path)
    m.Opportunity.update(name="Beta rollout across every regional office").where(
        m.Opportunity.id == deal_id("02")).execute()  # a changed deal with a long name
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _pushed(app, pilot)
        await _wait(lambda: screen.report is not None)
        await settle(app, pilot)
        reps = screen.query_one("#inspect-reps", DataTable)
        changes = screen.query_one("#inspect-changes", DataTable)
        assert "Weighted\nnow" in _headers(reps)
        changes.move_cursor(row=2)
        key = changes.coordinate_to_cell_key(changes.cursor_coordinate).row_key
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert "Wtd\nnow" in _headers(reps) and "Weighted\nnow" not in _headers(reps)
        # every column of the changes on screen (a DataTable's columns never narrow by
        # themselves: the 32-character names of the wide layout would push Close off)
        assert sum(c.get_render_width(changes) for c in changes.columns.values()) <= 80
        assert changes.coordinate_to_cell_key(changes.cursor_coordinate).row_key == key
        await pilot.resize_terminal(120, 34)
        await settle(app, pilot)
        assert "Weighted\nnow" in _headers(reps)


def _headers(table: DataTable) -> list[str]:
    return [str(c.label) for c in table.columns.values()]


async def test_a_trend_read_that_came_due_while_hidden_is_made_on_return(
        store, tmp_path, monkeypatch):
    # A store change while the Trend tab is shown: the report reads at once, the trend waits
    # out its gap (it read a moment ago). The manager goes to the sync screen meanwhile; the
    # trend's turn comes while the inspection is hidden. Back on it, the trend is read — the
    # report, read after the change, is not owed, so a resume that asked only for it left the
    # old weeks drawn.
    weeks = _Held(inspection_screen.weekly)
    weeks.release.set()  # counted, not held
    monkeypatch.setattr(inspection_screen, "weekly", weeks)
    monkeypatch.setattr(InspectionScreen, "READ_GAP", 0.0, raising=False)
    monkeypatch.setattr(InspectionScreen, "READ_COST_FACTOR", 0.0, raising=False)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _pushed(app, pilot)
        await _wait(lambda: screen.report is not None)
        await pilot.press("5")
        await _wait(lambda: weeks.results and not screen.trend_gate.running)
        screen.trend_gate.min_gap = 1.0  # the trend's next read: a second after the last
        app.post_message(StoreChanged(frozenset({"Opportunity"})))
        await _wait(lambda: screen.trend_gate.timer_set)
        assert screen.trend_gate.timer_set, "the trend's read waits out its gap"
        shown_in = app.current_mode
        await app.switch_mode("sync")
        await pilot.pause()
        await _wait(lambda: not screen.trend_gate.timer_set)  # came due, hidden
        await settle(app, pilot)
        assert len(weeks.calls) == 1 and not screen.is_current
        await app.switch_mode(shown_in)
        for _ in range(20):
            await settle(app, pilot)
            if len(weeks.results) == 2:
                break
        assert len(weeks.results) == 2  # read on return
        assert screen.trend is weeks.results[1]
