"""Store v9 on both backends: an older store upgrades keeping every note, action item and stage
override (the one manager's: empty author and team), and gains the writer's table. Store v11:
the default pipeline per manager, the one chosen before every manager's until they choose."""

from __future__ import annotations

from smvue_tui.store import models as m
from smvue_tui.store.backend import is_postgres
from smvue_tui.store.db import MIGRATIONS, SCHEMA_VERSION, migrate_v9_team_store, schema_version
from smvue_tui.store.team_tables import migrate_v11_pipeline_per_manager

BEFORE_TEAM_TABLES = MIGRATIONS.index(migrate_v9_team_store)  # the version v9 upgrades from
BEFORE_PIPELINE_PER_MANAGER = MIGRATIONS.index(migrate_v11_pipeline_per_manager)


def _at_version(db, version: int) -> None:
    """The store says it is at ``version`` (its shape was put back by hand)."""
    if is_postgres(db):
        from smvue_tui.store.postgres import set_schema_version

        set_schema_version(db, version)
    else:
        db.execute_sql(f"PRAGMA user_version = {version}")


def _upgraded(store_backend, tmp_path, put_back):
    """A store made today, put back into an older shape by ``put_back``, opened again: so
    upgraded to this version."""
    db = store_backend.open(tmp_path / "store.sqlite3")
    put_back(db)
    db.close()
    db = store_backend.open(tmp_path / "store.sqlite3")
    assert schema_version(db) == SCHEMA_VERSION
    return db


def _as_before_team_tables(db) -> None:
    """Put a store made today back into the shape before the team tables (what a user
    upgrading has)."""
    db.execute_sql('DROP TABLE "team_writer"')
    db.execute_sql('DROP TABLE "stage_override"')
    db.execute_sql('CREATE TABLE "stage_override" ("stage_name" VARCHAR(255) NOT NULL '
                   'PRIMARY KEY, "probability" REAL NOT NULL)')
    for table in ("note", "action_item"):
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "author"')
    db.execute_sql("INSERT INTO stage_override VALUES ('Negotiation', 55)")
    db.execute_sql("INSERT INTO note (opportunity_id, body, created_at, updated_at) VALUES "
                   "('006000000000001AAA', 'kept', '', '')")
    db.execute_sql("INSERT INTO action_item (opportunity_id, text, done, created_at) VALUES "
                   "('006000000000001AAA', 'also kept', false, '')")
    _at_version(db, BEFORE_TEAM_TABLES)


def test_an_older_store_upgrades_keeping_the_managers_data(store_backend, tmp_path):
    db = _upgraded(store_backend, tmp_path, _as_before_team_tables)
    try:
        override = m.StageOverride.get(m.StageOverride.stage_name == "Negotiation")
        assert (override.team, override.probability) == ("", 55)
        assert [(n.body, n.author) for n in m.Note.select()] == [("kept", "")]
        assert [(a.text, a.author) for a in m.ActionItem.select()] == [("also kept", "")]
        assert not m.WriterInfo.select().exists()
        m.StageOverride.create(team="ann@acme.example", stage_name="Negotiation",
                               probability=70)  # another team's override of the same stage
        assert m.StageOverride.select().count() == 2
    finally:
        db.close()


def _as_before_pipeline_per_manager(db) -> None:
    """A store made today put back into the shape before v11: one default pipeline for the store."""
    db.execute_sql('DROP TABLE "pipeline_setting"')
    db.execute_sql('CREATE TABLE "pipeline_setting" ("record_type_id" VARCHAR(18) NOT NULL '
                   'PRIMARY KEY, "is_default" BOOLEAN NOT NULL)')
    db.execute_sql("INSERT INTO pipeline_setting VALUES ('0128W0000000002QAA', true), "
                   "('0128W0000000001QAA', false)")
    _at_version(db, BEFORE_PIPELINE_PER_MANAGER)


def test_the_default_pipeline_chosen_before_v11_is_every_managers_until_they_choose(
        store_backend, tmp_path):
    from smvue_tui.store import pipeline as pl
    from smvue_tui.store.identity import set_manager

    new, renew = "0128W0000000001QAA", "0128W0000000002QAA"
    db = _upgraded(store_backend, tmp_path, _as_before_pipeline_per_manager)
    try:
        for name, rt in (("New Business", new), ("Renewal", renew)):
            m.RecordType.create(id=rt, name=name, sobject_type="Opportunity", is_active=True)
        assert pl.default_pipeline(pl.pipelines()).key == renew  # the one-manager store's
        try:
            set_manager("ann@acme.example")
            assert pl.default_pipeline(pl.pipelines()).key == renew  # the team's, as before
            pl.set_default_pipeline(new)
            assert pl.default_pipeline(pl.pipelines()).key == new
            set_manager("bob@acme.example")
            assert pl.default_pipeline(pl.pipelines()).key == renew  # Ann's choice is hers
        finally:
            set_manager("")
        assert pl.default_pipeline(pl.pipelines()).key == renew
        assert m.PipelineSetting.select().count() == 3
    finally:
        db.close()


def test_the_managers_role_may_still_choose_a_default_after_v11(pg_url):
    """``store migrate`` (serve's role) upgrades a team store whose managers' role was
    granted at v9: the table is altered, not remade, so its GRANTs hold and a manager's TUI
    may still remember its choice."""
    import uuid

    import psycopg

    from smvue_tui.services.team_admin import grant_sql
    from smvue_tui.store import pipeline as pl
    from smvue_tui.store.db import open_postgres
    from smvue_tui.store.identity import set_manager

    schema, role = "smvue_test", f"mgr_{uuid.uuid4().hex[:8]}"
    db = open_postgres(pg_url, schema)
    _as_before_pipeline_per_manager(db)
    db.close()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(grant_sql(schema, role))
    try:
        open_postgres(pg_url, schema).close()  # migrated by the schema's owner
        manager = open_postgres(pg_url.replace("postgresql://postgres@",
                                               f"postgresql://{role}@", 1), schema)
        try:
            set_manager("ann@acme.example")
            pl.set_default_pipeline("0128W0000000001QAA")
            assert m.PipelineSetting.select().where(
                m.PipelineSetting.manager == "ann@acme.example").count() == 1
        finally:
            set_manager("")
            manager.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
