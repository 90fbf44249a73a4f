"""SOQL engine: aggregate queries (AggregateResult records, exprN names, GROUP BY, HAVING)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from smvue_demo_org.soql import SoqlError, prepare
from tests.unit.demo_org.soql_fixture import NOW, catalog, make_org

CAT = catalog()
AGG = {"type": "AggregateResult"}


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    return make_org()


def run(conn: sqlite3.Connection, soql: str, **kw: Any) -> list[dict[str, Any]]:
    q = prepare(soql, CAT, now=NOW, **kw)
    records = list(q.records(conn))
    assert q.count(conn) == len(records)
    return records


def test_ungrouped_aggregates_give_one_row_with_expr_names(conn):
    assert run(conn, "SELECT COUNT(Id), SUM(Amount), AVG(Amount), MIN(CloseDate), "
                     "MAX(CreatedDate), COUNT_DISTINCT(StageName), COUNT(Amount) "
                     "FROM Opportunity") == [{
        "attributes": AGG, "expr0": 5, "expr1": 60600.5, "expr2": 15150.125,
        "expr3": "2026-10-01", "expr4": "2026-11-26T06:00:00.000+0000", "expr5": 4,
        "expr6": 4,
    }]


def test_aggregates_over_no_rows(conn):
    assert run(conn, "SELECT COUNT(Id), SUM(Amount) FROM Opportunity "
               "WHERE Amount > 1000000") == [
        {"attributes": AGG, "expr0": 0, "expr1": None}]


def test_group_by_with_aliases_order_and_limit(conn):
    recs = run(conn, "SELECT StageName, COUNT(Id) n, SUM(Amount), MAX(Amount) top "
                     "FROM Opportunity GROUP BY StageName ORDER BY COUNT(Id) DESC, StageName "
                     "LIMIT 3")
    assert recs == [
        {"attributes": AGG, "StageName": "Prospecting", "n": 2, "expr0": 12100.5,
         "top": 12000.5},
        {"attributes": AGG, "StageName": "Closed Lost", "n": 1, "expr0": 500.0, "top": 500.0},
        {"attributes": AGG, "StageName": "Closed Won", "n": 1, "expr0": None, "top": None},
    ]
    assert isinstance(recs[0]["expr0"], float)


def test_group_by_parent_field_and_having(conn):
    recs = run(conn, "SELECT Account.Name, COUNT(Id) FROM Opportunity "
                     "GROUP BY Account.Name HAVING COUNT(Id) > 1")
    assert recs == [{"attributes": AGG, "Name": None, "expr0": 2}]
    recs = run(conn, "SELECT Owner.Name owner, SUM(Amount) FROM Opportunity "
                     "GROUP BY Owner.Name HAVING SUM(Amount) > 100 ORDER BY Owner.Name")
    assert recs == [{"attributes": AGG, "owner": "Bob Rep", "expr0": 60600.5}]
    recs = run(conn, "SELECT IsClosed, COUNT(Id) FROM Opportunity GROUP BY IsClosed "
                     "HAVING IsClosed = true")
    assert recs == [{"attributes": AGG, "IsClosed": True, "expr0": 2}]


def test_group_by_without_aggregates(conn):
    recs = run(conn, "SELECT StageName FROM Opportunity GROUP BY StageName ORDER BY StageName")
    assert [r["StageName"] for r in recs] == ["Closed Lost", "Closed Won", "Negotiation/Review",
                                              "Prospecting"]


def test_group_by_text_ignores_case():
    local = make_org()
    local.execute("UPDATE Opportunity SET StageName = 'PROSPECTING' WHERE Amount = 100")
    recs = run(local, "SELECT StageName, COUNT(Id) FROM Opportunity WHERE StageName LIKE 'pro%' "
                      "GROUP BY StageName")
    assert [r["expr0"] for r in recs] == [2]


def test_count_with_group_by_counts_groups(conn):
    assert prepare("SELECT COUNT() FROM Opportunity GROUP BY StageName", CAT).count(conn) == 4


def test_aggregates_respect_deleted_rows(conn):
    assert run(conn, "SELECT COUNT(Id) FROM Opportunity", include_deleted=True)[0]["expr0"] == 6


@pytest.mark.parametrize(("soql", "message"), [
    ("SELECT Name, COUNT(Id) FROM Opportunity GROUP BY StageName",
     "Field must be grouped or aggregated: Name"),
    ("SELECT StageName FROM Opportunity GROUP BY StageName ORDER BY Name",
     "Ordered field must be grouped or aggregated: Name"),
    ("SELECT SUM(Name) FROM Opportunity", "does not support aggregate operator SUM"),
    ("SELECT MAX(IsClosed) FROM Opportunity", "does not support aggregate operator MAX"),
    ("SELECT COUNT(Id) a, SUM(Amount) a FROM Opportunity", "duplicate alias: a"),
    ("SELECT StageName, (SELECT Id FROM OpportunityContactRoles) FROM Opportunity "
     "GROUP BY StageName", "Nested queries are not supported in aggregate queries"),
    ("SELECT Id FROM Opportunity ORDER BY COUNT(Id)", "only be ordered by in aggregate"),
    ("SELECT Id FROM Opportunity HAVING COUNT(Id) > 1", "HAVING requires"),
    ("SELECT Id FROM Opportunity WHERE COUNT(Id) > 1", "not supported in the WHERE clause"),
    ("SELECT Name n FROM Opportunity", "Only aggregate expressions use field aliasing"),
    ("SELECT Id, COUNT() FROM Opportunity", "COUNT() must be the only element"),
])
def test_aggregate_errors_are_malformed_query(soql, message):
    with pytest.raises(SoqlError) as err:
        prepare(soql, CAT)
    assert err.value.error_code == "MALFORMED_QUERY"
    assert message in err.value.message
