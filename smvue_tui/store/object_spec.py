"""How one mirrored Salesforce object is described, and the lookback windows of the scope rules.

The sync plans with these (``sync/plan.py`` holds the table of objects) and the store writes and
prunes by them, so they live here, below both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta

from smvue_tui.store import models as m


@dataclass(frozen=True)
class Lookbacks:
    closed_days: int = 365  # "recently closed": about the last 12 months
    activity_days: int = 183  # "recent activities": about the last 6 months
    change_log_days: int = 400  # the deal change log's retention (store/changelog_retention.py)

    def closed_cutoff(self, today: date) -> date:
        return today - timedelta(days=self.closed_days)

    def activity_cutoff(self, today: date) -> date:
        return today - timedelta(days=self.activity_days)


@dataclass(frozen=True)
class ObjectSpec:
    sobject: str
    model: type[m.SfRecord]
    required: tuple[str, ...]  # without these the object is skipped (and reported)
    optional: tuple[str, ...] = ()  # synced when describe says the user can read them
    scope: str = "all"
    where: str = ""  # a fixed filter, e.g. RecordType's SobjectType
    cursor_field: str = "SystemModstamp"
    # Store columns filled from other fields: {"_ParentId": ("OpportunityId",)}; the first
    # non-null source wins.
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)  # e.g. {"_kind": "Task"}
    essential: bool = True  # required objects fail the sync when unreadable; others are skipped

    @functools.cached_property  # read for every row written
    def fields(self) -> tuple[str, ...]:
        sources = {s for group in self.derived.values() for s in group}
        ordered = dict.fromkeys((*self.required, *self.optional, *sorted(sources)))
        return tuple(ordered)
