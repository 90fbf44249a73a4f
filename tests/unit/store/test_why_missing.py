"""Why is this deal missing? Each reason on a hand-built store."""

from __future__ import annotations

from datetime import date

import pytest

from smvue_tui.store import models as m
from smvue_tui.store import why_missing as wm
from smvue_tui.store.db import open_store
from smvue_tui.store.pipeline import ALL_DEALS, DealFilter

REP, STRANGER, BENCH = "0058W0000000001QAA", "0058W0000000002QAA", "0058W0000000003QAA"
NEW_BIZ, RENEWAL = "0128W0000000001QAA", "0128W0000000002QAA"
TODAY = date(2026, 11, 26)
VIEW = DealFilter(pipeline=NEW_BIZ)


def _deal(n: int, name: str, **kw) -> m.Opportunity:
    values = {"owner_id": REP, "record_type_id": NEW_BIZ, "stage_name": "Prospecting",
              "is_closed": False, "is_won": False, "close_date": "2026-12-31", **kw}
    return m.Opportunity.create(id=f"0068W00000000{n:02d}QAA"[:18], name=name, **values)


@pytest.fixture
def store(tmp_path):
    db = open_store(tmp_path / "s.sqlite3")
    m.SfUser.create(id=REP, name="Ana Rep", is_active=True)
    m.SfUser.create(id=STRANGER, name="Sam Stranger", is_active=True)
    m.SfUser.create(id=BENCH, name="Bo Bench", is_active=True)
    m.RecordType.create(id=NEW_BIZ, name="New Business")
    m.RecordType.create(id=RENEWAL, name="Renewal")
    m.TeamMember.create(sf_user_id=REP, name="Ana Rep", coached=True)
    m.TeamMember.create(sf_user_id=BENCH, name="Bo Bench", coached=False)
    _deal(1, "Acme Expansion")
    _deal(2, "Globex 100% Deal", owner_id=STRANGER)
    _deal(3, "Initech Renewal", record_type_id=RENEWAL)
    _deal(4, "Hooli Pilot", stage_name=None)
    _deal(5, "Umbrella Won", stage_name="Closed Won", is_closed=True, is_won=True)
    _deal(6, "Stark Lost", stage_name="Closed Lost", is_closed=True)
    _deal(7, "Wayne Bench", owner_id=BENCH)
    yield db
    db.close()


def _causes(query: str, view: DealFilter = VIEW, remote=None) -> list[str]:
    [finding] = wm.explain(query, view, remote, TODAY)
    return [r.cause for r in finding.reasons]


def test_a_deal_in_view_has_no_reasons(store):
    [finding] = wm.explain("acme", VIEW, None, TODAY)
    assert finding.in_store and finding.reasons == []


def test_owner_not_mapped_or_not_coached(store):
    [reason] = wm.explain("GLOBEX", VIEW, None, TODAY)[0].reasons
    assert "Sam Stranger is not mapped" in reason.cause and reason.remedy == wm.REMEDY_OWNER
    assert "not selected as a rep" in _causes("wayne")[0]


def test_record_type_stage_and_closed_filters(store):
    [rt] = wm.explain("initech", VIEW, None, TODAY)[0].reasons
    assert "Record type Renewal is not the pipeline shown (New Business)" in rt.cause
    assert rt.remedy == wm.REMEDY_RECORD_TYPE
    assert _causes("initech", DealFilter(pipeline=ALL_DEALS)) == []  # all record types shown
    [stage] = wm.explain("hooli", VIEW, None, TODAY)[0].reasons
    assert stage.remedy == wm.REMEDY_STAGE
    won = _causes("umbrella")
    assert won == ["It is Closed Won on 2026-12-31; the current filter shows open deals"]
    assert _causes("umbrella", DealFilter(pipeline=NEW_BIZ, status="won")) == []
    assert _causes("umbrella", DealFilter(pipeline=NEW_BIZ, status="all")) == []
    assert "It is Closed Lost" in _causes("stark", DealFilter(pipeline=NEW_BIZ, status="won"))[0]
    assert "It is open;" in _causes("acme", DealFilter(pipeline=NEW_BIZ, status="lost"))[0]


def test_rep_close_date_and_search_filters(store):
    only_bo = DealFilter(pipeline=NEW_BIZ, rep=BENCH)
    assert _causes("acme", only_bo) == ["The view shows only Bo Bench's deals"]
    dates = DealFilter(close_from=date(2027, 1, 1), close_to=date(2027, 3, 31))
    assert _causes("acme", dates) == [
        "Its close date 2026-12-31 is outside the close dates shown (2027-01-01 to 2027-03-31)"]
    assert _causes("acme", DealFilter(search="globex")) == [
        'It does not match the search "globex"']
    assert _causes("acme", DealFilter(search="EXPAN")) == []


def test_owner_is_no_reason_when_no_team_is_mapped_or_team_only_is_off(store):
    assert _causes("globex", DealFilter(pipeline=NEW_BIZ, team_only=False)) == []
    m.TeamMember.delete().execute()
    assert _causes("globex") == []


def test_lookup_by_15_and_18_char_id_and_literal_wildcards(store):
    deal_id = "0068W0000000005QAA"
    assert wm.opportunity_id(deal_id[:15]) == deal_id
    assert wm.opportunity_id("Acme Expansion") is None
    assert [d.name for d in wm.find_stored(deal_id[:15])] == ["Umbrella Won"]
    assert [d.name for d in wm.find_stored(deal_id.lower())] == ["Umbrella Won"]
    assert [d.name for d in wm.find_stored("100%")] == ["Globex 100% Deal"]
    assert wm.find_stored("0%D") == []  # % is literal, not a wildcard


def test_not_in_store_explained_from_salesforce(store):
    old = {"Id": "0068W00000000XXQAA", "Name": "Old Win", "IsClosed": True,
           "CloseDate": "2024-11-20", "StageName": "Closed Won", "IsDeleted": False}
    [reason] = wm.explain("old win", VIEW, [old], TODAY)[0].reasons
    assert "before the closed-deal lookback (since 2025-11-26)" in reason.cause
    assert reason.remedy == wm.REMEDY_LOOKBACK
    gone = {**old, "IsClosed": False, "IsDeleted": True}
    assert wm.explain("old win", VIEW, [gone], TODAY)[0].reasons[0].remedy == wm.REMEDY_RESTORE
    fresh = {**old, "IsClosed": False, "StageName": None}
    assert [r.remedy for r in wm.explain("zzz", VIEW, [fresh], TODAY)[0].reasons] == \
        [wm.REMEDY_SYNC, wm.REMEDY_STAGE]
    [none] = wm.explain("nothing like it", VIEW, [], TODAY)
    assert none.reasons[0].remedy == wm.REMEDY_EXISTS


def test_stored_match_is_not_repeated_from_the_salesforce_answer(store):
    remote = [{"Id": "0068W0000000001QAA", "Name": "Acme Expansion", "IsDeleted": False}]
    assert len(wm.explain("acme", VIEW, remote, TODAY)) == 1


def test_offline_and_not_in_store_says_connect(store):
    [finding] = wm.explain("Zeta", VIEW, None, TODAY)
    assert [r.remedy for r in finding.reasons] == [wm.REMEDY_CONNECT, wm.REMEDY_SYNC]


def test_remote_soql_escapes_and_uses_the_id():
    assert wm.remote_soql("0068W0000000005") == (
        "SELECT Id, Name, IsClosed, CloseDate, StageName, OwnerId, IsDeleted FROM Opportunity "
        "WHERE Id = '0068W0000000005QAA'")
    assert "Name LIKE '%O\\'Brien 5\\% \\_x%'" in wm.remote_soql("O'Brien 5% _x")


def test_an_owner_in_the_team_but_not_selected_gets_the_advice_to_select_them(store):
    """Issue 19 item 10: not "verify the owner is a user you imported" (they are)."""
    [reason] = wm.explain("wayne", VIEW, None, TODAY)[0].reasons
    owner = m.SfUser.get_by_id(BENCH).name
    assert reason.remedy == f"Select {owner} as a rep in Team mapping (t, then space on their row)"
    assert reason.remedy != wm.REMEDY_OWNER
