"""What Salesforce's server spends on a read, and the concurrency limits it applies.

Off unless asked for (tests stay fast): ``smvue-tui demo-org --cost-model default`` turns it on with
the defaults below; ``--cost NAME=VALUE`` (repeatable) changes one; ``build_org(cost_model=...)``
does the same for tests. The old flat ``--latency-ms`` (faults.py) is separate and still applies
to every call on top of this.

Server time of one REST query page (the first page and each nextRecordsUrl page):

    page_base_ms + records × (plain + parent_field_factor × parent) × field_us
                 + child rows × child fields × child_row_factor × field_us

where plain/parent are the selected fields of the FROM object and of its parents (Account.Name),
and child rows are the records of parent-to-child subqueries in the page. A COUNT() query costs
the base. A Bulk API 2.0 query job stays InProgress for

    bulk_job_base_s + rows × (plain + parent_field_factor × parent) × bulk_field_us

Limits (each adjustable; ``0`` turns a limit off):

- ``max_long_running`` = 25 requests running ``long_running_s`` = 20 s or longer: while that many
  are in flight, any new data API call answers 403 REQUEST_LIMIT_EXCEEDED "ConcurrentRequests
  (Concurrent API Requests) Limit exceeded." — Salesforce App Limits Cheatsheet, "API Request
  Limits and Allocations" (production and sandboxes 25, Developer Edition and trials 5; calls of
  20 s or longer; "no new concurrent requests are allowed until there are fewer than 25"); the
  error body as a real org sent it (gist ndabAP/2ae90f3b871403d822ec2de0bcffb5b0, a SOAP fault
  with that code and message).
- ``open_cursors`` = 0 (no limit) and ``cursor_ttl_s`` = 2 days — the same cheatsheet, "API Query
  Cursor Limits": since API 56.0 there is no limit on open cursors and results stay available 2
  days (before: 10 per user, the oldest released; 15 minutes idle — SOAP API guide, QueryLocator,
  v234.0). Our versions are 59.0+, so the cost model uses today's rule; the older one stays
  available as faults (``max_locators``, ``locator_ttl``), which apply while the model is off.

Time figures — no published per-record figure was found, so each is [unverified]:

- ``page_base_ms`` = 100: the fixed cost of a page; Salesforce's trust site has long reported an
  average transaction time "well under 300 ms" (Learning Apex Programming, Packt, "Obeying the
  speed limit"), which bounds it from above.
- ``field_us`` = 25 per record per field: a 2,000-record page of 20 fields then costs ~1.1 s, and
  a first sync of a 100,000-deal org (~860,000 rows of ~15 fields, objects read in parallel) lands
  in the product page's "10–20 minutes" for large orgs — calibrated to that published figure.
- ``parent_field_factor`` = 2, ``child_row_factor`` = 2: a join costs more than a column.
- ``bulk_job_base_s`` = 2 and ``bulk_field_us`` = 5: a job is queued before it runs, then Bulk
  reads in parallel chunks, cheaper per field than REST paging.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from smvue_demo_org.faults import name_values

LONG_RUNNING_MESSAGE = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
_KNOBS = ("page_base_ms", "field_us", "parent_field_factor", "child_row_factor",
          "bulk_job_base_s", "bulk_field_us", "long_running_s", "max_long_running",
          "open_cursors", "cursor_ttl_s")
_INTS = {"max_long_running", "open_cursors"}


@dataclass(frozen=True)
class QueryShape:
    """What a query selects, as the cost model counts it."""

    plain: int = 1  # fields of the FROM object
    parent: int = 0  # fields reached through parent relationships (Account.Name)
    child_fields: tuple[int, ...] = ()  # per parent-to-child subquery, its selected fields


@dataclass
class CostModel:
    enabled: bool = False
    page_base_ms: float = 100.0
    field_us: float = 25.0
    parent_field_factor: float = 2.0
    child_row_factor: float = 2.0
    bulk_job_base_s: float = 2.0
    bulk_field_us: float = 5.0
    long_running_s: float = 20.0
    max_long_running: int = 25
    open_cursors: int = 0
    cursor_ttl_s: float = 172_800.0
    # Injectable for tests: the clock long-running requests are timed by, and the wait.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, repr=False)
    charged_s: float = 0.0  # server seconds charged so far (pages and Bulk jobs)
    _running: dict[int, float] = field(default_factory=dict, repr=False)
    _ids: Iterator[int] = field(default_factory=itertools.count, repr=False)

    @classmethod
    def default(cls, **overrides: Any) -> CostModel:
        """The model on, with the published (or calibrated) defaults above."""
        return cls(enabled=True, **overrides)

    # --- time ---------------------------------------------------------------------------------

    def page_seconds(self, records: int, shape: QueryShape, child_rows: int = 0) -> float:
        if not self.enabled:
            return 0.0
        per_record = shape.plain + self.parent_field_factor * shape.parent
        child_fields = max(shape.child_fields, default=0)
        micros = (records * per_record
                  + child_rows * child_fields * self.child_row_factor) * self.field_us
        return self.page_base_ms / 1000 + micros / 1_000_000

    def bulk_seconds(self, rows: int, shape: QueryShape) -> float:
        if not self.enabled:
            return 0.0
        per_record = shape.plain + self.parent_field_factor * shape.parent
        return self.bulk_job_base_s + rows * per_record * self.bulk_field_us / 1_000_000

    async def spend(self, seconds: float) -> None:
        """Spend ``seconds`` of server time (the caller's request stays in flight meanwhile)."""
        if seconds > 0:
            self.charged_s += seconds
            await self.sleep(seconds)

    # --- concurrency ---------------------------------------------------------------------------

    def long_running(self) -> int:
        """Requests in flight for ``long_running_s`` or longer."""
        horizon = self.clock() - self.long_running_s
        return sum(1 for started in self._running.values() if started <= horizon)

    def admits(self) -> bool:
        """Whether a new request may start (False: answer REQUEST_LIMIT_EXCEEDED)."""
        return not (self.enabled and self.max_long_running
                    and self.long_running() >= self.max_long_running)

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        key = next(self._ids)
        self._running[key] = self.clock()
        try:
            yield
        finally:
            del self._running[key]

    # --- settings ------------------------------------------------------------------------------

    def set(self, name: str, value: str | float) -> None:
        """Set one knob by name; a clear ValueError for unknown names or bad values."""
        if name not in _KNOBS:
            raise ValueError(f"unknown cost setting {name!r}; known: {', '.join(_KNOBS)}")
        try:
            number: float = int(value) if name in _INTS else float(value)
        except ValueError:
            raise ValueError(f"cost setting {name} wants a number, got {value!r}") from None
        if number < 0:
            raise ValueError(f"cost setting {name} cannot be negative: {value}")
        setattr(self, name, number)

    def set_from_specs(self, specs: list[str]) -> None:
        for name, value in name_values(specs, "--cost"):
            self.set(name, value)

    def snapshot(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in _KNOBS or f.name in ("enabled", "charged_s")}
