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
    conn = sqlite3.connect(app_paths().database)
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


def _start_clean_second() -> str:
    """A window start no earlier change can fall after (the org stamps to the second)."""
    time.sleep(1.1)
    start = datetime.now(UTC).isoformat()
    time.sleep(1.1)
    return start


@pytest.mark.parametrize("kind", PROFILES)
def test_inspect_reports_exactly_the_changes_made(make_org, capsys, kind):
    org = make_org(profile=PROFILES[kind])
    _log_in(org)
    _sync(capsys)
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

    # The same window again after another (no-change) resync: nothing logged twice.
    _sync(capsys)
    again = _inspect(capsys, "--since", start)
    assert again["changes"]["deals"] == report["changes"]["deals"]
