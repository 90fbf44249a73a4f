"""CRM Field Mapping: custom fields from describe, toggling, and the value filled by a sync."""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

from textual.notifications import Notify
from textual.worker import WorkerCancelled

from smvue_tui.store import field_mapping as fm
from smvue_tui.store import models as m
from smvue_tui.sync.engine import SyncEngine
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.field_mapping import OFFLINE_NOTE, FieldMappingScreen
from tests.integration.sync_support import client_for


async def settle(app, pilot) -> None:
    for _ in range(3):
        with suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


def org_values(running, field: str) -> dict[str, object]:
    rows = running.org.store.select(f"SELECT Id, {field} FROM Opportunity WHERE IsDeleted = 0")
    return {r["Id"]: r[field] for r in rows}


def stored_values(field: str) -> dict[str, object]:
    return {o.id: json.loads(o.custom_fields).get(field, "absent")
            for o in m.Opportunity.select()}


def test_a_newly_mapped_field_is_filled_by_the_next_engine_run(synced_services):
    running = synced_services.running_org
    assert set(stored_values("Seats__c").values()) == {"absent"}
    assert fm.set_enabled("Seats__c", "Seats", "double", True)

    async def sync() -> str:
        async with client_for(running) as client:
            engine = SyncEngine(client, synced_services.db)
            try:
                return (await engine.run("incremental")).status
            finally:
                engine.close()

    assert asyncio.run(sync()) == "ok"
    org = org_values(running, "Seats__c")
    stored = stored_values("Seats__c")
    assert stored and all(stored[i] == org[i] for i in stored)
    assert any(v is not None for v in stored.values())
    assert fm.mark_backfilled() == 1
    assert m.SyncCursor.get_by_id("Opportunity").initial_done


async def test_toggle_a_field_then_sync_now_fills_it(synced_services):
    running = synced_services.running_org
    app = SmvueApp(synced_services)
    notes: list[str] = []

    def hook(message) -> None:
        if isinstance(message, Notify):
            notes.append(str(message.notification.message))

    async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
        await pilot.press("f")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FieldMappingScreen)
        assert [r.label for r in screen.rows] == [
            "Deal Tier", "Main Competitor", "Renewal Date", "Seats", "Strategic"]
        assert "5 custom fields in Salesforce" in str(screen.query_one("#fields-note").render())
        await pilot.press("space")  # Deal Tier
        await settle(app, pilot)
        assert screen.rows[0].status == "fills on next sync"
        assert notes[-1] == "Deal Tier is filled on the next sync. Press y to Sync now."
        await pilot.press("y")
        await settle(app, pilot)
        assert app.last_report.status == "ok"
        assert screen.rows[0].status == "synced"
        assert screen.query_one("#fields-table").get_row("Deal_Tier__c")[0] == "✓"
        org, stored = org_values(running, "Deal_Tier__c"), stored_values("Deal_Tier__c")
        assert all(stored[i] == org[i] for i in stored)
        await pilot.press("space")  # unmap: kept in the list, off
        await settle(app, pilot)
        assert not m.CustomFieldMapping.get_by_id("Deal_Tier__c").enabled
        assert screen.rows[0].status == "not synced"


async def test_without_a_connection_mapped_fields_are_shown(empty_services):
    m.CustomFieldMapping.create(api_name="Seats__c", label="Seats", type="double")
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f")
        await settle(app, pilot)
        screen = app.screen
        assert [r.api_name for r in screen.rows] == ["Seats__c"]
        assert OFFLINE_NOTE in str(screen.query_one("#fields-note").render())
