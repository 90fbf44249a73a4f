"""What the change log's retention costs (store/changelog_retention.py), on a big store.

Run by hand:  python tests/benchmarks/changelog_prune_bench.py [--deals 20000] [--per-deal 12]

Builds a SQLite store of ``deals`` deals with ``per-deal`` change-log rows each over the last
two years (about a third carrying a stage change, some a close-date move, the rest amount, owner
or forecast changes), with the deal facts rebuilt from them. Then, as syncs would run it, one
``prune_batch`` at a time: the first prune (everything older than 400 days), a second one the
next sync (nothing left: the per-sync cost from then on), and one a day later (one day's rows).
Prints JSON: CPU seconds (process time; wall times on a shared box are noise), the longest
batch (how long the write lock is held at once), rows before and after, the file's size.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from smvue_tui.store import changelog_retention as retention  # noqa: E402
from smvue_tui.store import deal_facts  # noqa: E402
from smvue_tui.store import models as m  # noqa: E402
from smvue_tui.store.db import open_store  # noqa: E402

STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation"]


def fill(deals: int, per_deal: int, now: datetime, seed: int = 1) -> int:
    rnd = random.Random(seed)
    rows = []
    for i in range(deals):
        deal, stage, close = f"0068W{i:010d}AAA", 0, 100
        for k in range(per_deal):
            at = now - timedelta(days=730 * (per_deal - k - rnd.random()) / per_deal)
            pick, changes = rnd.random(), {}
            if pick < 0.35:
                new = min(3, stage + 1)
                changes = {"StageName": [STAGES[stage], STAGES[new]],
                           "ForecastCategoryName": ["Pipeline", "Best Case"]}
                stage = new
            elif pick < 0.5:
                changes = {"CloseDate": [f"2026-01-{close % 28 + 1:02d}",
                                         f"2026-02-{close % 28 + 1:02d}"]}
                close += 1
            elif pick < 0.8:
                changes = {"Amount": [1000.0 * k, 1000.0 * (k + 1)]}
            else:
                changes = {"OwnerId": ["0058W0000000001AAA", "0058W0000000002AAA"]}
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            rows.append({"opportunity_id": deal, "changed_at": stamp, "seen_at": at.isoformat(),
                         "changes": json.dumps(changes, sort_keys=True)})
    for start in range(0, len(rows), 2000):
        m.DealChange.insert_many(rows[start:start + 2000]).execute()
    return len(rows)


def prune(db, before: str) -> dict:
    cpu, longest = time.process_time(), 0.0
    run = retention.Prune(before)
    while True:
        batch = time.process_time()
        done = run.step()  # one writer call each in a sync
        longest = max(longest, time.process_time() - batch)
        if done:
            break
    return {"cpu_s": round(time.process_time() - cpu, 3), "longest_batch_cpu_s": round(longest, 3),
            "handled": run.handled, "deleted": run.deleted}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--per-deal", type=int, default=12)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.sqlite3"
        db = open_store(path)
        with db.atomic():
            rows = fill(args.deals, args.per_deal, now)
            deal_facts.rebuild()
        db.execute_sql("ANALYZE")
        size_before = path.stat().st_size
        cutoff = retention.cutoff(now.date(), retention.DEFAULT_DAYS)
        first = prune(db, cutoff)
        second = prune(db, cutoff)
        next_day = prune(db, retention.cutoff(now.date() + timedelta(days=1),
                                              retention.DEFAULT_DAYS))
        db.execute_sql("VACUUM")
        print(json.dumps({"deals": args.deals, "rows_before": rows,
                          "rows_after": m.DealChange.select().count(),
                          "first_prune": first, "next_sync": second, "a_day_later": next_day,
                          "file_mb_before": round(size_before / 2**20, 1),
                          "file_mb_after_vacuum": round(path.stat().st_size / 2**20, 1)},
                         indent=1))
        db.close()


if __name__ == "__main__":
    main()
