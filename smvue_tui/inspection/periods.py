"""The window a change report covers (``--since 7d``, ``--period this-quarter``) and the
forecast periods (the fiscal quarter now and the next one).

Times are compared as Salesforce writes them (``2026-11-01T09:14:05.000+0000``, UTC), so a
window's start is kept in that form too (``Window.stamp``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

PERIODS = ("today", "this-week", "this-month", "this-quarter", "last-7d", "last-14d",
           "last-30d")
_SINCE = re.compile(r"^(\d{1,4})([hdw])$")


class PeriodError(ValueError):
    """A --since or --period the inspection cannot read (the message says what it accepts)."""


def sf_stamp(value: datetime) -> str:
    """A datetime as Salesforce writes it (UTC, milliseconds, +0000)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    label: str

    @property
    def stamp(self) -> str:
        return sf_stamp(self.start)


@dataclass(frozen=True)
class ClosePeriod:
    """A forecast period: inclusive close-date bounds."""

    name: str  # this_quarter | next_quarter
    first: date
    last: date
    bounds: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # ISO text once: holds() runs for every changed deal
        object.__setattr__(self, "bounds", (self.first.isoformat(), self.last.isoformat()))

    def holds(self, close_date: str | None) -> bool:
        return bool(close_date) and self.bounds[0] <= close_date[:10] <= self.bounds[1]


def window(since: str | None = None, period: str | None = None,
           now: datetime | None = None) -> Window:
    """The window ``--since`` (7d, 24h, 2w, or a date/datetime) or ``--period`` names;
    the last 7 days when neither is given."""
    now = now or datetime.now(UTC)
    if since and period:
        raise PeriodError("give --since or --period, not both")
    if period:
        return _named(period, now)
    text = (since or "7d").strip()
    match = _SINCE.match(text.lower())
    if match:
        n, unit = int(match[1]), match[2]
        step = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
        return Window(now - step, now, f"last {text.lower()}")
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PeriodError(f"--since must be a span like 7d, 24h or 2w, or a date like "
                          f"2026-11-01, not {text!r}") from None
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if start > now:
        raise PeriodError(f"--since {text} is in the future")
    return Window(start, now, f"since {text}")


def _named(period: str, now: datetime) -> Window:
    key = period.strip().lower().replace("_", "-")
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if key == "today":
        start = midnight
    elif key == "this-week":
        start = midnight - timedelta(days=now.weekday())
    elif key == "this-month":
        start = midnight.replace(day=1)
    elif key == "this-quarter":
        # The store is imported when used: `inspect` names PERIODS in its help and starts its
        # second process (cli/inspect_flags) before it loads the store.
        from smvue_tui.store.pipeline import fiscal_start_month, period_range

        first, _ = period_range("this_quarter", now.date(), fiscal_start_month())
        assert first is not None
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    elif key.startswith("last-") and key[5:-1].isdigit() and key.endswith("d"):
        start = now - timedelta(days=int(key[5:-1]))
    else:
        raise PeriodError(f"--period must be one of {', '.join(PERIODS)} (or last-Nd), "
                          f"not {period!r}")
    return Window(start, now, key.replace("-", " "))


def close_periods(today: date) -> tuple[ClosePeriod, ClosePeriod]:
    """The fiscal quarter holding ``today`` and the next one."""
    from smvue_tui.store.pipeline import fiscal_start_month, period_range

    start_month = fiscal_start_month()
    found = []
    for name in ("this_quarter", "next_quarter"):
        first, last = period_range(name, today, start_month)
        assert first is not None and last is not None
        found.append(ClosePeriod(name, first, last))
    return found[0], found[1]
