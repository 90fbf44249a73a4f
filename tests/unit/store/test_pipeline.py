"""Pipeline math on a hand-built store: grouping, risk-adjusted amounts (override and default),
currency split, the team filter, the other filters, pipelines and fiscal periods."""

from __future__ import annotations

from datetime import date

import pytest

from smvue_tui.store import models as m
from smvue_tui.store import pipeline as pl
from tests.unit.store.pipeline_fixtures import ANA, BO, CY, EX, NEW, RENEW, map_team

NEW_OPEN = pl.DealFilter(pipeline=NEW)


def _stage(summary: pl.Summary, stage: str, currency: str = "USD") -> pl.Group:
    return next(g for g in summary.by_stage if g.key == stage and g.currency == currency)


def test_groups_by_stage_in_stage_order_with_counts_amounts_and_default_probability(store):
    s = pl.summarize(NEW_OPEN)
    assert [(g.key, g.currency) for g in s.by_stage] == [
        ("Prospecting", "USD"), ("Proposal", "EUR"), ("Proposal", "USD"),
        ("Negotiation", "USD"), ("Legacy Stage", "USD")]  # unknown stages last
    prop = _stage(s, "Proposal")
    assert (prop.count, prop.amount, prop.probability, prop.probability_source) == \
        (1, 2000.0, 50.0, "salesforce")
    assert prop.risk_adjusted == pytest.approx(1000.0)
    assert _stage(s, "Negotiation").risk_adjusted == pytest.approx(400.0)


def test_stage_salesforce_no_longer_lists_uses_each_deals_probability(store):
    legacy = _stage(pl.summarize(NEW_OPEN), "Legacy Stage")
    assert legacy.probability is None and legacy.probability_source == "deal"
    assert legacy.risk_adjusted == pytest.approx(300.0 * 0.40)


def test_override_changes_risk_adjusted_and_clearing_restores_salesforce(store):
    pl.set_stage_override("Proposal", 20)
    prop = _stage(pl.summarize(NEW_OPEN), "Proposal")
    assert (prop.probability, prop.probability_source) == (20.0, "override")
    assert prop.risk_adjusted == pytest.approx(400.0)
    assert pl.stage_probabilities()["Proposal"].salesforce == 50.0
    pl.set_stage_override("Proposal", None)
    assert _stage(pl.summarize(NEW_OPEN), "Proposal").risk_adjusted == pytest.approx(1000.0)
    assert m.OpportunityStage.get(m.OpportunityStage.master_label == "Proposal") \
        .default_probability == 50.0  # the mirrored Salesforce value is never edited


def test_override_must_be_a_percentage(store):
    with pytest.raises(ValueError, match="0 to 100"):
        pl.set_stage_override("Proposal", 120)
    assert not m.StageOverride.select().exists()


def test_totals_are_per_currency_never_summed_across(store):
    s = pl.summarize(NEW_OPEN)
    assert s.multi_currency and s.currencies == ["EUR", "USD"]
    totals = {t.currency: t for t in s.totals}
    assert (totals["EUR"].count, totals["EUR"].amount) == (1, 4000.0)
    assert (totals["USD"].count, totals["USD"].amount) == (4, 3800.0)
    assert totals["USD"].risk_adjusted == pytest.approx(100 + 1000 + 400 + 120)
    assert totals["EUR"].risk_adjusted == pytest.approx(2000.0)


def test_single_currency_has_one_total(store):
    s = pl.summarize(pl.DealFilter(pipeline=RENEW))
    assert not s.multi_currency and [(t.currency, t.amount) for t in s.totals] == [("USD", 100.0)]


def test_grouping_by_rep_is_per_currency_and_named(store):
    reps = {(g.label, g.currency): g for g in pl.summarize(NEW_OPEN).by_rep}
    assert set(reps) == {("Ana Lee", "USD"), ("Bo Chen", "EUR"), ("Bo Chen", "USD"),
                         ("Cy Park", "USD")}
    assert reps[("Ana Lee", "USD")].amount == 3000.0
    assert reps[("Ana Lee", "USD")].risk_adjusted == pytest.approx(100 + 1000)


def test_no_team_mapped_shows_everyone_then_team_filter_keeps_coached_reps(store):
    assert not pl.team_is_mapped()
    assert pl.summarize(NEW_OPEN).totals[1].count == 4
    map_team(ANA, CY)
    map_team(BO, coached=False)  # a member the manager does not coach
    m.TeamMember.create(name="Hand Added", coached=True)  # no Salesforce user: owns nothing
    assert pl.team_is_mapped() and set(pl.team_user_ids()) == {ANA, CY}
    s = pl.summarize(NEW_OPEN)
    assert s.currencies == ["USD"] and s.totals[0].count == 3
    assert {g.label for g in s.by_rep} == {"Ana Lee", "Cy Park"}
    everyone = pl.summarize(pl.DealFilter(pipeline=NEW, team_only=False))
    assert sum(t.count for t in everyone.totals) == 5


def test_status_rep_close_and_search_filters(store):
    def count(**kw) -> int:
        return sum(t.count for t in pl.summarize(pl.DealFilter(pipeline=NEW, **kw)).totals)

    assert (count(status="won"), count(status="lost"), count(status="all")) == (1, 1, 7)
    assert count(rep=BO) == 2
    assert count(close_from=date(2026, 11, 1), close_to=date(2026, 12, 31)) == 2
    assert count(search="acme") == 2  # deal names
    assert count(search="gmbh") == 2  # account name
    assert count(search="zzz") == 0
    assert count(search="%") == 0 and count(search="_") == 0  # no wildcards


def test_pipelines_per_record_type_with_remembered_default(store):
    assert [(p.key, p.name, p.is_default) for p in pl.pipelines()] == [
        (NEW, "New Business", False), (RENEW, "Renewal", False)]
    assert pl.default_pipeline(pl.pipelines()).key == NEW
    pl.set_default_pipeline(RENEW)
    pl.set_default_pipeline(RENEW)  # idempotent
    assert pl.default_pipeline(pl.pipelines()).key == RENEW
    pl.set_default_pipeline(NEW)
    assert [p.key for p in pl.pipelines() if p.is_default] == [NEW]


def test_each_manager_of_a_team_store_has_their_own_default_pipeline(store):
    """One manager's choice of the pipeline shown first is theirs: it changes no other
    manager's, nor the one-manager store's."""
    from smvue_tui.store.identity import set_manager

    try:
        set_manager("ann@acme.example")
        pl.set_default_pipeline(RENEW)
        set_manager("bob@acme.example")
        assert pl.default_pipeline(pl.pipelines()).key == NEW  # none chosen: the first
        pl.set_default_pipeline(NEW)
        assert [p.key for p in pl.pipelines() if p.is_default] == [NEW]
        set_manager("ann@acme.example")
        assert [p.key for p in pl.pipelines() if p.is_default] == [RENEW]
    finally:
        set_manager("")
    assert [p.key for p in pl.pipelines() if p.is_default] == []


def test_deals_without_record_type_get_their_own_tab(store):
    m.Opportunity.create(id="0068W0000000099QAA", name="Untyped", stage_name="Proposal",
                         amount=5.0, is_closed=False, owner_id=EX)
    found = pl.pipelines()
    assert found[-1].key == pl.NO_RECORD_TYPE
    assert pl.summarize(pl.DealFilter(pipeline=pl.NO_RECORD_TYPE)).totals[0].count == 1


def test_org_without_record_types_has_one_all_deals_pipeline(store):
    m.RecordType.delete().execute()
    assert pl.pipelines() == [pl.Pipeline(pl.ALL_DEALS, "All deals", True)]
    assert sum(t.count for t in pl.summarize(pl.DealFilter()).totals) == 6  # every open deal


def test_reps_lists_owners_in_the_filter_by_name(store):
    assert pl.reps(pl.DealFilter(pipeline=NEW, rep=ANA)) == [
        (ANA, "Ana Lee"), (BO, "Bo Chen"), (CY, "Cy Park")]


@pytest.mark.parametrize(("period", "start_month", "today", "expected"), [
    ("this_quarter", 1, date(2026, 11, 26), (date(2026, 10, 1), date(2026, 12, 31))),
    ("next_quarter", 1, date(2026, 11, 26), (date(2027, 1, 1), date(2027, 3, 31))),
    ("this_year", 1, date(2026, 11, 26), (date(2026, 1, 1), date(2026, 12, 31))),
    ("this_quarter", 4, date(2026, 2, 10), (date(2026, 1, 1), date(2026, 3, 31))),
    ("next_quarter", 4, date(2026, 2, 10), (date(2026, 4, 1), date(2026, 6, 30))),
    ("this_year", 4, date(2026, 2, 10), (date(2025, 4, 1), date(2026, 3, 31))),
    ("this_quarter", 2, date(2026, 12, 31), (date(2026, 11, 1), date(2027, 1, 31))),
    ("any", 1, date(2026, 1, 1), (None, None)),
])
def test_fiscal_periods(period, start_month, today, expected):
    assert pl.period_range(period, today, start_month) == expected


def test_unknown_period_and_status_are_refused():
    with pytest.raises(ValueError, match="period must be one of"):
        pl.period_range("someday", date(2026, 1, 1))
    with pytest.raises(ValueError, match="status must be one of"):
        pl.DealFilter(status="maybe")
