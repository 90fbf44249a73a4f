"""RankedLanes: a free lane goes to the best-ranked object waiting, not the first to ask."""

from __future__ import annotations

import asyncio

from smvue_tui.sync.lanes import RankedLanes


async def test_lanes_go_to_the_best_ranked_waiter_whatever_the_order_asked():
    lanes = RankedLanes(1)
    order: list[int] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def reader(rank: int) -> None:
        async with lanes.hold(rank):
            order.append(rank)
            first_in.set()
            await release.wait()

    holder = asyncio.create_task(reader(9))
    await first_in.wait()
    waiters = [asyncio.create_task(reader(rank)) for rank in (7, 5, 1, 3)]  # asked in this order
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *waiters)
    assert order == [9, 1, 3, 5, 7]


async def test_a_waiter_cancelled_passes_its_lane_on():
    lanes = RankedLanes(1)
    release = asyncio.Event()
    got: list[int] = []

    async def reader(rank: int) -> None:
        async with lanes.hold(rank):
            got.append(rank)
            await release.wait()

    holder = asyncio.create_task(reader(0))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(reader(1))
    later = asyncio.create_task(reader(2))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await asyncio.gather(holder, later)
    assert got == [0, 2]
    async with lanes.hold(5):  # every lane came back
        got.append(5)
    assert got == [0, 2, 5]
