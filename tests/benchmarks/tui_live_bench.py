"""The app as a user feels it: cold start, and keys while a sync runs (run by hand).

    python tests/benchmarks/tui_live_bench.py [--size large] [--latency-ms 20]

1. cold start: a fresh Python process imports the app and paints its first screen (Pilot,
   headless, 120×40) — measured from interpreter start, in a subprocess;
2. key-to-repaint while an initial sync of a demo org runs (in a child process, as in the
   TUI; ``--in-process`` runs it on the app's loop instead): switch screens
   (p, t, s, i) and page down in the deal table repeatedly; worst and median key → idle;
   then the same keys after the sync, for comparison (``after_sync``; ``idle_by_key``: the
   median of each key with no sync running, p counted when coming from another screen);
3. peak RSS of the app process during that (the child's is not included).
Prints one JSON line per measure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLD = """
import time, asyncio, tempfile
t0 = time.perf_counter()
from smvue_tui.tui.app import SmvueApp
from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store.db import open_store
paths = app_paths({"SMVUE_HOME": tempfile.mkdtemp()})
async def main():
    app = SmvueApp(AppServices(paths=paths, db=open_store(paths.database), background=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print(time.perf_counter() - t0)
asyncio.run(main())
"""


def cold_start() -> float:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    return time.perf_counter() - started if not out else float(out) + 0.0


async def keys_while_syncing(size: str, latency_ms: float,
                             in_process: bool) -> dict[str, float]:
    from smvue_tui.config import app_paths
    from smvue_tui.salesforce.credentials import credentials_from_token
    from smvue_tui.salesforce.environments import resolve_environment
    from smvue_tui.salesforce.token_store import TokenStore
    from smvue_tui.services.app_services import AppServices
    from smvue_tui.services.connection import client_factory_for
    from smvue_tui.store import models as m
    from smvue_tui.store.db import open_store
    from smvue_tui.tui.app import SmvueApp
    from tests.integration.conftest import RunningOrg
    from tests.integration.sync_support import client_for

    # The org runs in its own process, as Salesforce would: in-process it would compete with
    # the app for the GIL and make every key look slow.
    proc = subprocess.Popen(
        [sys.executable, "-m", "smvue_tui", "demo-org", "--size", size, "--latency-ms",
         str(latency_ms), "--auto-approve"], stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "SMVUE_HOME": str(Path(tempfile.gettempdir()) / "smvue-bench-home")})
    info = {}
    while "password" not in info:
        name, _, value = proc.stdout.readline().strip().partition(": ")
        info[name] = value
    org = SimpleNamespace(org_id=info["org_id"], client_id=info["client_id"],
                          username=info["username"], password=info["password"],
                          auto_approve=True)
    url = info["base_url"]
    try:
        running = RunningOrg(org, url)
        paths = app_paths({"SMVUE_HOME": tempfile.mkdtemp()})
        db = open_store(paths.database)
        m.Connection.create(org_id=org.org_id, environment="demo", login_url=url,
                            instance_url=url)
        if in_process:
            services = AppServices(paths=paths, db=db, background=False,
                                   client_factory=lambda: client_for(running))
        else:  # as the TUI runs: the login in the token store, the sync in a child process
            creds = credentials_from_token(running.web_login(),
                                           environment=resolve_environment(url),
                                           client_id=org.client_id)
            TokenStore(paths.token_file).save(creds)
            services = AppServices(paths=paths, db=db, background=False, sync_in_child=True,
                                   client_factory=client_factory_for(paths))
        app = SmvueApp(services)
        during: list[float] = []
        after: list[float] = []
        by_key: dict[str, list[float]] = {}
        async with app.run_test(size=(120, 40)) as pilot:
            app.start_sync("initial")
            while not app.coordinator.running:
                await pilot.pause(0.05)
            deadline = time.monotonic() + 120
            while app.coordinator.running and time.monotonic() < deadline:
                await press_round(pilot, during)
            for _ in range(4):  # the same keys with no sync running, on the synced store
                await press_round(pilot, after, by_key)
            synced = m.Opportunity.select().count()
        db.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"deals_synced": synced, "while_syncing": summary(during),
            "after_sync": summary(after),
            "idle_by_key": {key: round(statistics.median(ms) * 1000, 1)
                            for key, ms in by_key.items()}}


KEYS = ["p", "t", "s", "i", "p", "pagedown", "pagedown", "pagedown"]


async def press_round(pilot: Any, timings: list[float],
                      by_key: dict[str, list[float]] | None = None) -> None:
    """Each of KEYS, timing key press → app idle again (screen repainted); ``by_key`` also
    gets each screen switch's time under its key (p only when it switches screens)."""
    for key in KEYS:
        switching = pilot.app.current_mode != "pipelines" or key != "p"
        started = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        timings.append(time.perf_counter() - started)
        if by_key is not None and switching and key != "pagedown":
            by_key.setdefault(key, []).append(timings[-1])
        if os.environ.get("KEYLOG"):
            print(key, round(timings[-1] * 1000), file=sys.stderr)


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {"keys": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 1),
            "worst_ms": round(ordered[-1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="large")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--in-process", action="store_true",
                        help="run the sync on the app's loop (as before the child process)")
    args = parser.parse_args()
    colds = sorted(cold_start() for _ in range(3))
    print(json.dumps({"case": "cold-start-to-first-screen", "seconds": [round(c, 2)
                                                                        for c in colds]}))
    result = asyncio.run(keys_while_syncing(args.size, args.latency_ms, args.in_process))
    print(json.dumps({"case": "key-to-repaint-during-initial-sync", "size": args.size,
                      "sync": "in-process" if args.in_process else "child process",
                      **result,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                           / 1024, 1)}))


if __name__ == "__main__":
    main()
