"""The demo org driven by simple-salesforce, a client nobody here wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.integration.conftest import simple_salesforce


@pytest.fixture
def sf(demo):
    return simple_salesforce(demo)


def test_paged_query_all_returns_exactly_count(sf, demo):
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    count = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    rows = sf.query_all("SELECT Id, Name, Amount, Account.Name FROM Opportunity")["records"]
    assert count == demo.org.store.count("Opportunity") > 200  # more than one page
    assert len(rows) == count
    assert len({r["Id"] for r in rows}) == count


def test_query_all_includes_deleted_rows(sf, demo):
    victim = sf.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")["records"][0]["Id"]
    assert demo.admin("DELETE", f"/records/Opportunity/{victim}").status_code == 200
    live = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    rows = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)["records"]
    assert len(rows) > live
    assert any(r["Id"] == victim and r["IsDeleted"] for r in rows)


def test_describe_and_limits(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Opportunity", "Account", "Contact", "User", "OpportunityHistory"} <= names
    opp = sf.Opportunity.describe()
    fields = {f["name"]: f for f in opp["fields"]}
    assert fields["Seats__c"]["custom"] and fields["AccountId"]["referenceTo"] == ["Account"]
    assert any(r["relationshipName"] == "OpportunityContactRoles"
               for r in opp["childRelationships"])
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] >= limits["DailyApiRequests"]["Remaining"] > 0
    assert sf.api_usage["api-usage"].used >= 1


def test_updated_and_deleted_windows(sf, demo):
    # Salesforce covers whole minutes only: a change made this minute is not listed yet.
    now = datetime.now(UTC)
    recent = sf.query("SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp = "
                      "LAST_N_DAYS:20 AND SystemModstamp < " +
                      (now - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ") +
                      " ORDER BY SystemModstamp DESC LIMIT 1")["records"]
    assert recent, "the generated org has changes in the last 20 days"
    updated = sf.Opportunity.updated(now - timedelta(days=25), now + timedelta(minutes=5))
    assert recent[0]["Id"] in updated["ids"]
    assert updated["latestDateCovered"] <= now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    gone = sf.query("SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT 1")["records"][0]["Id"]
    demo.admin("DELETE", f"/records/Opportunity/{gone}")
    deleted = sf.Opportunity.deleted(now - timedelta(days=1), now + timedelta(minutes=5))
    assert gone not in [r["id"] for r in deleted["deletedRecords"]]  # not a whole minute yet
    assert deleted["earliestDateAvailable"] <= deleted["latestDateCovered"]
    with pytest.raises(SalesforceMalformedRequest):  # older than Salesforce keeps
        sf.Opportunity.deleted(now - timedelta(days=20), now)


def test_soql_errors_reach_the_client_typed(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Nope__c FROM Opportunity")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM NoSuchThing")
    assert err.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_get_record_by_id(sf):
    opp_id = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    record = sf.Opportunity.get(opp_id)
    assert record["Id"] == opp_id and record["attributes"]["type"] == "Opportunity"
    assert "StageName" in record
