"""Deterministic snapshots: the Connect screen's first step (no demo orgs: Production,
Sandbox, My Domain) and the sync screen fed fixed progress events."""

from __future__ import annotations

from smvue_tui.sync.progress import ProgressEvent
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.messages import SyncProgress, SyncStarted


def test_connect_choose_environment_snapshot(empty_services, snap_compare):
    async def settle(pilot) -> None:
        await pilot.pause()

    assert snap_compare(SmvueApp(empty_services), run_before=settle, terminal_size=(110, 30))


def progress_feeder(events: list[ProgressEvent]):
    """A run_before that opens the sync screen and feeds it an initial sync's events."""

    async def feed(pilot) -> None:
        await pilot.press("s")
        pilot.app.post_message(SyncStarted("initial"))
        for event in events:
            pilot.app.post_message(SyncProgress(event))
        await pilot.pause()
        await pilot.pause()

    return feed


def test_sync_progress_snapshot(empty_services, snap_compare):
    events = [ProgressEvent("Account", 106, 106, 900.0, None, 3, "done"),
              ProgressEvent("Opportunity", 200, 354, 410.0, 4.0, 9),
              ProgressEvent("Task", 0, None, 0.0, None, 9, "skipped")]
    assert snap_compare(SmvueApp(empty_services), run_before=progress_feeder(events),
                        terminal_size=(110, 24))
