"""Lines that wrap under their own text, not under their bullet or label.

A Rich string like ``"  • Read Opportunity records"`` wraps its second line to column 0; a
two-column grid keeps the mark (or label) in its own column, so a wrapped line stays indented.
Every list of bullets, checks or label/value rows on the screens goes through here.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text


def _text(value: str | Text) -> Text:
    return Text.from_markup(value) if isinstance(value, str) else value


def marked(rows: Iterable[tuple[str | Text, str | Text]], indent: int = 0) -> Table:
    """(mark, body) rows: the body wraps under itself. Strings are Rich markup."""
    grid = Table.grid(padding=(0, 1, 0, 0), expand=False)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for mark, body in rows:
        grid.add_row(Text(" " * indent) + _text(mark), _text(body))
    return grid


def bullets(lines: Iterable[str | Text], indent: int = 2, mark: str = "•") -> Table:
    return marked(((mark, line) for line in lines), indent)


def labelled(rows: Iterable[tuple[str, str | Text]], width: int | None = None) -> Table:
    """Label/value rows: bold labels in a column of their own, values wrapping beside them.
    Values given as str are plain text (Salesforce data is not markup)."""
    grid = Table.grid(padding=(0, 1, 0, 0), expand=False)
    grid.add_column(no_wrap=True, style="bold", min_width=width)
    grid.add_column(ratio=1)
    for label, value in rows:
        grid.add_row(label, Text(value) if isinstance(value, str) else value)
    return grid


def titled(title: str | Text, body: Table) -> Group:
    return Group(_text(title), body)
