"""Budgeted polling end to end against the demo org: no public URL, no Change Data Capture."""

from __future__ import annotations

import asyncio
import time

import pytest

from smvue_demo_org.profile import OrgProfile
from smvue_tui.services.polling import Polling, PollSettings
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from tests.integration.sync_support import client_for
from tests.integration.test_cdc_live import _admin, _amount, _open_deals, _until
from tests.integration.test_live_latency import Live

SIZE = 120  # opportunities: small, each test starts its own org


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


class Counting:
    """A client factory that counts the clients (each poll builds one)."""

    def __init__(self, running) -> None:
        self.running, self.built = running, 0

    def __call__(self):
        self.built += 1
        return client_for(self.running)


async def test_polling_delivers_a_change_with_one_call_per_poll(make_org, db):
    running = make_org(size=SIZE, profile=OrgProfile(change_data_capture=()))
    live = Live(running, db)
    assert (await live.sync("initial")).status == "ok"
    mode = Polling(db, Counting(running), PollSettings(interval=0.2))
    await live.live.start_mode(mode)
    try:
        deal = _open_deals(1)[0]
        await _admin(running, "PATCH", f"/records/Opportunity/{deal}", json={"Amount": 424242.0})
        await _until(lambda: _amount(deal) == 424242.0)
        assert mode.stats["found"] >= 1
        assert mode.stats["calls_today"] == mode.stats["polls"]  # five objects, one composite
        assert m.ChangeNotification.select().where(
            m.ChangeNotification.record_id == deal).count() == 1  # however often polled since
    finally:
        await live.live.stop()


async def test_polling_stops_at_its_budget_and_says_so(make_org, db):
    running = make_org(size=SIZE, profile=OrgProfile(daily_api_limit=200))  # 2 % = 4 calls
    live = Live(running, db)
    assert (await live.sync("initial")).status == "ok"
    factory = Counting(running)
    mode = Polling(db, factory, PollSettings(interval=0.05))
    try:
        for _ in range(4):
            assert await mode.poll_once() is not None
        assert mode.budget == 4 and mode.calls_left() == 0
        assert await mode.poll_once() is None  # refused before any call is made
        assert factory.built == 4
        assert mode.state.startswith("paused: polling budget spent (4 of 4 calls today, 2%")
    finally:
        await mode.stop()


async def test_polling_backs_off_when_idle_and_speeds_up_on_activity(make_org, db):
    # A budget large enough not to slow these 50 ms polls down by itself.
    running = make_org(size=SIZE, profile=OrgProfile(daily_api_limit=50_000_000))
    live = Live(running, db)
    assert (await live.sync("initial")).status == "ok"
    settings = PollSettings(interval=0.05, max_interval=0.4, idle_after=1, budget_share=0.5)
    mode = Polling(db, Counting(running), settings)
    await live.live.start_mode(mode)
    try:
        await _until(lambda: mode.interval == settings.max_interval, timeout=60)
        polls, started = mode.stats["polls"], time.monotonic()
        await asyncio.sleep(1.0)  # at the ceiling: at most a poll per 400 ms, not per 50 ms
        assert mode.stats["polls"] - polls <= (time.monotonic() - started) / 0.4 + 1
        mode.activity()
        assert mode.interval == settings.interval
        polls = mode.stats["polls"]
        await _until(lambda: mode.stats["polls"] > polls, timeout=5)  # polled at once
    finally:
        await live.live.stop()
