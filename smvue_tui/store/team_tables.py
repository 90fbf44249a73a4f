"""The team store's own tables and its change signal (store v9), the default pipeline per
manager (v11).

- ``WriterInfo``: who the one writer of the org is (``smvue-tui serve``: host, pid, version,
  since when, its last sync, its last heartbeat), for the TUIs that read the store.
- Authors and teams on SMVue's own rows (notes, action items, stage overrides): a team store
  is shared by several managers (``identity.py``). A one-manager store keeps the empty key.
- On PostgreSQL, every table a screen shows signals its changes: a statement trigger calls
  ``pg_notify`` with the object's name on the org's channel. PostgreSQL delivers a NOTIFY only
  when its transaction commits (identical ones of one transaction once), so a reader hears of a
  sync page, a notification batch or a colleague's note exactly when it is there to be read —
  and no write path can forget to say so.
"""

from __future__ import annotations

from peewee import Database

from smvue_tui.store import models as m
from smvue_tui.store.backend import is_postgres

CHANNEL_PREFIX = "smvue:"  # + the org's schema: LISTEN "smvue:<schema>"


# What each table is to a reader (the name in ``StoreChanged``): mirrors by their object name.
SIGNALLED: dict[type[m.BaseModel], str] = {
    **{model: model.__name__ for model in m.MIRRORS},
    m.SfUser: "User", m.StageHistory: "OpportunityHistory", m.Collaborator: "TeamMember",
    m.TeamMember: "SmvueTeam", m.StageOverride: "StageOverride", m.Note: "Note",
    m.ActionItem: "ActionItem", m.PipelineSetting: "PipelineSetting",
    m.CustomFieldMapping: "CustomFieldMapping", m.SyncRun: "SyncRun", m.DealChange: "DealChange",
    m.WriterInfo: "Writer",
}

_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION smvue_signal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL_PREFIX}' || TG_TABLE_SCHEMA, TG_ARGV[0]);
  RETURN NULL;
END $$"""


def channel_for(schema: str) -> str:
    return CHANNEL_PREFIX + schema


def _add_column(db: Database, model: type[m.BaseModel], name: str, sql: str) -> None:
    table = model._meta.table_name
    if name not in {c.name for c in db.get_columns(table)}:  # v1 made it from today's model
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {sql}')


def _rekey_stage_overrides(db: Database) -> None:
    """(team, stage) instead of stage: the old rows become the one-manager team's ("")."""
    if "team" in {c.name for c in db.get_columns("stage_override")}:
        return
    db.execute_sql('ALTER TABLE "stage_override" RENAME TO "stage_override_v7"')
    if is_postgres(db):  # its primary key's index keeps the old name
        db.execute_sql('ALTER INDEX IF EXISTS "stage_override_pkey" '
                       'RENAME TO "stage_override_v7_pkey"')
    db.create_tables([m.StageOverride])
    db.execute_sql('INSERT INTO "stage_override" ("team", "stage_name", "probability") '
                   'SELECT \'\', "stage_name", "probability" FROM "stage_override_v7"')
    db.execute_sql('DROP TABLE "stage_override_v7"')


def install_change_signals(db: Database) -> None:
    """The statement triggers that NOTIFY a table's changes (PostgreSQL only; idempotent)."""
    if not is_postgres(db):
        return
    db.execute_sql(_NOTIFY_FUNCTION)
    for model, name in SIGNALLED.items():
        table = model._meta.table_name
        db.execute_sql(f'DROP TRIGGER IF EXISTS "smvue_signal" ON "{table}"')
        db.execute_sql(f'CREATE TRIGGER "smvue_signal" AFTER INSERT OR UPDATE OR DELETE OR '
                       f'TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION '
                       f"smvue_signal_change('{name}')")


def _widen_notification_ids(db: Database) -> None:
    """A team store's serve hears Change Data Capture, whose event ids ("<uuid>:<n>") do not
    fit the 18 characters of an Outbound Message id; only PostgreSQL enforces the length."""
    if is_postgres(db):
        db.execute_sql('ALTER TABLE "change_notification" ALTER COLUMN "notification_id" '
                       "TYPE VARCHAR(255)")


def migrate_v9_team_store(db: Database) -> None:
    """Writer info, authors on notes and action items, overrides per team, change signals,
    CDC event ids that fit on PostgreSQL."""
    db.create_tables([m.WriterInfo], safe=True)
    _widen_notification_ids(db)
    _add_column(db, m.Note, "author", "TEXT NOT NULL DEFAULT ''")
    _add_column(db, m.ActionItem, "author", "TEXT NOT NULL DEFAULT ''")
    _rekey_stage_overrides(db)
    install_change_signals(db)


def migrate_v11_pipeline_per_manager(db: Database) -> None:
    """The default pipeline per manager: keyed (manager, record type) instead of by record
    type. The rows kept are the store-wide choice (manager ""): a one-manager store's as
    before, and on a team store every manager's until they choose their own."""
    if "manager" in {c.name for c in db.get_columns("pipeline_setting")}:
        return  # made by v1 from today's model
    if is_postgres(db):  # altered, not remade: the managers' role keeps its GRANTs on it
        db.execute_sql('ALTER TABLE "pipeline_setting" ADD COLUMN "manager" VARCHAR(255) '
                       "NOT NULL DEFAULT ''")
        db.execute_sql('ALTER TABLE "pipeline_setting" DROP CONSTRAINT "pipeline_setting_pkey"')
        db.execute_sql('ALTER TABLE "pipeline_setting" ADD PRIMARY KEY ("manager", '
                       '"record_type_id")')
        return
    db.execute_sql('ALTER TABLE "pipeline_setting" RENAME TO "pipeline_setting_v9"')
    db.create_tables([m.PipelineSetting])
    db.execute_sql('INSERT INTO "pipeline_setting" ("manager", "record_type_id", "is_default") '
                   'SELECT \'\', "record_type_id", "is_default" FROM "pipeline_setting_v9"')
    db.execute_sql('DROP TABLE "pipeline_setting_v9"')
