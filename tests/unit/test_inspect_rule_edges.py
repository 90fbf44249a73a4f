"""The risk rules at their edges: the stage-age rule's per-stage cutoff flags exactly the deals
the plain check ``age > factor × median`` flags, a threshold TOML allows but no rule can use
(nan) is said in words, and the recent rules read the steps after the window's start in
order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.inspection.flags import flags
from smvue_tui.inspection.history import Past, sources, stage_info
from smvue_tui.inspection.settings import InspectionSettings
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.deal_facts import LOG


@pytest.fixture
def store():
    db = open_store(app_paths().database)
    yield db
    db.close()


def _stints(stage: str, days: list[float]) -> None:
    """Finished stints in ``stage`` (the change log's): its median is the middle of ``days``."""
    m.StageStint.insert_many([{"deal_id": f"006X{n:014d}", "source": LOG, "stage": stage,
                               "days": d} for n, d in enumerate(days)]).execute()


def _open_deal(deal_id: str, stage: str, since: str) -> None:
    """An open deal in ``stage`` since ``since`` (a stamp as the store keeps it), no other rule
    firing: activity today, a close date ahead, two contacts, one primary."""
    m.Opportunity.create(id=deal_id, name=deal_id, stage_name=stage, amount=1000.0,
                         close_date="2099-01-01", is_closed=False, owner_id="005A",
                         created_date=since, last_activity_date="2099-01-01")
    m.DealFact.create(deal_id=deal_id, l_stage=stage, l_since=since, contacts=2,
                      has_primary=True, last_activity="2099-01-01")


def _stage_age(now: datetime, factor: float) -> set[str]:
    past = Past(sources(), stage_info(), open_only=True)
    settings = InspectionSettings(stage_age_factor=factor, min_stage_samples=1,
                                  amount_drop_percent=0, stage_moved_back=False)
    return {d for d, fl in flags(past, settings, now).items()
            if any(f["rule"] == "stage_age" for f in fl)}


@pytest.mark.parametrize("factor, median", [(2.0, 10.0), (1.5, 1 / 3), (3.7, 0.123456789),
                                            (1e-7, 2.0), (0.5, 7.25)])
@pytest.mark.parametrize("micro", [0, 1, 500_000, 999_999])
def test_stage_age_at_the_edge_second_is_the_plain_check(store, factor, median, micro):
    """Stints begun within three seconds either side of ``now - factor × median`` (in the
    store's stamp shapes, with and without a fraction and an offset): flagged exactly when
    their age in days is more than factor × median, as the rule says."""
    now = datetime(2026, 12, 5, 1, 2, 3, micro, tzinfo=UTC)
    _stints("Qualify", [median])
    naive = now.replace(tzinfo=None)
    edge = (naive - timedelta(days=factor * median)).replace(microsecond=0)
    expected, n = set(), 0
    for delta in range(-3, 4):
        start = edge + timedelta(seconds=delta)
        for stamp in (start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                      start.strftime("%Y-%m-%dT%H:%M:%S.999999+00:00"),
                      start.strftime("%Y-%m-%dT%H:%M:%SZ")):
            deal_id = f"006A{n:014d}"
            n += 1
            _open_deal(deal_id, "Qualify", stamp)
            age = (naive - datetime.fromisoformat(stamp[:19])).total_seconds() / 86400
            if age > factor * median:
                expected.add(deal_id)
    assert expected and len(expected) < n  # the edge is inside the range tried
    assert _stage_age(now, factor) == expected


@pytest.mark.parametrize("factor", [1e9, 1e300, float("inf")])
def test_stage_age_with_a_limit_beyond_any_stint_flags_none(store, factor):
    """A factor so large the limit is before the year 1 (or not a number of days at all):
    nothing is that long in its stage, and the report is still made."""
    _stints("Qualify", [30.0])
    _open_deal("006B00000000000001", "Qualify", "0001-01-02T00:00:00.000+0000")
    assert _stage_age(datetime(2026, 12, 5, tzinfo=UTC), factor) == set()


def test_a_stage_age_factor_of_nan_is_no_traceback(store, capsys):
    """config.toml's `stage_age_factor = nan` (TOML has nan; the settings take any float not
    below 0): before the speed-up the rule simply never fired (age > nan is false) and the
    report was made. Now the per-stage cutoff builds timedelta(days=nan) and ValueError ends
    `inspect` with a traceback. Either the old behaviour or an `error:` sentence is fine."""
    _stints("Qualify", [10.0])
    _open_deal("006C00000000000001", "Qualify", "2020-01-01T00:00:00.000+0000")
    store.close()
    path = app_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[inspection]\nstage_age_factor = nan\nmin_stage_samples = 1\n")
    code = main(["inspect", "--json"])  # raised ValueError here
    err = capsys.readouterr().err
    assert code == 0 or (code == 1 and err.startswith("error: ")
                         and "stage_age_factor" in err), err


def _steps_deal(deal_id: str, created: str, amount: float | None, stage: str,
                steps: list[list]) -> None:
    """An open deal with its change-log steps as the writer keeps them (``l_steps``) and one
    change-log row, so the report sees it touched within the window."""
    import orjson

    m.Opportunity.create(id=deal_id, name=deal_id, stage_name=stage, amount=amount,
                         close_date="2099-01-01", is_closed=False, owner_id="005A",
                         created_date=created)
    m.DealFact.create(deal_id=deal_id, l_steps=orjson.dumps(steps).decode(), contacts=2,
                      has_primary=True)
    m.DealChange.create(opportunity_id=deal_id, changed_at=steps[-1][0], seen_at=steps[-1][0],
                        changes="{}")


def test_the_recent_rules_read_the_steps_after_the_windows_start_in_order(store):
    """Amount dropped (against the amount at the window's start, or at creation for a deal
    younger than the window) and every stage moved back after the start, oldest first —
    steps at exactly the start, before it and at one same moment included."""
    from smvue_tui.inspection.periods import sf_stamp

    for n, (label, closed) in enumerate((("A", False), ("B", False), ("C", False),
                                          ("Won", True))):
        m.OpportunityStage.create(id=f"01J{n:015d}", master_label=label, api_name=label,
                                  sort_order=n, is_closed=closed, is_won=label == "Won")
    now = datetime(2026, 12, 5, 12, 0, 0, 250_000, tzinfo=UTC)
    start = sf_stamp(now - timedelta(days=30))

    def ago(days: float) -> str:
        return sf_stamp(now - timedelta(days=days))

    _steps_deal("006D00000000000001", ago(90), 100.0, "A", [
        [ago(40), "Amount", 100.0, 200.0],
        [start, "StageName", "C", "B"],  # at the start exactly: before the window
        [ago(10), "StageName", "C", "B"], [ago(10), "StageName", "B", "A"],  # one moment
        [ago(5), "Amount", 200.0, 150.0], [ago(2), "Amount", 150.0, 100.0]])
    _steps_deal("006D00000000000002", ago(5), 400.0, "B", [  # younger than the window
        [ago(4), "Amount", 1000.0, 700.0], [ago(3), "Amount", 700.0, 400.0],
        [ago(3), "StageName", "Won", "B"]])  # from a closed stage: not "moved back"
    _steps_deal("006D00000000000003", ago(90), 10.0, "A", [  # all before the window
        [ago(40), "Amount", 1000.0, 10.0], [ago(35), "StageName", "B", "A"]])
    _steps_deal("006D00000000000004", ago(90), None, "B", [  # amount cleared: 0 now
        [ago(40), "Amount", None, 80.0], [ago(1), "Amount", 80.0, None]])
    past = Past(sources(), stage_info(), open_only=True)
    settings = InspectionSettings(no_activity_days=0, close_date_past=False,
                                  stage_age_factor=0, pushed_times=0,
                                  no_primary_contact=False, single_threaded=False)
    found = {d: [(f["rule"], f["reason"]) for f in fl]
             for d, fl in flags(past, settings, now).items()}
    on = ago(10)[:10]
    assert found == {
        "006D00000000000001": [
            ("amount_dropped", "amount dropped 50% in the last 30 days: 200 → 100"),
            ("stage_moved_back", f"stage moved back: C → B on {on}"),
            ("stage_moved_back", f"stage moved back: B → A on {on}")],
        "006D00000000000002": [
            ("amount_dropped", "amount dropped 60% in the last 30 days: 1,000 → 400")],
        "006D00000000000004": [
            ("amount_dropped", "amount dropped 100% in the last 30 days: 80 → 0")]}
