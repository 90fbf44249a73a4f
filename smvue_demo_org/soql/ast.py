"""The parsed query: plain dataclasses, names as written (resolution happens in compile)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]  # ("Account", "Owner", "Name")
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Aggregate:
    func: str  # COUNT COUNT_DISTINCT SUM AVG MIN MAX (upper case)
    arg: Path | None  # None only for COUNT()
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # string number date datetime boolean null relative
    value: object  # str / int / float / bool / None / (NAME, n or None)
    pos: int


@dataclass
class SelectItem:
    expr: Path | Aggregate | Select
    alias: str | None = None
    pos: int = 0


@dataclass
class Compare:
    left: Path | Aggregate
    op: str  # = != < <= > >= LIKE
    value: Literal
    pos: int


@dataclass
class InList:
    left: Path | Aggregate
    negated: bool
    values: list[Literal]
    pos: int


@dataclass
class InSelect:
    left: Path
    negated: bool
    select: Select
    pos: int


@dataclass
class BoolOp:
    op: str  # AND OR
    parts: list[Condition]


@dataclass
class Not:
    part: Condition


Condition = Union[Compare, InList, InSelect, BoolOp, Not]  # noqa: UP007


@dataclass
class OrderItem:
    expr: Path | Aggregate
    descending: bool
    nulls_first: bool


@dataclass
class Select:
    items: list[SelectItem]
    sobject: str
    sobject_pos: int
    alias: str | None = None
    where: Condition | None = None
    group_by: list[Path] = field(default_factory=list)
    having: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    offset_pos: int = 0
    count_only: bool = False  # SELECT COUNT() FROM ...
