"""`smvue-tui serve --store postgresql://…` as a real process against a demo org: it syncs the
org into the team store (which then equals the org object by object), a second serve for the
org is refused, and a serve SIGKILLed mid-sync and started again loses and doubles nothing."""

from __future__ import annotations

import time

import psycopg

from smvue_tui.store import models as m
from smvue_tui.store.backend import schema_for
from smvue_tui.store.db import open_postgres
from tests.integration.sync_run import diff, duplicated_tables
from tests.integration.team_serve_support import Serve, save_login


def _start(serves: list[Serve], home, url: str) -> Serve:
    serve = Serve(home, url)
    serves.append(serve)
    return serve


def _synced_writer(org_id: str, timeout: float = 30.0) -> m.WriterInfo:
    """The org's writer row once its last sync is recorded: serve says "sync: ok" first, then
    recomputes the deal facts and records the sync (``team_serve.synced``)."""
    deadline = time.monotonic() + timeout
    while True:
        writer = m.WriterInfo.get_by_id(org_id)
        if writer.last_sync_status is not None or time.monotonic() > deadline:
            return writer
        time.sleep(0.1)


def test_serve_syncs_the_org_into_the_team_store_and_a_second_is_refused(
        demo, tmp_path, pg_url, serves):
    writer_home, other_home = tmp_path / "writer", tmp_path / "other"
    save_login(demo, writer_home)
    save_login(demo, other_home)  # another machine logged in to the same org
    first = _start(serves, writer_home, pg_url)
    first.wait_for("sync: ok")
    assert f"schema {schema_for(demo.org.org_id)}" in first.text
    db = open_postgres(pg_url, schema_for(demo.org.org_id))
    try:
        assert diff(demo) == []  # object by object, as the SQLite store is checked
        assert duplicated_tables(db) == []
        writer = _synced_writer(demo.org.org_id)
        assert writer.pid == first.proc.pid and writer.last_sync_status == "ok"
        second = _start(serves, other_home, pg_url)
        code, err = second.finish()
        assert code == 1, err
        assert f"org {demo.org.org_id} already has a writer in this team store" in err
        assert f"(pid {first.proc.pid})" in err and "Traceback" not in err
        assert m.WriterInfo.get_by_id(demo.org.org_id).pid == first.proc.pid  # untouched
        assert first.proc.poll() is None  # the writer serves on
    finally:
        db.close()


def _rows(url: str, schema: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        try:
            return conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0


def test_a_sigkilled_serve_restarted_resumes_with_nothing_lost_or_doubled(
        make_org, tmp_path, pg_url, serves):
    running = make_org(size=1500)
    running.admin("POST", "/faults", json={"latency_ms": 40}).raise_for_status()
    home = tmp_path / "writer"
    save_login(running, home)
    schema = schema_for(running.org.org_id)
    first = _start(serves, home, pg_url)
    deadline = time.monotonic() + 120
    while _rows(pg_url, schema, "opportunity") == 0:  # mid-way through the initial sync
        assert first.proc.poll() is None, first.text
        assert time.monotonic() < deadline, "serve stored no deal within two minutes"
        time.sleep(0.05)
    first.kill()
    assert "sync: ok" not in first.text  # killed mid-sync, not after
    running.admin("POST", "/faults", json={"latency_ms": 0}).raise_for_status()
    again = _start(serves, home, pg_url)  # the dead writer's lock went with its connection
    again.wait_for("sync: ok")
    db = open_postgres(pg_url, schema)
    try:
        assert diff(running) == []
        assert duplicated_tables(db) == []
        runs = list(m.SyncRun.select().order_by(m.SyncRun.id))
        assert runs[0].status == "interrupted" and runs[0].finished_at  # closed by the next
        # The resumed sync ended ok; only the newest run may be under way (serve goes on
        # living: a live fetch or the next sync can have started since "sync: ok").
        assert [r.status for r in runs if r.status != "running"][-1] == "ok"
        assert [r.id for r in runs if r.status == "running"] in ([], [runs[-1].id]), \
            [(r.kind, r.status) for r in runs]
        assert m.WriterInfo.get_by_id(running.org.org_id).pid == again.proc.pid
    finally:
        db.close()


def test_serve_marks_a_mapped_field_filled_once_its_sync_read_it(demo, tmp_path, pg_url,
                                                                  serves):
    """A manager's TUI may not mark the team store's mappings (the writer's rows, refused to
    the managers' role): serve does, after a sync that read the field — so every manager's
    Field Mapping screen shows "synced", not "fills on next sync", for good."""
    schema = schema_for(demo.org.org_id)
    db = open_postgres(pg_url, schema)  # the schema as serve would make it, a field mapped
    try:
        m.CustomFieldMapping.create(api_name="Seats__c", label="Seats", type="double",
                                    enabled=True, backfilled=False)
    finally:
        db.close()
    home = tmp_path / "writer"
    save_login(demo, home)
    _start(serves, home, pg_url).wait_for("next incremental")
    db = open_postgres(pg_url, schema)
    try:
        assert m.Opportunity.select().where(m.Opportunity.custom_fields.contains("Seats__c")
                                            ).exists()
        assert m.CustomFieldMapping.get_by_id("Seats__c").backfilled
    finally:
        db.close()
