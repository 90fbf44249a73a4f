"""A change made in the (demo) org reaches the pipeline screen without a key press.

``measure_change_to_screen`` is shared with ``tests/benchmarks/live_screen_bench.py`` (200
changes); the test runs a few and prints p50/p95 (run with -s) — timing is never asserted.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp


async def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def measure_change_to_screen(services, running, changes: int, *, cdc: bool = False
                                   ) -> tuple[list[float], list[float]]:
    """(change→store, change→screen) seconds for ``changes`` sequential amount changes, through
    the demo org's Outbound Messages (or, ``cdc``, its Change Data Capture events)."""
    services.background = True  # the live services: schedule + demo-org notifications
    app = SmvueApp(services)
    to_store: list[float] = []
    to_screen: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        if cdc:  # chosen by the app itself; no listener, nothing deployed
            assert await _wait(lambda: app.live is not None and app.live.mode is not None)
            assert app.live.mode.name == "Change Data Capture" and app.live.listener is None
            assert await _wait(lambda: app.live.mode.streaming.is_set())
            assert await _wait(lambda: app.coordinator.running is None)  # the catch-up resync
        else:
            assert await _wait(lambda: app.live is not None and app.live.listener is not None)
            assert await _wait(lambda: m.DeployedAutomation.select().where(
                m.DeployedAutomation.type == "Flow").count() == 3)  # triggers deployed
        screen = app.screen
        assert await _wait(lambda: screen.summary is not None)
        deals = [d.id for d in m.Opportunity.select().where(
            m.Opportunity.is_closed == False).limit(20)]  # noqa: E712
        for n in range(changes):
            deal, amount = deals[n % len(deals)], 500_000.0 + n
            before = screen.summary
            started = time.perf_counter()
            running.admin("PATCH", f"/records/Opportunity/{deal}", json={"Amount": amount})
            assert await _wait(lambda d=deal, a=amount: m.Opportunity.get_by_id(d).amount == a)
            to_store.append(time.perf_counter() - started)
            assert await _wait(lambda b=before: screen.summary is not b)  # no key pressed
            await pilot.pause()
            to_screen.append(time.perf_counter() - started)
        assert app.current_mode == "pipelines"
    return sorted(to_store), sorted(to_screen)


def p95(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.95))]


async def test_org_changes_appear_on_the_pipeline_screen_by_themselves(synced_services):
    store, screen = await measure_change_to_screen(synced_services,
                                                   synced_services.running_org, 5)
    print(f"\nchange→store p50 {statistics.median(store):.2f}s p95 {p95(store):.2f}s; "
          f"change→screen p50 {statistics.median(screen):.2f}s p95 {p95(screen):.2f}s")
