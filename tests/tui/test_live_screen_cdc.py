"""With Change Data Capture on and no public URL, a change made in the org reaches the pipeline
screen by itself: the app chooses CDC, subscribes over gRPC, and fetches what the events name."""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.app_services import DemoTarget
from smvue_tui.store import models as m
from tests.tui.test_live_screen import measure_change_to_screen


def use_demo_cdc(services, running) -> None:
    """What ``--demo`` gives the app: a stored login and the org (with its Pub/Sub API)."""
    TokenStore(services.paths.token_file).save(credentials_from_token(
        running.web_login(), environment=resolve_environment(running.base_url),
        client_id=running.org.client_id))
    services.demo_targets = [DemoTarget("Production", running.base_url, running.org)]


@pytest.mark.parametrize("synced_services", [{"pubsub": True}], indirect=True)
async def test_cdc_brings_an_org_change_to_the_pipeline_screen(synced_services):
    running = synced_services.running_org
    use_demo_cdc(synced_services, running)
    store, screen = await measure_change_to_screen(synced_services, running, 3, cdc=True)
    assert len(store) == len(screen) == 3
    assert not m.DeployedAutomation.select().exists()  # nothing written to Salesforce
