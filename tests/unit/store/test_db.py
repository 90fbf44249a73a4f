import pytest

from smvue_tui.store import models as m
from smvue_tui.store.db import SCHEMA_VERSION, open_store, schema_version
from smvue_tui.store.health import StoreTooNew


def test_open_creates_schema_in_wal_and_reopen_keeps_data(tmp_path):
    path = tmp_path / "store" / "smvue.sqlite3"
    db = open_store(path)
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(db) == SCHEMA_VERSION
    m.Note.create(opportunity_id="0068W0000000001QAA", body="Call the CFO")
    db.close()
    again = open_store(path)
    assert [n.body for n in m.Note.select()] == ["Call the CFO"]
    again.close()


def test_a_newer_schema_is_refused_not_damaged(tmp_path):
    path = tmp_path / "smvue.sqlite3"
    db = open_store(path)
    db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreTooNew, match="newer smvue-tui"):
        open_store(path)


def test_mirrored_columns_use_salesforce_names(tmp_path):
    open_store(tmp_path / "s.sqlite3")
    columns = m.sf_columns(m.Opportunity)
    assert columns["StageName"] == "stage_name" and columns["Id"] == "id"
    assert "_custom_fields" not in columns


def test_upgrade_from_v1_drops_the_unused_modstamp_indexes_and_keeps_data(tmp_path):
    path = tmp_path / "smvue.sqlite3"
    db = open_store(path)
    m.Note.create(opportunity_id="0068W0000000001QAA", body="kept")
    # A store written by the first release: v1 with its SystemModstamp indexes.
    db.execute_sql('CREATE INDEX "opportunity_SystemModstamp" ON "opportunity" ("SystemModstamp")')
    db.execute_sql("PRAGMA user_version = 1")
    db.close()
    again = open_store(path)
    indexes = {name for (name,) in again.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "opportunity_SystemModstamp" not in indexes and "opportunity_OwnerId" in indexes
    assert schema_version(again) == SCHEMA_VERSION
    assert [n.body for n in m.Note.select()] == ["kept"]
    again.close()



def test_upgrade_from_v6_orders_history_and_the_change_log_by_deal_then_time(tmp_path):
    path = tmp_path / "smvue.sqlite3"
    db = open_store(path)
    # A v6 store: the one-column indexes, no composite ones.
    for name in ("stage_history_parent_time", "deal_change_deal_time"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "stage_history__ParentId" ON "stage_history" '
                   '("_ParentId")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "deal_change_opportunity_id" ON "deal_change" '
                   '("opportunity_id")')
    db.execute_sql("PRAGMA user_version = 6")
    db.close()
    again = open_store(path)
    indexes = {name for (name,) in again.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"stage_history_parent_time", "deal_change_deal_time"} <= indexes
    assert not {"stage_history__ParentId", "deal_change_opportunity_id"} & indexes
    plan = " ".join(str(r) for r in again.execute_sql(
        'EXPLAIN QUERY PLAN SELECT "_ParentId", "StageName" FROM "stage_history" WHERE '
        '"_ParentId" IN (\'a\', \'b\') ORDER BY "_ParentId", "CreatedDate", "Id"'))
    assert "stage_history_parent_time" in plan and "TEMP B-TREE" not in plan
    again.close()
