"""The tools peers_bench.py times: how each is installed, configured, started and counted.

Each ``run_*`` gets an ``Org`` (the one demo org process, logged in) and returns what it measured.
Our sync and the simple-salesforce baseline run from this checkout; Airbyte's connector and the
Singer tap run from their own virtualenvs through peers_launch.py (their token URL is hard-coded
to login.salesforce.com: the launcher sends that one POST to the demo org instead).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The versions measured before (issue 15); both install from PyPI into their own venvs.
PEERS = {"airbyte": "airbyte-source-salesforce==2.10.3", "singer": "tap-salesforce==2.8.1"}
# The objects our sync reads (smvue_tui.sync.plan.SPECS): peers are given the same streams.
OBJECTS = ("Organization", "User", "RecordType", "OpportunityStage", "Opportunity", "Account",
           "Contact", "OpportunityContactRole", "OpportunityHistory", "OpportunityTeamMember",
           "AccountTeamMember", "Lead", "LeadHistory", "Task", "Event", "EmailMessage")


@dataclass
class Org:
    """One demo org process: its URL and consumer key, and a way to log in afresh."""

    base_url: str
    client_id: str
    web_login: Callable[[], dict[str, Any]]
    work: Path  # scratch folder for this size's files
    start_date: str  # what the peers are told to read from (Airbyte's default: now − 2 years)
    timeout: float
    keep: bool = False  # keep the peers' stdout (their records) beside the request logs


@dataclass
class Run:
    """What one tool did: filled by the runner, the API accounting by the caller."""

    tool: str
    finished: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # from the launcher's request log
    failures: list[str] = field(default_factory=list)  # non-2xx answers and errors, first few
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def install(venvs: Path) -> None:
    """One virtualenv per peer under ``venvs``, each with its pinned package from PyPI."""
    for name, requirement in PEERS.items():
        venv = venvs / name
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"installing {requirement} into {venv} …", file=sys.stderr, flush=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", requirement], check=True)


def peer_python(venvs: Path, name: str) -> Path:
    python = venvs / name / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} is missing: run with --install first")
    return python


def timed(argv: list[str], *, env: dict[str, str] | None = None, stdout: Path | None = None,
          stderr: Path, stdin: str | None = None, timeout: float,
          cwd: Path = ROOT) -> tuple[int, float, Any]:
    """Run ``argv`` in ``cwd``; (exit code or -9 on timeout, wall seconds, (its rusage, peak RSS
    in KiB)). The peers run in their org's folder: Airbyte writes its Bulk CSVs to the cwd."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    err = open(stderr, "wb")  # noqa: SIM115
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=cwd,
                                stdin=subprocess.PIPE if stdin is not None else None)
        if stdin is not None:
            assert proc.stdin
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        deadline = started + timeout
        peak_kb = 0
        while True:  # wait4 (not Popen.wait): this one child's rusage (its CPU time)
            peak_kb = max(peak_kb, high_water_kb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                code = -9
                break
            time.sleep(0.05)
        proc.returncode = code
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
        err.close()
    return code, time.perf_counter() - started, (usage, peak_kb)


def high_water_kb(pid: int) -> int:
    """The process's own peak RSS so far (VmHWM). Not wait4's ru_maxrss: a child started by
    vfork+exec inherits its parent's high-water mark there, so a small tool would show this
    benchmark's own RSS."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def fill(run: Run, code: int, wall: float, usage: Any, stderr: Path) -> None:
    rusage, peak_kb = usage
    run.wall_s = round(wall, 2)
    run.cpu_s = round(rusage.ru_utime + rusage.ru_stime, 2)
    run.peak_rss_mb = round(peak_kb / 1024, 1)
    run.finished = code == 0
    if code == -9:
        run.failures.append("killed at the timeout")
    elif code:
        run.failures.append(f"exit {code}: " + tail(stderr))


def tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    keep = [t for t in text if re.search(r"error|exception|critical|failed", t, re.I)] or text
    return " | ".join(t.strip()[:300] for t in keep[-lines:])


# --- our sync ----------------------------------------------------------------------------------


def run_ours(org: Org) -> Run:
    """`smvue-tui sync --json` in a fresh SMVUE_HOME logged in to the org (as the tests log in)."""
    run = Run("smvue sync")
    home = org.work / "smvue-home"
    env = {**os.environ, "SMVUE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    login = json.dumps({"token": org.web_login(), "base_url": org.base_url,
                        "client_id": org.client_id})
    subprocess.run([sys.executable, str(HERE / "peers_bench.py"), "--child", "save-login"],
                   input=login.encode(), env=env, check=True, cwd=ROOT)
    out, err = org.work / "ours.json", org.work / "ours.err"
    code, wall, usage = timed([sys.executable, "-m", "smvue_tui", "sync", "--json"], env=env,
                              stdout=out, stderr=err, timeout=org.timeout)
    fill(run, code, wall, usage, err)
    try:
        report = json.loads(out.read_text())
    except (OSError, ValueError):
        return run
    run.rows = {k: v for k, v in report.get("counts", {}).items() if v}
    run.finished = run.finished and report.get("status") == "ok"
    run.extra = {"reported_api_calls": report.get("api_calls"),
                 "reported_seconds": report.get("seconds"), "status": report.get("status")}
    if report.get("errors"):
        run.failures.extend(str(e)[:300] for e in report["errors"][:3])
    return run


def save_login(setup: dict[str, Any]) -> None:
    """Child: keep the login in this SMVUE_HOME's token store, as `smvue-tui login` would."""
    from smvue_tui.salesforce.credentials import credentials_from_token
    from smvue_tui.salesforce.environments import resolve_environment
    from smvue_tui.salesforce.token_store import TokenStore

    creds = credentials_from_token(setup["token"],
                                   environment=resolve_environment(setup["base_url"]),
                                   client_id=setup["client_id"])
    TokenStore().save(creds)


# --- the simple-salesforce baseline -----------------------------------------------------------


def run_baseline(org: Org) -> Run:
    """sync_bench.py's baseline: describe, query_all the same objects and fields, insert_many."""
    run = Run("simple-salesforce")
    setup = json.dumps({"token": org.web_login(), "base_url": org.base_url})
    store, err = org.work / "baseline.sqlite3", org.work / "baseline.err"
    out = org.work / "baseline.json"
    code, wall, usage = timed([sys.executable, str(HERE / "peers_bench.py"), "--child",
                               f"baseline={store}"], env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdin=setup, stdout=out, stderr=err, timeout=org.timeout)
    fill(run, code, wall, usage, err)
    if run.finished:
        import sqlite3

        with sqlite3.connect(store) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            run.rows = {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        store.unlink()
    return run


def baseline_child(store: Path) -> None:
    from tests.benchmarks.sync_bench import baseline_child as baseline

    print(json.dumps(baseline(json.loads(sys.stdin.read()), store)), flush=True)


# --- the peers ---------------------------------------------------------------------------------


def _launch(org: Org, venvs: Path, peer: str, log: Path, *args: str) -> list[str]:
    return [str(peer_python(venvs, peer)), str(HERE / "peers_launch.py"), "--org", org.base_url,
            "--log", str(log), *args]


def _summarise_log(run: Run, log: Path) -> None:
    """Requests by kind, and the first few answers that were not 2xx (what the peer tripped on)."""
    kinds: Counter[str] = Counter()
    jobs = []
    for line in log.read_text().splitlines() if log.exists() else []:
        entry = json.loads(line)
        path = re.sub(r"/v\d+\.\d/", "/vNN/", entry["path"])
        path = re.sub(r"/(?=[A-Za-z]*\d)[0-9A-Za-z]{15,18}(?=/|$)", "/{id}", path)
        kinds[f"{entry['method']} {path}"] += 1
        if "job" in entry:
            jobs.append(entry["job"])
        ok = isinstance(entry["status"], int) and entry["status"] < 300
        if not ok and len(run.failures) < 6:
            query = f"?{entry['query'][:120]}" if entry["query"] else ""
            answer = f" -> {entry['answer'][:200]}" if "answer" in entry else ""
            run.failures.append(f"{entry['status']} on {entry['method']} {entry['path']}"
                                f"{query}{answer}")
    run.requests = dict(kinds.most_common())
    if jobs:
        run.extra["bulk_job_bodies"] = jobs[:3]


_STREAM = re.compile(rb'"stream"\s*:\s*"([^"]+)"')


def count_records(path: Path, run: Run, keep: bool = False) -> None:
    """RECORD messages per stream on a peer's stdout (Airbyte and Singer both say "stream")."""
    rows: Counter[str] = Counter()
    with open(path, "rb") as lines:
        for line in lines:
            if b'"RECORD"' in line[:60]:
                match = _STREAM.search(line, 0, 400) or _STREAM.search(line)
                rows[match.group(1).decode() if match else "?"] += 1
            elif b'"TRACE"' in line[:60] and b'"error"' in line and len(run.failures) < 6:
                message = json.loads(line).get("trace", {}).get("error", {}).get("message", "")
                run.failures.append("TRACE error: " + message[:300])
                run.finished = False
    run.rows = dict(sorted(rows.items()))
    if not keep:  # records of every field: hundreds of MB at 100k
        path.unlink()


def _airbyte_catalog(org: Org, venvs: Path, config: Path, log: Path) -> tuple[Path, float]:
    out, err = org.work / "airbyte-discover.out", org.work / "airbyte-discover.err"
    code, wall, _ = timed(_launch(org, venvs, "airbyte", log, "airbyte", "discover", "--config",
                                  str(config)), stdout=out, stderr=err, timeout=org.timeout,
                          cwd=org.work)
    catalog = None
    for line in out.read_text().splitlines():
        if line.startswith("{") and '"CATALOG"' in line[:40]:
            catalog = json.loads(line)["catalog"]
    if code or catalog is None:
        raise RuntimeError("Airbyte discover failed: " + tail(err))
    streams = []
    for stream in catalog["streams"]:
        if stream["name"] not in OBJECTS:
            continue
        incremental = "incremental" in stream["supported_sync_modes"]
        streams.append({"stream": stream,
                        "sync_mode": "incremental" if incremental else "full_refresh",
                        "cursor_field": stream.get("default_cursor_field", []),
                        "destination_sync_mode": "append",
                        "primary_key": stream.get("source_defined_primary_key", [["Id"]])})
    path = org.work / "airbyte-catalog.json"
    path.write_text(json.dumps({"streams": streams}))
    return path, wall


def _peer_config(org: Org, name: str, settings: dict[str, Any]) -> tuple[Path, Path]:
    """(request log, config file) for one peer run: a fresh refresh token from the demo org
    (its app has no secret, so any client_secret passes) plus the peer's own settings."""
    log = org.work / f"{name}.requests.jsonl"
    log.unlink(missing_ok=True)
    config = org.work / f"{name}-config.json"
    config.write_text(json.dumps({
        "client_id": org.client_id, "client_secret": "demo-org-accepts-any",
        "refresh_token": org.web_login()["refresh_token"], "is_sandbox": False,
        "start_date": org.start_date, **settings}))
    return log, config


def _peer_read(org: Org, venvs: Path, run: Run, name: str, log: Path, *args: str) -> Run:
    """Time the peer's read alone (discovery done), then count its records and requests."""
    log.unlink(missing_ok=True)
    out, err = org.work / f"{name}.out", org.work / f"{name}.err"
    code, wall, usage = timed(_launch(org, venvs, name.split("-")[0], log, *args), stdout=out,
                              stderr=err, timeout=org.timeout, cwd=org.work)
    fill(run, code, wall, usage, err)
    count_records(out, run, org.keep)
    _summarise_log(run, log)
    return run


def run_airbyte(org: Org, venvs: Path, api: str) -> Run:
    """`source-salesforce read` with the configured catalog of our objects; api auto or rest."""
    run = Run(f"airbyte {api}")
    log, config = _peer_config(org, f"airbyte-{api}", {"force_use_bulk_api": False})
    try:
        catalog, discover_s = _airbyte_catalog(org, venvs, config, log)
    except RuntimeError as exc:
        run.failures.append(str(exc))
        _summarise_log(run, log)
        return run
    run.extra["discover_s"] = round(discover_s, 2)
    return _peer_read(org, venvs, run, f"airbyte-{api}", log, "--airbyte-api", api, "airbyte",
                      "read", "--config", str(config), "--catalog", str(catalog))


def run_singer(org: Org, venvs: Path, api: str) -> Run:
    """`tap-salesforce --properties` with our objects selected (every field), api REST or BULK."""
    run = Run(f"singer {api.lower()}")
    log, config = _peer_config(org, f"singer-{api}", {"api_type": api,
                                                       "select_fields_by_default": True})
    out, err = org.work / f"singer-{api}-discover.out", org.work / f"singer-{api}-discover.err"
    code, discover_s, _ = timed(_launch(org, venvs, "singer", log, "singer", "--config",
                                        str(config), "--discover"),
                                stdout=out, stderr=err, timeout=org.timeout, cwd=org.work)
    if code:
        run.failures.append("discover failed: " + tail(err))
        _summarise_log(run, log)
        return run
    catalog = json.loads(out.read_text())
    catalog["streams"] = [s for s in catalog["streams"] if s["stream"] in OBJECTS]
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = True
    properties = org.work / f"singer-{api}-properties.json"
    properties.write_text(json.dumps(catalog))
    run.extra["discover_s"] = round(discover_s, 2)
    return _peer_read(org, venvs, run, f"singer-{api}", log, "singer", "--config", str(config),
                      "--properties", str(properties))


def default_start_date() -> str:
    """Airbyte's own default when none is given (now − 2 years), used for both peers."""
    return (datetime.now(UTC) - timedelta(days=730)).strftime("%Y-%m-%dT%H:%M:%SZ")
