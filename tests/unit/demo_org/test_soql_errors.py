"""SOQL engine: Salesforce's error codes and messages; fuzzing shows only SoqlError escapes."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smvue_demo_org.soql import SoqlError, prepare
from tests.unit.demo_org.soql_fixture import NOW, O1, catalog, make_org

CAT = catalog()
NO_SUCH_COLUMN = ("No such column 'Foo' on entity 'Opportunity'. If you are attempting to use a "
                  "custom field, be sure to append the '__c' after the custom field name. Please "
                  "reference your WSDL or the describe call for the appropriate names.")


def error(soql: str, cat=CAT) -> SoqlError:
    with pytest.raises(SoqlError) as err:
        prepare(soql, cat, now=NOW)
    return err.value


def test_invalid_field_message_has_the_caret_diagram():
    err = error("SELECT Foo FROM Opportunity")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == ("\nSELECT Foo FROM Opportunity\n       ^\nERROR at Row:1:Column:8\n"
                           + NO_SUCH_COLUMN)
    assert "INVALID_FIELD" in str(err)


def test_caret_diagram_on_a_later_row():
    err = error("SELECT Id,\n  Name\nFROM Opportunity\nWHERE Foo = 1")
    assert err.message.startswith("\nWHERE Foo = 1\n      ^\nERROR at Row:4:Column:7\n")


def test_messages_stay_short_for_huge_queries():
    err = error("SELECT Id FROM Opportunity WHERE " + "Name != 'x' AND " * 2000 + "Foo = 1")
    assert err.error_code == "INVALID_FIELD"
    assert len(err.message) < 600


@pytest.mark.parametrize(("soql", "code", "message"), [
    ("SELECT Account.Foo FROM Opportunity", "INVALID_FIELD",
     "No such column 'Foo' on entity 'Account'"),
    ("SELECT Acount.Name FROM Opportunity", "INVALID_FIELD",
     "Didn't understand relationship 'Acount' in field path"),
    ("SELECT Name.Foo FROM Opportunity", "INVALID_FIELD",
     "Didn't understand relationship 'Name' in field path"),
    ("SELECT Id FROM Opportunity WHERE Bar = 1", "INVALID_FIELD", "No such column 'Bar'"),
    ("SELECT Id FROM Opportunity ORDER BY Bar", "INVALID_FIELD", "No such column 'Bar'"),
    ("SELECT What.Amount FROM Task", "INVALID_FIELD", "No such column 'Amount' on entity 'Name'"),
    ("SELECT What.Owner.Name FROM Task", "INVALID_FIELD", "Didn't understand relationship 'Owner'"),
    ("SELECT CurrencyIsoCode FROM Opportunity", "INVALID_FIELD",
     "No such column 'CurrencyIsoCode' on entity 'Opportunity'"),
    ("SELECT Id FROM Widget__c", "INVALID_TYPE",
     "sObject type 'Widget__c' is not supported. If you are attempting to use a custom object, be "
     "sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
     "call for the appropriate names."),
    ("SELECT Id, (SELECT Id FROM Widgets) FROM Opportunity", "INVALID_TYPE",
     "Didn't understand relationship 'Widgets' in FROM part of query call"),
    ("SELECT Id FROM Opportunity WHERE Id IN (SELECT OpportunityId FROM Widget)",
     "INVALID_TYPE", "sObject type 'Widget' is not supported"),
    ("SELECT Id FROM Opportunity OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE",
     "Maximum SOQL offset allowed is 2000"),
])
def test_resolution_errors(soql, code, message):
    err = error(soql)
    assert (err.error_code, message in err.message) == (code, True), err.message


@pytest.mark.parametrize("where", [
    "Amount LIKE '5%'", "IsClosed LIKE 'true'", "CloseDate LIKE '2026%'",
    "IsClosed < true", "IsClosed >= false", "IsClosed IN (true)",
    "Amount = '5'", "Name = 5", "Name = true", "IsClosed = 'true'", "IsClosed = 1",
    "CloseDate = 2026-11-01T00:00:00Z", "CreatedDate = 2026-11-01", "CloseDate = '2026-11-01'",
    "Amount = TODAY", "Name = LAST_N_DAYS:3", "Id = 'not-an-id'", "AccountId = 5",
    "Id IN ('006000000000001', 'nope')", "Amount > null", "Name LIKE 5",
])
def test_filter_operator_and_type_errors(where):
    err = error(f"SELECT Id FROM Opportunity WHERE {where}")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR", err.message
    assert "ERROR at Row:1" in err.message


def test_type_error_message_as_salesforce_words_it():
    assert error("SELECT Id FROM Opportunity WHERE Amount = '5'").message.endswith(
        "value of filter criterion for field 'Amount' must be of type double and should not be "
        "enclosed in quotes")
    assert error("SELECT Id FROM Opportunity WHERE Id = 'abc'").message.endswith(
        "invalid ID field: abc")


@pytest.mark.parametrize("soql", [
    "", "   ", "SELECT", "SELECT FROM Opportunity", "SELECT Id Opportunity", "SELECT Id FROM",
    "SELECT Id, FROM Opportunity", "SELECT Id FROM Opportunity WHERE",
    "SELECT Id FROM Opportunity WHERE Name = 'open", "SELECT Id FROM Opportunity extra words",
    "SELECT Id FROM Opportunity WHERE Amount > 1 AND Amount < 5 OR Amount = 3",
    "SELECT Id FROM Opportunity WHERE (Amount > 1", "SELECT Id FROM Opportunity LIMIT -1",
    "SELECT Id FROM Opportunity LIMIT 1.5", "SELECT Id FROM Opportunity LIMIT x",
    "SELECT TYPEOF What WHEN Account THEN Name END FROM Task",
    "SELECT Id FROM Opportunity FOR UPDATE", "SELECT Id FROM Opportunity WITH SECURITY_ENFORCED",
    "SELECT Id FROM Opportunity USING SCOPE mine", "SELECT FORMAT(Amount) FROM Opportunity",
    "SELECT toLabel(StageName) FROM Opportunity",
    "SELECT Id FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) = 2026",
    "SELECT Id, Id FROM Opportunity", "SELECT Name, name FROM Opportunity",
    "SELECT Id, (SELECT Id, (SELECT Id FROM Contacts) FROM OpportunityContactRoles) FROM "
    "Opportunity", "SELECT Id FROM Opportunity WHERE CloseDate = 2026-02-30",
    "SELECT Id FROM Opportunity WHERE CreatedDate = 2026-02-30T00:00:00Z",
    "SELECT Id FROM Opportunity WHERE Name = 'bad \\q escape'",
    "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS", "SELECT Id FROM Opportunity "
    "WHERE CloseDate = LAST_N_DAYS:x", "SELECT Id FROM Opportunity WHERE Name = :name",
    "SELECT Account.Parent.Parent.Parent.Parent.Parent.Name FROM Opportunity",
    "SELECT Id FROM Opportunity WHERE Id IN (SELECT Id, Name FROM Account)",
    "SELECT Id FROM Opportunity WHERE Id IN (SELECT OpportunityId FROM "
    "OpportunityContactRole ORDER BY Id)", "SELECT Id FROM Opportunity ORDER BY Name NULLS",
    "SELECT Id FROM Opportunity WHERE " + "(" * 300 + "Amount > 1" + ")" * 300,
    "SELECT Id FROM Opportunity WHERE Name = 'x' ; DROP TABLE Opportunity",
    "SELECT Id FROM Opportunity WHERE Amount - 1 > 0", "SELECT * FROM Opportunity",
    "SELECT Id FROM Opportunity LIMIT 99999999999999999999999",
    "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_YEARS:99999",
    "SELECT Id FROM Opportunity WHERE CreatedDate > 2026-11-01T00:00:00",
])
def test_malformed_queries(soql):
    err = error(soql)
    assert err.error_code == "MALFORMED_QUERY", err.message


def test_semi_join_needs_id_fields():
    assert error("SELECT Id FROM Opportunity WHERE Name IN (SELECT Id FROM Account)"
                 ).error_code == "INVALID_FIELD"
    assert error("SELECT Id FROM Opportunity WHERE AccountId IN (SELECT Name FROM Account)"
                 ).error_code == "INVALID_FIELD"


def test_field_level_security_hides_fields_like_salesforce():
    hidden = catalog(hidden_fields=("Opportunity.NextStep", "Account.AnnualRevenue"))
    for soql in ("SELECT NextStep FROM Opportunity",
                 "SELECT Id FROM Opportunity WHERE NextStep = 'x'",
                 "SELECT Account.AnnualRevenue FROM Opportunity"):
        assert error(soql, hidden).error_code == "INVALID_FIELD"
    assert "No such column 'NextStep'" in error("SELECT NextStep FROM Opportunity",
                                                hidden).message


def test_feature_toggles_decide_objects_and_fields():
    plain = catalog(team_selling=False, record_types=False)
    assert error("SELECT Id FROM OpportunityTeamMember", plain).error_code == "INVALID_TYPE"
    assert error("SELECT RecordTypeId FROM Opportunity", plain).error_code == "INVALID_FIELD"
    assert error("SELECT RecordType.Name FROM Opportunity", plain).error_code == "INVALID_FIELD"
    prepare("SELECT Id, CurrencyIsoCode FROM Opportunity", catalog(multi_currency=True))
    prepare("SELECT Id, RecordType.Name FROM Opportunity", CAT)


def test_no_sql_injection_through_names_or_literals():
    conn = make_org()
    for soql in (
        "SELECT Id FROM Opportunity WHERE Name = 'x'' OR 1=1 --'",
        'SELECT Id FROM "Opportunity" WHERE Name = \'x\'',
        "SELECT Id FROM Opportunity WHERE Name = '\\' OR 1=1 --'",
    ):
        try:
            q = prepare(soql, CAT)
        except SoqlError:
            continue
        assert list(q.records(conn)) == []
    assert conn.execute('SELECT COUNT(*) FROM "Opportunity"').fetchone()[0] == 6


# --- fuzz -------------------------------------------------------------------------------------

CORPUS = [
    "SELECT Id, Name, Amount, Account.Name, Account.Parent.Owner.Name FROM Opportunity "
    "WHERE (Amount > 100 OR IsClosed = false) AND CloseDate = THIS_QUARTER "
    "ORDER BY Amount DESC NULLS LAST, Name LIMIT 3 OFFSET 1",
    "SELECT Id, (SELECT Role, IsPrimary, Contact.Name FROM OpportunityContactRoles "
    "WHERE IsPrimary = true ORDER BY Role LIMIT 2) FROM Opportunity WHERE Id IN "
    "(SELECT OpportunityId FROM OpportunityContactRole WHERE Role LIKE 'Dec%')",
    "SELECT StageName, COUNT(Id) n, SUM(Amount), MAX(CloseDate) FROM Opportunity "
    "WHERE CreatedDate >= LAST_N_DAYS:30 GROUP BY StageName HAVING COUNT(Id) > 0 "
    "ORDER BY COUNT(Id) DESC",
    "SELECT Subject, What.Name, What.Type, Who.Name FROM Task WHERE What.Type IN "
    "('Account', 'Opportunity') AND ActivityDate != null AND NOT Subject LIKE 'x\\_%'",
    f"SELECT COUNT() FROM Opportunity WHERE AccountId NOT IN ('{O1}', null) AND "
    "SystemModstamp > 2026-11-01T00:00:00Z",
]
VOCAB = ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "(", ")", ",", "=", "<",
         "!=", ">=", "'x'", "''", "'\\'", "null", "true", "5", "-1.5", "2026-11-01",
         "2026-11-01T00:00:00Z", "TODAY", "LAST_N_DAYS:3", "Id", "Name", "Amount", "Account",
         "Account.Name", "IsClosed", "CloseDate", "CreatedDate", "COUNT()", "COUNT(Id)",
         "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "DESC", "NULLS LAST", "Task",
         "Opportunity", "OpportunityContactRoles", "What.Type", ":", ".", "\\", "'", "\n", "%"]


def _run_anything(conn: sqlite3.Connection, soql: str) -> None:
    try:
        q = prepare(soql, CAT, now=NOW)
        total = q.count(conn)
        got = list(q.records(conn))
        assert q.is_count or len(got) == total
    except SoqlError as err:
        assert err.error_code != "UNKNOWN_EXCEPTION", err.message
        assert err.error_code and err.message
        assert len(str(err)) < 2000


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    return make_org()


def test_corpus_queries_are_valid(conn):
    for soql in CORPUS:
        q = prepare(soql, CAT, now=NOW)
        q.count(conn)
        list(q.records(conn))


FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.text(max_size=120))
def test_fuzz_random_text_only_raises_soql_error(conn, soql):
    _run_anything(conn, soql)


@FUZZ
@given(st.sampled_from(CORPUS), st.lists(st.tuples(
    st.sampled_from(["delete", "insert", "swap", "dup"]), st.integers(0, 200),
    st.sampled_from(VOCAB)), min_size=1, max_size=4))
def test_fuzz_mutated_queries_only_raise_soql_error(conn, base, edits):
    tokens = re.findall(r"'(?:[^'\\]|\\.)*'|\S+", base)
    for action, where, word in edits:
        i = where % (len(tokens) + 1)
        if action == "delete" and i < len(tokens):
            del tokens[i]
        elif action == "insert":
            tokens.insert(i, word)
        elif action == "swap" and i < len(tokens):
            tokens[i] = word
        elif action == "dup" and i < len(tokens):
            tokens.insert(i, tokens[i])
    _run_anything(conn, " ".join(tokens))


@FUZZ
@given(st.sampled_from(CORPUS), st.integers(0, 400), st.text(max_size=6))
def test_fuzz_spliced_characters_only_raise_soql_error(conn, base, at, junk):
    at %= len(base) + 1
    _run_anything(conn, base[:at] + junk + base[at:])
