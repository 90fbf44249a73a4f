"""What a PagedTable reads and how it lays out a cell: the row-source protocol, column
definitions, an in-memory source, and cell fitting. No Textual here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size


class RowSource(Protocol):
    def count(self) -> int: ...

    def fetch(self, offset: int, limit: int) -> Sequence[tuple]: ...

    def sorted_by(self, key: str, descending: bool) -> RowSource: ...


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    align: str = "left"  # "left" | "right"
    format: Callable[[Any], str] | None = None  # None → str(value), "" for None
    index: int | None = None  # position in the row tuple; None → the column's own position
    sortable: bool = True
    min_width: int | None = None
    """A text column may shrink to this on a narrow terminal (None: never shrinks)."""
    style: Callable[[Any], str] | None = None
    """The cell's Rich style from its value ("" or None: the row's own)."""

    def cell(self, value: Any) -> str:
        if self.format is not None:
            return self.format(value)
        return "" if value is None else str(value)


class ListSource:
    """An in-memory source (small tables and tests); sorts with Python, None first."""

    def __init__(self, rows: Sequence[tuple], keys: Sequence[str] = ()) -> None:
        self.rows = list(rows)
        self.keys = list(keys)

    def count(self) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        return self.rows[offset:offset + limit]

    def sorted_by(self, key: str, descending: bool) -> ListSource:
        i = self.keys.index(key)
        rows = sorted(self.rows, key=lambda r: (r[i] is not None, r[i]), reverse=descending)
        return ListSource(rows, self.keys)


def fit_widths(columns: Sequence[Column], available: int) -> list[int]:
    """Column widths for ``available`` cells (one space between columns): the columns that may
    shrink give up cells, widest first, down to their minimum, so figures and dates stay whole
    and every column stays on screen as long as the minimums fit."""
    widths = [c.width for c in columns]
    excess = sum(widths) + len(widths) - 1 - available
    while excess > 0:
        shrinkable = [i for i, c in enumerate(columns)
                      if c.min_width is not None and widths[i] > c.min_width]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i] - (columns[i].min_width or 0))
        widths[widest] -= 1
        excess -= 1
    return widths


def fit(text: str, width: int, align: str = "left") -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 0 else ""
    pad = " " * (width - cell_len(text))
    return pad + text if align == "right" else text + pad
