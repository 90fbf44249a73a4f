"""Who is working in this process: the manager whose team, overrides and notes these are.

A team store (PostgreSQL) is shared by several managers, so SMVue's own rows carry whose they
are: a note or action item its author, a stage-probability override the team it applies to. The
process says once who it is (``set_manager`` at start: the logged-in Salesforce user, else
config.toml's ``[team] manager``); a store of one manager (SQLite, the default) never sets it
and every row has the empty key, exactly as before team stores existed.
"""

from __future__ import annotations

_manager = ""


def set_manager(key: str) -> None:
    """Make ``key`` (a Salesforce username or an email; "" = the single manager) this
    process's manager for every row written from now on."""
    global _manager
    _manager = key.strip()


def current_manager() -> str:
    """The manager key rows are written and read with ("" in a one-manager store)."""
    return _manager
