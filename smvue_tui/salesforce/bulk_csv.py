"""Bulk API 2.0 CSV results → records shaped exactly as a REST query returns them.

Bulk sends text; REST sends JSON. So that the store cannot tell which API read a row, each
column is converted by its describe type (``fields[].type``):

- an empty field → ``None`` (Salesforce keeps no empty strings: a blank text field is null, so
  both Bulk's empty-unquoted null and an empty quoted string mean null);
- boolean ``true``/``false`` → bool; int → int (Bulk may print ``0.0``); double, currency,
  percent → float; datetime ``2024-04-16T19:00:00.000Z`` → REST's ``…000+0000``; everything else
  (ids, strings, picklists, dates, times) stays text;
- a parent column ``Account.Name`` → ``{"Account": {"Name": …}}``, and ``"Account": None`` when
  every column of that parent is empty (REST sends null for an empty lookup; a parent whose
  selected fields are all null is indistinguishable in CSV and is given as None too).

Compound (address, location) and base64 fields cannot be queried by Bulk at all: see
``unsupported_fields``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from smvue_tui.salesforce.errors import SalesforceError

# Describe types Bulk 2.0 refuses in a query (compound fields; binary content).
BULK_REFUSED_TYPES = frozenset({"address", "location", "base64"})
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}

Convert = Callable[[str], Any]


def _boolean(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _integer(text: str) -> int:
    return int(text) if "." not in text else int(float(text))


def _datetime(text: str) -> str:
    # Bulk: 2024-04-16T19:00:00.000Z; REST: 2024-04-16T19:00:00.000+0000 (the store's form).
    return text[:-1] + "+0000" if text.endswith("Z") else text


_CONVERTERS: dict[str, Convert] = {
    "boolean": _boolean, "int": _integer, "long": _integer, "double": float,
    "currency": float, "percent": float, "datetime": _datetime,
}


def unsupported_fields(types: Mapping[str, str]) -> list[str]:
    """The fields among ``types`` (name → describe type) a Bulk query cannot select."""
    return sorted(name for name, kind in types.items() if kind in BULK_REFUSED_TYPES)


class CsvRecords:
    """Turns result pages of one job into REST-shaped records; built once per job from the
    describe types of its columns (``"Account.Name"`` keyed by its full path)."""

    def __init__(self, types: Mapping[str, str], delimiter: str = ",") -> None:
        self.types = dict(types)
        self.delimiter = delimiter
        self._header: list[str] | None = None
        self._build: Callable[[list[str]], dict[str, Any]] | None = None

    def parse(self, data: bytes | str) -> list[dict[str, Any]]:
        """Every record of one results page (each page repeats the header line)."""
        return [record for batch in self.batches(data, 1 << 30) for record in batch]

    def batches(self, data: bytes | str, size: int) -> Iterator[list[dict[str, Any]]]:
        """The page's records in lists of at most ``size``, parsed as they are asked for: a
        10,000-row page never exists as 10,000 dicts at once (nor as a decoded copy)."""
        stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="") \
            if isinstance(data, bytes) else io.StringIO(data, newline="")
        reader = csv.reader(stream, delimiter=self.delimiter, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            build = self._builder(header)
            batch: list[dict[str, Any]] = []
            for row in reader:
                if row:
                    batch.append(build(row))
                    if len(batch) >= size:
                        yield batch
                        batch = []
            if batch:
                yield batch
        except (csv.Error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise SalesforceError(f"Bulk API results could not be read: {exc}",
                                  code="BAD_BULK_CSV") from None

    def _builder(self, header: list[str]) -> Callable[[list[str]], dict[str, Any]]:
        if header != self._header or self._build is None:
            self._header, self._build = header, _row_builder(header, self.types)
        return self._build


def _row_builder(header: list[str], types: Mapping[str, str]) -> Callable[[list[str]],
                                                                           dict[str, Any]]:
    """A function from one CSV row to its record, with the per-column work decided once."""
    lowered = {name.lower(): kind for name, kind in types.items()}
    plain: list[tuple[int, str, Convert | None]] = []
    parents: dict[str, list[tuple[int, tuple[str, ...], Convert | None]]] = {}
    for i, column in enumerate(header):
        convert = _CONVERTERS.get(lowered.get(column.lower(), ""))
        parts = column.split(".")
        if len(parts) == 1:
            plain.append((i, column, convert))
        else:
            parents.setdefault(parts[0], []).append((i, tuple(parts[1:]), convert))
    width = len(header)

    def build(row: list[str]) -> dict[str, Any]:
        if len(row) != width:
            raise ValueError(f"a row has {len(row)} fields where the header has {width}")
        record: dict[str, Any] = {}
        for i, name, convert in plain:
            text = row[i]
            record[name] = None if text == "" else (convert(text) if convert else text)
        for parent, columns in parents.items():
            record[parent] = _parent(row, columns)
        return record

    return build


def _parent(row: list[str], columns: Iterable[tuple[int, tuple[str, ...], Convert | None]]
            ) -> dict[str, Any] | None:
    nested: dict[str, Any] = {}
    seen = False
    for i, path, convert in columns:
        text = row[i]
        seen = seen or text != ""
        value = None if text == "" else (convert(text) if convert else text)
        target = nested
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return nested if seen else None
