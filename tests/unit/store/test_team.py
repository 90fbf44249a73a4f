"""Team Member Mapping store logic on a hand-built store."""

from __future__ import annotations

import pytest

from smvue_tui.store import models as m
from smvue_tui.store import team
from smvue_tui.store.db import open_store

ME, ANA, BO, CY, DEE = (f"0058W00000000{i}QAA" for i in "12345")


@pytest.fixture
def store(tmp_path):
    db = open_store(tmp_path / "s.sqlite3")
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x", username="me@example.com", user_id=ME)
    for uid, name, active in ((ME, "Morgan Reyes", True), (ANA, "Ana Lee", True),
                              (BO, "Bo Chen", True), (CY, "Cy Old", False),
                              (DEE, "Dee Idle", True)):
        m.SfUser.create(id=uid, name=name, is_active=active, email=f"{name[:3].lower()}@x.io")
    deals = [(ANA, 100.0, False, "USD"), (ANA, 50.0, False, "EUR"), (ANA, 999.0, True, "USD"),
             (BO, 10.0, False, None), (BO, None, False, None), (CY, 5.0, True, None)]
    for n, (owner, amount, closed, cur) in enumerate(deals):
        m.Opportunity.create(id=f"0068W0000000{n:02d}QAA", name=f"Deal {n}", owner_id=owner,
                             amount=amount, is_closed=closed, currency_iso_code=cur,
                             stage_name="Prospecting")
    yield db
    db.close()


def _rows() -> dict[str, team.TeamRow]:
    return {r.key: r for r in team.team_rows()}


def test_owners_listed_with_counts_and_open_amounts_per_currency(store):
    rows = _rows()
    assert set(rows) == {ANA, BO, CY}  # Dee owns nothing, Morgan is not a member yet
    assert rows[ANA].deals == 3 and rows[ANA].open_amount == {"USD": 100.0, "EUR": 50.0}
    assert team.format_amount(rows[ANA].open_amount) == "EUR 50 · USD 100"
    assert rows[BO].deals == 2 and team.format_amount(rows[BO].open_amount) == "10"
    assert rows[CY].open_amount == {} and not rows[CY].is_active
    assert all(r.is_new for r in rows.values())


def test_selecting_a_rep_sets_default_manager_and_is_idempotent(store):
    team.set_coached(ANA, True)
    team.set_coached(ANA, True)
    me = m.TeamMember.get(m.TeamMember.sf_user_id == ME)
    assert (me.role, me.coached, me.name) == ("Manager", False, "Morgan Reyes")
    ana = m.TeamMember.get(m.TeamMember.sf_user_id == ANA)
    assert (ana.coached, ana.role, ana.manager_id) == (True, "AE", me.id)
    assert m.TeamMember.select().count() == 2
    team.toggle_coached(ANA)
    assert not m.TeamMember.get(m.TeamMember.sf_user_id == ANA).coached
    rows = _rows()
    assert rows[ME].role == "Manager" and not rows[ANA].is_new


def test_roles_cycle_and_choose(store):
    assert team.next_role("AE") == "SDR" and team.next_role("Other") == "AE"
    assert team.next_role(None) == "AE" and team.next_role("AE", -1) == "Other"
    team.set_role(BO, "CSM")
    assert m.TeamMember.get(m.TeamMember.sf_user_id == BO).role == "CSM"
    with pytest.raises(team.TeamError, match="role must be one of"):
        team.set_role(BO, "CEO")


def test_managers_cycle_over_the_person_logged_in_and_managers(store):
    team.set_coached(ANA, True)
    team.set_role(BO, "Manager")
    bo = m.TeamMember.get(m.TeamMember.sf_user_id == BO)
    names = [t.name for t in team.manager_choices()]
    assert names[0] == "Morgan Reyes" and "Bo Chen" in names
    team.cycle_manager(ANA)
    assert m.TeamMember.get(m.TeamMember.sf_user_id == ANA).manager_id == bo.id
    team.cycle_manager(ANA)
    assert _rows()[ANA].manager_name == "Morgan Reyes"
    with pytest.raises(team.TeamError, match="own manager"):
        team.set_manager(BO, bo.id)


def test_import_from_crm_adds_new_owners_once(store):
    team.set_coached(ANA, True)
    assert [r.key for r in team.new_owners()] == [BO, CY]
    assert team.import_from_crm() == 2
    assert team.import_from_crm() == 0
    cy = m.TeamMember.get(m.TeamMember.sf_user_id == CY)
    assert not cy.coached  # inactive users are imported unselected
    assert m.TeamMember.get(m.TeamMember.sf_user_id == BO).coached
    m.Opportunity.create(id="0068W0000000ZZQAA", name="New", owner_id=DEE, is_closed=False)
    assert [r.name for r in team.new_owners()] == ["Dee Idle"]
    assert team.import_from_crm() == 1


def test_add_member_by_hand_validates(store):
    me = team.default_manager()
    member = team.add_member("  Pat New ", "pat@example.com", "SDR", me.id)
    row = _rows()[f"member:{member.id}"]
    assert (row.name, row.role, row.manager_name, row.deals, row.by_hand) == \
        ("Pat New", "SDR", "Morgan Reyes", 0, True)
    team.set_role(row.key, "SE")
    assert m.TeamMember.get_by_id(member.id).role == "SE"
    for args, message in ((("",), "name is required"), (("X", "nope"), "not an email"),
                          (("X", "", "CEO"), "role must be"),
                          (("X", "", "AE", 9999), "no team member"),
                          (("X", "PAT@example.com"), "already exists")):
        with pytest.raises(team.TeamError, match=message):
            team.add_member(*args)


def test_no_connection_means_no_default_manager(store):
    m.Connection.update(disconnected_at="2026-01-01").execute()
    assert team.default_manager() is None
    member = team.set_coached(ANA, True)
    assert member.manager_id is None
    with pytest.raises(team.TeamError, match="no manager"):
        team.cycle_manager(ANA)
