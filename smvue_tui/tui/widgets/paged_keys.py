"""PagedTable's cursor, keys and mouse: moving the cursor (kept in view), paging, jumping,
selecting a row, sorting by a column (keys and a click on its header). A mixin: the widget's
bindings stay on ``PagedTable`` (Textual reads BINDINGS from widget classes only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events

from smvue_tui.tui.widgets.paged_source import Column


class CursorKeys:
    """Needs the table's ``cursor_row``, ``row_count``, ``columns``, ``sort``, ``sort_by`` and
    ``RowSelected`` (``paged_table.PagedTable``)."""

    cursor_row: int
    row_count: int
    columns: list[Column]
    sort: tuple[str, bool] | None
    _widths: list[int]
    _body_height: int
    cursor_value: tuple | None
    scroll_x: float
    scroll_y: float
    max_scroll_y: float
    scroll_to: Callable[..., Any]
    post_message: Callable[..., Any]
    sort_by: Callable[[str, bool], None]
    RowSelected: Any

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        height = self._body_height
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True)

    def _move_to(self, row: int) -> None:
        if not self.row_count:
            return
        self.cursor_row = max(0, min(row, self.row_count - 1))
        self._scroll_cursor_into_view()

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        step = self._body_height * direction
        top = max(0, min(int(self.scroll_y) + step, int(self.max_scroll_y)))
        self.scroll_to(y=top, animate=False, immediate=True)
        self._move_to(self.cursor_row + step)

    def action_jump(self, where: int) -> None:
        self._move_to(self.row_count - 1 if where < 0 else where)

    def action_select(self) -> None:
        row = self.cursor_value
        if row is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, row))

    def _sortable(self) -> list[Column]:
        return [c for c in self.columns if c.sortable]

    def action_sort_column(self, step: int) -> None:
        keys = [c.key for c in self._sortable()]
        if not keys:
            return
        current = keys.index(self.sort[0]) if self.sort and self.sort[0] in keys else -step
        self.sort_by(keys[(current + step) % len(keys)], False)

    def action_reverse_sort(self) -> None:
        if self.sort:
            self.sort_by(self.sort[0], not self.sort[1])

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_x)
            for column, width in zip(self.columns, self._widths, strict=True):
                if x < width + 1:
                    if column.sortable:
                        same = self.sort is not None and self.sort[0] == column.key
                        self.sort_by(column.key, not self.sort[1] if same and self.sort
                                     else False)
                    return
                x -= width + 1
            return
        row = int(self.scroll_y) + offset.y - 1
        if row == self.cursor_row:
            self.action_select()
        else:
            self._move_to(row)
