"""Our sync beside the peers a large customer would pick, against ONE demo org process per size.

Run by hand (never part of the test suite):

    python tests/benchmarks/peers_bench.py --install          # once: the peers' own venvs
    python tests/benchmarks/peers_bench.py [--sizes 20000,100000] [--tools …] \
        [--demo-org-args "--latency-ms 50"] [--json peers_bench.json]

For each size it starts `smvue-tui demo-org --size N --auto-approve <demo-org-args>` (its
generated orgs cached under <venvs>/demo-home), then runs each tool in turn against that process:
  smvue            `smvue-tui sync --json` in a fresh SMVUE_HOME (logged in as the tests log in)
  airbyte-auto     Airbyte's source-salesforce `read`, its native choice (Bulk 2.0 where it can)
  airbyte-rest     the same with REST forced for every stream (patched: it has no REST switch)
  singer-rest      the Singer tap, api_type REST;   singer-bulk: api_type BULK (Bulk API 1.0)
  baseline         simple-salesforce query_all of our objects and fields into SQLite (sync_bench)
Peers get the objects our sync reads, every field of each (as they run), and Airbyte's default
start date (now − 2 years) unless --start-date. Each tool's API calls and Bulk 2.0 jobs are read
from the org's /limits before and after; peak RSS from the tool's own rusage (wait4). A table
goes to stdout and everything (rows per object, request kinds, failures) to --json.

Targets (issue 15): ours ≥ 3× faster than airbyte-auto and ≥ 5× the baseline; the 100k org
under 2 minutes; our peak RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from tests.benchmarks import peers_tools as tools  # noqa: E402

TOOLS = ("smvue", "airbyte-auto", "airbyte-rest", "singer-rest", "singer-bulk", "baseline")


class DemoOrgProcess:
    """`smvue-tui demo-org` in its own process; the fields it prints on start-up."""

    def __init__(self, size: int, extra_args: list[str], cache_home: Path, log: Path) -> None:
        env = {**os.environ, "SMVUE_HOME": str(cache_home), "PYTHONPATH": str(ROOT)}
        self.stderr = open(log, "wb")  # noqa: SIM115 — generation progress, server errors
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smvue_tui", "demo-org", "--size", str(size),
             "--auto-approve", *extra_args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True)
        self.fields: dict[str, str] = {}
        assert self.proc.stdout
        for line in self.proc.stdout:  # generation can take minutes the first time
            name, _, value = line.strip().partition(": ")
            self.fields[name] = value
            if name == "pubsub_endpoint":
                break
        if "base_url" not in self.fields:
            self.stop()
            raise SystemExit(f"the demo org did not start: see {log}")
        self.base_url = self.fields["base_url"]
        from tests.integration.conftest import RunningOrg

        who = SimpleNamespace(client_id=self.fields["client_id"], username=self.fields["username"],
                              password=self.fields["password"], auto_approve=True)
        self.running = RunningOrg(who, self.base_url)  # type: ignore[arg-type]

    def limits(self) -> dict[str, int]:
        """Calls used and Bulk 2.0 jobs left (this probe itself costs one call)."""
        with self.running.api(version="62.0") as api:
            body = api.get("/limits").json()
        return {"api_remaining": body["DailyApiRequests"]["Remaining"],
                "jobs_remaining": body["DailyBulkV2QueryJobs"]["Remaining"]}

    def counts(self) -> dict[str, int]:
        return self.running.admin("GET", "/info").json()["counts"]

    def reset_usage(self) -> None:
        self.running.admin("POST", "/usage", json={"used": 0})

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def run_tool(name: str, org: tools.Org, venvs: Path) -> tools.Run:
    if name == "smvue":
        return tools.run_ours(org)
    if name == "baseline":
        return tools.run_baseline(org)
    peer, api = name.split("-")
    if peer == "airbyte":
        return tools.run_airbyte(org, venvs, api)
    return tools.run_singer(org, venvs, api.upper())


def measure_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"smvue-peers-{size}-"))
    print(f"\n== {size:,} opportunities: demo org starting (files in {work}) …", file=sys.stderr,
          flush=True)
    demo = DemoOrgProcess(size, shlex.split(args.demo_org_args), args.venvs / "demo-home",
                          work / "demo-org.log")
    try:
        org = tools.Org(demo.base_url, demo.fields["client_id"], demo.running.web_login, work,
                        args.start_date or tools.default_start_date(), args.timeout, args.keep)
        result: dict[str, Any] = {"size": size, "demo_org_args": args.demo_org_args,
                                  "start_date": org.start_date, "org_rows": demo.counts(),
                                  "runs": []}
        for name in args.tools.split(","):
            print(f"   {name} …", file=sys.stderr, flush=True)
            demo.reset_usage()  # the daily allocation must not run out across tools
            before = demo.limits()
            started = time.perf_counter()
            try:
                run = run_tool(name, org, args.venvs)
            except Exception as exc:  # one broken tool must not lose the others' figures
                run = tools.Run(name, failures=[f"{type(exc).__name__}: {exc}"[:400]])
            after = demo.limits()
            entry = dataclasses.asdict(run)
            entry["api_calls"] = before["api_remaining"] - after["api_remaining"] - 1
            entry["bulk_jobs"] = before["jobs_remaining"] - after["jobs_remaining"]
            entry["total_s_incl_setup"] = round(time.perf_counter() - started, 2)
            entry["load_1min_after"] = round(os.getloadavg()[0], 2)
            result["runs"].append(entry)
            print(f"   {name}: {'ok' if run.finished else 'FAILED'} {run.wall_s} s "
                  f"{entry['api_calls']} calls {entry['bulk_jobs']} jobs "
                  f"{run.peak_rss_mb} MB", file=sys.stderr, flush=True)
        result["demo_org_peak_rss_mb"] = round(tools.high_water_kb(demo.proc.pid) / 1024, 1)
    finally:
        demo.stop()
    return result


def table(results: list[dict[str, Any]]) -> str:
    head = (f"{'size':>7} {'tool':<18} {'done':<4} {'wall s':>7} {'cpu s':>7} {'calls':>6} "
            f"{'jobs':>5} {'rows':>8} {'rss MB':>7} {'ours x':>6}")
    lines = [head, "-" * len(head)]
    for result in results:
        ours = next((r for r in result["runs"] if r["tool"] == "smvue sync" and r["finished"]),
                    None)
        for run in result["runs"]:
            ratio = (f"{run['wall_s'] / ours['wall_s']:.1f}" if ours and run["finished"]
                     and run is not ours else "")
            lines.append(f"{result['size']:>7} {run['tool']:<18} "
                         f"{'yes' if run['finished'] else 'NO':<4} {run['wall_s']:>7} "
                         f"{run['cpu_s']:>7} {run['api_calls']:>6} {run['bulk_jobs']:>5} "
                         f"{sum(run['rows'].values()):>8} {run['peak_rss_mb']:>7} {ratio:>6}")
            lines.extend(f"{'':>27}! {failure}" for failure in run["failures"][:3])
    return "\n".join(lines)


def rows_table(result: dict[str, Any]) -> str:
    """Rows per object: the org's own count, then what each tool read (ours: stored)."""
    runs = result["runs"]
    names = [r["tool"].replace("simple-salesforce", "baseline")[:12] for r in runs]
    lines = [f"rows at {result['size']:,}: {'object':<24} {'org':>8} "
             + " ".join(f"{n:>12}" for n in names)]
    objects = sorted({o for r in runs for o in r["rows"]} | set(tools.OBJECTS))
    for obj in objects:
        lines.append(f"{'':>{len(str(result['size'])) + 10}}{obj:<24} "
                     f"{result['org_rows'].get(obj, ''):>8} "
                     + " ".join(f"{r['rows'].get(obj, ''):>12}" for r in runs))
    return "\n".join(lines)


def child(which: str) -> None:
    """The small jobs run in child processes (a fresh SMVUE_HOME; the baseline's own rusage)."""
    if which == "save-login":
        tools.save_login(json.loads(sys.stdin.read()))
    elif which.startswith("baseline="):
        tools.baseline_child(Path(which.removeprefix("baseline=")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true",
                        help="create the peers' virtualenvs and install them (PyPI), then run")
    parser.add_argument("--install-only", action="store_true")
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "smvue-peers",
                        help="where the peers' venvs and the generated orgs live")
    parser.add_argument("--sizes", default="20000,100000", help="opportunities, comma-separated")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"from {','.join(TOOLS)}")
    parser.add_argument("--demo-org-args", default="",
                        help="passed to `smvue-tui demo-org` as is (e.g. \"--latency-ms 50\")")
    parser.add_argument("--start-date", help="the peers' start_date (default: now − 2 years)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per tool run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the peers' output (their records) in the size's folder")
    parser.add_argument("--json", type=Path, default=Path("peers_bench.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    unknown = set(args.tools.split(",")) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if args.install or args.install_only:
        tools.install(args.venvs)
        if args.install_only:
            return
    load = os.getloadavg()
    results = [measure_size(int(size), args) for size in args.sizes.split(",")]
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "load_before": [round(x, 2) for x in load],
              "load_after": [round(x, 2) for x in os.getloadavg()], "results": results}
    args.json.write_text(json.dumps(report, indent=2))
    for result in results:
        print(rows_table(result) + "\n")
    print(table(results))
    print(f"load average before {report['load_before']}, after {report['load_after']}; "
          f"details in {args.json}")


if __name__ == "__main__":
    main()
