"""A virtual table: renders only the visible rows, fetched a page at a time from a row source.

Textual's DataTable measures every cell before its first paint (50,000 rows ≈ 5 s), so this is
a Line API widget instead: a ``ScrollView`` whose virtual height is the row count, with
``render_line`` reading a small page cache. Missing pages (and the count) are read by thread
workers from the source, so the UI never waits on the store.

The source is any object with ``count() -> int``, ``fetch(offset, limit) -> list[tuple]`` and
``sorted_by(key, descending) -> source`` (the table sorts by asking for a re-sorted source).
Row tuples hold one value per column (``Column.index`` picks another position) and may carry
extra hidden values, such as a record Id, that ``RowSelected`` hands back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smvue_tui.tui.widgets.paged_keys import CursorKeys
from smvue_tui.tui.widgets.paged_source import Column, ListSource, RowSource, fit, fit_widths

__all__ = ["Column", "ListSource", "PagedTable", "RowSource", "fit"]


class PagedTable(CursorKeys, ScrollView, can_focus=True):
    """A cursor table over a paged row source. Posts ``RowSelected`` on enter (keys, cursor
    and mouse: ``paged_keys.CursorKeys``)."""

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
        background: $surface;
    }
    PagedTable > .paged-table--header { text-style: bold; background: $panel; }
    PagedTable > .paged-table--cursor { background: $accent 30%; }
    PagedTable:focus > .paged-table--cursor { background: $accent; color: $text; }
    PagedTable > .paged-table--pending { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"paged-table--header", "paged-table--cursor", "paged-table--pending"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table_up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table_page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table_page_down"),
        Binding("home", "jump(0)", "First", show=False, id="table_first"),
        Binding("end", "jump(-1)", "Last", show=False, id="table_last"),
        Binding("enter", "select", "Open", id="table_open"),
        Binding("greater_than_sign", "sort_column(1)", "Sort →", id="table_sort_next"),
        Binding("less_than_sign", "sort_column(-1)", "Sort ←", show=False,
                id="table_sort_previous"),
        Binding("v", "reverse_sort", "Reverse", show=False, id="table_sort_reverse"),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False)
    _columns: list[Column]
    _styled: bool
    _widths: list[int]
    _width: int

    @dataclass
    class _TableMessage(Message):
        table: PagedTable

        @property
        def control(self) -> PagedTable:  # lets @on(..., "#selector") match the table
            return self.table

    @dataclass
    class RowSelected(_TableMessage):
        index: int
        row: tuple

    @dataclass
    class SortChanged(_TableMessage):
        key: str
        descending: bool

    @dataclass
    class DataLoaded(_TableMessage):
        """A new source (or a reload) has its count and first visible page."""

        count: int

    @dataclass
    class RowsCached(_TableMessage):
        """New rows arrived in the page cache (``cached_rows``): a column read elsewhere for
        the rows shown, such as the risk flags, can read them too."""

    @dataclass
    class _Pages(Message):
        generation: int
        count: int | None
        pages: dict[int, list[tuple]]
        error: str | None = None

    def __init__(self, columns: Sequence[Column], source: RowSource | None = None, *,
                 page_size: int = 100, cache_pages: int = 24, empty_text: str = "No rows",
                 sort: tuple[str, bool] | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = columns
        self.page_size = page_size
        self.cache_pages = cache_pages
        self.empty_text = empty_text
        self.source: RowSource | None = source
        self.sort = sort
        self.row_count = 0
        self.error: str | None = None
        self.loaded = False  # the current generation has its count
        self._cache: OrderedDict[int, list[tuple]] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0
        self._cache_generation = -1
        self._keep_size = False

    @property
    def columns(self) -> list[Column]:
        return self._columns

    @columns.setter
    def columns(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        # Once per column set, not per line drawn: does any cell carry its own colour?
        self._styled = any(c.style is not None for c in self._columns)
        self._widths = [c.width for c in self._columns]  # fitted to the screen on resize
        self._width = sum(self._widths) + len(self._columns) - 1
        if self.is_mounted:
            self._fit_columns()
            self.refresh()

    # --- public API ----------------------------------------------------------------------------

    def set_source(self, source: RowSource, *, keep_cursor: bool = False,
                   preloaded: tuple[int | None, list[tuple]] | None = None) -> None:
        """Show another source (a new filter); the old rows stay until the new ones arrive.

        ``preloaded`` = (count or None, first page) already read by the caller's worker: shown
        at once; a None count is read next (the rows paint before the count is known).
        """
        self.source = source
        if not keep_cursor:
            self.cursor_row = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        self._start_generation(preloaded, keep_size=keep_cursor)

    def reload(self) -> None:
        """Re-read count and visible rows (the store changed); keeps the cursor position."""
        if self.source is not None:
            self._start_generation(keep_size=True)

    def sort_by(self, key: str, descending: bool = False) -> None:
        if self.source is None:
            return
        self.sort = (key, descending)
        self.set_source(self.source.sorted_by(key, descending), keep_cursor=False)
        self.post_message(self.SortChanged(self, key, descending))
        self.refresh()

    @property
    def fresh(self) -> bool:
        """The cached rows belong to the current source (not the previous one, still shown)."""
        return self._cache_generation == self._generation

    @property
    def cursor_value(self) -> tuple | None:
        """The row under the cursor, if loaded."""
        return self.row_at(self.cursor_row)

    def cached_rows(self) -> list[tuple]:
        """Every row the table holds (at most ``cache_pages`` pages): those shown, and those a
        scroll away."""
        return [row for page in self._cache.values() for row in page]

    def row_at(self, index: int) -> tuple | None:
        page = self._cache.get(index // self.page_size)
        if page is None:
            return None
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    # --- loading -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()
        self.virtual_size = Size(self._width, 1)
        if self.source is not None:
            self._start_generation()

    def _start_generation(self, preloaded: tuple[int | None, list[tuple]] | None = None, *,
                          keep_size: bool = False) -> None:
        self._generation += 1
        self._pending.clear()
        self.loaded = False
        # A reload keeps the old size until the new count, so the scroll position never jumps.
        self._keep_size = keep_size
        if preloaded is None:
            self._request(self._visible_pages(), with_count=True)
            return
        count, rows = preloaded
        self.on_paged_table__pages(self._Pages(self._generation, count, {0: rows}))
        if count is None:
            self._request([], with_count=True)

    @property
    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _visible_pages(self) -> list[int]:
        first = int(self.scroll_y)
        last = first + self._body_height
        if self.loaded:
            last = min(last, max(self.row_count - 1, 0))
        return list(range(first // self.page_size, last // self.page_size + 1))

    def _ensure_pages(self) -> None:
        if self.source is None or not self.loaded:
            return
        missing = [p for p in self._visible_pages()
                   if (p not in self._cache or self._cache_generation != self._generation)
                   and p not in self._pending]
        if missing:
            self._request(missing, with_count=False)

    def _request(self, pages: list[int], with_count: bool) -> None:
        if self.source is None:
            return
        self._pending.update(pages)
        self._load(self.source, self._generation, pages, with_count)

    @work(thread=True, group="paged-table", exit_on_error=False, description="reading rows")
    def _load(self, source: RowSource, generation: int, pages: list[int],
              with_count: bool) -> None:
        """Rows first (they paint at once), then the count (it only sizes the scrollbar)."""
        try:
            if pages:
                got = {p: list(source.fetch(p * self.page_size, self.page_size)) for p in pages}
                self.post_message(self._Pages(generation, None, got))
            if with_count:
                self.post_message(self._Pages(generation, source.count(), {}))
        except Exception as exc:  # shown in the table; the store may be mid-migration or gone
            self.post_message(self._Pages(generation, None, {}, error=str(exc)))

    def on_paged_table__pages(self, message: _Pages) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # an older source's answer
        self._pending.difference_update(message.pages)
        self.error = message.error
        if self._cache_generation != message.generation and (message.pages or message.error):
            self._cache.clear()  # first rows of a new generation replace the old ones
            self._cache_generation = message.generation
        for page, rows in message.pages.items():
            self._cache[page] = rows
            self._cache.move_to_end(page)
        while len(self._cache) > self.cache_pages:
            self._cache.popitem(last=False)
        if message.pages:
            self.post_message(self.RowsCached(self))
        if message.count is not None:
            self._set_count(message.count)
            self.post_message(self.DataLoaded(self, self.row_count))
        elif not self.loaded and message.pages:  # rows before the count: size to what we know
            known = max(p * self.page_size + len(rows) for p, rows in self._cache.items())
            self._set_count(max(known, self.row_count) if self._keep_size else known,
                            final=False)
        self.refresh()
        self._ensure_pages()

    def _set_count(self, count: int, final: bool = True) -> None:
        self.row_count = count
        self.loaded = final
        self.virtual_size = Size(self._width, self.row_count + 1)
        if final:
            self.cursor_row = min(self.cursor_row, max(self.row_count - 1, 0))
            self._scroll_cursor_into_view()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._ensure_pages()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()
        self._ensure_pages()

    def _fit_columns(self) -> None:
        """Narrow text columns to the width shown (80 columns: every column stays visible)."""
        widths = fit_widths(self.columns, self.scrollable_content_region.width)
        if widths != self._widths:
            self._widths = widths
            self._width = sum(widths) + len(widths) - 1
            self.virtual_size = Size(self._width, max(self.virtual_size.height, 1))
            self.refresh()

    # --- drawing -------------------------------------------------------------------------------

    def _line(self, cells: list[str], style: Style,
              values: Sequence[object] | None = None) -> list[Segment]:
        if values is None or not self._styled:
            text = " ".join(fit(cell, width, c.align) for cell, c, width
                            in zip(cells, self.columns, self._widths, strict=True))
            return [Segment(text, style)]
        # Some cells carry their own colour (the risk column): one segment per cell.
        segments: list[Segment] = []
        for cell, c, width, value in zip(cells, self.columns, self._widths, values, strict=True):
            if segments:
                segments.append(Segment(" ", style))
            extra = c.style(value) if c.style is not None else None
            segments.append(Segment(fit(cell, width, c.align),
                                    style + Style.parse(extra) if extra else style))
        return segments

    def _header(self) -> list[Segment]:
        labels = []
        for c in self.columns:
            mark = ""
            if self.sort and self.sort[0] == c.key:
                mark = " ▼" if self.sort[1] else " ▲"
            labels.append(c.label + mark)
        return self._line(labels, self.get_component_rich_style("paged-table--header"))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            segments = self._header()
        else:
            index = scroll_y + y - 1
            segments = self._row_segments(index, y, base)
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
        if y > 0 and scroll_y + y - 1 == self.cursor_row and self.row_count:
            # post_style: the cursor's colours go over the row's own background (a base style,
            # as Strip.apply_style gives, loses to it and the cursor is invisible).
            cursor = self.get_component_rich_style("paged-table--cursor")
            strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip

    def _row_segments(self, index: int, y: int, base: Style) -> list[Segment]:
        pending = self.get_component_rich_style("paged-table--pending")
        if self.error and y == 1:
            return [Segment(f"Could not read rows: {self.error}", pending)]
        if self.loaded and self.row_count == 0 and y == 1:
            return [Segment(self.empty_text, pending)]
        if not self.loaded and not self._cache:
            return [Segment("Loading…", pending)] if y == 1 else []
        if index >= self.row_count and (self.loaded or self._cache_generation == self._generation):
            return []  # past the end (or past the first page, until the count arrives)
        row = self.row_at(index)  # may be the previous generation's row until the new arrives
        if row is None:
            self.call_later(self._ensure_pages)
            return [Segment("…", pending)]
        values = [row[c.index if c.index is not None else i] for i, c in enumerate(self.columns)]
        return self._line([c.cell(v) for c, v in zip(self.columns, values, strict=True)], base,
                          values)

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()
