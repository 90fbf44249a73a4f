"""PagedTable, the virtual table: reads only the pages it shows, moves a cursor, sorts, selects,
reloads in place, and says so when the source fails or is empty."""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult

from smvue_tui.tui.widgets.paged_table import Column, ListSource, PagedTable, fit
from tests.tui.test_pipelines import settle

COLUMNS = [Column("name", "Name", 12), Column("amount", "Amount", 8, "right")]


class CountingSource:
    """A million synthetic rows; records every page asked for."""

    def __init__(self, total: int = 1_000_000, descending: bool = False) -> None:
        self.total = total
        self.descending = descending
        self.fetches: list[tuple[int, int]] = []
        self.lock = threading.Lock()

    def _value(self, i: int) -> int:
        return self.total - 1 - i if self.descending else i

    def count(self) -> int:
        return self.total

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        with self.lock:
            self.fetches.append((offset, limit))
        end = min(offset + limit, self.total)
        return [(f"row {self._value(i)}", self._value(i) * 10, f"id-{self._value(i)}")
                for i in range(offset, end)]

    def sorted_by(self, key: str, descending: bool) -> CountingSource:
        return CountingSource(self.total, descending)


class FailingSource(CountingSource):
    def count(self) -> int:
        raise RuntimeError("database is locked")


class TableApp(App[None]):
    def __init__(self, source) -> None:
        super().__init__()
        self.source = source
        self.selected: list[PagedTable.RowSelected] = []

    def compose(self) -> ComposeResult:
        yield PagedTable(COLUMNS, self.source, page_size=50, sort=("name", False))

    def on_mount(self) -> None:
        self.query_one(PagedTable).focus()

    def on_paged_table_row_selected(self, message: PagedTable.RowSelected) -> None:
        self.selected.append(message)


def lines(table: PagedTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


async def test_a_million_rows_read_only_the_visible_pages_and_scroll():
    source = CountingSource()
    app = TableApp(source)
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        assert table.row_count == 1_000_000
        assert table.virtual_size.height == 1_000_001  # header + rows
        assert source.fetches == [(0, 50)]
        shown = lines(table)
        assert shown[0].startswith("Name ▲") and shown[1].startswith("row 0 ")
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and table.cursor_value[0] == "row 2"
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "pagedown")
        await settle(app, pilot)
        assert table.cursor_row == 2 + 5 * 11
        assert lines(table)[1].startswith(f"row {int(table.scroll_y)} ")
        await pilot.press("end")
        await settle(app, pilot)
        assert table.cursor_value[0] == "row 999999"
        assert lines(table)[-1].startswith("row 999999")
        assert len(source.fetches) <= 5  # pages 0, 1, the last one(s): never the whole table
        await pilot.press("home", "enter")
        await settle(app, pilot)
        assert [(s.index, s.row[2]) for s in app.selected] == [(0, "id-0")]


async def test_sort_keys_and_header_click():
    app = TableApp(ListSource([("b", 2), ("c", 1), ("a", 3)], ["name", "amount"]))
    async with app.run_test(size=(40, 8)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        await pilot.press("greater_than_sign")
        await settle(app, pilot)
        assert table.sort == ("amount", False)
        assert [table.row_at(i)[0] for i in range(3)] == ["c", "b", "a"]
        await pilot.press("v")
        await settle(app, pilot)
        assert [table.row_at(i)[0] for i in range(3)] == ["a", "b", "c"]
        assert "Amount ▼" in lines(table)[0]
        await pilot.click(PagedTable, offset=(2, 0))  # the Name header
        await settle(app, pilot)
        assert table.sort == ("name", False)
        assert [table.row_at(i)[0] for i in range(3)] == ["a", "b", "c"]
        await pilot.click(PagedTable, offset=(2, 2))  # second row: moves the cursor
        assert table.cursor_row == 1 and not app.selected
        await pilot.click(PagedTable, offset=(2, 2))  # again: selects it
        assert [s.row[0] for s in app.selected] == ["b"]


async def test_reload_keeps_cursor_and_new_source_resets_it():
    rows = [(f"r{i:02d}", i) for i in range(40)]
    source = ListSource(rows, ["name", "amount"])
    app = TableApp(source)
    async with app.run_test(size=(40, 10)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        await pilot.press("down", "down", "down")
        source.rows[3] = ("changed", 3)
        table.reload()
        await settle(app, pilot)
        assert table.cursor_row == 3 and table.cursor_value == ("changed", 3)
        table.set_source(ListSource(rows[:2], ["name", "amount"]))
        await settle(app, pilot)
        assert (table.cursor_row, table.row_count) == (0, 2)


async def test_failing_and_empty_sources_say_so():
    app = TableApp(FailingSource())
    async with app.run_test(size=(60, 6)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        assert "Could not read rows: database is locked" in lines(table)[1]
        table.set_source(ListSource([], ["name", "amount"]))
        await settle(app, pilot)
        assert lines(table)[1] == "No rows"
        await pilot.press("down", "enter")
        assert table.cursor_row == 0 and not app.selected


def test_fit_cuts_with_an_ellipsis_and_aligns():
    assert fit("abcdef", 4) == "abc…"
    assert fit("ab", 4) == "ab  " and fit("ab", 4, "right") == "  ab"
    assert fit("日本語", 4) == "日 …"  # double-width characters count as two cells


class _CountedColumn(Column):
    """A column that counts every read of its ``style``."""

    reads = [0]

    def __getattribute__(self, name: str):
        if name == "style":
            _CountedColumn.reads[0] += 1
        return super().__getattribute__(name)


async def test_lines_are_drawn_without_asking_each_column_for_its_style_again():
    # Whether any column colours its cells is a property of the column set, found once: not
    # asked of every column for every line drawn (a screen is ~40 lines, redrawn per key).
    columns = [_CountedColumn("name", "Name", 12), _CountedColumn("amount", "Amount", 8)]
    app = TableApp(CountingSource(1000))
    app.compose = lambda: iter([PagedTable(columns, app.source, page_size=50)])
    async with app.run_test(size=(40, 30)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        assert table.row_at(0) is not None
        _CountedColumn.reads[0] = 0
        for y in range(1, 25):
            table.render_line(y)
        assert _CountedColumn.reads[0] == 0
        table.columns = [*columns, Column("risk", "Risk", 4, style=lambda v: "red")]
        assert _CountedColumn.reads[0] == len(columns)  # once per column set
        await settle(app, pilot)
        assert table.render_line(1).text.split()[-1] == "id-0"  # the new column's cell
