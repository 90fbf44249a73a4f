"""Snapshot of the why-missing modal answering from the store alone (offline)."""

from __future__ import annotations

from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from tests.tui.test_team_snapshot import build_store, settle


def test_why_missing_snapshot(empty_services, snap_compare):
    build_store()
    m.Connection.update(disconnected_at="2026-11-01T00:00:00+00:00").execute()

    async def ask(pilot) -> None:
        await pilot.press("w")
        await settle(pilot)
        pilot.app.screen.query_one("#why-query").cursor_blink = False
        await pilot.press("o", "enter")  # four deals, four kinds of reason
        await settle(pilot)

    assert snap_compare(SmvueApp(empty_services), run_before=ask, terminal_size=(110, 36))
