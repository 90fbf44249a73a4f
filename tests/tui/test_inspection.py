"""The inspection screen over the small hand-built store with a change log at fixed dates: the
key opens it, it lists the logged changes and the flagged deals, enter opens a deal; snapshots at
80×24 (changes, at risk, reps, charts, trend) are deterministic on any day (the clock is fixed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from smvue_tui.tui.screens.inspection import InspectionScreen
from tests.tui.test_pipelines import screen_text, settle
from tests.unit.store.pipeline_fixtures import BO, deal_id
from tests.unit.store.pipeline_fixtures import store as store  # the fixture

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
SIZE = (80, 24)


def _log(deal: str, at: str, **changes: list) -> None:
    m.DealChange.create(opportunity_id=deal_id(deal), changed_at=at, seen_at=at,
                        changes=json.dumps(changes))


def _app(tmp_path) -> SmvueApp:
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x")
    m.SyncRun.create(kind="initial", status="ok", started_at="2026-10-01T00:00:00+00:00")
    for suffix in ("01", "02", "03", "04", "05", "06", "07", "08"):  # created long ago
        m.Opportunity.update(created_date="2026-06-01T00:00:00.000+0000").where(
            m.Opportunity.id == deal_id(suffix)).execute()
    _log("02", "2026-11-12T10:00:00.000+0000", Amount=[1500.0, 2000.0])
    _log("03", "2026-11-10T10:00:00.000+0000", CloseDate=["2026-12-20", "2027-01-15"])
    _log("06", "2026-11-13T10:00:00.000+0000", StageName=["Negotiation", "Closed Won"],
         IsClosed=[False, True], IsWon=[False, True])
    _log("04", "2026-11-14T10:00:00.000+0000", OwnerId=[BO, m.Opportunity.get_by_id(
        deal_id("04")).owner_id])
    deal_facts.rebuild()  # the log was written here by hand, not through the store's writer
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    return SmvueApp(AppServices(paths=paths, db=m.Opportunity._meta.database, background=False,
                                now=lambda: NOW))


async def _open(app, pilot) -> InspectionScreen:
    await settle(app, pilot)
    await app.push_screen(InspectionScreen(now=NOW))
    await settle(app, pilot)
    assert isinstance(app.screen, InspectionScreen)
    return app.screen


async def rep_view_shown(app, pilot) -> InspectionScreen:
    """Wait for the inspection to show one rep's report (read in a worker; not a count)."""
    for _ in range(50):
        await settle(app, pilot)
        if isinstance(app.screen, InspectionScreen) and app.screen.report is not None \
                and app.screen.report.get("rep"):
            break
    assert isinstance(app.screen, InspectionScreen)
    return app.screen


async def test_the_key_opens_it_and_enter_opens_a_changed_deal(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
        assert isinstance(app.screen, InspectionScreen) and app.screen.report is not None
        screen = await _open(app, pilot)
        text = screen_text(app)
        assert "Last 7 days · all reps · every change · 4 changed" in text
        for name in ("Acme platform", "Beta rollout", "Won deal", "Gamma pilot"):
            assert name in text
        kinds = {d["id"]: d["kinds"] for d in screen.report["changes"]["deals"]}
        assert kinds == {deal_id("02"): ["amount_up"], deal_id("03"): ["moved_out", "pushed"],
                         deal_id("06"): ["won"], deal_id("04"): ["owner_changed"]}
        await pilot.press("c")  # only the first kind present: new ones are none, "won" next
        await settle(app, pilot)
        assert "Won deal" in screen_text(app) and "Beta rollout" not in screen_text(app)
        await pilot.press("c", "c", "c", "c", "c")  # round to "every change" again
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DealDetailScreen)
        assert app.screen.deal_id == deal_id("03")  # the biggest change first: Beta rollout


async def test_flagged_deals_show_their_reasons(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(160, 34)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        text = screen_text(app)
        assert "close date 2026-11-10 is 5 days past" in text  # Acme expansion
        assert screen.report["flags"]["counts"]["close_date_past"] == 2  # Acme expansion, Delta


def test_changes_snapshot_80x24(store, tmp_path, snap_compare):
    app = _app(tmp_path)

    async def ready(pilot) -> None:
        await _open(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.parametrize("tab", ["risk", "reps", "charts", "trend"])
def test_tab_snapshots_80x24(store, tmp_path, snap_compare, tab):
    app = _app(tmp_path)

    async def ready(pilot) -> None:
        await _open(app, pilot)
        await pilot.press({"risk": "2", "reps": "3", "charts": "4", "trend": "5"}[tab])
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


async def test_the_deal_screen_shows_its_flags_and_their_evidence(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        await app.push_screen(DealDetailScreen(deal_id("01")))  # Acme expansion: past due
        await settle(app, pilot)
        text = screen_text(app)
        assert "At risk" in text and "no contact roles at all" in text
        assert "close date 2026-11-10 is" in text
        await app.push_screen(DealDetailScreen(deal_id("06")))  # won: no flags
        await settle(app, pilot)
        assert "At risk" not in screen_text(app)



async def test_the_team_screen_opens_a_reps_view(store, tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(app, pilot)
        app.switch_mode("team")
        for _ in range(50):  # the team's rows are read in a worker too
            await settle(app, pilot)
            if app.screen.current_key() is not None:
                break
        key = app.screen.current_key()
        await pilot.press("v")
        await rep_view_shown(app, pilot)
        assert app.screen.report["rep"]["owner_id"] == key
        assert [r["owner_id"] for r in app.screen.report["reps"]] == [key]
