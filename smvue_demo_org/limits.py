"""The org's daily API allocation: what Sforce-Limit-Info reports and /limits shows.

Salesforce counts requests over a rolling 24 hours. We keep hourly buckets so the count falls as
old hours leave the window, without remembering every call.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

_HOUR = 3600.0


class ApiUsage:
    def __init__(self, daily_limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.daily_limit = daily_limit
        self._clock = clock
        self._buckets: deque[list[float]] = deque()  # [hour_start, count], oldest first
        self.total_calls = 0  # ever, for benchmarks

    @property
    def used(self) -> int:
        self._expire()
        return int(sum(count for _, count in self._buckets))

    @property
    def remaining(self) -> int:
        return max(0, self.daily_limit - self.used)

    def exhausted(self, cost: int = 1) -> bool:
        """Whether a call costing ``cost`` would go past the allocation."""
        return self.used + cost > self.daily_limit

    def record(self, cost: int = 1) -> None:
        now = self._clock()
        hour = now - now % _HOUR
        if self._buckets and self._buckets[-1][0] == hour:
            self._buckets[-1][1] += cost
        else:
            self._buckets.append([hour, cost])
        self.total_calls += cost

    def set_used(self, used: int) -> None:
        """Test/benchmark knob: pretend ``used`` calls were made in the last hour."""
        self._buckets.clear()
        if used:
            self.record(used)

    def header(self) -> str:
        """The Sforce-Limit-Info value."""
        return f"api-usage={self.used}/{self.daily_limit}"

    def _expire(self) -> None:
        horizon = self._clock() - 24 * _HOUR
        while self._buckets and self._buckets[0][0] + _HOUR <= horizon:
            self._buckets.popleft()
