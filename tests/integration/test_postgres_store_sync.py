"""What only the PostgreSQL store meets: its server going away in the middle of a sync."""

from __future__ import annotations

import os

import psycopg

from smvue_tui.store import models as m
from smvue_tui.store.db import open_postgres
from tests.integration.sync_run import diff, duplicated_tables, sync


def _cut_our_connections(url: str) -> int:
    """What a server restart or a failover does to this process: every connection ended."""
    with psycopg.connect(url, autocommit=True) as conn:
        return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = %s",
                                (f"smvue-tui pid={os.getpid()}",)).fetchall())


async def test_connections_cut_mid_sync_fail_it_in_words_and_the_next_run_resumes(demo, pg_url):
    db = open_postgres(pg_url, "smvue_test")
    cut = []

    def progress(event) -> None:
        if event.done and len(cut) < 1 and event.sobject == "Opportunity":
            cut.append(_cut_our_connections(pg_url))

    try:
        report = await sync(demo, db, "initial", progress=progress, batch_size=200)
        assert cut and cut[0] >= 1
        assert report.status == "failed"
        assert [e["code"] for e in report.errors] == ["STORE_UNAVAILABLE"], report.errors
        assert "could not be used" in report.errors[0]["message"]
        # The same open store, its connections renewed: the next run finishes the job.
        again = await sync(demo, db, "initial", batch_size=200)
        assert again.status == "ok", again.errors
        assert diff(demo) == [] and duplicated_tables(db) == []
        assert m.SyncRun.select().where(m.SyncRun.status == "running").count() == 0
    finally:
        db.close()


async def test_a_syncs_pages_make_each_staging_table_once(demo, pg_url, monkeypatch):
    """Each page COPYs into a temporary staging table of its object: made once per
    connection before the first page's transaction, not asked for in every page's (one round
    trip each to a server that may be on another machine)."""
    db = open_postgres(pg_url, "smvue_test")
    made, pages = [], []
    execute_sql = db.execute_sql

    def counted(sql, *args, **kwargs):
        if sql.startswith("CREATE TEMP TABLE"):
            made.append(sql.split('"')[1])
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", counted)
    try:
        report = await sync(demo, db, "initial", batch_size=200,
                            progress=lambda event: pages.append(event.sobject))
        assert report.status == "ok", report.errors
        assert diff(demo) == [] and duplicated_tables(db) == []
        assert len(pages) > 2 * len(set(made))  # many pages, and ...
        assert len(made) == len(set(made)), made  # ... each table made once
    finally:
        db.close()
