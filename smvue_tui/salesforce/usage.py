"""API-usage readings from ``Sforce-Limit-Info`` and the budget that pauses non-essential calls.

Every REST response (except ``GET /services/data/``) carries
``Sforce-Limit-Info: api-usage=used/max`` and, on newer orgs, ``; api-bursts=used/max``. The
client keeps the latest reading; before a non-essential call it asks the budget whether the org
is already past our share of its daily allocation (the allocation is shared with every other
integration, so we stop well before Salesforce would).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smvue_tui.salesforce.errors import BudgetExceeded

LIMIT_INFO_HEADER = "Sforce-Limit-Info"
PACIFIC = ZoneInfo("America/Los_Angeles")
_PAIR = re.compile(r"^\s*([A-Za-z-]+)\s*=\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class ApiUsage:
    """One reading of the org's API usage. ``max is None`` means "no reading yet" (``used`` is
    then 0 so that arithmetic on it never fails)."""

    used: int = 0
    max: int | None = None
    bursts_used: int | None = None
    bursts_max: int | None = None
    updated_at: datetime | None = None

    @property
    def known(self) -> bool:
        return bool(self.max)

    @property
    def share(self) -> float | None:
        """used / max (0.0–1.0+), or None before the first reading."""
        return self.used / self.max if self.max else None

    @property
    def remaining(self) -> int | None:
        return max(0, self.max - self.used) if self.max is not None else None

    def resets_at(self, now: datetime | None = None) -> datetime:
        """Best guess of when the allocation frees up: next midnight Pacific Time (aware).

        Salesforce actually counts over a rolling 24 hours; the product page promises
        "daily at midnight Pacific Time", which is what the UI shows.
        """
        return next_pacific_midnight(now)


def next_pacific_midnight(now: datetime | None = None) -> datetime:
    """The next 00:00 in America/Los_Angeles after ``now`` (default: the current time)."""
    local = (now or datetime.now(UTC)).astimezone(PACIFIC)
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC)


def parse_limit_info(value: str, *, now: datetime | None = None) -> ApiUsage | None:
    """Parse ``api-usage=N/M[; api-bursts=x/y]``; None when there is no api-usage pair.

    Unknown pairs are ignored so that a future addition does not blind us.
    """
    fields: dict[str, tuple[int, int]] = {}
    for part in re.split(r"[;,]", value or ""):
        m = _PAIR.match(part)
        if m:
            fields[m.group(1).lower()] = (int(m.group(2)), int(m.group(3)))
    if "api-usage" not in fields:
        return None
    used, maximum = fields["api-usage"]
    bursts = fields.get("api-bursts")
    return ApiUsage(
        used=used,
        max=maximum,
        bursts_used=bursts[0] if bursts else None,
        bursts_max=bursts[1] if bursts else None,
        updated_at=now or datetime.now(UTC),
    )


class ApiBudget:
    """Refuses non-essential calls once usage reaches ``share`` of the daily allocation."""

    def __init__(self, share: float = 0.8) -> None:
        if not 0.0 < share <= 1.0:
            raise ValueError(f"budget share must be in (0, 1], got {share}")
        self.share = share

    def allows(self, usage: ApiUsage, *, essential: bool) -> bool:
        if essential or usage.share is None:
            return True
        return usage.share < self.share

    def check(self, usage: ApiUsage, *, essential: bool) -> None:
        """Raise ``BudgetExceeded`` (nothing sent) when a non-essential call is over budget."""
        if self.allows(usage, essential=essential):
            return
        resets = usage.resets_at()
        err = BudgetExceeded(
            f"{usage.used}/{usage.max} API calls used today (budget {self.share:.0%}); "
            f"resumes after {resets:%Y-%m-%d %H:%M %Z}",
            code="BUDGET",
        )
        err.usage = usage
        err.resets_at = resets
        raise err
