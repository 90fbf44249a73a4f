"""The report's flags section: every flagged open deal as a row — most flags first, then the
largest amount, then the Id — with the count per rule and per rep (``report.py`` puts it in the
report; ``cli/inspect_flags.py`` computes it in a second process for ``inspect --json``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from smvue_tui.inspection.flags import RULES, Flag, flags
from smvue_tui.inspection.history import Past
from smvue_tui.inspection.settings import InspectionSettings


class FlagSection(NamedTuple):
    rows: Any  # the rows (list of dicts), or the same already as JSON (an orjson.Fragment)
    counts: dict[str, int]  # rule → flagged deals, every rule of RULES
    per_rep: dict[str, int]  # owner Id ("" for none) → flagged deals


class FlagsElsewhere(Protocol):
    """The flags section made by another process (``cli/inspect_flags``): it is handed the
    last two rules' flags, which the report finds with its changes, and makes the rest."""

    def send_recent(self, recent: dict[str, list[Flag]]) -> None: ...

    def collect(self) -> FlagSection | None:
        """The section, or None when it could not be made there (the report makes it)."""


def flag_section(past: Past, settings: InspectionSettings, now: datetime, rep: str | None,
                 names: dict[str, str],
                 recent: Callable[[], dict[str, list[Flag]]] | None = None) -> FlagSection:
    """The flagged open deals (``rep``'s only, when given) as the report lists them.
    ``recent``: the last two rules' flags found elsewhere (``flags.flags``)."""
    flagged = flags(past, settings, now, rep, recent=recent)
    listed = past.listed
    for d, deal in past.deals([d for d in flagged if d not in listed]).items():
        listed[d] = (deal.name, deal.now.owner_id, deal.now.stage, deal.now.amount,
                     deal.now.close_date)
    rows = []
    per_rep: dict[str, int] = {}
    for d, fl in flagged.items():
        row = listed.get(d)
        if row is None:
            continue
        name, owner, stage, amount, close = row
        # Keys in sorted order: their JSON is then the sorted-key JSON without sorting 50,000
        # dicts' keys again (cli/inspect_flags dumps them so; its tests compare the bytes).
        rows.append({"amount": amount, "close_date": close, "flags": fl, "id": d, "name": name,
                     "owner": names.get(owner or "", owner), "owner_id": owner,
                     "stage": stage})
        per_rep[owner or ""] = per_rep.get(owner or "", 0) + 1
    # Most flags first, then the largest amount, then the Id: three stable sorts on one key
    # each (a tuple key per row compares element by element, twice as slow at 50,000 rows).
    rows.sort(key=itemgetter("id"))
    rows.sort(key=_larger_first)
    rows.sort(key=_more_flags_first)
    tally = Counter(map(itemgetter("rule"), chain.from_iterable(flagged.values())))
    return FlagSection(rows, {rule: tally[rule] for rule in RULES}, per_rep)


def _larger_first(row: dict[str, Any]) -> float:
    return -(row["amount"] or 0)


def _more_flags_first(row: dict[str, Any]) -> int:
    return -len(row["flags"])
