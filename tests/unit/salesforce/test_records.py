"""Record shaping: which queries are flat, and attributes dropped at every level."""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.records import (
    drop_attributes,
    is_flat,
    select_list,
    strip_attributes,
    unfinished_children,
)


@pytest.mark.parametrize(("soql", "flat"), [
    ("SELECT Id, Name FROM Account", True),
    ("SELECT Id FROM Contact WHERE AccountId IN (SELECT AccountId FROM Opportunity)", True),
    ("SELECT Id, Account.Name FROM Opportunity", False),
    ("select Id, (select Id from Contacts) from Account", False),
    ("SELECT FromDate__c, Owner.Email FROM Opportunity", False),  # a field named From…
    ("SELECT Id,Name\nFROM Account", True),
    ("SELECT COUNT() FROM Account", False),  # not a record list: walked as before
])
def test_is_flat(soql: str, flat: bool) -> None:
    assert is_flat(soql) is flat


def test_select_list_skips_a_subquery_from() -> None:
    soql = "SELECT Id, (SELECT Id FROM Contacts) FROM Account"
    assert select_list(soql) == "SELECT Id, (SELECT Id FROM Contacts) "


def test_attributes_dropped_flat_and_nested() -> None:
    flat = [{"attributes": {"type": "Account"}, "Id": "001"}]
    drop_attributes(flat)
    assert flat == [{"Id": "001"}]
    nested = [{"attributes": {}, "Id": "006", "Account": {"attributes": {}, "Name": "A"},
               "Contacts": {"totalSize": 1, "done": False, "nextRecordsUrl": "/next",
                            "records": [{"attributes": {}, "Id": "003"}]}}]
    strip_attributes(nested)
    assert nested[0]["Account"] == {"Name": "A"}
    assert nested[0]["Contacts"]["records"] == [{"Id": "003"}]
    assert [c["nextRecordsUrl"] for c in unfinished_children(nested)] == ["/next"]
