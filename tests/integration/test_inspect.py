"""`smvue-tui inspect --json` against a demo org: known changes made through its admin API are
reported exactly, with OpportunityHistory and without it (the store's change log); risk flags
fire on constructed deals and not on their controls; rep figures equal independent SQL."""

from __future__ import annotations

import calendar
import json
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from smvue_demo_org.profile import OrgProfile
from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.inspection.history import Past, sources, stage_info
from smvue_tui.inspection.trend import pipeline_at
from smvue_tui.store.db import open_store
from smvue_tui.store.org_stores import paths_for_login
from tests.integration.test_sync_cli import _log_in

# OpportunityHistory exists in every edition; "without history" is an org whose user may not
# read it (field-level security on its StageName) and with field history tracking off.
PROFILES = {
    "history": OrgProfile(),
    "no_history": OrgProfile(history_tracking=False,
                             hidden_fields=("OpportunityHistory.StageName",)),
}


def _sql(query: str, *args) -> list[tuple]:
    """The store, read with plain sqlite3 (independent of the code under test)."""
    conn = sqlite3.connect(paths_for_login(app_paths()).database)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def _sync(capsys) -> None:
    assert main(["sync"]) == 0
    capsys.readouterr()


def _inspect(capsys, *args: str) -> dict:
    assert main(["inspect", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _quarter(today: date) -> tuple[str, str]:
    """This calendar quarter (the demo org's fiscal year starts in January)."""
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_month = first.month + 2
    last = date(first.year, last_month, calendar.monthrange(first.year, last_month)[1])
    return first.isoformat(), last.isoformat()


def _open_total(first: str, last: str) -> float:
    return _sql('SELECT TOTAL("Amount") FROM opportunity WHERE "IsClosed" = 0 '
                'AND "CloseDate" BETWEEN ? AND ?', first, last)[0][0]


def _weighted_total() -> float:
    """Open amount × the stage's default probability (else the deal's), in plain SQL."""
    return _sql('SELECT TOTAL(o."Amount" * COALESCE((SELECT s."DefaultProbability" FROM '
                'opportunity_stage s WHERE s."MasterLabel" = o."StageName"), o."Probability", 0)'
                ' / 100) FROM opportunity o WHERE o."IsClosed" = 0')[0][0]


def _pipeline_at(points: list[datetime]) -> list:
    db = open_store(paths_for_login(app_paths()).database)
    try:
        return pipeline_at(Past(sources(), stage_info()), points, datetime.now(UTC))
    finally:
        db.close()


def _start_clean_second() -> str:
    """A window start no earlier change can fall after (the org stamps to the second)."""
    time.sleep(1.1)
    start = datetime.now(UTC).isoformat()
    time.sleep(1.1)
    return start


@pytest.fixture(params=list(PROFILES))
def synced(request, make_org, capsys):
    """(org, profile name): a demo org with and without readable history, synced once."""
    org = make_org(profile=PROFILES[request.param])
    _log_in(org)
    _sync(capsys)
    return org, request.param


def test_inspect_reports_exactly_the_changes_made(synced, capsys):
    org, kind = synced
    today = datetime.now(UTC).date()
    q_first, q_last = _quarter(today)
    before = _open_total(q_first, q_last)
    open_deals = _sql('SELECT "Id", "StageName", "Amount", "CloseDate", "OwnerId" FROM '
                      'opportunity WHERE "IsClosed" = 0 AND "Amount" > 0 ORDER BY "Id"')
    later = [d for d in open_deals if d[3] > q_last]
    back = [d for d in open_deals if d[1] in ("Proposal/Price Quote", "Value Proposition")]
    push, stage_back = later[0], back[0]
    win, lose, raise_, reassign = [d for d in open_deals if d not in (push, stage_back)][:4]
    users = [u for (u,) in _sql('SELECT "Id" FROM sf_user WHERE "IsActive" = 1 ORDER BY "Id"')]
    new_owner = next(u for u in users if u != reassign[4])
    pushed_to = (date.fromisoformat(push[3]) + timedelta(days=30)).isoformat()
    open_before, weighted_before = _open_total("0000", "9999"), _weighted_total()
    start = _start_clean_second()

    for deal, values in ((push, {"CloseDate": pushed_to}), (win, {"StageName": "Closed Won"}),
                         (lose, {"StageName": "Closed Lost"}),
                         (stage_back, {"StageName": "Qualification"}),
                         (raise_, {"Amount": raise_[2] + 12_345}),
                         (reassign, {"OwnerId": new_owner})):
        org.admin("PATCH", f"/records/Opportunity/{deal[0]}", json=values).raise_for_status()
    _sync(capsys)
    report = _inspect(capsys, "--since", start)

    assert report["sources"]["opportunity_history"] is (kind == "history")
    assert report["sources"]["complete"] is True
    got = {d["id"]: d for d in report["changes"]["deals"]}
    assert {i: d["kinds"] for i, d in got.items()} == {
        push[0]: ["pushed"], win[0]: ["won"], lose[0]: ["lost"],
        stage_back[0]: ["stage_back"], raise_[0]: ["amount_up"],
        reassign[0]: ["owner_changed"]}
    assert (got[push[0]]["then"]["close_date"], got[push[0]]["now"]["close_date"]) == (
        push[3], pushed_to)
    assert got[raise_[0]]["now"]["amount"] - got[raise_[0]]["then"]["amount"] == 12_345
    assert (got[reassign[0]]["then"]["owner_id"], got[reassign[0]]["now"]["owner_id"]) == (
        reassign[4], new_owner)
    assert (got[stage_back[0]]["then"]["stage"], got[stage_back[0]]["now"]["stage"]) == (
        stage_back[1], "Qualification")
    totals = report["changes"]["totals"]
    assert {k: v["count"] for k, v in totals.items() if v["count"]} == {
        "pushed": 1, "won": 1, "lost": 1, "stage_back": 1, "amount_up": 1, "owner_changed": 1}
    assert totals["amount_up"]["amount"] == 12_345
    waterfall = report["changes"]["waterfall"]
    assert waterfall["start"] == pytest.approx(before)
    assert waterfall["end"] == pytest.approx(_open_total(q_first, q_last))

    # The pipeline then, rebuilt from the past, is what the store held then.
    then, now = _pipeline_at([datetime.fromisoformat(start), datetime.now(UTC)])
    assert (then.open, then.weighted) == (pytest.approx(open_before),
                                          pytest.approx(weighted_before))
    assert (now.open, now.weighted) == (pytest.approx(_open_total("0000", "9999")),
                                        pytest.approx(_weighted_total()))
    assert now.open != pytest.approx(open_before)  # the changes moved it

    mine = _inspect(capsys, "--since", start, "--rep", new_owner)
    assert {d["id"] for d in mine["changes"]["deals"]} == {
        i for i, d in got.items() if new_owner in (d["then"]["owner_id"], d["now"]["owner_id"])}
    assert [r["owner_id"] for r in mine["reps"]] == [new_owner]

    # The same window again after a full resync (every deal re-read, a new field plan) and
    # a new login: the log keeps what it saw and logs nothing twice.
    _log_in(org)
    assert main(["sync", "--full"]) == 0
    capsys.readouterr()
    again = _inspect(capsys, "--since", start)
    assert again["changes"]["deals"] == report["changes"]["deals"]


def _create(org, **fields) -> str:
    response = org.admin("POST", "/records/Opportunity", json=fields)
    response.raise_for_status()
    return response.json()["id"]


def _patch(org, sobject: str, record_id: str, **fields) -> None:
    org.admin("PATCH", f"/records/{sobject}/{record_id}", json=fields).raise_for_status()


def test_flags_fire_on_constructed_deals_and_not_on_their_controls(synced, capsys):
    org, _ = synced
    today = datetime.now(UTC).date()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    account, contact_a, contact_b = _sql(
        'SELECT a."Id", MIN(c."Id"), MAX(c."Id") FROM account a JOIN contact c '
        'ON c."AccountId" = a."Id" GROUP BY a."Id" HAVING COUNT(*) >= 2 LIMIT 1')[0]
    base = {"AccountId": account, "Amount": 100_000.0, "StageName": "Qualification",
            "CloseDate": day(40)}
    deals = {name: _create(org, Name=f"Inspect {name}", **{**base, **extra}) for name, extra in {
        "past": {"CloseDate": day(-10)}, "past_control": {},
        "pushed": {}, "pushed_control": {},
        "threads": {}, "threads_control": {},
        "dropped": {}, "dropped_control": {},
        "back": {"StageName": "Proposal/Price Quote"}, "back_control": {},
    }.items()}
    for deal, contact, primary in ((deals["threads"], contact_a, True),
                                   (deals["threads_control"], contact_a, True),
                                   (deals["threads_control"], contact_b, False)):
        org.admin("POST", "/records/OpportunityContactRole", json={
            "OpportunityId": deal, "ContactId": contact, "IsPrimary": primary,
        }).raise_for_status()
    # Two old open deals without activity for weeks; the control gets a call logged today.
    quiet = [i for (i,) in _sql(
        'SELECT o."Id" FROM opportunity o WHERE o."IsClosed" = 0 AND o."CreatedDate" < ? '
        'AND COALESCE(o."LastActivityDate", \'\') < ? AND NOT EXISTS (SELECT 1 FROM activity a '
        'WHERE a."WhatId" = o."Id" AND substr(a."_OccurredAt", 1, 10) >= ?) ORDER BY o."Id"',
        day(-60), day(-20), day(-20))]
    idle, idle_control = quiet[:2]
    _sync(capsys)

    org.admin("POST", "/records/Task", json={
        "Subject": "Call", "ActivityDate": day(0), "WhatId": idle_control,
        "OwnerId": _sql('SELECT "OwnerId" FROM opportunity WHERE "Id" = ?', idle_control)[0][0],
        "Status": "Completed"}).raise_for_status()
    _patch(org, "Opportunity", deals["dropped"], Amount=50_000.0)
    _patch(org, "Opportunity", deals["dropped_control"], Amount=95_000.0)
    _patch(org, "Opportunity", deals["back"], StageName="Qualification")
    _patch(org, "Opportunity", deals["back_control"], StageName="Proposal/Price Quote")
    # Three pushes against two, one per sync (the change log sees one version per sync).
    for n in range(3):
        _patch(org, "Opportunity", deals["pushed"], CloseDate=day(50 + 10 * n))
        if n < 2:
            _patch(org, "Opportunity", deals["pushed_control"], CloseDate=day(50 + 10 * n))
        _sync(capsys)

    report = _inspect(capsys)
    flagged = {d["id"]: {f["rule"]: f["reason"] for f in d["flags"]}
               for d in report["flags"]["deals"]}
    expectations = (
        ("past", "close_date_past"), ("pushed", "pushed"), ("threads", "single_threaded"),
        ("dropped", "amount_dropped"), ("back", "stage_moved_back"),
        ("threads_control", "no_primary_contact"))  # (its "past": none of it, see below)
    for name, rule in expectations[:-1]:
        assert rule in flagged.get(deals[name], {}), (name, rule, flagged.get(deals[name]))
        assert rule not in flagged.get(deals[f"{name}_control"], {}), (name, rule)
    assert "no_primary_contact" in flagged[deals["past"]]  # it has no contact role at all
    assert "no_primary_contact" not in flagged.get(deals["threads"], {})
    assert "no_primary_contact" not in flagged.get(deals["threads_control"], {})
    assert "no_activity" in flagged[idle]
    assert "no_activity" not in flagged.get(idle_control, {})
    assert flagged[deals["pushed"]]["pushed"] == (
        f"close date pushed 3 times: {_md(day(40), day(50), day(60), day(70))}")
    assert flagged[deals["dropped"]]["amount_dropped"] == (
        "amount dropped 50% in the last 30 days: 100,000 → 50,000")
    assert flagged[deals["back"]]["stage_moved_back"].startswith(
        "stage moved back: Proposal/Price Quote → Qualification on ")


def _md(*days: str) -> str:
    years = {d[:4] for d in days}
    return " → ".join(d[5:] if len(years) == 1 else d for d in days)


def test_rep_figures_equal_an_independent_sql_computation(make_org, capsys):
    org = make_org()
    _log_in(org)
    _sync(capsys)
    today = datetime.now(UTC).date()
    year_ago, two_weeks = (today - timedelta(days=365)).isoformat(), \
        (today - timedelta(days=14)).isoformat()
    q_first, q_last = _quarter(today)
    report = _inspect(capsys)
    reps = {r["owner_id"]: r for r in report["reps"]}

    stage_prob = ('COALESCE((SELECT s."DefaultProbability" FROM opportunity_stage s '
                  'WHERE s."MasterLabel" = o."StageName"), o."Probability", 0)')
    expected = {owner: (n, amount, weighted) for owner, n, amount, weighted in _sql(
        f'SELECT "OwnerId", COUNT(*), TOTAL("Amount"), TOTAL("Amount" * {stage_prob} / 100) '
        f'FROM opportunity o WHERE "IsClosed" = 0 GROUP BY "OwnerId"')}
    assert expected and {o for o in expected} <= set(reps)
    for owner, (n, amount, weighted) in expected.items():
        r = reps[owner]
        assert (r["open_count"], r["open_amount"]) == (n, pytest.approx(amount))
        assert r["weighted"] == pytest.approx(weighted)
    closed = _sql('SELECT "OwnerId", SUM("IsWon"), SUM(1 - "IsWon"), AVG(CASE WHEN "IsWon" = 1 '
                  'THEN julianday("CloseDate") - julianday(substr("CreatedDate", 1, 10)) END) '
                  'FROM opportunity WHERE "IsClosed" = 1 AND "CloseDate" BETWEEN ? AND ? '
                  'GROUP BY "OwnerId"', year_ago, today.isoformat())
    assert closed
    for owner, won, lost, cycle in closed:
        r = reps[owner]
        assert (r["won_12m"], r["lost_12m"]) == (won, lost)
        assert r["win_rate_12m"] == pytest.approx(won / (won + lost))
        assert r["avg_cycle_days_12m"] == (None if cycle is None else pytest.approx(cycle))
    for owner, count in _sql('SELECT "OwnerId", COUNT(*) FROM activity WHERE '
                             'substr("_OccurredAt", 1, 10) BETWEEN ? AND ? GROUP BY "OwnerId"',
                             two_weeks, today.isoformat()):
        if owner in reps:
            assert reps[owner]["activities_14d"] == count
    assert sum(r["activities_14d"] for r in reps.values()) > 0
    forecast = _sql(
        'SELECT o."OwnerId", COALESCE(o."ForecastCategoryName", s."ForecastCategoryName"), '
        'COUNT(*), TOTAL(o."Amount") FROM opportunity o LEFT JOIN opportunity_stage s '
        'ON s."MasterLabel" = o."StageName" WHERE o."CloseDate" BETWEEN ? AND ? GROUP BY 1, 2',
        q_first, q_last)
    assert forecast
    for owner, category, count, amount in forecast:
        cell = reps[owner]["forecast"]["this_quarter"][category]
        assert (cell["count"], cell["amount"]) == (count, pytest.approx(amount))
    flagged = {}
    for deal in report["flags"]["deals"]:
        flagged[deal["owner_id"]] = flagged.get(deal["owner_id"], 0) + 1
    assert {o: r["flagged_deals"] for o, r in reps.items() if r["flagged_deals"]} == flagged
