"""SOQL engine: select lists, record shape, relationships, subqueries, ordering, paging."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from smvue_demo_org.soql import SoqlError, prepare
from tests.unit.demo_org.soql_fixture import (
    A1,
    A2,
    A3,
    C1,
    C2,
    L1,
    NOW,
    O1,
    O2,
    O3,
    O4,
    O5,
    O6,
    R1,
    R2,
    R3,
    R4,
    T1,
    T2,
    T3,
    catalog,
    make_org,
)

CAT = catalog()


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    return make_org()


def run(conn: sqlite3.Connection, soql: str, **kw: Any) -> list[dict[str, Any]]:
    q = prepare(soql, CAT, now=NOW, **kw)
    records = list(q.records(conn))
    assert q.count(conn) == len(records)
    return records


def ids(conn: sqlite3.Connection, soql: str, **kw: Any) -> list[str]:
    return [r["Id"] for r in run(conn, soql, **kw)]


def test_flat_record_shape_matches_salesforce(conn):
    [rec] = run(conn, f"select id, name, amount, probability, closedate, isclosed, "
                f"createddate, nextstep, seats__c from opportunity where id = '{O1}'")
    assert rec == {
        "attributes": {"type": "Opportunity",
                       "url": f"/services/data/v67.0/sobjects/Opportunity/{O1}"},
        "Id": O1, "Name": "Acme - 200 seats", "Amount": 48000.0, "Probability": 90.0,
        "CloseDate": "2026-12-15", "IsClosed": False,
        "CreatedDate": "2026-11-20T08:00:00.000+0000", "NextStep": None, "Seats__c": 200.0,
    }
    assert list(rec) == ["attributes", "Id", "Name", "Amount", "Probability", "CloseDate",
                         "IsClosed", "CreatedDate", "NextStep", "Seats__c"]
    text = json.dumps(rec)
    assert '"Amount": 48000.0' in text and '"IsClosed": false' in text
    assert '"NextStep": null' in text


def test_int_fields_stay_ints_and_api_version_shapes_urls(conn):
    [rec] = run(conn, f"SELECT NumberOfEmployees FROM Account WHERE Id = '{A1}'",
                api_version="66.0")
    assert rec["NumberOfEmployees"] == 500 and isinstance(rec["NumberOfEmployees"], int)
    assert rec["attributes"]["url"] == f"/services/data/v66.0/sobjects/Account/{A1}"


def test_deleted_rows_excluded_unless_query_all(conn):
    assert O5 not in ids(conn, "SELECT Id FROM Opportunity")
    assert len(ids(conn, "SELECT Id FROM Opportunity")) == 5
    assert O5 in ids(conn, "SELECT Id FROM Opportunity", include_deleted=True)
    deleted = ids(conn, "SELECT Id FROM Opportunity WHERE IsDeleted = true",
                  include_deleted=True)
    assert deleted == [O5]


def test_parent_paths_nest_in_select_order(conn):
    [rec] = run(conn, f"SELECT Account.Name, Id, Account.Parent.Name, Owner.Email, "
                f"Account.Parent.Owner.Name FROM Opportunity WHERE Id = '{O2}'")
    assert list(rec) == ["attributes", "Account", "Id", "Owner"]
    account = rec["Account"]
    assert account["attributes"] == {"type": "Account",
                                     "url": f"/services/data/v67.0/sobjects/Account/{A2}"}
    assert list(account) == ["attributes", "Name", "Parent"]
    assert account["Parent"]["Name"] == "Acme"
    assert account["Parent"]["Owner"]["Name"] == "Ann Admin"
    assert account["Parent"]["Owner"]["attributes"]["type"] == "User"
    assert rec["Owner"]["Email"] == "bob@example.com"


def test_five_levels_of_parents(conn):
    [rec] = run(conn, f"SELECT Account.Parent.Parent.Owner.Manager.Name FROM Opportunity "
                f"WHERE Id = '{O3}'")
    grand = rec["Account"]["Parent"]["Parent"]
    assert grand["Owner"]["Manager"] is None  # Ann has no manager
    [rec] = run(conn, f"SELECT Account.Parent.Owner.Manager.Email FROM Opportunity "
                f"WHERE Id = '{O3}'")
    assert rec["Account"]["Parent"]["Owner"]["Manager"]["Email"] == "ann@example.com"


def test_null_and_deleted_parents_are_null(conn):
    recs = {r["Id"]: r for r in run(conn, "SELECT Id, Account.Name FROM Opportunity")}
    assert recs[O4]["Account"] is None
    assert recs[O6]["Account"] is None  # its account is in the recycle bin
    assert recs[O1]["Account"]["Name"] == "Acme"


def test_polymorphic_what_and_who(conn):
    recs = {r["Id"]: r for r in run(conn, "SELECT Id, What.Name, What.Type, Who.Name, "
                                          "What.Id FROM Task")}
    what = recs[T1]["What"]
    assert what == {"attributes": {"type": "Name",
                                   "url": f"/services/data/v67.0/sobjects/Opportunity/{O1}"},
                    "Name": "Acme - 200 seats", "Type": "Opportunity", "Id": O1}
    assert recs[T2]["What"]["Type"] == "Account"
    assert recs[T2]["Who"]["attributes"]["url"].endswith(f"/Lead/{L1}")
    assert recs[T1]["Who"]["Name"] == "Carol Buyer"
    assert recs[T3]["What"] is None and recs[T3]["Who"] is None
    assert ids(conn, "SELECT Id FROM Task WHERE What.Type = 'Account'") == [T2]


def test_child_subquery_shape_filter_order_limit(conn):
    recs = {r["Id"]: r for r in run(
        conn, "SELECT Id, (SELECT Role, IsPrimary, Contact.Name FROM OpportunityContactRoles "
              "ORDER BY Role DESC) FROM Opportunity")}
    roles = recs[O1]["OpportunityContactRoles"]
    assert roles["totalSize"] == 2 and roles["done"] is True
    assert [r["Role"] for r in roles["records"]] == ["Influencer", "Decision Maker"]
    assert roles["records"][1] == {
        "attributes": {"type": "OpportunityContactRole",
                       "url": f"/services/data/v67.0/sobjects/OpportunityContactRole/{R1}"},
        "Role": "Decision Maker", "IsPrimary": True,
        "Contact": {"attributes": {"type": "Contact",
                                   "url": f"/services/data/v67.0/sobjects/Contact/{C1}"},
                    "Name": "Carol Buyer"},
    }
    assert recs[O3]["OpportunityContactRoles"] is None  # its only role is deleted
    assert recs[O4]["OpportunityContactRoles"] is None
    limited = run(conn, f"SELECT Id, (SELECT Id FROM OpportunityContactRoles WHERE "
                  f"IsPrimary = false OR Role = 'Decision Maker' ORDER BY Role LIMIT 1) "
                  f"FROM Opportunity WHERE Id = '{O1}'")
    assert [r["Id"] for r in limited[0]["OpportunityContactRoles"]["records"]] == [R1]


def test_child_subquery_includes_deleted_children_for_query_all(conn):
    [rec] = run(conn, f"SELECT Id, (SELECT Id FROM OpportunityContactRoles) FROM Opportunity "
                f"WHERE Id = '{O3}'", include_deleted=True)
    assert [r["Id"] for r in rec["OpportunityContactRoles"]["records"]] == [R4]


def test_child_subqueries_from_accounts_and_contacts(conn):
    recs = {r["Id"]: r for r in run(
        conn, "SELECT Id, (SELECT Id FROM Opportunities ORDER BY Name), "
              "(SELECT Id FROM ChildAccounts), (SELECT Subject FROM Tasks) FROM Account")}
    assert [r["Id"] for r in recs[A1]["Opportunities"]["records"]] == [O1]
    assert [r["Id"] for r in recs[A1]["ChildAccounts"]["records"]] == [A2]
    assert recs[A1]["Tasks"]["records"][0]["Subject"] == "Email Acme"
    assert recs[A3]["ChildAccounts"] is None
    [contact] = run(conn, f"SELECT (SELECT Id FROM OpportunityContactRoles ORDER BY Id) "
                    f"FROM Contact WHERE Id = '{C2}'")
    assert [r["Id"] for r in contact["OpportunityContactRoles"]["records"]] == [R2, R3]


def test_order_by_defaults_and_nulls(conn):
    asc = ids(conn, "SELECT Id FROM Opportunity ORDER BY Amount")
    assert asc == [O3, O6, O4, O2, O1]  # ASC puts nulls first
    assert ids(conn, "SELECT Id FROM Opportunity ORDER BY Amount DESC") == [O1, O2, O4, O6, O3]
    assert ids(conn, "SELECT Id FROM Opportunity ORDER BY Amount ASC NULLS LAST")[-1] == O3
    assert ids(conn, "SELECT Id FROM Opportunity ORDER BY Amount DESC NULLS FIRST")[0] == O3


def test_order_by_several_fields_and_parent_fields(conn):
    got = ids(conn, "SELECT Id FROM Opportunity ORDER BY IsClosed DESC, Account.Name DESC "
                    "NULLS LAST, Name")
    assert got == [O3, O4, O2, O1, O6]
    assert ids(conn, "SELECT Id FROM Account ORDER BY Name DESC")[0] == A3


def test_order_by_strings_is_case_insensitive(conn):
    names = [r["Name"] for r in run(conn, "SELECT Name FROM Opportunity ORDER BY Name")]
    assert names == sorted(names, key=str.lower)


def test_limit_offset_and_count(conn):
    q = prepare("SELECT Id FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 1", CAT, now=NOW)
    assert q.count(conn) == 2
    assert [r["Id"] for r in q.records(conn)] == [O2, O3]
    assert prepare("SELECT Id FROM Opportunity OFFSET 4", CAT).count(conn) == 1
    assert prepare("SELECT Id FROM Opportunity LIMIT 0", CAT).count(conn) == 0


def test_count_query(conn):
    q = prepare("SELECT COUNT() FROM Opportunity WHERE Amount > 200", CAT)
    assert q.is_count and q.sobject == "Opportunity"
    assert q.count(conn) == 3
    assert list(q.records(conn)) == []
    assert prepare("SELECT count() FROM Opportunity LIMIT 2", CAT).count(conn) == 2
    assert prepare("SELECT COUNT() FROM Opportunity", CAT, include_deleted=True).count(conn) == 6


def test_names_are_case_insensitive_and_canonical_in_output(conn):
    q = prepare(f"SeLeCt NAME, account.NAME FrOm OPPORTUNITY wHeRe ID = '{O1}'", CAT)
    assert q.sobject == "Opportunity"
    [rec] = q.records(conn)
    assert list(rec) == ["attributes", "Name", "Account"]
    assert rec["Account"]["Name"] == "Acme"


def test_from_alias(conn):
    [rec] = run(conn, f"SELECT o.Name, o.Account.Name FROM Opportunity o WHERE o.Id = '{O1}'")
    assert rec["Name"] == "Acme - 200 seats" and rec["Account"]["Name"] == "Acme"


def test_records_stream_lazily_from_an_open_cursor():
    conn = make_org()
    many = [(f"006000000{n:06d}AAA", f"Bulk {n}", "2026-12-01", "Prospecting", 0)
            for n in range(1000)]
    conn.executemany('INSERT INTO "Opportunity" (Id, Name, CloseDate, StageName, IsDeleted) '
                     "VALUES (?, ?, ?, ?, ?)", many)
    q = prepare("SELECT Id, Name, (SELECT Id FROM OpportunityContactRoles) FROM Opportunity "
                "ORDER BY Name", CAT)
    calls: list[str] = []
    conn.set_trace_callback(calls.append)
    stream = q.records(conn)
    assert calls == []  # nothing runs before the first record is asked for
    first = next(stream)
    assert first["Name"] == "Acme - 200 seats"
    child_queries = [c for c in calls if "OpportunityContactRole" in c]
    assert len(child_queries) == 1  # one IN (...) query for the first chunk of parents
    rest = list(stream)
    assert len(rest) == 1004
    assert len([c for c in calls if "OpportunityContactRole" in c]) == 6  # 1005 / 200 chunks


def test_bad_stored_values_raise_soql_error_not_a_traceback():
    local = make_org()
    local.execute("UPDATE Opportunity SET Amount = 'lots' WHERE Id = ?", (O1,))
    q = prepare("SELECT Amount FROM Opportunity", CAT)
    with pytest.raises(SoqlError) as err:
        list(q.records(local))
    assert err.value.error_code == "UNKNOWN_EXCEPTION"


def test_unfinished_stream_survives_its_connection_closing():
    local = make_org()
    stream = prepare("SELECT Id FROM Opportunity", CAT).records(local)
    next(stream)
    local.close()
    stream.close()  # no error although the cursor's connection is gone
