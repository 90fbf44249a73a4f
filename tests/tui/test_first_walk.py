"""Issue 19: what a new user found walking every screen — each numbered item has a test here
(or in tests/unit/test_first_walk_cli.py for the command line)."""

from __future__ import annotations

from smvue_tui.tui.widgets.paged_table import ListSource, PagedTable
from tests.tui.test_pipelines import settle
from tests.tui.test_pipelines_paged_table import COLUMNS, TableApp  # noqa: F401

# --- 2: the row cursor is visible -----------------------------------------------------------

async def test_cursor_row_has_its_own_background():
    """The cursor's colours win over the row's background (they lost: no cursor was seen)."""
    app = TableApp(ListSource([("a", 1), ("b", 2), ("c", 3)], ["name", "amount"]))
    async with app.run_test(size=(40, 8)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        await pilot.press("down")

        def backgrounds(y: int) -> set:
            return {seg.style.bgcolor for seg in table.render_line(y) if seg.style}

        cursor, other = backgrounds(2), backgrounds(1)
        assert cursor and cursor.isdisjoint(other), (cursor, other)
        expected = table.get_component_rich_style("paged-table--cursor").bgcolor
        assert cursor == {expected}
