"""Change → store and change → screen latency over 200 changes in a demo org (run by hand).

    python tests/benchmarks/live_screen_bench.py [--changes 200] [--cdc]

The app runs headless (Pilot, 120×40) with its live services on, connected to a demo org whose
change notifications point at the app's listener; each change is an Amount edit made through
the org's admin API, timed until the store has it and until the pipeline screen re-read its
figures. Target: p95 under 3 s (``--cdc``: through Change Data Capture instead, the app's own
choice when the org serves the Pub/Sub API; target p95 under 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from smvue_demo_org.server import build_org, serve_in_thread  # noqa: E402
from smvue_tui.config import app_paths  # noqa: E402
from smvue_tui.services.app_services import AppServices  # noqa: E402
from smvue_tui.store import models as m  # noqa: E402
from smvue_tui.store.db import open_store  # noqa: E402
from smvue_tui.sync.engine import SyncEngine  # noqa: E402
from tests.integration.conftest import RunningOrg  # noqa: E402
from tests.integration.sync_support import client_for  # noqa: E402
from tests.tui.test_live_screen import measure_change_to_screen, p95  # noqa: E402
from tests.tui.test_live_screen_cdc import use_demo_cdc  # noqa: E402


async def run(changes: int, cdc: bool) -> dict[str, float]:
    org = build_org(size=500, seed=1, cache_dir=Path(tempfile.gettempdir()) / "smvue-bench-cache")
    with serve_in_thread(org, pubsub=cdc) as url:
        running = RunningOrg(org, url)
        paths = app_paths({"SMVUE_HOME": tempfile.mkdtemp()})
        db = open_store(paths.database)
        async with client_for(running) as client:
            engine = SyncEngine(client, db)
            assert (await engine.run("initial")).status == "ok"
            engine.close()
        m.Connection.create(org_id=org.org_id, environment="demo", login_url=url,
                            instance_url=url, username=org.username, user_id=org.user_id)
        services = AppServices(paths=paths, db=db, client_factory=lambda: client_for(running))
        if cdc:
            use_demo_cdc(services, running)
        store, screen = await measure_change_to_screen(services, running, changes, cdc=cdc)
        db.close()
    org.store.close()
    return {"changes": changes,
            "store_p50_s": round(statistics.median(store), 3), "store_p95_s": round(p95(store), 3),
            "screen_p50_s": round(statistics.median(screen), 3),
            "screen_p95_s": round(p95(screen), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--cdc", action="store_true", help="through Change Data Capture")
    args = parser.parse_args()
    case = "cdc change-to-screen" if args.cdc else "change-to-screen"
    print(json.dumps({"case": case, **asyncio.run(run(args.changes, args.cdc))}))


if __name__ == "__main__":
    main()
