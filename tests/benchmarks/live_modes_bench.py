"""Change → store latency for Change Data Capture and polling, and polling's API calls per hour
(run by hand; each prints one JSON line).

    python tests/benchmarks/live_modes_bench.py cdc [--changes 200]
    python tests/benchmarks/live_modes_bench.py polling [--changes 200] [--pace 0.5]
    python tests/benchmarks/live_modes_bench.py polling-calls [--scale 100]

Targets (issue 14): CDC p95 < 2 s; polling at the default 60 s interval p95 ≤ interval + 5 s;
polling ≤ 60 API calls an hour at the default, idle and busy. ``polling-calls`` runs one hour
of polling ``--scale`` times faster (interval 60/scale s, idle ceiling 900/scale s), first idle,
then with a change every 30/scale s, and counts the calls it made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.server import build_org, serve_in_thread
from smvue_tui.services.cdc import ChangeDataCapture
from smvue_tui.services.polling import Polling, PollSettings
from smvue_tui.store.db import open_store
from tests.integration.conftest import RunningOrg
from tests.integration.sync_support import client_for
from tests.integration.test_live_latency import Live, measure_change_to_store


async def start_cdc(live: Live, running: RunningOrg) -> None:
    session = client_for(running).session
    mode = ChangeDataCapture(live.db, running.org.org_id, session, running.org.pubsub_endpoint)
    await live.live.start_mode(mode)
    await asyncio.wait_for(mode.streaming.wait(), 30)
    await asyncio.sleep(0.5)  # the first subscription's catch-up resync: let it finish
    while live.lane.running is not None or live.live._tasks:
        await asyncio.sleep(0.05)


async def start_polling(live: Live, running: RunningOrg) -> None:
    await live.live.start_mode(Polling(live.db, lambda: client_for(running)))


def latency(case: str, changes: int, pace: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="smvue-live-bench-"))
    org = build_org(size=500, seed=1, cache_dir=Path(tempfile.gettempdir()) / "smvue-bench-cache")
    with serve_in_thread(org, pubsub=True) as url:
        db = open_store(work / "store.sqlite3")
        latencies = asyncio.run(measure_change_to_store(
            lambda **_: RunningOrg(org, url), db, changes, pace=pace, timeout=120,
            start=start_cdc if case == "cdc" else start_polling))
        db.close()
    org.store.close()
    return {"case": f"{case} change-to-store", "changes": len(latencies), "pace_s": pace,
            "p50_s": round(statistics.median(latencies), 3),
            "p95_s": round(latencies[int(len(latencies) * 0.95)], 3),
            "max_s": round(latencies[-1], 3)}


async def _polling_hour(running: RunningOrg, db, scale: float, busy: bool) -> int:
    live = Live(running, db)
    assert (await live.sync("initial")).status == "ok"
    settings = PollSettings(interval=60 / scale, max_interval=900 / scale)
    mode = Polling(db, lambda: client_for(running), settings)
    await live.live.start_mode(mode)
    deals = running.org.store.select("SELECT Id FROM Opportunity WHERE IsClosed = 0 LIMIT 50")
    started, n = time.monotonic(), 0
    async with httpx.AsyncClient() as http:
        while time.monotonic() - started < 3600 / scale:
            if busy:
                n += 1
                await http.patch(f"{running.base_url}/demo/records/Opportunity/"
                                 f"{deals[n % len(deals)]['Id']}", json={"Amount": 1000.0 + n})
            await asyncio.sleep(30 / scale)
    await live.live.stop()
    return mode.stats["calls_today"]


def polling_calls(scale: float) -> dict:
    out = {"case": "polling API calls per hour (default settings)", "time_scale": scale}
    for busy in (False, True):
        work = Path(tempfile.mkdtemp(prefix="smvue-live-bench-"))
        # The day runs ``scale`` times faster too: its API allocation per real second with it.
        org = build_org(size=500, seed=1, profile=OrgProfile(daily_api_limit=int(100_000 * scale)),
                        cache_dir=Path(tempfile.gettempdir()) / "smvue-bench-cache")
        with serve_in_thread(org) as url:
            db = open_store(work / "store.sqlite3")
            calls = asyncio.run(_polling_hour(RunningOrg(org, url), db, scale, busy))
            db.close()
        org.store.close()
        out["busy" if busy else "idle"] = calls
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=("cdc", "polling", "polling-calls"))
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--pace", type=float, default=None, help="seconds between changes")
    parser.add_argument("--scale", type=float, default=100.0)
    args = parser.parse_args()
    if args.case == "polling-calls":
        print(json.dumps(polling_calls(args.scale)))
    else:
        pace = args.pace if args.pace is not None else (0.02 if args.case == "cdc" else 0.5)
        print(json.dumps(latency(args.case, args.changes, pace)))


if __name__ == "__main__":
    main()
