"""Change → store latency over 200 changes through real Outbound Messages (run by hand).

    python tests/benchmarks/live_latency_bench.py [--changes 200]

Prints one JSON line: p50 and p95 seconds. The product page promises "within a few minutes";
our target is p95 under 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path

from smvue_demo_org.server import build_org, serve_in_thread
from smvue_tui.store.db import open_store
from tests.integration.conftest import RunningOrg
from tests.integration.test_live_latency import measure_change_to_store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smvue-live-bench-"))
    org = build_org(size=500, seed=1, cache_dir=Path(tempfile.gettempdir()) / "smvue-bench-cache")
    with serve_in_thread(org, time_scale=60) as url:
        db = open_store(work / "store.sqlite3")
        latencies = asyncio.run(measure_change_to_store(
            lambda **_: RunningOrg(org, url), db, args.changes))
        db.close()
    print(json.dumps({"case": "change-to-store", "changes": len(latencies),
                      "p50_s": round(statistics.median(latencies), 3),
                      "p95_s": round(latencies[int(len(latencies) * 0.95)], 3),
                      "max_s": round(latencies[-1], 3)}))
    org.store.close()


if __name__ == "__main__":
    main()
