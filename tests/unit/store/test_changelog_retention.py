"""The change log's retention (store/changelog_retention.py): rows older than it keep only the
steps the deal facts derive from, the rest go; the inspection of a window inside it, and every
deal fact, come out the same — also after the facts are rebuilt from what is left, as a full
sync's catch-up does — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from smvue_tui.inspection.report import inspect
from smvue_tui.store import changelog_retention as retention
from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.store.writer import write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

OPP = SPECS_BY_NAME["Opportunity"]
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won"]
OWNERS = [f"0058W{i:010d}AAA" for i in range(3)]
DEALS = [f"0068W{i:010d}AAA" for i in range(14)]
STUCK = DEALS[0]  # in one stage since long before the retention, its pushes long ago too
SETTINGS = {"inspection": {"min_stage_samples": 1, "pushed_times": 2, "stage_age_factor": 1.5,
                           "recent_days": 60}}
CUTOFF = retention.cutoff(NOW.date(), retention.DEFAULT_DAYS)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _version(deal: str, at: datetime, stage: str, amount: float, close: str, owner: str) -> dict:
    return {"Id": deal, "Name": deal, "StageName": stage, "Amount": amount, "CloseDate": close,
            "OwnerId": owner, "IsClosed": stage.startswith("Closed"),
            "IsWon": stage == "Closed Won", "SystemModstamp": _stamp(at),
            "LastModifiedDate": _stamp(at), "CreatedDate": "2024-09-01T00:00:00.000+0000"}


def _fill(db) -> None:
    """Two years of deal versions through the sync's write path (which logs the changes)."""
    rnd = random.Random(11)
    m.OpportunityStage.insert_many([
        {"id": f"01J8W{i:010d}AAA", "api_name": s, "master_label": s, "sort_order": i,
         "is_closed": s.startswith("Closed"), "is_won": s == "Closed Won"}
        for i, s in enumerate(STAGES)]).execute()
    m.SyncRun.create(kind="initial", status="ok", started_at="2024-09-01T00:00:00+00:00")
    start = NOW - timedelta(days=720)
    state = {d: ["Prospecting", 1000.0, date(2025, 3, 1), OWNERS[0]] for d in DEALS}
    for day in range(0, 720, 9):
        at = start + timedelta(days=day, hours=rnd.randint(0, 20))
        page = []
        for deal in rnd.sample(DEALS, 6) if day else DEALS:
            s = state[deal]
            if deal == STUCK:
                if day > 160:  # then only its amount and owner move: the stage stays
                    s[1] += 100.0 if day % 2 else 0.0
                    s[3] = OWNERS[day % 3]
                else:
                    s[0] = STAGES[min(3, day // 40)]
                    s[2] += timedelta(days=20)  # pushed, over and over, long ago
            else:
                pick = rnd.random()
                if pick < 0.35:
                    s[0] = rnd.choice(STAGES[:4])
                elif pick < 0.55:
                    s[2] = s[2] + timedelta(days=rnd.choice((-10, 15, 30)))
                elif pick < 0.8:
                    s[1] = float(rnd.randrange(5, 60) * 100)
                else:
                    s[3] = rnd.choice(OWNERS)
            page.append(_version(deal, at, s[0], s[1], s[2].isoformat(), s[3]))
        write_page(db, OPP, page)


def _report() -> str:
    return json.dumps(inspect(SETTINGS, since="90d", now=NOW), sort_keys=True, default=str)


def _facts() -> tuple[list, list]:
    facts = sorted((f.deal_id, f.l_stage, f.l_since, f.l_pushes, f.l_push_dates)
                   for f in m.DealFact.select())
    stints = sorted((s.deal_id, s.stage, s.days) for s in m.StageStint.select())
    return facts, stints


def _log() -> list[tuple]:
    return sorted(m.DealChange.select(m.DealChange.id, m.DealChange.changed_at,
                                      m.DealChange.changes).tuples())


@pytest.fixture
def filled(backend_db):
    _fill(backend_db)
    return backend_db


def test_old_rows_shrink_or_go_and_the_inspection_stays_byte_identical(filled):
    before, facts, log = _report(), _facts(), _log()
    assert any(at < CUTOFF for _, at, _ in log) and any(at >= CUTOFF for _, at, _ in log)
    assert json.loads(before)["flags"]["counts"]["pushed"]  # the rules have something to say

    handled, deleted = retention.prune_all(CUTOFF, limit=7)  # many small batches
    after = _log()
    assert handled and deleted and len(after) == len(log) - deleted
    kept_old = [(i, json.loads(c)) for i, at, c in after if at < CUTOFF]
    assert kept_old and all(set(c) <= set(retention.KEEP) for _, c in kept_old)
    assert [r for r in after if r[1] >= CUTOFF] == [r for r in log if r[1] >= CUTOFF]
    assert _facts() == facts
    assert _report() == before

    with filled.atomic():  # a full sync's catch-up: every deal's facts from what is left
        deal_facts.rebuild_source("log")
    assert _facts() == facts
    assert _report() == before

    assert retention.prune_all(CUTOFF) == (0, 0)  # idempotent: nothing left to do
    assert _log() == after


def test_a_plain_delete_of_old_rows_would_change_the_inspection(filled):
    """Why old stage and close-date steps are kept: the deal stuck in its stage since long
    before the cutoff loses its stage-age and pushed flags without them."""
    before = _report()
    m.DealChange.delete().where(m.DealChange.changed_at < CUTOFF).execute()
    with filled.atomic():
        deal_facts.rebuild_source("log")
    assert _report() != before


def test_a_crash_between_batches_loses_nothing_and_the_next_run_goes_on(filled, monkeypatch):
    log, facts, before = _log(), _facts(), _report()
    real, calls = deal_facts.refresh_log, []

    def failing(deals):
        calls.append(len(deals))
        if len(calls) == 3:
            raise OSError("disk went away")
        real(deals)

    monkeypatch.setattr(deal_facts, "refresh_log", failing)
    with pytest.raises(OSError):
        retention.prune_all(CUTOFF, limit=5)
    partial = _log()
    assert len(partial) < len(log)  # two batches were committed …
    monkeypatch.setattr(deal_facts, "refresh_log", real)
    assert _facts() == facts  # … each with its facts; the third rolled back whole
    retention.prune_all(CUTOFF, limit=5)
    assert _report() == before and _facts() == facts
    assert all(set(json.loads(c)) <= set(retention.KEEP) for _, at, c in _log() if at < CUTOFF)


@pytest.mark.parametrize(("config", "days"), [
    ({}, 400), ({"store": {"change_log_days": 730}}, 730)])
def test_the_retention_comes_from_config(config, days):
    assert retention.retention_days(config) == days


@pytest.mark.parametrize("bad", [30, "400", True, 365.5])
def test_a_retention_the_inspection_cannot_live_with_is_refused_in_words(bad):
    config = {"store": {"change_log_days": bad}}
    with pytest.raises(ValueError, match="change_log_days must be a whole number of days"):
        retention.retention_days(config)
    assert retention.retention_or_default(config) == retention.DEFAULT_DAYS  # a sync goes on


def test_each_run_reads_on_from_the_cutoff_the_last_one_reached(filled):
    retention.prune_all(CUTOFF)
    assert m.SyncCursor.get_by_id(retention.MARK).watermark == CUTOFF
    handled_next_day = retention.prune_all(retention.cutoff(NOW.date() + timedelta(days=9),
                                                            retention.DEFAULT_DAYS))[0]
    assert 0 < handled_next_day < 40  # only the rows that crossed the cutoff in those days
    # A longer retention later never un-compacts anything, nor moves the mark back.
    retention.prune_all(retention.cutoff(NOW.date(), 800))
    assert m.SyncCursor.get_by_id(retention.MARK).watermark > CUTOFF
