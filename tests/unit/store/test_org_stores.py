"""store/org_stores.py: where each org's store lives, the org check, adopting the old store."""

from __future__ import annotations

import sqlite3

import pytest

from smvue_tui.config import app_paths
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.org_stores import (
    StoreInUse,
    StoreOrgMismatch,
    adopt_unassigned,
    canonical_org_id,
    check_store,
    forget_store,
    last_org,
    open_org_store,
    paths_for_org,
)

ORG_A = "00D8W000000aBcDUAU"
ORG_B = "00D5g000004XyZaEAK"


@pytest.fixture
def home(tmp_path):
    return app_paths({"SMVUE_HOME": str(tmp_path / "home")})


def _org_row(org_id: str, name: str, sandbox: bool = False) -> None:
    m.Organization.create(id=org_id, name=name, is_sandbox=sandbox)


def test_org_ids_are_checked_and_made_18_characters():
    assert canonical_org_id(ORG_A) == ORG_A
    assert canonical_org_id(ORG_A[:15]) == ORG_A
    assert canonical_org_id(ORG_A.lower()) == ORG_A
    for bad in ("", "001000000000001AAA", "00D../../etc", "00D8W000000aBcDUAX"):
        with pytest.raises(ValueError, match="is not a Salesforce org id"):
            canonical_org_id(bad)


def test_each_org_has_its_own_folder(home):
    a, b = paths_for_org(home, ORG_A), paths_for_org(home, ORG_B[:15])
    assert a.database == home.data_dir / "orgs" / ORG_A / "smvue.sqlite3"
    assert b.org_id == ORG_B and a.database != b.database
    assert a.token_file == home.token_file  # one login for the machine


def test_a_store_holding_another_org_is_refused_unchanged(home):
    a = paths_for_org(home, ORG_A)
    db = open_org_store(a)
    _org_row(ORG_A, "Acme")
    db.close()
    wrong = paths_for_org(home, ORG_B)
    wrong.store_dir.mkdir(parents=True)
    a.database.rename(wrong.database)
    before = wrong.database.read_bytes()
    with pytest.raises(StoreOrgMismatch) as refused:
        open_org_store(wrong)
    text = str(refused.value)
    assert f"Acme ({ORG_A}, Production)" in text and ORG_B in text
    assert wrong.database.read_bytes() == before


def test_a_never_synced_store_is_checked_by_its_connection(home):
    b = paths_for_org(home, ORG_B)
    db = open_org_store(b)
    m.Connection.create(org_id=ORG_A, environment="sandbox", login_url="x", instance_url="y",
                        is_sandbox=True)
    db.close()
    with pytest.raises(StoreOrgMismatch, match=f"org {ORG_A}, Sandbox"):
        check_store(b.database, ORG_B)
    check_store(b.database, ORG_A[:15])  # the same org in 15 characters is fine


def test_opening_for_a_login_remembers_the_org(home):
    open_org_store(paths_for_org(home, ORG_B)).close()
    assert last_org(home) == ORG_B
    open_org_store(paths_for_org(home, ORG_A)).close()
    assert last_org(home) == ORG_A
    forget_store(home, ORG_A)
    assert last_org(home) == "" and not paths_for_org(home, ORG_A).store_dir.exists()
    with pytest.raises(FileNotFoundError):
        forget_store(home, ORG_A)


def _legacy(home, *orgs: str) -> None:
    db = open_store(home.unassigned_database)
    for n, org in enumerate(orgs):
        _org_row(org, f"Org {n}")
    m.Note.create(opportunity_id="006000000000001AAA", body="kept")
    db.close()


def test_the_old_store_moves_with_its_companion_files(home):
    _legacy(home, ORG_A)
    (home.data_dir / "api-usage.json").write_text("{}")
    moved = adopt_unassigned(home)
    a = paths_for_org(home, ORG_A)
    assert moved == a.database and not home.unassigned_database.exists()
    assert (a.store_dir / "api-usage.json").exists()
    assert last_org(home) == ORG_A
    db = open_store(a.database)
    assert [n.body for n in m.Note.select()] == ["kept"]
    db.close()
    assert adopt_unassigned(home) is None  # once


def test_the_old_store_stays_when_it_cannot_be_one_orgs(home):
    _legacy(home, ORG_A, ORG_B)  # two orgs in one store
    assert adopt_unassigned(home) is None and home.unassigned_database.exists()
    home.unassigned_database.unlink()
    _legacy(home)  # no org at all (nobody ever synced)
    assert adopt_unassigned(home) is None and home.unassigned_database.exists()


def test_the_old_store_stays_while_another_process_reads_it(home):
    """A reader mid-read needs the write-ahead log: the store is not moved, and the org's
    store is not started empty beside it (its data would look lost)."""
    _legacy(home, ORG_A)
    writer = sqlite3.connect(home.unassigned_database)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    reader = sqlite3.connect(home.unassigned_database)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM note").fetchone()  # a snapshot before the next write
    writer.execute("INSERT INTO note (opportunity_id, body, created_at, updated_at) "
                   "VALUES ('006000000000002AAA', 'late', '', '')")
    writer.commit()
    a = paths_for_org(home, ORG_A)
    try:
        assert adopt_unassigned(home) is None
        with pytest.raises(StoreInUse, match=f"Org {ORG_A}'s data is still in the store"):
            open_org_store(a)
        assert home.unassigned_database.exists() and not a.database.exists()
    finally:
        reader.close()
        writer.close()
    db = open_org_store(a)  # the reader is gone: adopted, the late note included
    assert sorted(n.body for n in m.Note.select()) == ["kept", "late"]
    db.close()


def test_the_old_store_stays_when_its_org_has_a_store(home):
    open_org_store(paths_for_org(home, ORG_A)).close()
    _legacy(home, ORG_A)
    assert adopt_unassigned(home) is None and home.unassigned_database.exists()


def test_a_damaged_old_store_is_left_alone(home):
    home.data_dir.mkdir(parents=True)
    home.unassigned_database.write_bytes(b"not a database" * 100)
    assert adopt_unassigned(home) is None
    assert home.unassigned_database.read_bytes() == b"not a database" * 100
