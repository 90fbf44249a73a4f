import asyncio

import pytest

from smvue_tui.sync.coordinator import SyncCoordinator


async def test_requests_during_a_run_coalesce_into_one_follow_up():
    started: list[str] = []
    gate = asyncio.Event()

    async def run(kind: str) -> str:
        started.append(kind)
        await gate.wait()
        return f"{kind}#{len(started)}"

    coord = SyncCoordinator(run)
    first = asyncio.create_task(coord.request("incremental"))
    await asyncio.sleep(0)
    others = [asyncio.create_task(coord.request(k))
              for k in ("incremental", "webhook", "reconcile", "incremental")]
    await asyncio.sleep(0)
    assert coord.running == "incremental" and started == ["incremental"]
    gate.set()
    assert await first == "incremental#1"
    results = await asyncio.gather(*others)
    assert started == ["incremental", "reconcile"]  # one follow-up, the strongest kind
    assert set(results) == {"reconcile#2"}


async def test_failure_reaches_follow_up_waiters_and_cancel_stops_a_run():
    async def boom(kind: str) -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError(kind)

    coord = SyncCoordinator(boom)
    first = asyncio.create_task(coord.request("incremental"))
    await asyncio.sleep(0)
    second = asyncio.create_task(coord.request("full"))
    with pytest.raises(RuntimeError, match="incremental"):
        await first
    with pytest.raises(RuntimeError, match="full"):
        await second

    async def forever(kind: str) -> None:
        await asyncio.Event().wait()

    coord = SyncCoordinator(forever)
    task = asyncio.create_task(coord.request("incremental"))
    await asyncio.sleep(0)
    assert coord.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert coord.running is None
