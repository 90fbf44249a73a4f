"""Settings > Integrations: the card, Disconnect (confirm; data, notes and action items kept;
login revoked) and Connect again through the Connect screen."""

from __future__ import annotations

from textual.widgets import Static

from smvue_tui.services.app_services import DemoTarget
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.integrations import IntegrationsScreen
from smvue_tui.tui.widgets.confirm import ConfirmModal
from tests.tui.test_connect import demo_services, settle  # noqa: F401


def body(app) -> str:
    return str(app.screen.query_one("#card-body", Static).render())


async def test_disconnect_keeps_data_then_reconnect(synced_services):
    running = synced_services.running_org
    synced_services.demo_targets = [DemoTarget("Production", running.base_url, running.org)]
    deal = m.Opportunity.select().first()
    m.Note.create(opportunity_id=deal.id, body="call the CFO")
    m.ActionItem.create(opportunity_id=deal.id, text="send pricing")
    deals = m.Opportunity.select().count()
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, IntegrationsScreen)
        await settle(pilot, lambda: screen.card is not None)
        assert screen.card.connected and running.org.org_id in body(app)
        assert "updates come from the scheduled resync" in body(app)

        await pilot.press("x")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # cancel: still connected
        assert m.Connection.get().disconnected_at is None

        await pilot.press("x", "enter")
        await settle(pilot, lambda: screen.card is not None and not screen.card.connected
                     and not screen.workers)
        assert m.Connection.get().disconnected_at is not None
        assert synced_services.client_factory is None
        assert m.Opportunity.select().count() == deals
        assert m.Note.get().body == "call the CFO" and m.ActionItem.get().text == "send pricing"
        assert "Disconnected" in str(screen.query_one("#card-status", Static).render())

        await pilot.press("c")  # reconnect through the Connect screen
        connect = app.screen
        await pilot.press("enter", "enter")
        await settle(pilot, lambda: connect.flow is not None)
        await pilot.press("a")
        await settle(pilot, lambda: connect.preflight is not None)
        row = m.Connection.get()
        assert row.org_id == running.org.org_id and row.disconnected_at is None
        assert synced_services.paths.token_file.exists()
        assert m.Note.select().count() == 1

        await pilot.press("i")
        await settle(pilot, lambda: screen.card is not None and screen.card.connected)
        await pilot.press("x", "enter")  # a real stored login this time: revoked and forgotten
        await settle(pilot, lambda: not screen.card.connected and not screen.workers)
        assert not synced_services.paths.token_file.exists()
        message = str(screen.query_one("#card-message", Static).render())
        assert "kept" in message and "did not confirm" not in message


async def test_never_connected_card_offers_connect(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        screen = app.screen
        await settle(pilot, lambda: screen.card is not None)
        assert "Not connected" in str(screen.query_one("#card-status", Static).render())
        assert screen.check_action("disconnect", ()) is False


async def test_connect_starts_the_resync_schedule_and_disconnect_stops_it(
        demo_services):  # noqa: F811
    from tests.tui.test_connect import to_login_step

    demo_services.background = True  # the scheduled resync (no public webhook URL)
    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        connect = await to_login_step(app, pilot)
        await pilot.press("a")
        await settle(pilot, lambda: connect.preflight is not None)
        assert app.live is not None
        # the demo org's loopback automation is deployed: said so, as the card says
        assert "Change notifications: on" in connect.notifications_line
        await pilot.press("i")
        screen = app.screen
        await settle(pilot, lambda: screen.card is not None)
        assert "scheduled resync every 15 min — next at" in body(app)
        await pilot.press("x", "enter")
        await settle(pilot, lambda: not screen.card.connected)
        assert app.live is None
