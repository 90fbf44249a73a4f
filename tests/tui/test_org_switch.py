"""Sandbox ↔ Production through the TUI: Connect A and sync, note + action item, Disconnect,
Connect B (a Sandbox of another org) and sync, Disconnect, Connect A again — each org's store
holds its own data only, the header names the org (a Sandbox badge), and A catches up with an
incremental sync."""

from __future__ import annotations

from textual.widgets import OptionList

from smvue_demo_org.profile import OrgProfile
from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices, DemoTarget
from smvue_tui.store import deals
from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.connect import ConnectScreen
from smvue_tui.tui.screens.integrations import IntegrationsScreen
from tests.integration.test_org_stores import org_differences
from tests.tui.test_connect import settle


async def connect_and_sync(app, pilot, index: int, header: str) -> object:
    """Connect → the ``index``-th demo org → approve → Enter; the finished sync's report.
    The header names the org (``header``) once connected, before the sync."""
    if app.current_mode == "integrations":
        await pilot.press("c")
    screen = app.screen
    assert isinstance(screen, ConnectScreen) and screen.step == "choose"
    screen.query_one("#env-list", OptionList).highlighted = index
    await pilot.press("enter", "enter")  # choose → review → log in
    await settle(pilot, lambda: screen.flow is not None)
    await pilot.press("a")  # approve the demo org's consent with one key
    await settle(pilot, lambda: screen.preflight is not None)
    assert screen.preflight.ok, screen.preflight.lines
    await settle(pilot, lambda: header in app.sub_title)
    app.last_report = None
    await pilot.press("enter")  # start the sync
    await settle(pilot, lambda: app.last_report is not None, tries=1200)
    assert app.last_report.status == "ok", app.last_report.errors
    return app.last_report


async def disconnect(app, pilot) -> None:
    await pilot.press("i")
    screen = app.screen
    assert isinstance(screen, IntegrationsScreen)
    await settle(pilot, lambda: screen.card is not None and screen.card.connected)
    await pilot.press("x", "enter")
    await settle(pilot, lambda: screen.card is not None and not screen.card.connected
                 and not screen.workers)


async def test_disconnect_connect_switches_stores_without_mixing(tmp_path, make_org):
    a = make_org(size=40)
    b = make_org(size=30, seed=2, profile=OrgProfile(sandbox=True))
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    services = AppServices.create(paths)  # as `smvue-tui` starts: no login, no org yet
    services.background = False
    services.demo_targets = [DemoTarget("Production", a.base_url, a.org),
                             DemoTarget("Sandbox", b.base_url, b.org)]
    app = SmvueApp(services)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.current_mode == "connect"
            report = await connect_and_sync(app, pilot, 0, f"{a.org.org_id} · Production")
            assert report.kind == "initial"
            assert services.paths.org_id == a.org.org_id
            assert f"{a.org.org_id} · Production" in app.sub_title
            assert not app.has_class("-sandbox")
            deal = m.Opportunity.select().first()
            deals.add_note(deal.id, "ask about the Q1 budget")
            deals.add_action_item(deal.id, "send the security review", "2026-12-20")

            await disconnect(app, pilot)
            report = await connect_and_sync(app, pilot, 1, f"{b.org.org_id} · SANDBOX")
            assert report.kind == "initial"  # B never synced here: everything is read
            assert services.paths.org_id == b.org.org_id
            assert f"{b.org.org_id} · SANDBOX" in app.sub_title and app.has_class("-sandbox")
            assert org_differences(b) == []  # B's store equals org B, object by object
            assert [o.id for o in m.Organization.select()] == [b.org.org_id]
            assert [c.org_id for c in m.Connection.select()] == [b.org.org_id]
            assert m.Note.select().count() == 0 and m.ActionItem.select().count() == 0
            await pilot.press("i")
            await settle(pilot, lambda: app.screen.card is not None
                         and app.screen.card.org_id == b.org.org_id)
            assert "SANDBOX" in str(app.screen.query_one("#card-body").render())

            await disconnect(app, pilot)
            report = await connect_and_sync(app, pilot, 0, f"{a.org.org_id} · Production")
            assert report.kind == "incremental"  # A's cursors were kept: it catches up
            assert services.paths.org_id == a.org.org_id
            assert f"{a.org.org_id} · Production" in app.sub_title
            assert not app.has_class("-sandbox")
            assert [n.body for n in deals.notes(deal.id)] == ["ask about the Q1 budget"]
            assert [i.text for i in deals.action_items(deal.id)] == ["send the security review"]
            assert org_differences(a) == []
            assert [r.kind for r in m.SyncRun.select().order_by(m.SyncRun.id)] == \
                ["initial", "incremental"]
    finally:
        services.db.close()
    assert paths.for_org(a.org.org_id).database.exists()
    assert paths.for_org(b.org.org_id).database.exists()
