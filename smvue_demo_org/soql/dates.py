"""Date and datetime literals: fixed ones to storage text, relative ones to [start, end) days.

Relative literals follow Salesforce's documented ranges, in UTC, with weeks starting on Sunday
(the en_US locale) and fiscal periods equal to calendar ones (FiscalYearStartMonth = 1):
LAST_N_DAYS:n covers today and the n days before; NEXT_N_DAYS:n starts tomorrow.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

RELATIVE_PLAIN = {
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
    "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER", "LAST_QUARTER",
    "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR", "THIS_FISCAL_QUARTER",
    "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER", "THIS_FISCAL_YEAR", "LAST_FISCAL_YEAR",
    "NEXT_FISCAL_YEAR",
}
RELATIVE_N = {
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "NEXT_N_WEEKS", "LAST_N_WEEKS", "N_WEEKS_AGO",
    "NEXT_N_MONTHS", "LAST_N_MONTHS", "N_MONTHS_AGO", "NEXT_N_QUARTERS", "LAST_N_QUARTERS",
    "N_QUARTERS_AGO", "NEXT_N_YEARS", "LAST_N_YEARS", "N_YEARS_AGO", "NEXT_N_FISCAL_QUARTERS",
    "LAST_N_FISCAL_QUARTERS", "N_FISCAL_QUARTERS_AGO", "NEXT_N_FISCAL_YEARS",
    "LAST_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO",
}
_UNIT_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _add_months(d: date, months: int) -> date:
    """First day of the month ``months`` after d's month."""
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _period_start(today: date, unit: str) -> date:
    if unit == "DAY":
        return today
    if unit == "WEEK":
        return today - timedelta(days=(today.weekday() + 1) % 7)  # back to Sunday
    size = _UNIT_MONTHS[unit]
    month0 = (today.month - 1) // size * size
    return date(today.year, month0 + 1, 1)


def _shift(start: date, unit: str, count: int) -> date:
    if unit == "DAY":
        return start + timedelta(days=count)
    if unit == "WEEK":
        return start + timedelta(weeks=count)
    return _add_months(start, _UNIT_MONTHS[unit] * count)


_SHAPE = re.compile(r"(LAST|NEXT|THIS)_(N_)?(DAY|WEEK|MONTH|QUARTER|YEAR)S?|N_(\w+?)S_AGO")
_ALIASES = {"YESTERDAY": "LAST_DAY", "TODAY": "THIS_DAY", "TOMORROW": "NEXT_DAY",
            "LAST_90_DAYS": "LAST_N_DAYS", "NEXT_90_DAYS": "NEXT_N_DAYS"}


def relative_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """[start, end) in days for a relative literal, e.g. ("LAST_N_DAYS", 7).

    Raises ValueError when the range leaves the calendar (LAST_N_YEARS:100000).
    """
    if name.endswith("_90_DAYS"):
        n = 90
    name = _ALIASES.get(name, name).replace("_FISCAL", "")
    m = _SHAPE.fullmatch(name)
    if m is None:
        raise ValueError(name)
    direction, unit = m.group(1) or "AGO", m.group(3) or m.group(4)
    count = 1 if n is None else n
    this = _period_start(today, unit)
    try:
        if direction == "THIS":
            return this, _shift(this, unit, 1)
        if direction == "LAST" and unit == "DAY" and m.group(2):
            return _shift(this, unit, -count), _shift(this, unit, 1)  # today + n days before
        if direction == "LAST":
            return _shift(this, unit, -count), this
        if direction == "NEXT":
            return _shift(this, unit, 1), _shift(this, unit, 1 + count)
        start = _shift(this, unit, -count)  # N_..._AGO: exactly one period
        return start, _shift(start, unit, 1)
    except OverflowError as err:
        raise ValueError(name) from err


def day_bound(d: date, datetime_field: bool) -> str:
    """A day boundary as storage text for a date or a datetime column."""
    return f"{d.isoformat()}T00:00:00.000+0000" if datetime_field else d.isoformat()


def datetime_text(literal: str) -> str:
    """``2026-11-01T00:00:00Z`` / ``...+01:00`` / ``...000+0000`` → storage text in UTC."""
    body = literal
    if body.endswith("Z"):
        body = body[:-1] + "+00:00"
    elif body[-5] in "+-" and body[-3] != ":":
        body = body[:-2] + ":" + body[-2:]
    parsed = datetime.fromisoformat(body).astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}+0000"


def valid_date(literal: str) -> bool:
    try:
        date.fromisoformat(literal)
    except ValueError:
        return False
    return True
