"""Progress of a sync, as events the UI and the CLI render."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressEvent:
    sobject: str
    done: int  # records stored so far in this run
    total: int | None  # what Salesforce said the query matches (None: not known yet)
    records_per_s: float
    eta_s: float | None
    api_calls: int  # used by this run so far
    phase: str = "running"  # running | done | skipped | failed


ProgressCallback = Callable[[ProgressEvent], None]


def is_complete(event: ProgressEvent) -> bool:
    """Finished, or every record it will fetch stored (its bar is full): one rule for the bar
    and for "N of M objects finished", so they never disagree."""
    if event.phase != "running":
        return True
    return event.total is not None and event.done >= event.total


def final_events(last: dict[str, ProgressEvent], counts: dict[str, int]) -> list[ProgressEvent]:
    """The bars of a run that finished ok, as its report counts them: each object's stored
    count (records fetched outside the paged reads, such as owners topped up, included), so
    the bars add up to the "records stored" the report says. Skipped/failed bars stay."""
    out = []
    for sobject in dict.fromkeys([*last, *counts]):
        event = last.get(sobject)
        if event is not None and event.phase in ("failed", "skipped"):
            continue
        done = counts.get(sobject, 0)
        calls = event.api_calls if event is not None else 0
        out.append(ProgressEvent(sobject, done, done, 0.0, None, calls, "done"))
    return out


@dataclass
class ObjectMeter:
    """Counts and rate for one object's fetch."""

    sobject: str
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int | None = None

    def event(self, api_calls: int, phase: str = "running") -> ProgressEvent:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        eta = None
        if self.total is not None and rate > 0:
            eta = max(0.0, (self.total - self.done) / rate)
        return ProgressEvent(self.sobject, self.done, self.total, rate, eta, api_calls, phase)
