"""A store read that failed, in words for the screen.

A sync's write can hold the store's write lock for longer than SQLite's busy timeout (10 s): an
initial sync's big pages, a prune. A read that has to write first — the inspection bringing the
deal facts up to date after a big page (``deal_facts.catch_up``) — then fails with SQLite's
"database is locked" (PostgreSQL: "canceling statement due to lock timeout"). That is not an
error the manager can do anything about: the screen says a sync is writing and reads again later.
"""

from __future__ import annotations

from smvue_tui.errors import reason

_BUSY = ("database is locked", "database table is locked", "lock timeout",
         "could not obtain lock")

BUSY_WORDS = "a sync is writing to the store right now; reading again in a few seconds"


def store_busy(exc: BaseException) -> bool:
    """True when ``exc`` is the store's lock held by another writer (a sync), not a fault."""
    text = str(exc).lower()
    return any(words in text for words in _BUSY)


def busy_words(exc: BaseException) -> str:
    """BUSY_WORDS when ``exc`` is a held write lock, else ""."""
    return BUSY_WORDS if store_busy(exc) else ""


def error_words(exc: BaseException) -> str:
    """The exception's own message (its first argument), never its repr."""
    return reason(exc)
