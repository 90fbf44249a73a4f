"""What the deal change log costs the sync's writer: pages of Opportunity rows upserted with the
log (``store/changelog.py``) and without it, in-process, so other load on the box moves both alike.

Run by hand:  python tests/benchmarks/changelog_bench.py [--deals 20000] [--runs 5]

Three passes per run, each ``deals`` rows in pages of 2,000 through ``upsert_values`` (the sync's
write path): into an empty store (an initial sync), the same versions again (a resync that
changes nothing), and newer versions with 10 % of the deals changed (an incremental sync).
Prints JSON: the median CPU seconds per pass with and without the log, and the overhead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from smvue_tui.store import changelog, writer  # noqa: E402
from smvue_tui.store import models as m  # noqa: E402
from smvue_tui.store.db import open_store  # noqa: E402
from smvue_tui.store.writer import row_shape, upsert_values  # noqa: E402
from smvue_tui.sync.plan import SPECS_BY_NAME  # noqa: E402

SPEC = SPECS_BY_NAME["Opportunity"]
PAGE = 2000


def _records(deals: int, stamp: str, changed_every: int = 0) -> list[dict]:
    return [{"Id": f"0068W{i:010d}AAA", "SystemModstamp": stamp, "Name": f"Deal {i}",
             "Amount": 1000.0 + (1 if changed_every and i % changed_every == 0 else 0),
             "CloseDate": "2027-01-15", "StageName": "Prospecting", "Probability": 10.0,
             "OwnerId": "0058W000000001AAAA", "AccountId": None, "CreatedDate": stamp,
             "LastModifiedDate": stamp, "IsClosed": False, "IsWon": False}
            for i in range(deals)]


def _pass(db, records: list[dict]) -> float:
    shape = row_shape(SPEC, tuple(SPEC.fields[:13]), ())
    started = time.process_time()  # CPU seconds: other load on the box moves them least
    for start in range(0, len(records), PAGE):
        with db.atomic():
            upsert_values(SPEC, shape.attrs, [shape.values(r) for r in records[start:start + PAGE]])
    return time.process_time() - started


def run(deals: int, with_log: bool) -> dict[str, float]:
    writer.record_deal_changes = changelog.record_deal_changes if with_log else (
        lambda attrs, values: 0)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_store(Path(tmp) / "s.sqlite3")
        times = {"initial": _pass(db, _records(deals, "2026-11-01T00:00:00.000+0000")),
                 "resync": _pass(db, _records(deals, "2026-11-01T00:00:00.000+0000")),
                 "incremental": _pass(db, _records(deals, "2026-11-02T00:00:00.000+0000", 10))}
        logged = m.DealChange.select().count()
        db.close()
    assert logged == (deals // 10 if with_log else 0), logged
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    samples: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for _ in range(args.runs):  # alternate, so load drifts hit both
        for with_log in (False, True):
            samples[with_log].append(run(args.deals, with_log))
    out: dict = {"deals": args.deals, "runs": args.runs}
    for phase in ("initial", "resync", "incremental"):
        off = statistics.median(s[phase] for s in samples[False])
        on = statistics.median(s[phase] for s in samples[True])
        out[phase] = {"without_log_cpu_s": round(off, 3), "with_log_cpu_s": round(on, 3),
                      "overhead_pct": round((on - off) * 100 / off, 1)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
