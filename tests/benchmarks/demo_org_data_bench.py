"""Demo org data: generation time, cached startup time, peak memory and file size.

Run by hand:  python tests/benchmarks/demo_org_data_bench.py [--sizes large,200000]
Each case runs in a fresh subprocess (so peak RSS is that case's own); one JSON line per case.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))


def child(case: str, size: int, cache: Path) -> None:
    from smvue_demo_org.profile import OrgProfile
    from smvue_demo_org.store import OrgStore

    started = time.perf_counter()
    store = OrgStore.open(cache, size, 1, OrgProfile())
    seconds = time.perf_counter() - started
    assert store.generated == (case == "generate"), "cache state is not what the case expects"
    opportunities = store.count("Opportunity")
    store.close()
    cached = next(cache.glob("org-*.sqlite3"))
    print(json.dumps({
        "case": case, "size": size, "opportunities": opportunities,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "file_mb": round(cached.stat().st_size / 1e6, 1),
    }))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="large,200000")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "SIZE", "CACHE"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), Path(args.child[2]))
        return
    from smvue_demo_org.store import parse_size

    for size in (parse_size(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="smvue-data-bench-") as cache:
            for case in ("generate", "cached-open"):
                subprocess.run([sys.executable, __file__, "--child", case, str(size), cache],
                               check=True)


if __name__ == "__main__":
    main()
