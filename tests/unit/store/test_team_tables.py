"""Store v9 on both backends: an older store upgrades keeping every note, action item and stage
override (the one manager's: empty author and team), and gains the writer's table."""

from __future__ import annotations

from smvue_tui.store import models as m
from smvue_tui.store.backend import is_postgres
from smvue_tui.store.db import MIGRATIONS, SCHEMA_VERSION, migrate_v9_team_store, schema_version

BEFORE_TEAM_TABLES = MIGRATIONS.index(migrate_v9_team_store)  # the version v9 upgrades from


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
    if is_postgres(db):
        from smvue_tui.store.postgres import set_schema_version

        set_schema_version(db, BEFORE_TEAM_TABLES)
    else:
        db.execute_sql(f"PRAGMA user_version = {BEFORE_TEAM_TABLES}")


def test_an_older_store_upgrades_keeping_the_managers_data(store_backend, tmp_path):
    db = store_backend.open(tmp_path / "store.sqlite3")
    _as_before_team_tables(db)
    db.close()
    db = store_backend.open(tmp_path / "store.sqlite3")
    try:
        assert schema_version(db) == SCHEMA_VERSION
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
