"""A small hand-built store for the pipeline and deal tests: two pipelines, three reps, a few
stages with known probabilities, deals in two currencies, an account hierarchy and the rows
around one deal. Every figure the tests assert can be worked out by hand from this file."""

from __future__ import annotations

import pytest

from smvue_tui.store import models as m
from smvue_tui.store.db import open_store

ANA, BO, CY, EX = "0058W0000000001QAA", "0058W0000000002QAA", "0058W0000000003QAA", \
    "0058W0000000004QAA"
NEW, RENEW = "0128W0000000001QAA", "0128W0000000002QAA"
ROOT, PARENT, ACME, CHILD = (f"0018W000000000{c}QAA" for c in "1234")

STAGES = [  # name, sort order, default probability, closed, won
    ("Prospecting", 1, 10.0, False, False), ("Proposal", 2, 50.0, False, False),
    ("Negotiation", 3, 80.0, False, False), ("Closed Won", 4, 100.0, True, True),
    ("Closed Lost", 5, 0.0, True, False)]

# id suffix, name, record type, stage, amount, currency, close date, owner, deal probability
DEALS = [
    ("01", "Acme expansion", NEW, "Prospecting", 1000.0, "USD", "2026-11-10", ANA, 10.0),
    ("02", "Acme platform", NEW, "Proposal", 2000.0, "USD", "2026-12-20", ANA, 50.0),
    ("03", "Beta rollout", NEW, "Proposal", 4000.0, "EUR", "2027-01-15", BO, 50.0),
    ("04", "Gamma pilot", NEW, "Negotiation", 500.0, "USD", "2027-02-01", CY, 80.0),
    ("05", "Delta legacy", NEW, "Legacy Stage", 300.0, "USD", "2026-10-05", BO, 40.0),
    ("06", "Won deal", NEW, "Closed Won", 700.0, "USD", "2026-10-01", ANA, 100.0),
    ("07", "Lost deal", NEW, "Closed Lost", 900.0, "USD", "2026-09-01", BO, 0.0),
    ("08", "Renewal one", RENEW, "Proposal", 100.0, "USD", "2026-11-30", ANA, 50.0),
]


def deal_id(suffix: str) -> str:
    return f"0068W00000000{suffix}QAA"


@pytest.fixture
def store(tmp_path):
    db = open_store(tmp_path / "pipeline.sqlite3")
    seed(db)
    yield db
    db.close()


@pytest.fixture
def store_on_both(tmp_path, store_backend):
    """The same fixture org on SQLite and on PostgreSQL (each test using it runs on both)."""
    db = store_backend.open(tmp_path / "pipeline.sqlite3")
    seed(db)
    yield db
    db.close()


def seed(db) -> None:
    """The fixture org: users, pipelines, stages, an account hierarchy and DEALS."""
    m.Organization.create(id="00D8W0000000001QAA", name="Test", fiscal_year_start_month=1)
    for uid, name in ((ANA, "Ana Lee"), (BO, "Bo Chen"), (CY, "Cy Park"), (EX, "Ex Pert")):
        m.SfUser.create(id=uid, name=name, is_active=True)
    m.RecordType.create(id=NEW, name="New Business", sobject_type="Opportunity", is_active=True)
    m.RecordType.create(id=RENEW, name="Renewal", sobject_type="Opportunity", is_active=True)
    for n, (name, order, prob, closed, won) in enumerate(STAGES, start=1):
        m.OpportunityStage.create(id=f"01J8W00000000{n:02d}UAA", master_label=name,
                                  api_name=name, sort_order=order, default_probability=prob,
                                  is_closed=closed, is_won=won, is_active=True)
    m.Account.create(id=ROOT, name="Acme Holdings")
    m.Account.create(id=PARENT, name="Acme Europe", parent_id=ROOT)
    m.Account.create(id=ACME, name="Acme GmbH", parent_id=PARENT)
    m.Account.create(id=CHILD, name="Acme Berlin", parent_id=ACME)
    for suffix, name, rt, stage, amount, cur, close, owner, prob in DEALS:
        closed = stage.startswith("Closed")
        m.Opportunity.create(
            id=deal_id(suffix), name=name, record_type_id=rt, stage_name=stage, amount=amount,
            currency_iso_code=cur, close_date=close, owner_id=owner, probability=prob,
            is_closed=closed, is_won=stage == "Closed Won",
            account_id=ACME if name.startswith("Acme") else None)


def map_team(*user_ids: str, coached: bool = True) -> None:
    for uid in user_ids:
        user = m.SfUser.get_by_id(uid)
        m.TeamMember.create(sf_user_id=uid, name=user.name, coached=coached)
