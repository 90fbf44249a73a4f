"""With Change Data Capture on and no public URL, a change made in the org reaches the pipeline
screen by itself: the app chooses CDC, subscribes over gRPC, and fetches what the events name."""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.app_services import DemoTarget
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from tests.tui.test_live_screen import _wait


@pytest.mark.parametrize("synced_services", [{"pubsub": True}], indirect=True)
async def test_cdc_brings_an_org_change_to_the_pipeline_screen(synced_services):
    services, running = synced_services, synced_services.running_org
    TokenStore(services.paths.token_file).save(credentials_from_token(
        running.web_login(), environment=resolve_environment(running.base_url),
        client_id=running.org.client_id))
    services.demo_targets = [DemoTarget("Production", running.base_url, running.org)]
    services.background = True
    app = SmvueApp(services)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await _wait(lambda: app.live is not None and app.live.mode is not None)
        mode = app.live.mode
        assert mode.name == "Change Data Capture" and app.live.listener is None
        assert await _wait(lambda: mode.streaming.is_set())
        assert await _wait(lambda: app.coordinator.running is None)  # the catch-up resync
        screen = app.screen
        assert await _wait(lambda: screen.summary is not None)
        deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
        before = screen.summary
        running.admin("PATCH", f"/records/Opportunity/{deal.id}", json={"Amount": 987654.0})
        assert await _wait(lambda: m.Opportunity.get_by_id(deal.id).amount == 987654.0)
        assert await _wait(lambda: screen.summary is not before)  # no key pressed
        await pilot.pause()
        assert mode.stats["events"] >= 1
