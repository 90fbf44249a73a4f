"""`smvue-tui --demo` runs on Change Data Capture, as a real org with CDC would.

Drives the launch `smvue-tui --demo` itself runs (``cli.tui.launched_app``: both demo orgs served
with their Pub/Sub API, syncs in a child process) under Textual's Pilot: Production, approve,
preflight (its Change Data Capture line), the initial sync, team mapping, pipelines — then a
change made in the demo org reaches the pipeline screen with no key pressed, and the
Integrations card's "Live updates" row names Change Data Capture. Before the fix
preflight never finished: with no automation to deploy, it waited for every worker, itself too.
"""

from __future__ import annotations

import argparse
import logging

import httpx
import pytest

from smvue_tui.cli.tui import launched_app
from smvue_tui.salesforce.preflight import OK
from smvue_tui.store import models as m
from tests.tui.test_connect import settle, shown, to_login_step
from tests.tui.test_pipelines import screen_text


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SMVUE_HOME", str(tmp_path / "home"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield tmp_path / "home"
    for handler in root.handlers[:]:  # the launch's log file: this test's only
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


async def test_demo_launch_runs_on_cdc_from_preflight_to_the_pipeline_screen(demo_home):
    with launched_app(argparse.Namespace(demo=True)) as app:
        production = app.services.demo_targets[0]
        assert production.org.pubsub_endpoint  # the demo org serves the Pub/Sub API
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await to_login_step(app, pilot)
            await pilot.press("a")  # approve the consent page with one key
            await settle(pilot, lambda: screen.preflight is not None, tries=600)
            assert screen.preflight.ok, screen.preflight.lines
            cdc = next(line for line in screen.preflight.lines
                       if line.name == "Change Data Capture")
            assert cdc.status == OK and cdc.message.startswith("on for Opportunity"), cdc
            assert "Change Data Capture" in shown(app, "#preflight-lines")
            assert app.live.mode.name == "Change Data Capture" and app.live.listener is None
            await settle(pilot, lambda: app.live.mode.streaming.is_set(), tries=600)

            await pilot.press("enter")  # the initial sync (in a child process, as launched)
            # The store's run record and the screen, not app.last_report: the demo org's own
            # changes are fetched right after the initial sync and replace the last report.
            await settle(pilot, lambda: m.SyncRun.select().where(
                (m.SyncRun.kind == "initial") & (m.SyncRun.status != "running")).exists(),
                tries=1200)
            run = m.SyncRun.get(m.SyncRun.kind == "initial")
            assert run.status == "ok", run.errors
            await settle(pilot, lambda: "Initial sync finished" in screen_text(app))
            await pilot.press("enter")  # team mapping
            await pilot.press("p")  # then the pipelines
            await settle(pilot, lambda: app.current_mode == "pipelines")
            pipelines = app.screen
            await settle(pilot, lambda: getattr(pipelines, "summary", None) is not None)

            deal = m.Opportunity.select().where(m.Opportunity.is_closed == False  # noqa: E712
                                                ).first()
            before, amount = pipelines.summary, 777_000.0
            httpx.patch(f"{production.base_url}/demo/records/Opportunity/{deal.id}",
                        json={"Amount": amount}, timeout=30).raise_for_status()
            await settle(pilot, lambda: m.Opportunity.get_by_id(deal.id).amount == amount,
                         tries=600)  # the change event, then the fetch by Id
            await settle(pilot, lambda: pipelines.summary is not before)  # no key pressed
            assert app.current_mode == "pipelines"
            assert not m.DeployedAutomation.select().exists()  # nothing written to the org

            await pilot.press("i")  # the Integrations card names the live mode on its row
            await settle(pilot, lambda: "Live updates" in screen_text(app))
            [row] = [line for line in screen_text(app).splitlines() if "Live updates" in line]
            assert "Change Data Capture" in row, row
