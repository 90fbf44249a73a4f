"""The stage-age rule ("in its stage longer than N× the org's median days there") on constructed
deals in a demo org over loopback: two deals made through its admin API at the same moment, one
in a stage whose median stint is short and one in a stage whose median is long. Judged D days
later (the report's ``now``), the first has outstayed N× its stage's median and the second has
not. The medians are computed here in plain SQL (window functions over the mirrored
OpportunityHistory), independently of the inspection code, which cuts stints in Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median

from smvue_tui.config import app_paths
from smvue_tui.inspection.report import inspect
from smvue_tui.store.db import open_store
from smvue_tui.store.org_stores import paths_for_login
from tests.integration.test_inspect import _create, _sql, _sync
from tests.integration.test_sync_cli import _log_in

# Each stint: a deal's run of OpportunityHistory rows in one stage; finished when a row with
# another stage follows; its days = that row's time − the stint's first row's time.
STINTS = """
WITH rows AS (
  SELECT "_ParentId" AS deal, "StageName" AS stage, julianday(substr("CreatedDate", 1, 19)) AS t,
         LAG("StageName") OVER w AS prev
  FROM stage_history WHERE "_sobject" = 'OpportunityHistory'
  WINDOW w AS (PARTITION BY "_ParentId" ORDER BY "CreatedDate", "Id")),
starts AS (
  SELECT deal, stage, t, LEAD(t) OVER (PARTITION BY deal ORDER BY t) AS next_t
  FROM rows WHERE prev IS NULL OR prev != stage)
SELECT stage, next_t - t FROM starts WHERE next_t IS NOT NULL
"""


def _medians(minimum: int) -> dict[str, float]:
    by_stage: dict[str, list[float]] = {}
    for stage, days in _sql(STINTS):
        by_stage.setdefault(stage, []).append(days)
    return {s: median(d) for s, d in by_stage.items() if len(d) >= minimum}


def _report(now: datetime, **inspection) -> dict:
    db = open_store(paths_for_login(app_paths()).database)
    try:
        return inspect({"inspection": inspection} if inspection else {}, now=now)
    finally:
        db.close()


def _stage_age(report: dict) -> dict[str, str]:
    return {d["id"]: f["reason"] for d in report["flags"]["deals"] for f in d["flags"]
            if f["rule"] == "stage_age"}


def test_stage_age_fires_on_a_deal_past_its_stages_median_and_not_on_its_control(
        make_org, capsys):
    org = make_org()
    _log_in(org)
    _sync(capsys)
    open_stages = {s for (s,) in _sql('SELECT "MasterLabel" FROM opportunity_stage '
                                      'WHERE "IsClosed" = 0')}
    medians = {s: d for s, d in _medians(5).items() if s in open_stages and d > 0}
    fast = min(medians, key=medians.get)
    slow = max(medians, key=medians.get)
    assert medians[slow] > 1.5 * medians[fast], medians  # the generated org's stages differ
    factor = 2.0
    # Past 2× fast's median, short of 2× slow's; a quarter past a whole day, so the reason's
    # rounded day count is the same whichever second the deals were stamped in.
    days = int(factor * (medians[fast] + medians[slow]) / 2) + 0.25
    assert factor * medians[fast] < days < factor * medians[slow]

    account = _sql('SELECT "Id" FROM account LIMIT 1')[0][0]
    created = datetime.now(UTC)
    base = {"AccountId": account, "Amount": 50_000.0,
            "CloseDate": (created.date() + timedelta(days=400)).isoformat()}
    late = _create(org, Name="Inspect stage age", StageName=fast, **base)
    control = _create(org, Name="Inspect stage age control", StageName=slow, **base)
    _sync(capsys)
    assert {d for (d,) in _sql('SELECT "_ParentId" FROM stage_history WHERE "_ParentId" IN '
                               '(?, ?)', late, control)} == {late, control}

    judged = created + timedelta(days=days)
    flagged = _stage_age(_report(judged))
    assert late in flagged and control not in flagged, (fast, slow, days, medians)
    assert flagged[late] == (f"in {fast} for {days:.0f} days; the org's median there is "
                             f"{medians[fast]:.0f} days (limit {factor:g}×)")
    # Both deals the same age: only the stage's median told them apart. Judged the same day,
    # with the factor raised past what the late deal has outstayed, neither is flagged.
    raised = days / medians[fast] + 0.5
    assert not {late, control} & set(_stage_age(_report(judged, stage_age_factor=raised)))
    # And today (a few seconds in their stages) neither is.
    assert not {late, control} & set(_stage_age(_report(datetime.now(UTC))))

