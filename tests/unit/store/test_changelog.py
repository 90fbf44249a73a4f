"""The deal change log: one row per new version that changes a tracked field, never twice."""

import json

import pytest

from smvue_tui.store import models as m
from smvue_tui.store.db import SCHEMA_VERSION, open_store, schema_version
from smvue_tui.store.writer import write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

OPP = SPECS_BY_NAME["Opportunity"]
DEAL = "0068W0000000001QAA"


def _opp(stamp: str, **fields) -> dict:
    base = {"Id": DEAL, "Name": "Acme", "StageName": "Prospecting", "Amount": 1000.0,
            "CloseDate": "2026-12-20", "OwnerId": "0058W000000001AAAA", "IsClosed": False,
            "IsWon": False, "SystemModstamp": stamp, "LastModifiedDate": stamp}
    return {**base, **fields}


def _log() -> list[tuple[str, dict]]:
    return [(c.changed_at, json.loads(c.changes))
            for c in m.DealChange.select().order_by(m.DealChange.id)]


@pytest.fixture
def db(backend_db):
    return backend_db


def test_first_sight_logs_nothing_and_a_change_logs_old_and_new(db):
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000")])
    assert _log() == []
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", Amount=800,
                              CloseDate="2027-01-15", OwnerId="0058W000000002AAAA")])
    assert _log() == [("2026-11-02T00:00:00.000+0000", {
        "Amount": [1000.0, 800], "CloseDate": ["2026-12-20", "2027-01-15"],
        "OwnerId": ["0058W000000001AAAA", "0058W000000002AAAA"]})]


def test_refetches_older_versions_and_untracked_changes_log_nothing(db):
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000")])
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000")])  # the overlap window again
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000", Amount=5.0)])  # older version
    write_page(db, OPP, [_opp("2026-11-03T00:00:00.000+0000", Name="Acme renamed",
                              Amount=1000)])  # only an untracked field (1000 == 1000.0)
    assert _log() == []
    won = _opp("2026-11-04T00:00:00.000+0000", StageName="Closed Won", IsClosed=True, IsWon=True)
    write_page(db, OPP, [won])
    write_page(db, OPP, [won])
    assert _log() == [("2026-11-04T00:00:00.000+0000", {
        "IsClosed": [False, True], "IsWon": [False, True],
        "StageName": ["Prospecting", "Closed Won"]})]


def test_the_log_survives_a_reopen_and_the_migration_adds_it_to_old_stores(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = open_store(path)
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000")])
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", StageName="Qualification")])
    db.execute_sql(f'DROP TABLE "{m.DealChange._meta.table_name}"')  # a store from before v4
    db.execute_sql("PRAGMA user_version = 3")
    db.close()
    db = open_store(path)
    assert schema_version(db) == SCHEMA_VERSION
    write_page(db, OPP, [_opp("2026-11-03T00:00:00.000+0000", StageName="Needs Analysis")])
    db.close()
    db = open_store(path)
    assert [c["StageName"] for _, c in _log()] == [["Qualification", "Needs Analysis"]]
    db.close()
