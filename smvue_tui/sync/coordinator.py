"""One sync at a time: scheduled resync, Sync Now and webhook fetches share one lane.

A request while a sync runs is coalesced: however many arrive, one follow-up run starts when
the current one ends (so nothing that changed mid-run is missed), and every caller gets the
result of the run that covers its request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

# When requests of different kinds coalesce, the follow-up does the most thorough one.
_STRENGTH = {"incremental": 0, "webhook": 0, "initial": 1, "full": 2, "reconcile": 3}


class SyncCoordinator:
    def __init__(self, run: Callable[[str], Awaitable[Any]]) -> None:
        self._run = run
        self._current: asyncio.Task[Any] | None = None
        self._current_kind: str | None = None
        self._follow_up: asyncio.Future[Any] | None = None
        self._follow_up_kind: str | None = None

    @property
    def running(self) -> str | None:
        """The kind of sync running now, or None."""
        return self._current_kind if self._current and not self._current.done() else None

    async def request(self, kind: str) -> Any:
        """Run a sync of ``kind`` (or join the follow-up) and return its result."""
        if self.running is None:
            return await self._start(kind)
        if self._follow_up is None:
            self._follow_up = asyncio.get_running_loop().create_future()
            self._follow_up_kind = kind
        elif _STRENGTH.get(kind, 0) > _STRENGTH.get(self._follow_up_kind or "", 0):
            self._follow_up_kind = kind
        return await asyncio.shield(self._follow_up)

    def cancel(self) -> bool:
        """Cancel the running sync (cooperatively, between pages)."""
        if self._current and not self._current.done():
            self._current.cancel()
            return True
        return False

    async def stop(self) -> None:
        """Cancel the running sync and any follow-up; return once none runs (before the app
        moves to another org's store, no sync of the old one may still write)."""
        follow, self._follow_up, self._follow_up_kind = self._follow_up, None, None
        if follow is not None and not follow.done():
            follow.cancel()
        task = self._current
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})

    async def _start(self, kind: str) -> Any:
        self._current_kind = kind
        task = asyncio.create_task(self._run(kind), name=f"sync-{kind}")
        self._current = task
        task.add_done_callback(self._launch_follow_up)
        return await asyncio.shield(task)

    def _launch_follow_up(self, _finished: object = None) -> None:
        future, kind = self._follow_up, self._follow_up_kind
        if future is None or self.running is not None:
            return
        self._follow_up = self._follow_up_kind = None

        async def follow() -> None:
            try:
                future.set_result(await self._start(kind or "incremental"))
            except BaseException as exc:  # the waiters get the failure, not a hang
                if not future.done():
                    future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise

        asyncio.get_running_loop().create_task(follow(), name="sync-follow-up")
