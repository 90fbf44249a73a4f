"""One token refresh at a time across SMVue's processes (the TUI, a sync child, ``serve``).

With refresh-token rotation on, two processes that refresh with the same refresh token lose
the login everywhere: Salesforce takes the second use of a rotated-away token for theft and
revokes the whole grant. So a refresh runs holding an advisory lock on a file beside the token
store (``salesforce-token.json.lock``: a lock file of its own, never the token file), and the
process that gets the lock second finds the refreshed login already stored and adopts it.

The lock is polled (non-blocking) from the event loop, so waiting never blocks the UI and a
cancelled wait leaves nothing behind; after ``timeout`` seconds the refresh goes ahead without
it (a process wedged holding the lock must not log everyone out for good).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from smvue_tui.salesforce.token_calls import DEFAULT_TIMEOUT

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; refreshes are then uncoordinated
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05

# Longer than the slowest refresh the holder can make (connect + read timeouts, with room):
# a waiter that gave up first would present the same refresh token again, and with rotation on
# Salesforce then revokes the whole token family.
LOCK_WAIT = 3 * DEFAULT_TIMEOUT


def lock_path(token_file: Path) -> Path:
    return token_file.with_name(token_file.name + ".lock")


@contextlib.asynccontextmanager
async def refresh_lock(token_file: Path, *,
                       timeout: float = LOCK_WAIT) -> AsyncIterator[bool]:
    """Hold the refresh lock beside ``token_file``; yields whether it is really held."""
    fd = _open(lock_path(token_file))
    if fd is None:
        yield False
        return
    try:
        held = await _acquire(fd, timeout)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(path: Path) -> int | None:
    if fcntl is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        log.warning("refresh lock %s unavailable (%s); refreshing without it", path,
                    exc.strerror)
        return None


async def _acquire(fd: int, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if loop.time() >= deadline:
                log.warning("another SMVue process held the refresh lock for %.0f s; "
                            "refreshing without it", timeout)
                return False
            await asyncio.sleep(POLL_SECONDS)
        except OSError as exc:
            log.warning("refresh lock failed (%s); refreshing without it", exc.strerror)
            return False
