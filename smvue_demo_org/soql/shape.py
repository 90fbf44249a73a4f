"""Rows → Salesforce JSON records: attributes first, fields in SELECT order, parents nested."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]
Kids = list[dict[str, Any]]  # per child subquery: parent id → {"totalSize", "done", "records"}
Converter = Callable[[Any], Any] | None

_CONVERTERS: dict[str, Converter] = {
    "boolean": bool, "double": float, "currency": float, "percent": float, "int": int,
    "address": json.loads, "location": json.loads,  # compound fields arrive as JSON objects
}


def converter(ftype: str) -> Converter:
    return _CONVERTERS.get(ftype)


@dataclass
class Leaf:
    index: int
    convert: Converter


@dataclass
class Child:
    number: int  # which child subquery of the query


@dataclass
class Node:
    """One record level: the FROM object or a parent reached through a relationship."""

    type_name: str | None  # None: polymorphic, the type comes from ``type_index``
    id_index: int
    type_index: int | None = None
    entries: list[tuple[str, Leaf | Node | Child]] = field(default_factory=list)

    def builder(self, base_url: str) -> Callable[[Row, Kids], dict[str, Any] | None]:
        """A fast function building this level's dict from a row (None if its id is null)."""
        steps: list[tuple[str, int, int, Any]] = []
        for key, entry in self.entries:
            if isinstance(entry, Leaf):
                kind = 0 if entry.convert is None else 1
                steps.append((key, kind, entry.index, entry.convert))
            elif isinstance(entry, Node):
                steps.append((key, 2, 0, entry.builder(base_url)))
            else:
                steps.append((key, 3, entry.number, None))
        id_index, type_name, type_index = self.id_index, self.type_name, self.type_index

        def build(row: Row, kids: Kids) -> dict[str, Any] | None:
            rid = row[id_index]
            if rid is None:
                return None
            if type_name is None:  # polymorphic parents are typed "Name", as Salesforce does
                attributes = {"type": "Name", "url": f"{base_url}{row[type_index]}/{rid}"}
            else:
                attributes = {"type": type_name, "url": f"{base_url}{type_name}/{rid}"}
            rec: dict[str, Any] = {"attributes": attributes}
            for key, kind, index, fn in steps:
                if kind == 0:
                    rec[key] = row[index]
                elif kind == 1:
                    value = row[index]
                    rec[key] = None if value is None else fn(value)
                elif kind == 2:
                    rec[key] = fn(row, kids)
                else:
                    rec[key] = kids[index].get(rid)
            return rec

        return build


def aggregate_builder(entries: list[tuple[str, Leaf]]) -> Callable[[Row, Kids], dict[str, Any]]:
    steps = [(key, leaf.index, leaf.convert) for key, leaf in entries]

    def build(row: Row, kids: Kids) -> dict[str, Any]:
        rec: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for key, index, fn in steps:
            value = row[index]
            rec[key] = value if value is None or fn is None else fn(value)
        return rec

    return build
