"""A screen reads the store on StoreChanged only while the manager sees it: the top of the
screen stack. Textual's ``Screen.is_current`` is also true for the screen right under the top
one (a deal screen or a dialog opened over it), which kept re-reading — spaced, but seconds of
CPU per read on a big store — through a whole sync nobody was looking at. A change while hidden
is read once on return. Over the hand-built store of ``test_inspection.py`` (fixed clock)."""

from __future__ import annotations

import pytest

from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens import inspection as inspection_screen
from smvue_tui.tui.screens import pipeline_risk
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from smvue_tui.tui.screens.inspection import InspectionScreen
from smvue_tui.tui.screens.pipeline_modals import FormModal
from tests.tui.test_inspection import NOW, _app
from tests.tui.test_inspection_pipelines import _pipelines
from tests.tui.test_pipelines import settle
from tests.unit.store.pipeline_fixtures import deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture


class _Counted:
    """A read counted at each call (and made as before)."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.real(*args, **kwargs)


async def _changes(app, pilot, n: int = 4) -> None:
    """A sync's pages: ``n`` store changes, each one's reads (if any) finished."""
    for _ in range(n):
        app.post_message(StoreChanged(frozenset({"Opportunity"})))
        await settle(app, pilot)


async def _until(app, pilot, check) -> None:
    for _ in range(40):
        await settle(app, pilot)
        if check():
            return


async def _open_inspection(app, pilot, monkeypatch) -> tuple[InspectionScreen, _Counted]:
    reads = _Counted(inspection_screen.inspect)
    monkeypatch.setattr(inspection_screen, "inspect", reads)
    # Unspaced: every change while shown reads at once, so a read while hidden cannot hide
    # behind the gap.
    monkeypatch.setattr(InspectionScreen, "READ_GAP", 0.0)
    monkeypatch.setattr(InspectionScreen, "READ_COST_FACTOR", 0.0)
    await settle(app, pilot)
    screen = InspectionScreen(now=NOW)
    await app.push_screen(screen)
    await _until(app, pilot, lambda: screen.report is not None and not screen.report_gate.running)
    assert reads.calls == 1
    await _changes(app, pilot, 1)  # shown: a change reads at once
    assert reads.calls == 2
    return screen, reads


async def test_the_inspection_under_a_deal_screen_reads_once_when_the_deal_is_closed(
        store, tmp_path, monkeypatch):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, reads = await _open_inspection(app, pilot, monkeypatch)
        await app.push_screen(DealDetailScreen(deal_id("01")))
        await settle(app, pilot)
        assert screen.is_current  # Textual's word for the screen right under the top one
        await _changes(app, pilot)
        assert reads.calls == 2  # not shown: no read through the sync
        app.pop_screen()
        await _until(app, pilot, lambda: reads.calls > 2 and not screen.report_gate.running)
        await settle(app, pilot)
        assert reads.calls == 3  # shown again: one read for all four changes


async def test_the_inspection_under_a_dialog_reads_once_when_it_is_closed(
        store, tmp_path, monkeypatch):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, reads = await _open_inspection(app, pilot, monkeypatch)
        await pilot.press("d")  # "Changes since": a dialog over the inspection
        await settle(app, pilot)
        assert isinstance(app.screen, FormModal)
        await _changes(app, pilot)
        assert reads.calls == 2
        await pilot.press("escape")  # no start typed: the report stays the same period's
        await _until(app, pilot, lambda: reads.calls > 2 and not screen.report_gate.running)
        await settle(app, pilot)
        assert reads.calls == 3


async def test_a_start_typed_while_the_store_changed_reads_once(store, tmp_path, monkeypatch):
    # The dialog closes with a new start: that read is the one owed for the changes too (not
    # one for the return and one more for the start — a report is seconds on a big store).
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, reads = await _open_inspection(app, pilot, monkeypatch)
        await pilot.press("d")
        await settle(app, pilot)
        await _changes(app, pilot)
        app.screen.query("Input").first().value = "2026-11-01"
        await pilot.press("enter")
        await _until(app, pilot, lambda: reads.calls > 2 and not screen.report_gate.running)
        await settle(app, pilot)
        for _ in range(5):  # no read owed after it
            await settle(app, pilot)
        assert reads.calls == 3 and not screen.report_gate.wanted
        assert screen.report["window"]["label"] == "since 2026-11-01"


async def test_the_pipelines_under_a_deal_screen_read_once_when_the_deal_is_closed(
        store, tmp_path, monkeypatch):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, _ = await _pipelines(app, pilot)
        flags = _Counted(pipeline_risk.flagged_rules)
        monkeypatch.setattr(pipeline_risk, "flagged_rules", flags)
        setups = _Counted(screen._load_setup)
        monkeypatch.setattr(screen, "_load_setup", setups)
        screen.risk_gate.min_gap = screen.risk_gate.cost_factor = 0.0  # unspaced, as above
        await app.push_screen(DealDetailScreen(deal_id("01")))
        await settle(app, pilot)
        await _changes(app, pilot)
        assert (setups.calls, flags.calls) == (0, 0)  # not shown: neither deals nor flags
        app.pop_screen()
        await _until(app, pilot, lambda: flags.calls and not screen.risk_gate.running)
        await settle(app, pilot)
        assert (setups.calls, flags.calls) == (1, 1)  # shown again: read once


async def test_the_deal_screen_under_a_note_being_typed_reads_once_when_it_is_closed(
        store, tmp_path, monkeypatch):
    from smvue_tui.inspection import report
    from smvue_tui.store import deals

    app = _app(tmp_path)
    flags = _Counted(report.deal_risks)
    monkeypatch.setattr(report, "deal_risks", flags)
    details = _Counted(deals.deal_detail)
    monkeypatch.setattr(deals, "deal_detail", details)
    monkeypatch.setattr(DealDetailScreen, "FLAGS_GAP", 0.0)  # unspaced, as above
    monkeypatch.setattr(DealDetailScreen, "FLAGS_COST_FACTOR", 0.0)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        screen = DealDetailScreen(deal_id("01"))
        await app.push_screen(screen)
        await _until(app, pilot, lambda: flags.calls and not screen.flags_gate.running)
        assert (details.calls, flags.calls) == (1, 1)
        await pilot.press("n")  # a new note: a dialog over the deal
        await settle(app, pilot)
        assert app.screen is not screen
        await _changes(app, pilot)
        assert (details.calls, flags.calls) == (1, 1)  # not shown: no read
        await pilot.press("escape")  # the note given up: nothing written
        await _until(app, pilot, lambda: flags.calls > 1 and not screen.flags_gate.running)
        await settle(app, pilot)
        assert (details.calls, flags.calls) == (2, 2)  # shown again: read once


@pytest.mark.parametrize("mode", ["team", "integrations", "fields"])
async def test_a_settings_screen_under_the_help_reads_once_when_it_is_closed(
        store, tmp_path, monkeypatch, mode):
    from smvue_tui.store import field_mapping, team
    from smvue_tui.tui.screens import integrations

    where, name = {"team": (team, "team_rows"), "integrations": (integrations, "load_card"),
                   "fields": (field_mapping, "field_rows")}[mode]
    reads = _Counted(getattr(where, name))
    monkeypatch.setattr(where, name, reads)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await app.switch_mode(mode)
        await _until(app, pilot, lambda: reads.calls)
        await settle(app, pilot)
        shown_reads = reads.calls
        await pilot.press("question_mark")  # the keys, in a dialog over the screen
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "HelpScreen"
        await _changes(app, pilot)
        assert reads.calls == shown_reads  # not shown: no read
        await pilot.press("escape")
        await _until(app, pilot, lambda: reads.calls > shown_reads)
        await settle(app, pilot)
        assert reads.calls == shown_reads + 1  # shown again: read once
