"""Team mode: change in the org → both managers' pipeline screens, through `smvue-tui serve` on
PostgreSQL (run by hand).

    python tests/benchmarks/team_screen_bench.py [--changes 200] [--tuis 2]

A durable PostgreSQL of its own (tests/postgres_server.py, default settings), a demo org with its
Pub/Sub API, `smvue-tui serve --store …` as a real process hearing it by Change Data Capture,
and ``--tuis`` team-mode apps (Pilot, 120×40) on the same store. Each change is an Amount edit
through the org's admin API, timed until serve stored it and until every app's pipeline screen
re-read its figures (woken by the writer's NOTIFY, no key pressed). Prints one JSON line with
p50/p95 of change→store (serve's CDC path), change→screens, and heard→screens (team mode's own
part: from the writer's NOTIFY reaching an app to its re-read figures), and the CPU seconds
of this process (the apps) and of serve.
Target: change→screen p95 < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from smvue_demo_org.server import build_org, serve_in_thread  # noqa: E402
from smvue_tui.tui.app import SmvueApp  # noqa: E402
from tests.integration.conftest import RunningOrg  # noqa: E402
from tests.integration.team_serve_support import Serve, save_login  # noqa: E402
from tests.postgres_server import start_server  # noqa: E402
from tests.tui.test_live_screen import p95  # noqa: E402
from tests.tui.test_team_mode import (  # noqa: E402
    manager_services,
    team_change_to_screen,
    wait,
    writer_config,
)


def _serve_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(changes: int, tuis: int) -> dict[str, float]:
    server = start_server(fast=False)
    org = build_org(size=500, seed=1, cache_dir=Path(tempfile.gettempdir()) / "smvue-bench-cache")
    home = Path(tempfile.mkdtemp())
    serve = None
    try:
        url = server.create_database()
        with serve_in_thread(org, pubsub=True) as base_url:
            running = RunningOrg(org, base_url)
            save_login(running, home / "writer")
            writer_config(home / "writer", running)
            serve = Serve(home / "writer", url)
            serve.wait_for("sync: ok")
            serve.wait_for("live updates: Change Data Capture")
            apps = [SmvueApp(manager_services(home / f"m{n}", url, f"manager{n}@acme.example"))
                    for n in range(tuis)]
            async with contextlib.AsyncExitStack() as stack:
                for app in apps:
                    await stack.enter_async_context(app.run_test(size=(120, 40)))
                for app in apps:
                    assert await wait(lambda a=app: a.screen.summary is not None)
                    assert await wait(lambda a=app: a.team.listener.listening.is_set())
                cpu_apps = resource.getrusage(resource.RUSAGE_SELF)
                cpu_serve = _serve_cpu(serve.proc.pid)
                store, screen, woken = await team_change_to_screen(apps, running, changes)
                after = resource.getrusage(resource.RUSAGE_SELF)
                serve_cpu = _serve_cpu(serve.proc.pid) - cpu_serve
            apps[0].services.db.close()
    finally:
        if serve is not None:
            serve.close()
        org.store.close()
        server.stop()
    store, screen, woken = sorted(store), sorted(screen), sorted(woken)
    return {"changes": changes, "tuis": tuis,
            "store_p50_s": round(statistics.median(store), 3), "store_p95_s": round(p95(store), 3),
            "screen_p50_s": round(statistics.median(screen), 3),
            "screen_p95_s": round(p95(screen), 3),
            "heard_to_screens_p50_s": round(statistics.median(woken), 3),
            "heard_to_screens_p95_s": round(p95(woken), 3),
            "cpu_tuis_s": round(after.ru_utime + after.ru_stime - cpu_apps.ru_utime
                                - cpu_apps.ru_stime, 2),
            "cpu_serve_s": round(serve_cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--tuis", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps({"case": "team change-to-screen", **asyncio.run(run(args.changes,
                                                                         args.tuis))}))


if __name__ == "__main__":
    main()
