"""Why is this deal missing? The modal on a synced demo store, Salesforce asked too."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from textual.worker import WorkerCancelled

from smvue_tui.store import models as m
from smvue_tui.store import pipeline as pl
from smvue_tui.store import team
from smvue_tui.store import why_missing as wm
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.why_missing import WhyMissingScreen

AVA = "0058W0000000005QAA"


async def settle(app, pilot) -> None:
    for _ in range(3):
        with suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def ask(app, pilot, query: str) -> str:
    await pilot.press("w")
    await settle(app, pilot)
    assert isinstance(app.screen, WhyMissingScreen)
    app.screen.query_one("#why-query").value = query  # typing is covered by the snapshot
    await pilot.press("enter")
    await settle(app, pilot)
    return str(app.screen.query_one("#why-text").render())


async def test_a_deal_owned_by_an_unmapped_user(synced_services):
    team.set_coached(AVA, True)
    deal = (m.Opportunity.select().where(m.Opportunity.owner_id != AVA,
                                         m.Opportunity.is_closed == False)  # noqa: E712
            .order_by(m.Opportunity.id).first())
    owner = m.SfUser.get_by_id(deal.owner_id).name
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await ask(app, pilot, deal.id[:15])
        assert deal.name in text
        assert f"Owner {owner} is not mapped to a team member" in text
        assert wm.REMEDY_OWNER in text
        assert "team only" in str(app.screen.query_one("#why-view").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, WhyMissingScreen)


async def test_a_deal_closed_two_years_ago(synced_services):
    running = synced_services.running_org
    deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
    two_years_ago = (datetime.now(UTC).date() - timedelta(days=730)).isoformat()
    running.admin("PATCH", f"/records/Opportunity/{deal.id}", json={
        "StageName": "Closed Lost", "CloseDate": two_years_ago}).raise_for_status()
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        app.start_sync("incremental")
        await settle(app, pilot)
        assert app.last_report.status == "ok"
        assert m.Opportunity.get_or_none(m.Opportunity.id == deal.id) is None  # pruned
        text = await ask(app, pilot, deal.id)
        assert deal.name in text
        assert f"It closed on {two_years_ago}, before the closed-deal lookback" in text
        assert "about the last 12 months" in text
        assert "Salesforce was asked too" in text


async def test_a_deal_deleted_in_salesforce_and_a_name_nobody_has(synced_services):
    running = synced_services.running_org
    deal = m.Opportunity.select().order_by(m.Opportunity.id).first()
    m.Opportunity.delete().where(m.Opportunity.id == deal.id).execute()  # as a sync would
    running.admin("DELETE", f"/records/Opportunity/{deal.id}").raise_for_status()
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await ask(app, pilot, deal.id)
        assert "deleted in Salesforce" in text and "Recycle Bin" in text
        await pilot.press("escape")
        text = await ask(app, pilot, "No Such Deal Anywhere")
        assert wm.REMEDY_EXISTS in text


async def test_offline_the_store_alone_answers(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await ask(app, pilot, "Acme")
        assert wm.REMEDY_CONNECT in text and "Not connected" in text


async def test_explained_against_the_pipelines_screens_filter(synced_services):
    deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "pipelines"
        app.screen.filter = replace(app.screen.filter, pipeline=pl.ALL_DEALS, status="won")
        text = await ask(app, pilot, deal.id)
        assert "It is open; the current filter shows Closed Won deals" in text
        view = str(app.screen.query_one("#why-view").render())
        assert view.startswith("Pipeline view: All deals · won deals")
