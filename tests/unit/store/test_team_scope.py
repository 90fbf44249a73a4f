"""``my_member``: the manager's own TeamMember row, added once even when two processes of one
manager start together — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from smvue_tui.store import models as m
from smvue_tui.store.identity import set_manager
from smvue_tui.store.team_scope import my_member

ANN = "0058W0000000001QAA"


@pytest.fixture
def manager():
    set_manager("ann@acme.example")
    yield
    set_manager("")


@pytest.mark.parametrize("known", [True, False], ids=["salesforce-user", "by-email"])
def test_two_processes_starting_together_add_the_manager_once(backend_db, manager,
                                                               monkeypatch, known):
    """The race, made certain: A looks and finds no member; B looks and finds none either;
    only then does A add one. B must end up with A's row — not a second row (whose team every
    later read would ignore), nor a unique-key error. Each thread has its own connection, as
    two processes would."""
    if known:
        m.SfUser.create(id=ANN, name="Ann Lee", email="ann@acme.example", is_active=True)
    db = backend_db
    original = db.execute_sql
    b_looked = threading.Event()

    def execute_sql(sql, params=None, *args, **kwargs):
        who = threading.current_thread().name
        if who == "A" and sql.startswith('INSERT INTO "team_member"'):
            assert b_looked.wait(60), "B never looked"  # a hang guard, not a timing
        result = original(sql, params, *args, **kwargs)
        if who == "B" and sql.startswith("SELECT") and 'FROM "team_member"' in sql:
            b_looked.set()
        return result

    monkeypatch.setattr(db, "execute_sql", execute_sql)
    found: dict[str, object] = {}

    def start(name: str) -> None:
        try:
            found[name] = my_member().id
        except Exception as exc:  # the assertion below shows it
            found[name] = exc
        finally:
            db.close()  # this thread's connection

    threads = [threading.Thread(target=start, args=(n,), name=n) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    monkeypatch.setattr(db, "execute_sql", original)
    assert found["A"] == found["B"], found
    assert m.TeamMember.select().count() == 1
    assert my_member().id == found["A"]


def test_the_team_filter_and_a_toggle_look_the_manager_up_once(backend_db, manager,
                                                                 monkeypatch):
    """Showing "my team" and choosing a rep each find this manager once (every look-up is a
    query; the Team screen toggles and the pipeline filters on every keypress)."""
    from smvue_tui.store import pipeline, team, team_scope

    m.SfUser.create(id=ANN, name="Ann Lee", email="ann@acme.example", is_active=True)
    rep = "0058W0000000002QAA"
    m.SfUser.create(id=rep, name="Bo Rep", email="bo@acme.example", is_active=True)
    my_member()
    calls = []
    original = team_scope._lookup
    monkeypatch.setattr(team_scope, "_lookup", lambda key: calls.append(key) or original(key))

    chosen = team.toggle_coached(rep)  # a new member: joins Ann's team
    assert chosen.manager_id == my_member().id and len(calls) == 2  # the toggle's + this one
    calls.clear()
    flt = pipeline.DealFilter(team_only=True)
    assert m.Opportunity.select().where(pipeline.where(flt)).count() == 0
    assert len(calls) == 1
    calls.clear()
    assert team.toggle_coached(rep).manager_id is None and len(calls) == 1


BO = "0058W0000000002QAA"


def _team_of_ann_by_hand():
    """Ann starts before the store knows her as a Salesforce user: she is added by her email,
    chooses Bo as her rep, and writes a note."""
    from smvue_tui.store import team

    m.SfUser.create(id=BO, name="Bo Rep", email="bo@acme.example", is_active=True)
    hand = my_member()
    assert hand.sf_user_id is None
    team.set_coached(BO, True)
    m.Note.create(opportunity_id="0068W0000000001QAA", body="call the CFO")
    return hand


def test_the_manager_added_by_email_becomes_their_salesforce_user_keeping_their_team(
        backend_db, manager):
    """A sync then brings Ann's Salesforce user (her email in another case): she is the same
    member, now linked to it — not a second row under which her team would be lost."""
    from smvue_tui.store import team_scope

    hand = _team_of_ann_by_hand()
    m.SfUser.create(id=ANN, name="Ann Lee", email="Ann@Acme.Example", is_active=True)
    me = my_member()
    assert me.id == hand.id and me.sf_user_id == ANN and me.name == "Ann Lee"
    assert m.TeamMember.select().count() == 2  # Ann and Bo
    assert sorted(u.sf_user_id for u in team_scope.team_owners()) == sorted([ANN, BO])
    assert [(n.body, n.author) for n in m.Note.select()] == [("call the CFO",
                                                              "ann@acme.example")]


def test_a_second_row_left_for_the_manager_is_merged_losing_nothing(backend_db, manager):
    """An older version added the second row (or Ann was a member as a deal owner already):
    the row added by email is merged into the Salesforce user's — her reports, her role, the
    coached flag kept — and is gone."""
    hand = _team_of_ann_by_hand()
    m.TeamMember.update(coached=True).where(m.TeamMember.id == hand.id).execute()
    m.SfUser.create(id=ANN, name="Ann Lee", email="ann@acme.example", is_active=True)
    linked = m.TeamMember.create(sf_user_id=ANN, name="Ann Lee", email=None, role="AE",
                                 coached=False)
    me = my_member()
    assert me.id == linked.id
    assert (me.role, me.coached, me.email) == ("Manager", True, "ann@acme.example")
    assert m.TeamMember.get_or_none(m.TeamMember.id == hand.id) is None
    assert m.TeamMember.get(m.TeamMember.sf_user_id == BO).manager_id == me.id
    assert m.TeamMember.select().count() == 2
    assert my_member().id == me.id
