"""Opening a store migrates it only when a migration is due: an up-to-date store is opened
without the migration lock (PostgreSQL's advisory lock, SQLite's write lock) and without reading
the catalog, and two openers of a store behind this version migrate it once — on both backends."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from peewee import SqliteDatabase

from smvue_tui.store import db as store_db
from smvue_tui.store import postgres


def _connection(store_backend, path, schema="smvue_test"):
    """A connection of its own, as a second process would have (not bound for the models'
    use: the test migration below writes through it directly)."""
    if store_backend.is_postgres:
        return postgres.connect(store_backend.url, schema)
    return SqliteDatabase(str(path), pragmas=store_db.PRAGMAS, check_same_thread=False,
                          lock_type="IMMEDIATE")


def test_two_openers_of_a_store_behind_migrate_it_once(tmp_path, store_backend, monkeypatch):
    """Both openers read the version (the one before this smvue-tui's) before either
    migrates — made certain: each waits for the other's read. Only one may then migrate; the
    other finds it done under the lock and skips it (a second run of the step would fail: its
    table exists)."""
    path = tmp_path / "store.sqlite3"
    store_backend.open(path).close()
    ran: list[str] = []

    def v_next(db) -> None:
        ran.append(threading.current_thread().name)
        db.execute_sql('CREATE TABLE "probe_v_next" ("n" INTEGER)')

    monkeypatch.setattr(store_db, "MIGRATIONS", [*store_db.MIGRATIONS, v_next])
    monkeypatch.setattr(store_db, "SCHEMA_VERSION", store_db.SCHEMA_VERSION + 1)
    both_read = threading.Barrier(2, timeout=5)  # a hang guard: the old code read under the lock
    read = store_db.schema_version
    first: set[str] = set()

    def schema_version(db):
        version = read(db)
        if threading.current_thread().name not in first:
            first.add(threading.current_thread().name)
            with contextlib.suppress(threading.BrokenBarrierError):  # asserted below
                both_read.wait()
        return version

    monkeypatch.setattr(store_db, "schema_version", schema_version)
    results: dict[str, object] = {}

    def open_(name: str) -> None:
        db = _connection(store_backend, path)
        try:
            results[name] = store_db.migrate(db)
        except Exception as exc:  # the assertion below shows it
            results[name] = exc
        finally:
            db.close()

    threads = [threading.Thread(target=open_, args=(n,), name=n) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not both_read.broken  # both did read the version before either migrated
    assert results == {"A": store_db.SCHEMA_VERSION, "B": store_db.SCHEMA_VERSION}
    assert len(ran) == 1, ran
    check = _connection(store_backend, path)
    assert read(check) == store_db.SCHEMA_VERSION
    check.close()


def test_an_up_to_date_postgres_store_opens_without_the_lock_or_the_catalog(pg_url,
                                                                             monkeypatch):
    """Every TUI, inspect and serve start opens the store: when nothing is due it reads the
    version and nothing more of the migration machinery — no advisory lock (a migrating
    opener would hold every other start up), no information_schema scan."""
    store_db.open_postgres(pg_url, "smvue_test").close()  # made and migrated
    sent: list[str] = []
    original = postgres.SharedStore.execute_sql

    def execute_sql(self, sql, params=None, named_cursor=None):
        sent.append(sql)
        return original(self, sql, params, named_cursor)

    monkeypatch.setattr(postgres.SharedStore, "execute_sql", execute_sql)
    store_db.open_postgres(pg_url, "smvue_test").close()
    assert not [s for s in sent if "pg_advisory" in s], sent
    assert not [s for s in sent if "information_schema" in s], sent
    assert len(sent) <= 5, sent  # the schema, the version (2), the run-closing right, the runs


def test_an_up_to_date_sqlite_store_opens_while_another_holds_the_write_lock(tmp_path,
                                                                             monkeypatch):
    """A sync mid-page holds SQLite's write lock: a TUI or ``inspect`` starting then must not
    wait for it (nor fail "database is locked") just to learn nothing is to migrate."""
    path = tmp_path / "store.sqlite3"
    store_db.open_store(path).close()
    monkeypatch.setitem(store_db.PRAGMAS, "busy_timeout", 300)  # the old code failed after it
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        db = store_db.open_store(path)
        assert store_db.schema_version(db) == store_db.SCHEMA_VERSION
        db.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
