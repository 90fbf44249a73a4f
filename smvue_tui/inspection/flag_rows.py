"""The report's flags section: every flagged open deal as a row — most flags first, then the
largest amount, then the Id — with the count per rule and per rep (``report.py`` puts it in the
report; ``cli/inspect_flags.py`` computes it in a second process for ``inspect --json``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
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
    keyed = []  # (sort key…, row): most flags first, then the largest amount, then the Id
    per_rep: dict[str, int] = {}
    tally = Counter(f.rule for fl in flagged.values() for f in fl)
    as_dict: dict[Flag, dict[str, str]] = {}  # one dict per distinct flag: most repeat
    for d, fl in flagged.items():
        row = listed.get(d)
        if row is None:
            continue
        name, owner, stage, amount, close = row
        # Keys in sorted order: their JSON is then the sorted-key JSON without sorting 50,000
        # dicts' keys again (cli/inspect_flags dumps them so; its tests compare the bytes).
        keyed.append((-len(fl), -(amount or 0), d, {
            "amount": amount, "close_date": close,
            "flags": [as_dict.get(f) or as_dict.setdefault(f, {"reason": f.reason, "rule": f.rule})
                      for f in fl],
            "id": d, "name": name, "owner": names.get(owner or "", owner), "owner_id": owner,
            "stage": stage}))
        per_rep[owner or ""] = per_rep.get(owner or "", 0) + 1
    keyed.sort()  # Ids are unique: the rows themselves are never compared
    return FlagSection([k[3] for k in keyed], {rule: tally[rule] for rule in RULES}, per_rep)
