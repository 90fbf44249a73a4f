"""SMVue's own data in a team store (PostgreSQL), shared by two managers: each sees their own
reps, notes and action items are everyone's with their author, stage-probability overrides are
per team — and a one-manager store reads as it always did."""

from __future__ import annotations

import pytest

from smvue_tui.store import deals as dl
from smvue_tui.store import models as m
from smvue_tui.store import pipeline as pl
from smvue_tui.store import team
from smvue_tui.store.backend import schema_for
from smvue_tui.store.db import open_postgres
from smvue_tui.store.identity import set_manager

ORG = "00D000000000001AAA"
ANN, BOB = "ann@acme.example", "bob@acme.example"
USERS = {  # id: (name, username)
    "005000000000001AAA": ("Ann Manager", ANN), "005000000000002AAA": ("Bob Manager", BOB),
    "005000000000003AAA": ("Rita Rep", "rita@acme.example"),
    "005000000000004AAA": ("Sam Rep", "sam@acme.example"),
}
RITA, SAM = "005000000000003AAA", "005000000000004AAA"


@pytest.fixture
def shared(pg_url):
    db = open_postgres(pg_url, schema_for(ORG))
    for user_id, (name, username) in USERS.items():
        m.SfUser.create(id=user_id, name=name, username=username, email=username,
                        is_active=True)
    m.OpportunityStage.create(id="01J000000000001AAA", master_label="Prospecting",
                              default_probability=10.0, is_closed=False, is_won=False)
    for n, owner in enumerate([RITA, RITA, SAM], start=1):
        m.Opportunity.create(id=f"006{n:015d}", name=f"Deal {n}", owner_id=owner,
                             stage_name="Prospecting", amount=1000.0 * n, is_closed=False)
    yield db
    set_manager("")
    db.close()


def _as(manager: str) -> None:
    set_manager(manager)


def _deals_shown() -> set[str]:
    return {o.id for o in m.Opportunity.select().where(pl.where(pl.DealFilter()))}


def test_each_manager_sees_their_own_reps(shared):
    _as(ANN)
    team.set_coached(RITA, True)
    _as(BOB)
    team.set_coached(SAM, True)
    assert _deals_shown() == {"006000000000000003"}
    assert {r.key for r in team.team_rows() if r.coached} == {SAM}
    _as(ANN)
    assert _deals_shown() == {"006000000000000001", "006000000000000002"}
    assert {r.key for r in team.team_rows() if r.coached} == {RITA}
    team.set_coached(RITA, False)  # leaves Ann's team; Bob's is untouched
    _as(BOB)
    assert _deals_shown() == {"006000000000000003"}


def test_notes_and_action_items_are_the_teams_with_their_author(shared):
    _as(ANN)
    dl.add_note("006000000000000001", "Champion left; find another")
    dl.add_action_item("006000000000000001", "Book a call with procurement")
    _as(BOB)
    notes = dl.notes("006000000000000001")
    items = dl.action_items("006000000000000001")
    assert [(n.body, n.author) for n in notes] == [("Champion left; find another", ANN)]
    assert [(a.text, a.author) for a in items] == [("Book a call with procurement", ANN)]


def test_stage_overrides_are_per_team(shared):
    _as(ANN)
    pl.set_stage_override("Prospecting", 35)
    assert pl.stage_probabilities()["Prospecting"].probability == 35
    _as(BOB)
    assert pl.stage_probabilities()["Prospecting"].probability == 10.0  # Salesforce's
    pl.set_stage_override("Prospecting", 50)
    _as(ANN)
    assert pl.stage_probabilities()["Prospecting"].probability == 35
    pl.set_stage_override("Prospecting", None)
    _as(BOB)
    assert pl.stage_probabilities()["Prospecting"].probability == 50
