"""OrgStore: cache reuse, private working copies, and Salesforce-like write semantics."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from smvue_demo_org import org_cache
from smvue_demo_org.generate import anchor_for
from smvue_demo_org.ids import org_id
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.store import Change, OrgStore, parse_size

N = 200
EARLY, LATE = "2000-01-01T00:00:00.000+0000", "2999-01-01T00:00:00.000+0000"


@pytest.fixture
def store(tmp_path):
    s = OrgStore.open(tmp_path / "cache", N, 1, OrgProfile())
    yield s
    s.close()


def _new_deal(store, **extra) -> str:
    values = {"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2026-12-15",
              "Amount": 50_000.0, **extra}
    return store.insert("Opportunity", values)


@pytest.mark.parametrize("text, count", [("small", 500), ("medium", 5000), ("large", 20_000),
                                         ("1", 1), ("200000", 200_000), (" Large ", 20_000)])
def test_parse_size(text, count):
    assert parse_size(text) == count


@pytest.mark.parametrize("text", ["huge", "0", "200001", "-5", "", "1.5"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="small, medium, large"):
        parse_size(text)


def test_identity_attributes(store):
    assert store.org_id == org_id(1, False) and store.size == N and store.seed == 1
    demo = store.get("User", store.demo_user_id)
    assert demo["Username"] == "manager@demo.smvue.local" and demo["IsActive"] == 1
    assert store.catalog.objects["Opportunity"].fields["Competitor__c"]
    assert store.count("Opportunity") == N


def test_second_open_reuses_cache_and_writes_never_reach_it(tmp_path):
    cache = tmp_path / "cache"
    first = OrgStore.open(cache, N, 1, OrgProfile())
    assert first.generated
    cached = next(cache.glob("org-*.sqlite3"))
    before = cached.read_bytes()
    deal = _new_deal(first)
    first.delete("Account", first.random_row("Account", random.Random(1))["Id"])
    generations = org_cache.generations
    second = OrgStore.open(cache, N, 1, OrgProfile())  # while the first is still open
    assert not second.generated and org_cache.generations == generations
    assert second.get("Opportunity", deal) is None  # starts from the cached state
    assert second.count("Opportunity") == N and second.count("Account") == N // 4
    assert cached.read_bytes() == before
    paths = (first.path, second.path)
    first.close()
    second.close()
    assert not any(p.exists() for p in paths)
    assert list((cache / "work").iterdir()) == []
    third = OrgStore.open(cache, N, 1, OrgProfile(history_tracking=False))  # other data: new key
    assert third.generated
    third.close()


def test_concurrent_opens_generate_one_file(tmp_path):
    cache, stores, errors = tmp_path / "cache", [], []

    def open_one():
        try:
            stores.append(OrgStore.open(cache, 150, 3, OrgProfile()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(s.generated for s in stores) == 1
    assert len(list(cache.glob("org-*.sqlite3"))) == 1
    assert not list(cache.glob("*.tmp-*"))
    for s in stores:
        s.close()


def test_reader_is_a_separate_wal_connection(store):
    reader = store.reader()
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        cursor = reader.execute("SELECT Id FROM Opportunity ORDER BY Id")
        cursor.fetchmany(10)
        deal = _new_deal(store)  # the writer commits while the reader's cursor is open
        assert len(cursor.fetchall()) == N - 10
        assert reader.execute("SELECT COUNT(*) FROM Opportunity WHERE Id = ?",
                              (deal,)).fetchone()[0] == 1
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("DELETE FROM Opportunity")
    finally:
        reader.close()


def test_insert_sets_audit_and_derived_fields_and_history(store):
    deal = _new_deal(store, Probability=15)
    row = store.get("Opportunity", deal)
    assert row["Id"] > store.random_row("Opportunity", random.Random(0),
                                        "Id != ?", (deal,))["Id"]  # ids sort by creation
    assert row["IsDeleted"] == 0 and row["OwnerId"] == store.demo_user_id
    assert row["CreatedDate"] == row["LastModifiedDate"] == row["SystemModstamp"]
    assert (row["Probability"], row["IsClosed"], row["ForecastCategoryName"]) == \
        (15, 0, "Pipeline")
    assert row["ExpectedRevenue"] == 7500 and (row["FiscalYear"], row["FiscalQuarter"]) == \
        (2026, 4)
    history = store.select("SELECT * FROM OpportunityHistory WHERE OpportunityId = ?", (deal,))
    assert len(history) == 1 and history[0]["PrevAmount"] is None
    with pytest.raises(ValueError, match="Required fields are missing: \\[CloseDate\\]"):
        store.insert("Opportunity", {"Name": "x", "StageName": "Prospecting"})
    with pytest.raises(ValueError, match="No such column 'Bogus__c'"):
        store.insert("Opportunity", {"Bogus__c": 1})
    with pytest.raises(ValueError, match="restricted picklist"):
        _new_deal(store, StageName="Nope")
    with pytest.raises(ValueError, match="not supported"):
        store.insert("Widget__c", {})


def test_update_keeps_derived_fields_and_writes_history(store):
    deal = _new_deal(store)
    created = store.get("Opportunity", deal)
    store.update("Opportunity", deal, {"StageName": "Closed Won", "Amount": 60_000.0})
    won = store.get("Opportunity", deal)
    assert (won["Probability"], won["IsClosed"], won["IsWon"], won["ForecastCategory"]) == \
        (100, 1, 1, "Closed")
    assert won["ExpectedRevenue"] == 60_000 and won["CreatedDate"] == created["CreatedDate"]
    assert won["SystemModstamp"] >= created["SystemModstamp"]
    store.update("Opportunity", deal, {"CloseDate": "2027-02-01"})
    assert store.get("Opportunity", deal)["FiscalYear"] == 2027
    history = store.select("SELECT * FROM OpportunityHistory WHERE OpportunityId = ? "
                           "ORDER BY Id", (deal,))
    assert [h["StageName"] for h in history] == ["Prospecting", "Closed Won", "Closed Won"]
    assert (history[1]["PrevAmount"], history[2]["PrevCloseDate"]) == (50_000, "2026-12-15")
    tracked = {r["Field"] for r in store.select(
        "SELECT Field FROM OpportunityFieldHistory WHERE OpportunityId = ?", (deal,))}
    assert {"created", "StageName", "Amount", "CloseDate"} <= tracked
    store.update("Opportunity", deal, {"Description": "notes"})  # untracked: no history
    assert len(store.select("SELECT Id FROM OpportunityHistory WHERE OpportunityId = ?",
                            (deal,))) == 3
    with pytest.raises(ValueError, match="Unable to create/update fields: SystemModstamp"):
        store.update("Opportunity", deal, {"SystemModstamp": LATE})
    with pytest.raises(LookupError):
        store.update("Opportunity", "006000000000000AAA", {"Amount": 1})


def test_no_field_history_when_tracking_off(tmp_path):
    with OrgStore.open(tmp_path, 100, 1, OrgProfile(history_tracking=False)) as s:
        deal = _new_deal(s)
        s.update("Opportunity", deal, {"StageName": "Qualification"})
        assert s.count("OpportunityFieldHistory") == 0
        assert len(s.select("SELECT Id FROM OpportunityHistory WHERE OpportunityId = ?",
                            (deal,))) == 2


def test_modstamps_never_go_backwards(store):
    stamps = [store.now()]
    for i in range(30):
        deal = _new_deal(store, Name=f"d{i}")
        store.update("Opportunity", deal, {"Amount": float(i)})
        stamps.append(store.get("Opportunity", deal)["SystemModstamp"])
        stamps.append(store.now())
    assert stamps == sorted(stamps)


def test_listeners_hear_committed_changes(store):
    heard: list[Change] = []
    store.add_listener(heard.append)
    store.add_listener(lambda change: 1 / 0)  # a broken listener doesn't stop the write
    deal = _new_deal(store)
    store.update("Opportunity", deal, {"NextStep": "call"})
    kinds = [(c.sobject, c.kind) for c in heard]
    assert kinds[0] == ("Opportunity", "create") and ("OpportunityHistory", "create") in kinds
    assert ("Opportunity", "update") in kinds
    assert all(c.modstamp for c in heard)
    store.remove_listener(heard.append)
    before = len(heard)
    _new_deal(store)
    assert len(heard) == before
    with pytest.raises(ValueError):
        store.insert("Opportunity", {"Name": "incomplete"})
    assert len(heard) == before  # a rolled-back write is not announced


def test_delete_cascades_and_logs(store):
    deal = store.select("SELECT o.Id FROM Opportunity o WHERE EXISTS (SELECT 1 FROM "
                        "OpportunityContactRole r WHERE r.OpportunityId = o.Id) LIMIT 1")[0]["Id"]
    roles = store.select("SELECT Id FROM OpportunityContactRole WHERE OpportunityId = ?", (deal,))
    history = store.select("SELECT Id FROM OpportunityHistory WHERE OpportunityId = ?", (deal,))
    live = store.count("Opportunity")
    before = store.get("Opportunity", deal)["SystemModstamp"]
    store.delete("Opportunity", deal)
    row = store.get("Opportunity", deal)
    assert row["IsDeleted"] == 1 and row["SystemModstamp"] >= before
    assert store.count("Opportunity") == live - 1
    assert store.count("Opportunity", include_deleted=True) == live
    for child, ids in (("OpportunityContactRole", roles), ("OpportunityHistory", history)):
        assert all(store.get(child, r["Id"])["IsDeleted"] == 1 for r in ids)
        assert {d["id"] for d in store.deleted_records(child, EARLY, LATE)} == \
            {r["Id"] for r in ids}
    logged = store.deleted_records("Opportunity", EARLY, LATE)
    assert logged == [{"id": deal, "deletedDate": row["SystemModstamp"]}]
    assert deal not in store.updated_ids("Opportunity", EARLY, LATE)
    with pytest.raises(LookupError, match="deleted"):
        store.delete("Opportunity", deal)


def test_updated_ids_window(store):
    mark = store.now()
    deal = _new_deal(store)
    assert store.updated_ids("Opportunity", mark, LATE) == [deal]
    assert deal not in store.updated_ids("Opportunity", EARLY, mark)
    assert len(store.updated_ids("Opportunity", EARLY, LATE)) == N + 1
    assert store.updated_ids("OpportunityFieldHistory", mark, LATE)  # no SystemModstamp


def test_purge_deleted_empties_the_bin(store):
    assert store.earliest_deleted_date("Opportunity") is None
    deal = _new_deal(store)
    store.delete("Opportunity", deal)
    stamp = store.get("Opportunity", deal)["SystemModstamp"]
    store.purge_deleted(EARLY)
    assert store.get("Opportunity", deal) is not None  # deleted after the purge point
    store.purge_deleted(LATE)
    assert store.get("Opportunity", deal) is None
    assert store.deleted_records("Opportunity", EARLY, LATE) == []
    assert store.earliest_deleted_date("Opportunity") == LATE > stamp
    store.purge_deleted(EARLY)  # an older purge never moves the boundary back
    assert store.earliest_deleted_date("Account") == LATE


def test_closed_store_refuses_writes(tmp_path):
    s = OrgStore.open(tmp_path, 50, 1, OrgProfile())
    s.close()
    s.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        _new_deal(s)


def test_leftovers_of_dead_processes_and_older_weeks_are_removed(tmp_path):
    cache = tmp_path / "cache"
    (cache / "work").mkdir(parents=True)
    dead_pid = 2**22 + 1  # above Linux's pid_max: never a live process
    stale = cache / "work" / f"org-x.{dead_pid}.abcd1234.sqlite3"
    stale.write_bytes(b"x")
    half = cache / f"org-y.sqlite3.tmp-{dead_pid}-abcd1234"
    half.write_bytes(b"x")
    old_week = cache / org_cache.cache_name(60, 1, OrgProfile(), anchor_for() - timedelta(days=7))
    old_week.write_bytes(b"x")
    other_size = cache / org_cache.cache_name(61, 1, OrgProfile(), anchor_for() - timedelta(7))
    other_size.write_bytes(b"x")
    with OrgStore.open(cache, 60, 1, OrgProfile()) as s:
        assert s.path.exists()
    assert not stale.exists() and not half.exists() and not old_week.exists()
    assert other_size.exists()  # another org's file is not ours to remove


@pytest.mark.parametrize("values, message", [
    ({"Amount": "lots"}, "Amount: value not of required type"),
    ({"Amount": True}, "Amount: value not of required type"),
    ({"CloseDate": "next week"}, "CloseDate: value not of required type"),
    ({"Not_A_Field__c": 1}, "No such column"),
    ({"AccountId": "not-an-id"}, "AccountId: id value of incorrect type"),
    ({"Name": "x" * 121}, "Name: data value too large"),
    ({"Is_Strategic__c": "yes"}, "Is_Strategic__c: value not of required type"),
])
def test_bad_values_are_refused_clearly(store, values, message):
    deal = _new_deal(store)
    with pytest.raises(ValueError, match=message):
        store.update("Opportunity", deal, values)


def test_values_are_stored_as_salesforce_serialises_them(store):
    account = store.random_row("Account", random.Random(2))["Id"]
    deal = _new_deal(store, AccountId=account[:15], Is_Strategic__c=True, Seats__c=12)
    row = store.get("Opportunity", deal)
    assert (row["AccountId"], row["Is_Strategic__c"], row["Seats__c"]) == (account, 1, 12.0)
    contact = store.insert("Contact", {"FirstName": "Ada", "LastName": "Lovelace"})
    assert store.get("Contact", contact)["Name"] == "Ada Lovelace"
    store.update("Contact", contact, {"LastName": "King"})
    store.update("Contact", contact, {"LastName": "King"})  # a no-op in the same second is fine
    assert store.get("Contact", contact)["Name"] == "Ada King"


def test_two_processes_generating_the_same_org(tmp_path):
    code = ("import sys; from pathlib import Path; from smvue_demo_org.store import OrgStore;"
            "from smvue_demo_org.profile import OrgProfile;"
            "s = OrgStore.open(Path(sys.argv[1]), 120, 9, OrgProfile());"
            "print(int(s.generated), s.count('Opportunity')); s.close()")
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": root}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(outputs) == [["0", "120"], ["1", "120"]]
    assert len(list(tmp_path.glob("org-*.sqlite3"))) == 1
