"""Every column of the inspection's Changes, At risk and Reps tabs on an 80×24 screen, for
every period (a typed start date and time included) — over the hand-built store of
``test_inspection.py`` made as wide as a real one: long names, six-figure amounts, a deal with
an amount and a stage change, one with four changes and a new owner, and enough reps and deals
at risk for their tabs to scroll (a scrollbar takes two columns)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from smvue_tui.inspection.periods import PERIODS
from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.tui.screens.inspection import InspectionScreen
from tests.tui.test_inspection import NOW, _app, _log
from tests.tui.test_pipelines import settle
from tests.unit.store.pipeline_fixtures import ANA, BO, CY, NEW, deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture

REPS = 24  # more than an 80×24 Reps tab shows: its scrollbar takes two columns


def _wide_store() -> None:
    for uid, name in ((ANA, "Alexandrina Montgomery"), (BO, "Bartholomew Christensen"),
                      (CY, "Cy Park")):
        m.SfUser.update(name=name).where(m.SfUser.id == uid).execute()
    m.Opportunity.update(name="Enterprise platform renewal for every regional office",
                         amount=150_000.0).where(m.Opportunity.id == deal_id("02")).execute()
    # An amount and a stage change on one deal …
    _log("02", "2026-11-12T11:00:00.000+0000", Amount=[125_000.0, 150_000.0],
         StageName=["Prospecting", "Proposal"])
    # … and four on another, its owner too (Bo's before; now Cy's), its close date pushed.
    m.Opportunity.update(owner_id=CY, amount=4_000.0, stage_name="Prospecting").where(
        m.Opportunity.id == deal_id("03")).execute()
    _log("03", "2026-11-11T10:00:00.000+0000", Amount=[912_500.0, 4_000.0],
         StageName=["Proposal", "Prospecting"], OwnerId=[BO, CY])
    for n in range(REPS):
        uid = f"0058W00000001{n:02d}QAA"
        m.SfUser.create(id=uid, name=f"Maximiliana Rep{n:02d}", is_active=True)
        m.Opportunity.create(id=f"0068W00000001{n:02d}QAA", name=f"Big deal {n}",
                             record_type_id=NEW, stage_name="Proposal", amount=987_654.0,
                             currency_iso_code="USD", close_date="2026-12-31", owner_id=uid,
                             probability=50.0, is_closed=False, is_won=False,
                             created_date="2026-06-01T00:00:00.000+0000")
    deal_facts.rebuild()


def _fits(table: DataTable) -> tuple[int, int]:
    """The columns' width and the width they have (a shown scrollbar's columns left out)."""
    return (sum(c.get_render_width(table) for c in table.columns.values()),
            table.scrollable_content_region.width)


async def _shown(app, pilot, screen: InspectionScreen, period: str) -> None:
    """The report for ``period`` (a preset's name, or a start typed after d) on screen."""
    if period in PERIODS:
        screen.since, screen.period = None, PERIODS.index(period)
        screen.load()
    else:
        await pilot.press("d")
        await settle(app, pilot)
        app.screen.query("Input").first().value = period
        await pilot.press("enter")
    for _ in range(40):
        await settle(app, pilot)
        if screen.report is not None and not screen.report_gate.running:
            break


TYPED = ["2026-11-01", "2026-11-01T09:00"]


CASES = [*(((80, 24), p) for p in [*TYPED, *PERIODS]),
         # Each side of the width where the tables change layout, with the widest periods.
         *((size, p) for size in ((109, 30), (110, 30)) for p in [*TYPED, "this-month"])]


@pytest.mark.parametrize("size, period", CASES, ids=[f"{w}x{h}-{p}" for (w, h), p in CASES])
async def test_every_column_fits_at_80_columns_and_each_side_of_the_narrow_band(
        store, tmp_path, size, period):
    app = _app(tmp_path)
    _wide_store()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = InspectionScreen(now=NOW)
        await app.push_screen(screen)
        await _shown(app, pilot, screen, period)
        assert screen.report["window"]["label"].endswith(period.replace("-", " ")
                                                         if period in PERIODS else period)
        changes = screen.query_one("#inspect-changes", DataTable)
        if period in ("2026-11-01", "2026-11-01T09:00", "this-month", "this-quarter",
                      "last-7d", "last-14d", "last-30d"):  # the two deals' changes are in
            kinds = {d["id"]: d["kinds"] for d in screen.report["changes"]["deals"]}
            assert {"amount_up", "stage_forward"} <= set(kinds[deal_id("02")])
            assert len(kinds[deal_id("03")]) >= 4 and "owner_changed" in kinds[deal_id("03")]
        checked = []
        for key, table in (("1", changes), ("2", screen.query_one("#inspect-risk", DataTable)),
                           ("3", screen.query_one("#inspect-reps", DataTable))):
            await pilot.press(key)  # measured while shown (a hidden tab has no width)
            await settle(app, pilot)
            used, room = _fits(table)
            checked.append((table.id, used, room))
            assert used <= room, (table.id, [str(c.label) for c in table.columns.values()])
            assert table.max_scroll_x == 0
        reps = screen.query_one("#inspect-reps", DataTable)
        assert reps.row_count > REPS and reps.show_vertical_scrollbar  # the scrollbar's two
        assert [room for _, _, room in checked] == [size[0], size[0] - 2, size[0] - 2]
