"""Sync throughput, API calls and memory: smvue's engine against a plain simple-salesforce loop.

Run by hand:  python tests/benchmarks/sync_bench.py [--cases medium,baseline,large,huge,resync]
                                                    [--cost-model default] [--bulk on|off]
                                                    [--bulk-page N] [--bulk-downloads N]
             [--store sqlite|postgresql|both] [--store-url postgresql://…] [--repeat N]
(--bulk: Bulk API 2.0 for big initial reads, the engine's default, on)
(--store postgresql: into a PostgreSQL store — the server --store-url names, else one this script
starts with default durability, fsync on; both: the two stores alternate per repetition.)
One JSON line per case. The demo org is served from this process (a thread); each sync runs in
a fresh child process, which reports its own peak RSS (VmHWM of /proc/self/status: wait4's
ru_maxrss would start at this parent's RSS, the demo org's, at the fork).
Orgs are generated once into /tmp/smvue-sync-bench-cache.

Targets: medium@50 ms ≥3× faster than the baseline; ≥20,000 records/s stored at 0 latency;
100k org peak RSS < 250 MB; a no-change incremental resync ≤ 4 API calls.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

CACHE = Path("/tmp/smvue-sync-bench-cache")
# case → (engine, opportunities, latency ms)
CASES = {
    "medium": ("smvue", 5_000, 50), "baseline": ("baseline", 5_000, 50),
    "large": ("smvue", 20_000, 0), "huge": ("smvue", 100_000, 0),
    "resync": ("smvue-resync", 5_000, 50),
}


# --- children (one sync each; the login arrives on stdin, never in argv) -------------------


def _client(setup: dict[str, Any]) -> Any:
    from smvue_tui.salesforce.client import SalesforceClient
    from smvue_tui.salesforce.credentials import credentials_from_token
    from smvue_tui.salesforce.environments import resolve_environment
    from smvue_tui.salesforce.session import Session

    creds = credentials_from_token(setup["token"],
                                   environment=resolve_environment(setup["base_url"]),
                                   client_id=setup["client_id"])
    return SalesforceClient(Session(creds))


async def smvue_child(setup: dict[str, Any], store: Path, resync: bool) -> dict[str, Any]:
    from smvue_tui.store.db import open_store
    from smvue_tui.sync import fetch, repair
    from smvue_tui.sync.bulk_read import BulkPolicy
    from smvue_tui.sync.engine import SyncEngine

    if setup.get("id_chunk"):  # work around Id lists too long for one GET URL (see --id-chunk)
        for fn in (fetch.fetch_by_ids, repair.verify_ids):
            fn.__kwdefaults__["chunk"] = setup["id_chunk"]
    if setup.get("store_url"):  # a schema of its own on the PostgreSQL store
        from smvue_tui.store.db import open_postgres

        db = open_postgres(setup["store_url"], setup["schema"])
    else:
        db = open_store(store)
    async with _client(setup) as client:
        policy = BulkPolicy(enabled=setup.get("bulk", True))
        if setup.get("bulk_page"):
            policy = dataclasses.replace(policy, max_records=setup["bulk_page"])
        if setup.get("bulk_downloads"):
            policy = dataclasses.replace(policy, downloads=setup["bulk_downloads"])
        engine = SyncEngine(client, db, bulk=policy)
        try:
            report = await engine.run("initial")
            if resync:  # the first incremental may still see the initial run's overlap window
                await engine.run("incremental")
                report = await engine.run("incremental")
        finally:
            engine.close()
    db.close()
    assert report.status == "ok", report.errors
    records = sum(report.counts.values())
    return {"records": records, "seconds": report.seconds, "api_calls": report.api_calls,
            "bulk_jobs": report.bulk_jobs,
            "by_bulk": sorted(n for n, api in report.apis.items() if api == "Bulk API 2.0")}


def baseline_child(setup: dict[str, Any], store: Path) -> dict[str, Any]:
    """What a straightforward script does: describe, query_all each object, insert_many."""
    from datetime import UTC, datetime

    import peewee
    from simple_salesforce import Salesforce

    from smvue_tui.store.object_spec import Lookbacks
    from smvue_tui.sync.fields import plan_from_describe
    from smvue_tui.sync.plan import SPECS, scope_filter
    from tests.integration.conftest import HttpsToHttp

    class Counting(HttpsToHttp):
        calls = 0

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += "/services/data/" in url
            return super().request(method, url, *args, **kwargs)

    started = time.perf_counter()
    host = setup["base_url"].removeprefix("http://")
    sf = Salesforce(instance_url=f"https://{host}", session_id=setup["token"]["access_token"],
                    version="66.0", session=Counting())
    db = peewee.SqliteDatabase(str(store), pragmas={"journal_mode": "wal"})
    today = datetime.now(UTC).date()
    deals = scope_filter(SPECS[4], Lookbacks(), today)
    semi = f"AccountId IN (SELECT AccountId FROM Opportunity WHERE {deals})"
    closure = {"Account": f"Id IN (SELECT AccountId FROM Opportunity WHERE {deals})",
               "Contact": semi, "AccountTeamMember": semi}
    records = 0
    for spec in SPECS:
        plan = plan_from_describe(spec, getattr(sf, spec.sobject).describe())
        if not plan.available:
            continue
        where = closure.get(spec.sobject) or scope_filter(spec, Lookbacks(), today)
        soql = f"SELECT {', '.join(plan.fields)} FROM {spec.sobject}"
        rows = sf.query_all(soql + (f" WHERE {where}" if where else ""))["records"]
        columns = {f: peewee.TextField(null=True) for f in plan.fields if f != "Id"}
        model = type(spec.sobject, (peewee.Model,), {
            "Id": peewee.CharField(primary_key=True), **columns,
            "Meta": type("Meta", (), {"database": db, "table_name": spec.sobject})})
        db.create_tables([model])
        values = [{f: r.get(f) for f in plan.fields} for r in rows]
        with db.atomic():
            for start in range(0, len(values), 400):
                model.insert_many(values[start:start + 400]).execute()
        records += len(values)
    seconds = time.perf_counter() - started
    db.close()
    return {"records": records, "seconds": round(seconds, 3), "api_calls": Counting.calls}


def child(case: str) -> None:
    setup = json.loads(sys.stdin.read())
    engine = CASES[case][0]
    with tempfile.TemporaryDirectory(prefix="smvue-sync-bench-") as folder:
        store = Path(folder) / "store.sqlite3"
        if engine == "baseline":
            result = baseline_child(setup, store)
        else:
            result = asyncio.run(smvue_child(setup, store, engine == "smvue-resync"))
    if tracemalloc.is_tracing():  # PYTHONTRACEMALLOC=1: Python objects' share of the peak
        result["traced_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    result["peak_rss_mb"] = _own_peak_mb()
    print(json.dumps(result), flush=True)


# --- the parent: serve each org, run each case in a child ----------------------------------


def run_case(case: str, id_chunk: int | None = None, cost_model: str = "off",
             bulk: bool = True, bulk_page: int | None = None, store_url: str = "",
             bulk_downloads: int | None = None,
             server_pid: int | None = None) -> dict[str, Any]:
    from smvue_demo_org.cost_model import CostModel
    from smvue_demo_org.server import build_org, serve_in_thread
    from tests.integration.conftest import RunningOrg

    engine, size, latency = CASES[case]
    org = build_org(size=size, seed=1, cache_dir=CACHE)
    try:
        with serve_in_thread(org) as url:
            running = RunningOrg(org, url)
            setup = {"base_url": url, "client_id": org.client_id, "token": running.web_login(),
                     "id_chunk": id_chunk, "bulk": bulk,
                     "bulk_page": bulk_page, "bulk_downloads": bulk_downloads,
                     "store_url": store_url,
                     "schema": f"smvue_bench_{os.getpid()}_{time.monotonic_ns()}"}
            org.faults.latency_ms = latency
            if cost_model == "default":  # Salesforce's server time (smvue_demo_org/cost_model.py)
                org.cost = CostModel.default()
            server_before = _server_cpu(server_pid)
            proc = subprocess.Popen([sys.executable, __file__, "--child", case],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert proc.stdin and proc.stdout
            proc.stdin.write(json.dumps(setup))
            proc.stdin.close()
            out = proc.stdout.read()
            # Reap it ourselves: wait4 gives this one child's rusage (its own peak RSS).
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode:
                raise SystemExit(f"case {case} failed (exit {proc.returncode})")
            opportunities = org.store.count("Opportunity")
            server_cpu = _server_cpu(server_pid) - server_before
    finally:
        org.store.close()
        if store_url:
            _drop_schema(store_url, setup["schema"])
    result = json.loads(out.strip().splitlines()[-1])
    return {"case": case, "engine": engine.removesuffix("-resync"),
            "store": "postgresql" if store_url else "sqlite",
            "org_opportunities": opportunities, "latency_ms": latency, "cost_model": cost_model,
            "bulk": bulk, "server_s": round(org.cost.charged_s, 1), **result,
            "records_per_s": round(result["records"] / max(result["seconds"], 1e-9)),
            "wait4_maxrss_mb": round(usage.ru_maxrss / 1024, 1),  # includes the parent's, see top
            # The sync child's own CPU seconds: steadier than wall time on a loaded box.
            "child_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            # PostgreSQL's own work for it (its server's processes; only a server we started).
            **({"server_cpu_s": round(server_cpu, 2)} if server_pid else {})}


def _server_cpu(pid: int | None) -> float:
    """CPU seconds of the postmaster and its ended children (each connection's backend)."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _own_peak_mb() -> float:
    """This process's own peak RSS (VmHWM, reset by exec), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child", metavar="CASE")
    parser.add_argument("--id-chunk", type=int, metavar="N",
                        help="ids per by-Id query in the engine (default: the engine's own)")
    parser.add_argument("--cost-model", choices=("off", "default"), default="off",
                        help="the demo org's cost model (off: as before, comparable figures)")
    parser.add_argument("--bulk", choices=("on", "off"), default="on",
                        help="Bulk API 2.0 for objects over the threshold (default on)")
    parser.add_argument("--bulk-page", type=int, metavar="N",
                        help="rows per Bulk results page (default: the engine's own)")
    parser.add_argument("--bulk-downloads", type=int, metavar="N",
                        help="Bulk jobs whose results are read at once (default: the engine's)")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--store-url", default="", metavar="URL",
                        help="the PostgreSQL database to sync into (default: start one)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    stores = {"sqlite": [""], "postgresql": ["pg"], "both": ["", "pg"]}[args.store]
    server, server_pid, url = None, None, args.store_url
    if "pg" in stores and not url:
        from tests.postgres_server import start_server

        server = start_server(fast=False)  # durable, as a team's server runs
        server.admin("CREATE DATABASE smvue_bench")
        url = server.url("smvue_bench")
        server_pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    print(json.dumps({"uptime": os.getloadavg()}), flush=True)
    try:
        for _ in range(args.repeat):
            for case in args.cases.split(","):
                for store in stores:
                    print(json.dumps(run_case(case, args.id_chunk, args.cost_model,
                                              args.bulk == "on", args.bulk_page,
                                              url if store else "",
                                              server_pid if store else None,
                                              args.bulk_downloads)), flush=True)
    finally:
        if server is not None:
            server.stop()
    print(json.dumps({"uptime": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
