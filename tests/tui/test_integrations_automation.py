"""Disconnect removes the change-notification automation SMVue deployed (best effort); what
the org refuses to delete is shown on the card with the Setup path to remove it by hand."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from smvue_tui.services import automation as cn
from smvue_tui.services.connection import deploy_notifications
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from tests.tui.test_connect import demo_services, settle, to_login_step  # noqa: F401


async def connect_and_deploy(app, pilot, services) -> str:
    screen = await to_login_step(app, pilot)
    await pilot.press("a")
    await settle(pilot, lambda: screen.preflight is not None)
    org_id = m.Connection.get().org_id
    webhook = cn.webhook_settings(services.paths,
                                  {"webhook": {"public_url": "https://hooks.example.com"}})
    line = await deploy_notifications(services.paths, webhook, screen.credentials)
    assert "automation deployed" in line and cn.outstanding(org_id)
    return org_id


@pytest.mark.parametrize("refuse", [False, True])
async def test_disconnect_removes_or_reports_automation(demo_services, refuse):  # noqa: F811
    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        org_id = await connect_and_deploy(app, pilot, demo_services)
        if refuse:
            demo_services.running_org.org.faults.refuse_metadata_deletes = 1
        await pilot.press("i")
        card = app.screen
        await settle(pilot, lambda: card.card is not None and card.card.connected)
        assert "deployed" in str(card.query_one("#card-body", Static).render())
        await pilot.press("x", "enter")
        await settle(pilot, lambda: not card.card.connected)
        message = str(card.query_one("#card-message", Static).render())
        body = str(card.query_one("#card-body", Static).render())
        if refuse:
            assert "remove by hand" in message and "Setup > Process Automation" in message
            assert "left behind" in body and cn.leftovers(org_id)
        else:
            assert "Removed the change-notification automation" in message
            assert not cn.outstanding(org_id)
        assert not demo_services.paths.token_file.exists()
