"""Which store: the embedded SQLite file per org (the default) or a PostgreSQL server.

One setting chooses: ``SMVUE_STORE_URL`` in the environment, else ``[store] url`` in config.toml
(``url = "postgresql://user@host/dbname"``). No setting = today's SQLite store per org. Reading
that setting (and keeping its password out of sight) is ``setting.py``'s; this module holds what
the open store needs to know of its backend.

On PostgreSQL each org's data lives in a schema of its own, ``smvue_<org id>`` (see
``postgres.py`` for why), so several orgs share one database without ever mixing.
"""

from __future__ import annotations

from typing import Any

from peewee import Database, Model, PostgresqlDatabase, fn

from smvue_tui.config import Paths
from smvue_tui.store.setting import redact, store_url


class StoreMissing(Exception):
    """The store asked for was never made: its file, or its org's schema on the PostgreSQL
    store (an open that reads only — ``inspect`` — makes none)."""


def schema_for(org_id: str) -> str:
    """The PostgreSQL schema of an org's store. 18-character ids are unique ignoring case
    (the last three characters encode it), so the lower-case name needs no quoting."""
    return f"smvue_{org_id.lower()}" if org_id else "smvue_unassigned"


def is_postgres(db: Database) -> bool:
    return isinstance(db, PostgresqlDatabase)


def describe(db: Database) -> str:
    """Where a store is, for the user: its file, or its server, database and schema (no
    password)."""
    label = getattr(db, "store_label", None)
    return str(label) if label else str(getattr(db, "database", "") or "")


def replace_row(model: type[Model], **values: Any) -> None:
    """Insert the row, or replace the one with its primary key — peewee's ``Model.replace``
    (SQLite's INSERT OR REPLACE), written as an upsert both backends run. Fields not given
    take their defaults, as with a replace."""
    key = model._meta.primary_key
    rest = [f for f in model._meta.sorted_fields if f is not key]
    model.insert(**values).on_conflict(conflict_target=[key], preserve=rest).execute()


def shared_store_note(paths: Paths, command: str) -> str:
    """For commands that manage the SQLite files on this machine (``orgs``, ``forget``,
    ``store check``): "" without a PostgreSQL store, else what they do not cover, in words.
    StoreUrlError when the setting cannot be read (the caller refuses)."""
    url = store_url(paths)
    if not url:
        return ""
    return (f"The store is on PostgreSQL at {redact(url)} (SMVUE_STORE_URL or [store] url): "
            "each org is a schema there, smvue_<org id>. `smvue-tui " + command + "` manages "
            "the store files on this machine only; the database's administrator manages "
            "those schemas (docs/team-store.md).")


# --- SQL functions one backend spells differently (SQLite's first) ---------------------------


def total(expr: Any) -> Any:
    """SQLite's TOTAL (0.0 for none, never NULL) in SQL both backends run."""
    return fn.COALESCE(fn.SUM(expr), 0.0)


def position(column: Any, term: str) -> Any:
    """Where ``term`` starts in the lower-cased column (0: absent) — a plain substring, so
    "%" and "_" match themselves: SQLite's instr is PostgreSQL's strpos."""
    from smvue_tui.store import models  # the database the models are bound to

    name = "strpos" if is_postgres(models.Opportunity._meta.database) else "instr"
    return getattr(fn, name)(fn.lower(column), term)
