"""Change → store latency through real Outbound Messages, and a listener that was down a while.

The latency figures (p50/p95 over 200 changes) are printed for the note (run with -s); only
correctness is asserted — timing targets live in benchmarks, not in tests that could flake.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time

import httpx
import pytest

from smvue_tui.salesforce.metadata import deploy_automation
from smvue_tui.services.live import LiveServices, LiveSettings
from smvue_tui.services.webhook import new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.coordinator import SyncCoordinator
from smvue_tui.sync.engine import SyncEngine
from tests.integration.sync_support import client_for, differences

FIELDS = {"Opportunity": ["Id", "Amount", "SystemModstamp"]}


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


class Live:
    """A store kept fresh by notifications from ``running``, as the app does it."""

    def __init__(self, running, db) -> None:
        self.running, self.db = running, db
        self.lane = SyncCoordinator(self.sync)
        self.live = LiveServices(self.lane.request, self.lane.cancel,
                                 lambda: self.lane.running,
                                 LiveSettings(debounce_seconds=0.1, debounce_max_seconds=0.5))

    async def sync(self, kind: str):
        async with client_for(self.running) as client:
            engine = SyncEngine(client, self.db)
            try:
                return await engine.run(kind)
            finally:
                engine.close()

    async def deploy(self, endpoint: str) -> None:
        async with client_for(self.running) as client:
            report = await deploy_automation(
                client.post_metadata_soap, ["Opportunity"], endpoint, FIELDS,
                session_id=client.session.access_token,
                integration_user=self.running.org.username, api_version="67.0")
        assert report.ok, report.failures


async def _patch(running, deal_id: str, amount: float) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.patch(f"{running.base_url}/demo/records/Opportunity/{deal_id}",
                                    json={"Amount": amount})
        response.raise_for_status()


def _amounts(ids: list[str]) -> dict[str, float]:
    return {r.id: r.amount for r in m.Opportunity.select(m.Opportunity.id, m.Opportunity.amount)
            .where(m.Opportunity.id.in_(ids))}


async def measure_change_to_store(make_org, db, changes: int, *, start=None,
                                  org_options: dict | None = None, pace: float = 0.02,
                                  timeout: float = 30) -> list[float]:
    """Latencies (s) from a change in the org to the store, through Outbound Messages (or the
    live mode ``await start(live, running)`` starts), one change every ``pace`` seconds."""
    running = make_org(**(org_options or {"time_scale": 60}))
    live = Live(running, db)
    assert (await live.sync("initial")).status == "ok"
    if start is None:
        listener = await live.live.start_listener(db, running.org.org_id, new_path_token())
        await live.deploy(listener.local_url)
    else:
        await start(live, running)
    deals = [d.id for d in m.Opportunity.select().where(m.Opportunity.is_closed == False)  # noqa: E712
             .limit(40)]
    waiting: dict[tuple[str, float], float] = {}
    latencies: list[float] = []
    for n in range(changes):
        deal, amount = deals[n % len(deals)], 100_000.0 + n
        waiting[(deal, amount)] = time.perf_counter()
        await _patch(running, deal, amount)
        await asyncio.sleep(pace)
        # a deal changed again supersedes its earlier amount: count the earlier one as arrived
        seen = _amounts([d for d, _ in waiting])
        for key in [k for k in waiting if seen.get(k[0]) is not None and seen[k[0]] >= k[1]]:
            latencies.append(time.perf_counter() - waiting.pop(key))
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        seen = _amounts([d for d, _ in waiting])
        for key in [k for k in waiting if seen.get(k[0]) is not None and seen[k[0]] >= k[1]]:
            latencies.append(time.perf_counter() - waiting.pop(key))
    await live.live.stop()
    assert not waiting, f"{len(waiting)} changes never reached the store"
    return sorted(latencies)


async def test_changes_reach_the_store_through_notifications(make_org, db):
    latencies = await measure_change_to_store(make_org, db, 40)
    print(f"\nchange→store over {len(latencies)} changes: p50 "
          f"{statistics.median(latencies):.2f}s, p95 "
          f"{latencies[int(len(latencies) * 0.95)]:.2f}s  (200 changes: "
          "tests/benchmarks/live_latency_bench.py)")


async def test_listener_down_for_a_while_then_redeliveries_leave_the_store_correct(make_org, db):
    running = make_org(time_scale=120)
    live = Live(running, db)
    assert (await live.sync("initial")).status == "ok"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = new_path_token()
    await live.deploy(f"http://127.0.0.1:{port}/sf/outbound/{token}")  # nobody listens yet
    deals = [d.id for d in m.Opportunity.select().where(m.Opportunity.is_closed == False)  # noqa: E712
             .limit(5)]
    for n, deal in enumerate(deals):
        await _patch(running, deal, 5_000.0 + n)
    assert (await live.sync("incremental")).status == "ok"  # the resync in between
    await _patch(running, deals[0], 7_777.0)  # newer than what the queued message will carry
    await asyncio.sleep(0.5)  # the org keeps retrying into the void
    await live.live.start_listener(db, running.org.org_id, token, port=port)
    deadline = time.monotonic() + 30
    while not m.ChangeNotification.select().count() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert m.ChangeNotification.select().count() > 0  # redelivered after the outage
    while _amounts([deals[0]])[deals[0]] != 7_777.0 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)  # the debounced webhook syncs fetch what arrives
    await live.lane.request("webhook")
    await live.live.stop()
    assert _amounts([deals[0]])[deals[0]] == 7_777.0
    conn = running.org.store.reader()
    try:
        assert differences(conn, Lookbacks(), __import__("datetime").date.today()) == []
    finally:
        conn.close()
