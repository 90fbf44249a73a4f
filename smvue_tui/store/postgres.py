"""The store on PostgreSQL: the same models and migrations as SQLite, one schema per org.

Why a schema per org (not an org key on every row): the models, the table names and every query
stay exactly as on SQLite — the search_path, set for each connection, decides which org a
connection sees, so no query can forget an ``org_id`` filter and show one org's deals as
another's. An org is dropped, dumped (``pg_dump -n``) or granted to a role as one unit, and
orgs of one company share one database and one server.

Peewee's ``Psycopg3Database`` (playhouse.postgres_ext, psycopg 3) opens one connection per
thread, like SQLite's; the StoreWriter thread has its own. FloatField is DOUBLE PRECISION here
(peewee's default REAL is 4 bytes: an amount of 1,234,567.89 would come back changed).
"""

from __future__ import annotations

import functools
import os
import threading

from peewee import InterfaceError, OperationalError, _savepoint
from playhouse.postgres_ext import Psycopg3Database
from playhouse.shortcuts import ReconnectMixin

from smvue_tui.errors import reason
from smvue_tui.store import models
from smvue_tui.store.backend import StoreMissing
from smvue_tui.store.setting import redact

FIELD_TYPES = {"FLOAT": "DOUBLE PRECISION"}
# Each connection names its process: a sync run records its pid, and a run whose process holds
# no connection to the server any more (killed, crashed, its machine gone) was interrupted.
APP_NAME = "smvue-tui"
CONNECT_TIMEOUT = 10  # seconds: a server that does not answer is said so, not waited on


class SharedStore(ReconnectMixin, Psycopg3Database):
    """A server restarted, a connection cut by an idle timeout or a failover: the next
    statement outside a transaction reconnects (same URL, same schema). Inside one it fails —
    the transaction's writes are gone with the connection, and the caller must know."""

    reconnect_errors = (
        (OperationalError, "terminating connection"),
        (OperationalError, "the connection is closed"),
        (OperationalError, "server closed the connection"),
        (OperationalError, "consuming input failed"),
        (OperationalError, "connection is lost"),
        (InterfaceError, "the connection is closed"),
    )

    def execute_sql(self, sql: str, params: object = None, named_cursor: object = None) -> object:
        # The mixin's own takes no named_cursor, which playhouse's execute passes.
        return self._reconnect(Psycopg3Database.execute_sql, self, sql, params, named_cursor)

    def savepoint(self) -> _savepoint:
        return _CountedSavepoint(self)

    def savepoints_rolled_back(self) -> int:
        """How many savepoints this thread has rolled back: what a transaction made after a
        count stays made at its commit only if the count has not moved (``pg_writer``)."""
        return getattr(self._rollbacks, "count", 0)

    @functools.cached_property
    def _rollbacks(self) -> threading.local:
        return threading.local()


class _CountedSavepoint(_savepoint):
    """peewee's savepoint (an ``atomic()`` inside a transaction), its rollbacks counted: peewee
    runs commit callbacks at the outer commit even when a savepoint between rolled back."""

    def rollback(self, begin: bool = True) -> None:
        local = self.db._rollbacks
        local.count = getattr(local, "count", 0) + 1
        super().rollback(begin)


# What a sync reports when the PostgreSQL store fails it (server down, restarted, out of room):
STORE_UNAVAILABLE = {"object": "", "code": "STORE_UNAVAILABLE",
                     "message": "The shared store's PostgreSQL server could not be used",
                     "remedy": "Check that the server is up and has room; the next sync resumes "
                               "from the last page it stored."}


SERVER_ERRORS = (OperationalError, InterfaceError)


def unavailable(db: object, exc: BaseException) -> bool:
    """Whether ``exc`` is the PostgreSQL store's server failing us (connection lost, shut
    down, out of resources: psycopg's OperationalError), not a bug of ours."""
    return isinstance(db, Psycopg3Database) and isinstance(exc, SERVER_ERRORS)


class StoreUnreachable(Exception):
    """The PostgreSQL server could not be reached or refused us; the message says why."""


def connect(url: str, schema: str, *, create: bool = True) -> SharedStore:
    """A database whose every connection works in ``schema`` (created if missing, else
    StoreMissing when not ``create``), with the models bound to it (``db.open_postgres``
    migrates it too). StoreUnreachable in words when the server cannot be used."""
    db = SharedStore(url, field_types=FIELD_TYPES, options=f"-c search_path={schema}",
                     connect_timeout=CONNECT_TIMEOUT,
                     application_name=f"{APP_NAME} pid={os.getpid()}")
    db.store_label = f"{redact(url)} (schema {schema})"  # type: ignore[attr-defined]
    db.store_schema = schema  # type: ignore[attr-defined]
    db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
    try:
        db.connect(reuse_if_open=True)
    except OperationalError as exc:
        raise StoreUnreachable(f"cannot open the store at {redact(url)}: "
                               f"{reason(exc)}") from None
    try:  # only when missing: CREATE SCHEMA needs a right on the database that a manager's
        # role (docs/team-store.md) has not, even with IF NOT EXISTS
        if db.execute_sql("SELECT to_regnamespace(%s)", (schema,)).fetchone()[0] is None:
            if not create:  # asked on the connection that reads it: one login, not two
                raise StoreMissing(f"no store for schema {schema} at {redact(url)}")
            db.execute_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    except BaseException:
        db.close()
        raise
    return db


# --- the schema version (SQLite keeps it in PRAGMA user_version) -----------------------------

VERSION_TABLE = "_smvue_schema"


def schema_version(db: Psycopg3Database) -> int:
    found = db.execute_sql("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()[0]
    if found is None:
        return 0
    row = db.execute_sql(f'SELECT max("version") FROM "{VERSION_TABLE}"').fetchone()
    return int(row[0] or 0)


def set_schema_version(db: Psycopg3Database, version: int) -> None:
    db.execute_sql(f'CREATE TABLE IF NOT EXISTS "{VERSION_TABLE}" ("version" INTEGER NOT NULL)')
    db.execute_sql(f'DELETE FROM "{VERSION_TABLE}"')
    db.execute_sql(f'INSERT INTO "{VERSION_TABLE}" ("version") VALUES (%s)', (version,))


def lock_migrations(db: Psycopg3Database) -> None:
    """Two processes opening a new schema at once migrate it one after the other (held to
    the end of the transaction)."""
    lock_for_transaction(db, "migrate")


def lock_for_transaction(db: Psycopg3Database, what: str) -> None:
    """Serialise transactions of every process on this schema that lock the same ``what``
    (held to the end of the transaction; no privilege needed, so managers' roles may)."""
    db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s || ':' || current_schema()))",
                   (f"smvue-{what}",))


def granted(model: type[models.BaseModel], privilege: str) -> bool:
    """Whether this connection's role may ``privilege`` (UPDATE, DELETE, …) ``model``'s table
    of the bound store — a manager's role may not write what only the writer (serve) writes.
    Always True on SQLite, which has no roles."""
    db = model._meta.database
    if not isinstance(db, Psycopg3Database):
        return True
    return bool(db.execute_sql("SELECT has_table_privilege(%s, %s)",
                               (model._meta.table_name, privilege)).fetchone()[0])


def connected_pids(db: Psycopg3Database) -> set[int]:
    """The pids of smvue-tui processes, on any machine, connected to this database now."""
    rows = db.execute_sql("SELECT application_name FROM pg_stat_activity WHERE datname = "
                          "current_database() AND application_name LIKE %s",
                          (f"{APP_NAME} pid=%",)).fetchall()
    return {int(name.rsplit("=", 1)[1]) for (name,) in rows
            if name.rsplit("=", 1)[1].isdigit()}


def drop_length_limits(db: Psycopg3Database) -> int:
    """CharField lengths are documentation on SQLite (it stores any length); on PostgreSQL
    VARCHAR(18) would refuse a longer value — a Change Data Capture notification's id, say,
    which SQLite has always taken. So the same models behave the same: every length-limited
    column of the schema becomes plain VARCHAR (no rewrite: the stored bytes stay as they are).
    Run in the transaction of the last migration (``db.migrate``), so later ones' columns are
    covered too; returns columns changed."""
    rows = db.execute_sql(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND data_type = 'character varying' AND character_maximum_length "
        "IS NOT NULL").fetchall()
    for table, column in rows:
        db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE VARCHAR')
    return len(rows)
