"""Pipelines at scale: first page paint after pressing the pipelines key, and page-down repaints.

Run by hand:  python tests/benchmarks/tui_bench.py [--deals 100000] [--runs 3] [--no-team]
              [--keep store.sqlite3 | --store store.sqlite3]   (save / reuse a filled store)

The store is filled by inserting rows DIRECTLY (seeded random deals, accounts, users, three
record types, two currencies; no Salesforce sync), which takes seconds instead of the minutes a
100,000-deal demo-org sync needs; the screens read the same tables either way. Then, headless
with Pilot at 120×40: the app starts on Connect, ``p`` is pressed, and we time key → the first
data row of the deal table painted (``render_line`` of a row of the current source). Then
page-down × 50 (worst and median key → cursor row painted), sort by amount (``>`` × 3), ``end``
(the last deal), and one search key; and key → the risk column filled (the flags of the rows
the table holds, read in a worker while those keys run: ``risk_column_ms``). Prints JSON, with
RSS and CPU.
Timings on a shared 2-core box move 2–3× with other load; run several times.
Target: first page ≤ 300 ms at 100k deals, no stalls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from smvue_tui.config import app_paths  # noqa: E402
from smvue_tui.services.app_services import AppServices  # noqa: E402
from smvue_tui.store import models as m  # noqa: E402
from smvue_tui.store.db import open_store  # noqa: E402
from smvue_tui.tui.app import SmvueApp  # noqa: E402
from smvue_tui.tui.widgets.paged_table import PagedTable  # noqa: E402

STAGES = [("Prospecting", 10), ("Qualification", 20), ("Needs Analysis", 30),
          ("Value Proposition", 50), ("Proposal/Price Quote", 75), ("Negotiation/Review", 90),
          ("Closed Won", 100), ("Closed Lost", 0)]


def _id(prefix: str, n: int) -> str:
    return f"{prefix}8W{n:011d}AAA"[:18]


def fill(db, deals: int, team: bool, seed: int = 1) -> float:
    """Insert a synthetic org of ``deals`` opportunities; returns seconds taken."""
    started = time.perf_counter()
    rnd = random.Random(seed)
    today = date.today()
    with db.atomic():
        m.Organization.create(id=_id("00D", 1), name="Bench", fiscal_year_start_month=1)
        users = [_id("005", i) for i in range(40)]
        m.SfUser.insert_many([{"id": u, "name": f"Rep {i:02d}", "is_active": True}
                              for i, u in enumerate(users)]).execute()
        types = [_id("012", i) for i in range(3)]
        for rt, name in zip(types, ("New Business", "Renewal", "Partner"), strict=True):
            m.RecordType.create(id=rt, name=name, sobject_type="Opportunity", is_active=True)
        for n, (stage, prob) in enumerate(STAGES):
            m.OpportunityStage.create(id=_id("01J", n), master_label=stage, api_name=stage,
                                      sort_order=n, default_probability=prob,
                                      is_closed=stage.startswith("Closed"),
                                      is_won=stage == "Closed Won")
        accounts = [_id("001", i) for i in range(max(deals // 20, 10))]
        rows = [{"id": a, "name": f"Account {i:05d}",
                 "parent_id": accounts[i // 10] if i >= 10 and i % 7 == 0 else None}
                for i, a in enumerate(accounts)]
        for start in range(0, len(rows), 500):
            m.Account.insert_many(rows[start:start + 500]).execute()
        if team:
            m.TeamMember.insert_many([{"sf_user_id": u, "name": f"Rep {i:02d}", "coached": True}
                                      for i, u in enumerate(users[:20])]).execute()
        batch = []
        for i in range(deals):
            stage, prob = rnd.choice(STAGES)
            closed = stage.startswith("Closed")
            batch.append({
                "id": _id("006", i), "name": f"Account {rnd.randrange(len(accounts)):05d} - "
                                            f"{rnd.choice(['Platform', 'Expansion', 'Pilot'])}",
                "account_id": rnd.choice(accounts),
                "record_type_id": types[0] if rnd.random() < 0.6 else rnd.choice(types[1:]),
                "stage_name": stage, "amount": float(rnd.randrange(1, 500) * 100),
                "probability": float(prob), "is_closed": closed, "is_won": stage == "Closed Won",
                "close_date": (today + timedelta(days=rnd.randrange(-400, 400))).isoformat(),
                "owner_id": rnd.choice(users),
                "currency_iso_code": "USD" if rnd.random() < 0.9 else "EUR"})
            if len(batch) == 500:
                m.Opportunity.insert_many(batch).execute()
                batch = []
        if batch:
            m.Opportunity.insert_many(batch).execute()
    db.execute_sql("ANALYZE")
    return time.perf_counter() - started


class PaintClock:
    """Wraps PagedTable.render_line to note when each loaded data row is FIRST painted after
    ``arm()`` (later repaints of the same row do not move it)."""

    def __init__(self) -> None:
        self.since = 0.0
        self.first: dict[int, float] = {}
        self.changed = asyncio.Event()
        original = PagedTable.render_line
        clock = self

        def render_line(table: PagedTable, y: int):  # type: ignore[no-untyped-def]
            strip = original(table, y)
            index = int(table.scroll_y) + y - 1
            if (y > 0 and index not in clock.first and table.fresh
                    and table.row_at(index) is not None):
                clock.first[index] = time.perf_counter()
                clock.changed.set()
            return strip

        PagedTable.render_line = render_line  # type: ignore[method-assign]

    def arm(self) -> float:
        """Start timing (call right before pressing the key)."""
        self.first = {}
        self.since = time.perf_counter()
        return self.since

    async def until(self, index: int, limit: float = 10.0) -> float:
        """Seconds from ``arm()`` to the first paint of row ``index`` (woken by the paint
        itself, so waiting adds no polling load to the event loop)."""
        while index not in self.first:
            self.changed = asyncio.Event()
            remaining = limit - (time.perf_counter() - self.since)
            if remaining <= 0:
                raise TimeoutError(f"row {index} not painted within {limit} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return self.first[index] - self.since


async def one_run(services: AppServices, clock: PaintClock) -> dict[str, float]:
    app = SmvueApp(services)
    result: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.current_mode == "connect"
        pressed = clock.arm()
        await pilot.press("p")
        result["first_page_ms"] = await clock.until(0) * 1000
        risk_done: list[float] = []  # the risk column filled (its flags read in a worker)

        def risk_read() -> bool:  # the first flags shown (the held rows', or every deal's)
            risk = getattr(app.screen, "risk", None)
            if risk is None:
                return False
            return bool(risk.read) if hasattr(risk, "read") else risk.counts is not None

        async def watch_risk() -> None:
            while not risk_read():
                await asyncio.sleep(0.01)
            risk_done.append(time.perf_counter())

        risk_watch = asyncio.create_task(watch_risk())
        table = app.screen.query_one("#deals", PagedTable)
        while not table.loaded:
            await asyncio.sleep(0.01)
        result["rows"] = table.row_count
        await pilot.pause()
        waits = []
        for _ in range(50):
            clock.arm()
            await pilot.press("pagedown")
            waits.append(await clock.until(table.cursor_row))
        result["pagedown_worst_ms"] = max(waits) * 1000
        result["pagedown_median_ms"] = statistics.median(waits) * 1000
        for name, keys in (("sort_amount_ms", ("greater_than_sign",) * 3), ("end_ms", ("end",)),
                           ("search_key_ms", ("7",))):
            if name == "search_key_ms":
                await pilot.press("slash")  # open the search box (not timed): then one key
                await pilot.pause()
            clock.arm()
            await pilot.press(*keys)
            # a new source: wait for the row under the cursor
            result[name] = await clock.until(table.cursor_row) * 1000
        await pilot.press("escape")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(risk_watch, 120)
        if risk_done:
            result["risk_column_ms"] = (risk_done[0] - pressed) * 1000
    return result


def _rss_mb() -> float | None:
    """Resident memory now (Linux), as opposed to the peak, which includes the fill."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-team", action="store_true", help="no team mapped: all deals")
    parser.add_argument("--keep", type=Path, help="save the filled store here for --store")
    parser.add_argument("--store", type=Path, help="use this filled store instead of filling")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = app_paths({"SMVUE_HOME": tmp})
        if args.store:  # reuse a filled store (kept by an earlier --keep)
            paths.database.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(args.store, paths.database)
        db = open_store(paths.database)
        fill_s = 0.0 if args.store else fill(db, args.deals, team=not args.no_team)
        if args.keep:
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy(paths.database, args.keep)
        services = AppServices(paths=paths, db=db, background=False)
        clock = PaintClock()
        runs = []
        for _ in range(args.runs):
            runs.append(await one_run(services, clock))
            await asyncio.sleep(1)  # let the last run's workers finish before the next app
        db.close()
    keys = [k for k in runs[0] if k != "rows"]
    print(json.dumps({
        "deals": args.deals, "team_mapped": not args.no_team, "fill": "direct insert",
        "fill_s": round(fill_s, 1), "rows_in_default_tab": runs[0]["rows"],
        **{f"{k}_runs": [round(r[k], 1) for r in runs] for k in keys},
        "rss_after_runs_mb": _rss_mb(),
        "process_cpu_s": round(time.process_time(), 1),  # the whole process, every run
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
