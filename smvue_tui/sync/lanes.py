"""REST lanes for an initial sync, granted in the objects' priority order.

A plain semaphore grants lanes in the order objects ask, and since Bulk API 2.0 came in, an
object asks only once its COUNT() group has answered — under load a later group can answer
first and take every lane before the deals' group. ``RankedLanes`` grants a free lane to the
best-ranked object waiting, whatever the order they asked in.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class RankedLanes:
    """``count`` lanes; ``hold(rank)`` waits for one, lower ranks served first (FIFO within
    a rank). Cancellation while waiting gives back a lane already handed over."""

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @contextlib.asynccontextmanager
    async def hold(self, rank: int) -> AsyncIterator[None]:
        await self._acquire(rank)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, rank: int) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._order), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():
                granted.set_result(None)
                return
        self._free += 1
