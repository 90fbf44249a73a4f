"""The one query builder of the sync's reads: select list, IsDeleted, COUNT(), WHERE, order."""

from __future__ import annotations

from datetime import date

from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.fetch import SyncContext, build_soql
from smvue_tui.sync.plan import SPECS_BY_NAME, all_of

HISTORY = SPECS_BY_NAME["OpportunityHistory"]
LEAD_HISTORY = SPECS_BY_NAME["LeadHistory"]


def ctx() -> SyncContext:
    return SyncContext(client=None, writer=None, lookbacks=Lookbacks(),  # type: ignore[arg-type]
                       today=date(2026, 11, 26),
                       fields={"OpportunityHistory": ("Id", "SystemModstamp", "StageName"),
                               "LeadHistory": ("Id", "CreatedDate", "Field")})


def test_clauses_joined_in_parentheses_empty_ones_left_out():
    assert all_of(["A = 1", "", "B = 2 OR C = 3"]) == "(A = 1) AND (B = 2 OR C = 3)"
    assert all_of(["", ""]) == ""
    assert build_soql(ctx(), HISTORY, ["", "StageName = 'x'"]) == (
        "SELECT Id, SystemModstamp, StageName FROM OpportunityHistory "
        "WHERE (StageName = 'x') ORDER BY SystemModstamp ASC, Id ASC")


def test_a_read_orders_by_the_object_cursor_field_and_limits():
    assert build_soql(ctx(), LEAD_HISTORY, [], 50) == (
        "SELECT Id, CreatedDate, Field FROM LeadHistory ORDER BY CreatedDate ASC, Id ASC "
        "LIMIT 50")


def test_a_query_all_job_selects_is_deleted_in_the_select_list_without_order():
    where = "OpportunityId IN (SELECT Id FROM Opportunity WHERE IsClosed = false)"
    assert build_soql(ctx(), HISTORY, [where], ordered=False, deleted=True) == (
        "SELECT Id, SystemModstamp, StageName, IsDeleted FROM OpportunityHistory "
        f"WHERE ({where})")


def test_a_count_has_no_select_list_and_no_order():
    assert build_soql(ctx(), HISTORY, ["A = 1", "B = 2"], count=True) == (
        "SELECT COUNT() FROM OpportunityHistory WHERE (A = 1) AND (B = 2)")
    assert build_soql(ctx(), HISTORY, [], count=True) == "SELECT COUNT() FROM OpportunityHistory"
