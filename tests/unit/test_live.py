import asyncio
from datetime import timedelta

from smvue_tui.services.live import LiveServices, LiveSettings
from smvue_tui.sync.coordinator import SyncCoordinator


async def test_schedule_triggers_through_the_lane_and_shows_next_runs():
    ran: list[str] = []

    async def run(kind: str) -> str:
        ran.append(kind)
        return kind

    lane = SyncCoordinator(run)
    live = LiveServices(lane.request, lane.cancel, lambda: lane.running,
                        LiveSettings(resync_minutes=0.001, reconcile_hours=1))
    live.start()
    try:
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.05)
        assert ran and ran[0] == "incremental"
        assert set(live.next_runs()) == {"incremental", "reconcile"}
    finally:
        await live.stop()


def _recording_live(settings: LiveSettings) -> tuple[LiveServices, list[str]]:
    """Live services whose syncs only record their kind."""
    ran: list[str] = []

    async def run(kind: str) -> None:
        ran.append(kind)

    lane = SyncCoordinator(run)
    return LiveServices(lane.request, lane.cancel, lambda: lane.running, settings), ran


async def test_notifications_are_debounced_into_one_webhook_sync():
    live, ran = _recording_live(LiveSettings(debounce_seconds=0.05))
    for _ in range(10):
        live.notified()
    await asyncio.sleep(0.3)
    assert ran == ["webhook"]
    await live.stop()


async def test_a_stuck_sync_is_cancelled_and_started_again():
    started: list[str] = []

    async def run(kind: str) -> None:
        started.append(kind)
        if len(started) == 1:
            await asyncio.Event().wait()  # stuck

    lane = SyncCoordinator(run)
    live = LiveServices(lane.request, lane.cancel, lambda: lane.running,
                        LiveSettings(stuck_after=timedelta(seconds=0)))
    live._spawn("incremental")
    await asyncio.sleep(0.05)
    assert lane.running == "incremental"
    await live._watchdog()
    await asyncio.sleep(0.05)
    assert started == ["incremental", "incremental"] and lane.running is None
    await live.stop()


async def test_a_steady_stream_still_fetches_within_the_max_wait():
    ran: list[str] = []

    async def run(kind: str) -> None:
        ran.append(kind)

    lane = SyncCoordinator(run)
    live = LiveServices(lane.request, lane.cancel, lambda: lane.running,
                        LiveSettings(debounce_seconds=0.1, debounce_max_seconds=0.25))
    for _ in range(12):  # a notification every 50 ms never leaves a 100 ms quiet spell
        live.notified()
        await asyncio.sleep(0.05)
    assert ran  # fired anyway, within the max wait
    await live.stop()


class _PushedMode:
    """A live mode of the test's own: the shape CDC or polling will take beside Outbound Msgs."""

    name = "pushed"

    def __init__(self) -> None:
        self.on_new = None
        self.stopped = 0

    async def start(self, on_new) -> None:
        self.on_new = on_new

    async def stop(self) -> None:
        self.stopped += 1


async def test_any_live_mode_is_started_triggers_webhook_syncs_and_is_stopped():
    live, ran = _recording_live(LiveSettings(debounce_seconds=0.05))
    first, second = _PushedMode(), _PushedMode()
    assert await live.start_mode(first) is first and live.listener is None
    await live.start_mode(second)  # one mode at a time: the first is stopped
    assert first.stopped == 1 and live.mode is second
    second.on_new(["006000000000001AAA"])
    await asyncio.sleep(0.3)
    assert ran == ["webhook"]
    await live.stop()
    assert second.stopped == 1 and live.mode is None
