"""The inspection seen from the Pipelines screen: each deal's risk flags in the deal list (a
count, coloured; the reasons on the deal screen) and ``R``, the selected deal's owner's rep view,
in the palette and ``?`` — over the hand-built store of ``test_inspection.py`` (fixed clock);
snapshots at 80×24 of the rep view and the "since" form."""

from __future__ import annotations

import pytest

from smvue_tui.inspection.report import inspect
from smvue_tui.store import models as m
from smvue_tui.store.deals import ID_INDEX
from smvue_tui.tui.commands import commands_for
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.help import HelpScreen
from smvue_tui.tui.screens.pipelines import PipelinesScreen
from smvue_tui.tui.widgets.paged_table import PagedTable
from tests.tui.test_inspection import NOW, SIZE, _app, _open, rep_view_shown
from tests.tui.test_pipelines import screen_text, settle
from tests.unit.store.pipeline_fixtures import deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture


async def _pipelines(app, pilot) -> tuple[PipelinesScreen, PagedTable]:
    await settle(app, pilot)
    app.switch_mode("pipelines")
    for _ in range(50):  # the flags are read after the first page: wait for them, not a count
        await settle(app, pilot)
        if isinstance(app.screen, PipelinesScreen) and _flags_read(app.screen):
            break
    screen = app.screen
    assert isinstance(screen, PipelinesScreen)
    return screen, screen.query_one("#deals", PagedTable)


def _flags_read(screen: PipelinesScreen) -> bool:
    """Every row the deal list holds has its flags read."""
    rows = screen.query_one("#deals", PagedTable).cached_rows()
    return bool(rows) and all(str(r[ID_INDEX]) in screen.risk.read for r in rows)


def _risk_cells(table: PagedTable) -> dict[str, str]:
    risk = next(c for c in table.columns if c.key == "risk")
    return {table.row_at(i)[0]: risk.cell(table.row_at(i)[risk.index])
            for i in range(table.row_count)}


async def test_the_deal_list_shows_each_deals_flag_count(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = await _pipelines(app, pilot)
        report = inspect(app.services.config(), now=NOW)
        counts = {d["name"]: len(d["flags"]) for d in report["flags"]["deals"]}
        assert counts  # the store has flagged deals
        cells = _risk_cells(table)
        assert cells == {name: f"⚑{counts[name]}" if name in counts else ""
                         for name in cells}
        text = screen_text(app)
        assert "Risk" in text and "⚑2" in text  # on screen at 80 columns
        risk = next(c for c in table.columns if c.key == "risk")
        assert risk.style(deal_id("01")) == "bold red"  # two flags: past due, no contact role
        assert not risk.sortable

        # A deal not past due gets a past close date: its count follows the store.
        row = next(d for d in report["flags"]["deals"] if d["name"] in cells
                   and "close_date_past" not in {f["rule"] for f in d["flags"]})
        m.Opportunity.update(close_date="2026-01-01").where(
            m.Opportunity.id == row["id"]).execute()
        screen.post_message(StoreChanged(frozenset({"Opportunity"})))
        wanted = f"⚑{len(row['flags']) + 1}"
        for _ in range(50):
            await settle(app, pilot)
            if _risk_cells(table).get(row["name"]) == wanted:
                break
        assert _risk_cells(table)[row["name"]] == wanted


async def test_flags_wait_while_the_screen_is_hidden(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.switch_mode("pipelines")
        await settle(app, pilot)
        screen = app.screen
        app.switch_mode("team")
        await settle(app, pilot)
        screen.risk.show(frozenset(), {})
        screen.load_risk()  # hidden: nothing read until it is shown again
        await settle(app, pilot)
        assert not screen.risk.read and screen.risk_stale
        app.switch_mode("pipelines")
        for _ in range(50):
            await settle(app, pilot)
            if _flags_read(screen):
                break
        assert screen.risk.counts and not screen.risk_stale


async def test_r_opens_the_selected_deals_owner_in_the_rep_view(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen, table = await _pipelines(app, pilot)
        assert "pipelines_rep_view" in {c.binding_id for c in commands_for(screen)}
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Owner's rep view" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("down", "down")
        await settle(app, pilot)
        deal = table.cursor_value[-1]
        owner = m.Opportunity.get_by_id(deal).owner_id
        await pilot.press("R")
        await rep_view_shown(app, pilot)
        assert app.screen.report["rep"]["owner_id"] == owner
        assert [r["owner_id"] for r in app.screen.report["reps"]] == [owner]
        name = app.screen.report["rep"]["name"]
        figures = app.screen.report["reps"][0]
        text = screen_text(app)
        assert f"Last 7 days · {name}" in text
        assert f"({figures['open_count']} deals)" in text  # the rep's figures head the view
        assert f"{figures['flagged_deals']} flagged" in text.replace("\n", " ")


async def _rep_view_from_pipelines(app, pilot) -> None:
    """R on the first deal (Delta legacy, Bo Chen's): Bo Chen's changes and figures."""
    await _pipelines(app, pilot)
    await pilot.press("R")
    await rep_view_shown(app, pilot)
    assert app.screen.report["rep"]["name"] == "Bo Chen"


async def _since_form_refusing(app, pilot) -> None:
    await _open(app, pilot)
    await pilot.press("d")
    await settle(app, pilot)
    app.screen.query_one("#field-0").value = "the 3rd"
    await pilot.press("enter")  # refused in words; the form stays
    await settle(app, pilot)


@pytest.mark.parametrize("steps", [_rep_view_from_pipelines, _since_form_refusing],
                         ids=["rep_view_from_pipelines", "since_form"])
def test_snapshot_80x24(store, tmp_path, snap_compare, steps):
    app = _app(tmp_path)

    async def ready(pilot) -> None:
        await steps(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("wide", [False, True], ids=["80x24", "wide"])
async def test_the_at_risk_tab_names_the_rules_when_narrow_and_gives_evidence_when_wide(
        store, tmp_path, wide):
    from smvue_tui.inspection.flags import RULE_LABELS, RULES
    from smvue_tui.tui.screens.inspection_tables import WIDE

    assert set(RULE_LABELS) == set(RULES)
    size, shown, hidden = ((WIDE, 30), "days past", "past due") if wide else \
        ((80, 24), "past due", "days past")
    app = _app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await _open(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.screen.query_one("#inspect-risk")
        why = table.get_row(deal_id("01"))[3].plain  # Acme expansion: past due, …
        assert shown in why and hidden not in why, (size, why)


async def test_enter_on_a_reps_row_opens_that_reps_view(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("3", "down")
        await settle(app, pilot)
        owner = screen.report["reps"][1]["owner_id"]  # the second row (by name)
        await pilot.press("enter")
        for _ in range(50):
            await settle(app, pilot)
            if screen.report and (screen.report["rep"] or {}).get("owner_id") == owner:
                break
        assert screen.report["rep"]["owner_id"] == owner
        assert screen.query_one("TabbedContent").active == "changes"


def test_every_deal_column_fits_80_columns_beside_a_scrollbar():
    from smvue_tui.tui.screens.pipeline_view import RiskMarks, deal_table_columns
    from smvue_tui.tui.widgets.paged_source import fit_widths

    columns = deal_table_columns(RiskMarks())
    widths = fit_widths(columns, 78)  # 80 less the table's vertical scrollbar (2 cells)
    assert sum(widths) + len(widths) - 1 <= 78
    assert widths[-1] == len("Risk") and columns[-1].key == "risk"


async def test_a_reps_charts_at_80x24_stay_above_the_footer_and_scroll_to_the_forecast(
        store, tmp_path):
    from textual.widgets import TabPane

    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _rep_view_from_pipelines(app, pilot)  # the rep's figures take three more lines
        await pilot.press("4")
        await settle(app, pilot)
        pane = app.screen.query_one("#charts", TabPane)
        assert pane.region.bottom <= SIZE[1] - 1  # the footer's row stays the footer's
        assert "This quarter's open pipeline" in screen_text(app)
        assert pane.max_scroll_y > 0  # the forecast below: a scrollbar says so
        pane.scroll_end(animate=False, immediate=True)
        await settle(app, pilot)
        assert "Forecast categories" in screen_text(app)
