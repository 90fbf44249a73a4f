"""Pipeline inspection at scale: `smvue-tui inspect --json` on 100,000 deals with 12 months of
OpportunityHistory, contact roles, activities and a change log.

Run by hand:  python tests/benchmarks/inspect_bench.py [--deals 100000] [--runs 3]
              [--keep store.sqlite3 | --store store.sqlite3]   (save / reuse a filled store)

The store is filled by inserting rows directly (seeded; no sync): deals created over the last 15
months, 1–6 OpportunityHistory rows each walking the stages with pushed close dates and amount
changes, 0–3 contact roles, ~3 activities over 6 months, and change-log rows for 5 % of the deals
in the last 30 days. Then ``smvue-tui inspect --json`` (``--args``; default ``--since 7d``) runs
as a child process (what a cron job pays: interpreter start, imports, the report, the JSON) and
in-process (the report alone); ``--screen`` also times the inspection screen after its key.
Prints JSON. Targets at 100,000 deals: ``inspect --json`` < 1 s, the screen's first paint
< 300 ms. Timings on a shared 2-core box move 2–3× with other load; run several times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from smvue_tui.salesforce.ids import normalize_id  # noqa: E402
from smvue_tui.store import deal_facts  # noqa: E402
from smvue_tui.store import models as m  # noqa: E402

STAGES = [("Prospecting", 10, "Pipeline"), ("Qualification", 20, "Pipeline"),
          ("Needs Analysis", 30, "Pipeline"), ("Value Proposition", 50, "Pipeline"),
          ("Proposal/Price Quote", 75, "Best Case"), ("Negotiation/Review", 90, "Commit"),
          ("Closed Won", 100, "Closed"), ("Closed Lost", 0, "Omitted")]


ORG = normalize_id("00D8W0000000001", "00D")


def _id(prefix: str, n: int) -> str:
    return f"{prefix}8W{n:011d}AAA"[:18]


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _insert(model: type[m.BaseModel], rows: list[dict]) -> None:
    for start in range(0, len(rows), 400):
        model.insert_many(rows[start:start + 400]).execute()


def fill(db, deals: int, seed: int = 1) -> float:
    started = time.perf_counter()
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    with db.atomic():
        m.Organization.create(id=ORG, name="Bench", fiscal_year_start_month=1)
        users = [_id("005", i) for i in range(40)]
        _insert(m.SfUser, [{"id": u, "name": f"Rep {i:02d}", "is_active": True}
                           for i, u in enumerate(users)])
        for n, (stage, prob, cat) in enumerate(STAGES):
            m.OpportunityStage.create(id=_id("01J", n), master_label=stage, api_name=stage,
                                      sort_order=n, default_probability=prob,
                                      forecast_category_name=cat,
                                      is_closed=stage.startswith("Closed"),
                                      is_won=stage == "Closed Won")
        contacts = [_id("003", i) for i in range(deals // 2)]
        _insert(m.Contact, [{"id": c, "name": f"Contact {i}"} for i, c in enumerate(contacts)])
        m.ObjectPlan.create(sobject="OpportunityHistory", available=True, fields=json.dumps(
            ["Id", "SystemModstamp", "OpportunityId", "StageName", "CreatedDate", "Amount",
             "Probability", "CloseDate", "CreatedById"]))
        m.SyncCursor.create(sobject="OpportunityHistory", initial_done=True)
        m.SyncRun.create(kind="initial", status="ok",
                         started_at=(now - timedelta(days=400)).isoformat())
        opps, hist, roles, acts, log = [], [], [], [], []
        for i in range(deals):
            oid, owner = _id("006", i), rnd.choice(users)
            created = now - timedelta(days=rnd.uniform(5, 450))
            steps = rnd.randint(1, 6)
            close = (created + timedelta(days=rnd.randint(30, 200))).date()
            amount = float(rnd.randrange(10, 500) * 100)
            at, stage_i = created, 0
            for k in range(steps):
                if k:
                    at = min(now, at + timedelta(days=rnd.uniform(3, 60)))
                    stage_i = min(5, stage_i + rnd.choice((1, 1, 1, -1 if stage_i else 1)))
                    if rnd.random() < 0.3:
                        close += timedelta(days=rnd.randint(7, 60))
                    if rnd.random() < 0.2:
                        amount = float(max(10, amount + rnd.randrange(-100, 100) * 100))
                hist.append({"id": _id("008", len(hist)), "sobject": "OpportunityHistory",
                             "parent_id": oid, "stage_name": STAGES[stage_i][0],
                             "amount": amount, "close_date": close.isoformat(),
                             "created_date": _stamp(at), "system_modstamp": _stamp(at)})
            if close < now.date() and rnd.random() < 0.7:  # most deals past their date closed
                stage_i = rnd.choice((6, 7))
                hist.append({"id": _id("008", len(hist)), "sobject": "OpportunityHistory",
                             "parent_id": oid, "stage_name": STAGES[stage_i][0],
                             "amount": amount, "close_date": close.isoformat(),
                             "created_date": _stamp(min(now, at + timedelta(days=5))),
                             "system_modstamp": _stamp(at)})
            stage, prob, cat = STAGES[stage_i]
            opps.append({"id": oid, "name": f"Deal {i:06d}", "stage_name": stage,
                         "amount": amount, "probability": float(prob),
                         "is_closed": stage_i >= 6, "is_won": stage_i == 6,
                         "close_date": close.isoformat(), "owner_id": owner,
                         "forecast_category_name": cat, "created_date": _stamp(created),
                         "last_modified_date": _stamp(at), "system_modstamp": _stamp(at)})
            for r in range(rnd.choice((0, 1, 1, 2, 3))):
                roles.append({"id": _id("00K", len(roles)), "opportunity_id": oid,
                              "contact_id": rnd.choice(contacts), "is_primary": r == 0})
            for _ in range(rnd.choice((0, 2, 3, 5))):
                acts.append({"id": _id("00T", len(acts)), "kind": "Task", "what_id": oid,
                             "owner_id": owner, "occurred_at": (
                                 now - timedelta(days=rnd.uniform(0, 180))).date().isoformat()})
            if rnd.random() < 0.05:
                seen = now - timedelta(days=rnd.uniform(0, 30))
                log.append({"opportunity_id": oid, "changed_at": _stamp(seen),
                            "seen_at": seen.isoformat(), "changes": json.dumps(
                                {"OwnerId": [rnd.choice(users), owner]})})
        for model, rows in ((m.Opportunity, opps), (m.StageHistory, hist),
                            (m.OpportunityContactRole, roles), (m.Activity, acts),
                            (m.DealChange, log)):
            _insert(model, rows)
    with db.atomic():  # rows inserted here by hand, not through the store's writer
        deal_facts.rebuild()
    db.execute_sql("ANALYZE")
    return time.perf_counter() - started


async def screen_times(db, warm: bool) -> dict:
    """Headless at 120×40: the key → the first frame of the inspection screen (its "Loading…"
    line; what the user sees), the key → the pilot finding it current and idle, and the key →
    the report's rows on it."""
    from smvue_tui.config import app_paths
    from smvue_tui.services.app_services import AppServices
    from smvue_tui.tui.app import SmvueApp
    from smvue_tui.tui.screens.inspection import InspectionScreen

    if not m.Connection.select().exists():
        m.Connection.create(org_id=ORG, environment="demo", login_url="x", instance_url="x")
    app = SmvueApp(AppServices(paths=app_paths().for_org(ORG), db=db, background=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        if warm:  # as the app does after start-up (WARM_UP_MODES): built hidden, not read
            app._init_mode("inspection")
            await pilot.pause(1.0)
        first_frame: list[float] = []
        display = app._display

        def timed_display(screen, renderable) -> None:  # every frame goes through it, headless too
            if isinstance(screen, InspectionScreen) and not first_frame:
                first_frame.append(time.perf_counter())
            display(screen, renderable)

        app._display = timed_display
        started = time.perf_counter()
        await pilot.press("k")
        while not isinstance(app.screen, InspectionScreen):
            await pilot.pause(0.001)
        painted = time.perf_counter() - started  # also waits for the screen's queues to idle
        while not first_frame:
            await pilot.pause(0.001)
        while app.screen.report is None:
            await pilot.pause(0.01)
        await pilot.pause(0)
        rows = time.perf_counter() - started
    return {"key_to_first_frame_s": round(first_frame[0] - started, 3),
            "key_to_screen_s": round(painted, 3), "key_to_report_rows_s": round(rows, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--args", nargs="*", default=["--since", "7d"],
                        help="what to pass to inspect (default: --since 7d, its default)")
    parser.add_argument("--keep", type=Path, help="save the filled store here")
    parser.add_argument("--store", type=Path, help="reuse a store filled before")
    parser.add_argument("--screen", action="store_true",
                        help="also time the inspection screen after its key")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="smvue-inspect-bench-"))
    os.environ["SMVUE_HOME"] = str(home)
    from smvue_tui.config import app_paths
    from smvue_tui.inspection import report as inspection
    from smvue_tui.store.org_stores import open_org_store

    paths = app_paths().for_org(ORG)  # the org's own store, as `inspect` opens it
    target = paths.database
    target.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"deals": args.deals}
    if args.store:
        shutil.copy(args.store, target)
        with sqlite3.connect(target) as conn:  # a store kept by an earlier version of this
            conn.execute('UPDATE organization SET "Id" = ?', (ORG,))
        db = open_org_store(paths)
    else:
        db = open_org_store(paths)
        result["fill_s"] = round(fill(db, args.deals), 1)
        if args.keep:
            shutil.copy(target, args.keep)
    result["history_rows"] = m.StageHistory.select().count()
    # As installed: pip compiles the package's bytecode, so the command never compiles its
    # sources (with PYTHONDONTWRITEBYTECODE, as on CI machines, every run would): one run
    # unmeasured writes the bytecode (and warms the page cache), then the runs are timed.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(home / "pyc")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "smvue_tui", "inspect", "--json", *args.args]
    subprocess.run(command, env=env, capture_output=True, check=True)
    cli, cli_cpu = [], []  # CPU: the command's and its flags process's (cli/inspect_flags)
    for _ in range(args.runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=True)
        cli.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    report = json.loads(done.stdout)
    inproc, inproc_cpu = [], []
    for _ in range(args.runs):
        started, cpu = time.perf_counter(), time.process_time()
        inspection.inspect({}, since=args.args[1] if args.args[:1] == ["--since"] else None)
        inproc.append(time.perf_counter() - started)
        inproc_cpu.append(time.process_time() - cpu)
    if args.screen:
        import asyncio

        result["screen_cold"] = asyncio.run(screen_times(db, warm=False))
        result["screen_warm"] = asyncio.run(screen_times(db, warm=True))
    db.close()
    result.update({
        "inspect_json_cli_s": {"median": round(statistics.median(cli), 3),
                               "all": [round(t, 3) for t in cli]},
        "inspect_json_cli_cpu_s": {"median": round(statistics.median(cli_cpu), 3),
                                   "all": [round(t, 3) for t in cli_cpu]},
        "report_in_process_s": {"median": round(statistics.median(inproc), 3),
                                "all": [round(t, 3) for t in inproc]},
        "report_in_process_cpu_s": {"median": round(statistics.median(inproc_cpu), 3),
                                    "all": [round(t, 3) for t in inproc_cpu]},
        "load_average": os.getloadavg(),
        "changed_deals": len(report["changes"]["deals"]),
        "flagged_deals": len(report["flags"]["deals"]),
        "json_mb": round(len(done.stdout) / 1e6, 1),
        "target": "inspect --json < 1 s, screen's first paint < 300 ms at 100,000 deals",
    })
    print(json.dumps(result))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
