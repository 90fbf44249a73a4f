"""A mass update through the real listener: 10,000 Outbound Message notifications (run by hand).

    python tests/benchmarks/listener_load_bench.py [--notifications 10000] [--senders 4]
        [--connections 6] [--max-per-message 19] [--org-size 2000]

The listener is ``smvue-tui serve`` itself, in its own process, logged in to a demo org served
from this one, with a ``[webhook] public_url`` so it chooses Outbound Messages (nothing deployed).
The load comes from ``--senders`` other processes, as Salesforce sends it: real SOAP bodies
(``smvue_demo_org.outbound_envelope``, the fields the app's automation selects), one object's
notifications per message, up to ``--max-per-message`` a message (Salesforce batches up to 100),
each sender holding ``--connections`` keep-alive connections and re-sending whatever was not
ACKed. In the stream: 30 % of notifications sent again in later messages, 5 % of messages
redelivered whole, and stale versions — a record's notification from before its later change,
arriving after it, in any order.

Then, before anything else may sync: every message ACKed, every notification id stored once
(0 lost, 0 duplicated), all fetched, and the store equal to the org. Prints one JSON line: wall
time, messages/s and notifications/s from the first POST to the last ACK, the listener's CPU
seconds over the load (utime+stime from /proc; wall figures on a loaded machine are noise) and
ACK latency p50/p99. ``--profile FILE`` samples the listener with py-spy over the load
(speedscope JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

# --- a sender (its own process) ----------------------------------------------------------------


async def _send_all(host: str, port: int, path: str, bodies: list[tuple[int, bytes]],
                    connections: int) -> dict:
    """POST each body until it is ACKed, over ``connections`` keep-alive connections."""
    from smvue_tui.salesforce.outbound import ACK_BODY

    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    acked: list[int] = []
    latencies: list[float] = []
    retries = 0

    async def connection() -> None:
        nonlocal retries
        reader = writer = None
        while not queue.empty():
            index, body = queue.get_nowait()
            request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                       f"Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"\"\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            while True:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    started = time.perf_counter()
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length:"))
                    answer = await reader.readexactly(length)
                    if head.startswith(b"HTTP/1.1 200") and answer == ACK_BODY:
                        latencies.append(time.perf_counter() - started)
                        acked.append(index)
                        break
                except (OSError, asyncio.IncompleteReadError, StopIteration):
                    writer = None  # closed under us (a sweep, a restart): reconnect
                retries += 1  # Salesforce retries what was not ACKed
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    first = time.time()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return {"acked": acked, "latencies": latencies, "retries": retries, "first": first,
            "last": time.time()}


def sender_main(job: str) -> None:
    with open(job, "rb") as f:
        host, port, path, bodies, connections = pickle.load(f)
    sys.stdin.readline()  # "go": every sender starts together
    print(json.dumps(asyncio.run(_send_all(host, port, path, bodies, connections))), flush=True)


# --- the load: real SOAP bodies ----------------------------------------------------------------


def _bodies(running, changes_by_round: list[list[dict]], total: int, max_per_message: int,
            seed: int) -> tuple[list[bytes], set[str], int]:
    """The messages; the unique notification ids in them; how many carry a stale version."""
    from smvue_demo_org.ids import to_18
    from smvue_demo_org.outbound_envelope import notifications_xml, sobject_xml
    from smvue_tui.services.automation import LIVE_FIELDS

    org = running.org
    rng = random.Random(seed)
    # (round, object, id) → the record as it was after that round: a round's notification
    # carries its snapshot, so one from an earlier round is a stale version of the record.
    snapshots: list[tuple[int, str, str, str]] = []
    latest: dict[str, int] = {}
    for round_no, (changes, rows) in enumerate(changes_by_round):
        for change in changes:
            obj = org.catalog.get(change["sobject"])
            snapshots.append((round_no, change["sobject"], change["id"],
                              sobject_xml(obj, LIVE_FIELDS[change["sobject"]], change["id"],
                                          rows.get(change["id"]))))
            latest[change["id"]] = round_no
    unique = int(total * 0.7)
    picked = [rng.choice(snapshots) for _ in range(unique)]
    notes = [(f"04l8W{n:010d}", p[1], p[3], p[0] < latest[p[2]]) for n, p in enumerate(picked)]
    stream = notes + [rng.choice(notes) for _ in range(total - unique)]
    rng.shuffle(stream)
    org18 = to_18(org.org_id)
    soap = f"{org.base_url}/services/Soap"
    per_object: dict[str, list] = {}
    for note in stream:
        per_object.setdefault(note[1], []).append(note)
    messages: list[bytes] = []
    for number, (_sobject, items) in enumerate(sorted(per_object.items())):
        action = to_18(f"04k8W000000{number:04d}")
        start = 0
        while start < len(items):
            size = rng.randint(1, max_per_message)
            batch = items[start:start + size]
            start += size
            messages.append(notifications_xml(
                org18, action, f"{soap}/c/66.0/{org18[:15]}", f"{soap}/u/66.0/{org18[:15]}",
                [(n[0], n[2]) for n in batch]))
    rng.shuffle(messages)
    redelivered = rng.sample(messages, len(messages) // 20)  # whole messages sent again
    stale = sum(n[3] for n in stream)
    return messages + redelivered, {n[0] for n in notes}, stale


def _changes(running, rounds: int, count: int) -> list[tuple[list[dict], dict[str, dict]]]:
    """``rounds`` of org changes, each with the changed records as they were right after it."""
    from smvue_tui.services.automation import LIVE_FIELDS

    out = []
    for _ in range(rounds):
        changes = [c for c in running.admin("POST", "/mutate", json={"count": count})
                   .json()["changes"] if c["sobject"] in LIVE_FIELDS]
        conn = running.org.store.reader()
        conn.row_factory = sqlite3.Row
        rows: dict[str, dict] = {}
        try:
            for sobject in {c["sobject"] for c in changes}:
                ids = sorted({c["id"] for c in changes if c["sobject"] == sobject})
                marks = ",".join("?" * len(ids))
                rows.update({r["Id"]: dict(r) for r in conn.execute(
                    f'SELECT * FROM "{sobject}" WHERE Id IN ({marks})', ids)})
        finally:
            conn.close()
        out.append((changes, rows))
    return out


# --- the listener: `smvue-tui serve` -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_listener(home: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[webhook]\npublic_url = "https://hooks.example.org/smvue"\n'
                      f'port = {port}\n')
    command = [sys.executable, "-m", "smvue_tui", "serve", "--no-deploy"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    lines: list[str] = []
    while not any("next incremental" in line for line in lines):  # the first sync is done
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the listener stopped:\n" + "".join(lines) + proc.stderr.read())
        lines.append(line)
    if not any("listening for change notifications" in line for line in lines):
        raise SystemExit("the listener did not choose Outbound Messages:\n" + "".join(lines))
    return proc, port


def _wait_for_fetches(database: Path, unique: int, timeout: float) -> tuple[int, int, float]:
    """(stored notification ids, not yet fetched, seconds waited) once all are fetched."""
    began = time.perf_counter()
    while True:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            stored, pending = conn.execute(
                'SELECT COUNT(*), COUNT(*) - COUNT(fetched_at) FROM "change_notification"'
            ).fetchone()
        finally:
            conn.close()
        waited = time.perf_counter() - began
        if (stored >= unique and not pending) or waited > timeout:
            return stored, pending, waited
        time.sleep(0.2)


def _resync_differences(org, env: dict[str, str]) -> list[str]:
    """Run the scheduled resync (`smvue-tui sync`) once; how the store then differs from the
    org (an incremental reads what changed since its cursor: the objects no notification
    named)."""
    from smvue_tui.config import app_paths
    from smvue_tui.store.db import open_store
    from smvue_tui.store.object_spec import Lookbacks
    from tests.integration.sync_support import differences

    done = subprocess.run([sys.executable, "-m", "smvue_tui", "sync"], capture_output=True,
                          text=True, env=env, timeout=300)
    if done.returncode:
        return [f"smvue-tui sync failed: {done.stderr.strip()[-300:]}"]
    db = open_store(app_paths().for_org(org.org_id).database)
    conn = org.store.reader()
    try:
        return differences(conn, Lookbacks(), date.today())
    finally:
        conn.close()
        db.close()


# --- the run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--connections", type=int, default=6, help="per sender")
    parser.add_argument("--max-per-message", type=int, default=19)
    parser.add_argument("--org-size", type=int, default=2000)
    parser.add_argument("--profile", help="py-spy the listener into this file")
    parser.add_argument("--sender", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sender:
        return sender_main(args.sender)
    if not 1 <= args.max_per_message <= 100:
        parser.error("--max-per-message must be 1 to 100 (Salesforce's limit)")
    work = Path(tempfile.mkdtemp(prefix="smvue-listener-bench-"))
    home = work / "home"
    os.environ["SMVUE_HOME"] = str(home)  # before the app reads its paths
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        print(json.dumps(_run(args, work, home, env)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path, home: Path, env: dict[str, str]) -> dict:
    from smvue_demo_org.server import build_org, serve_in_thread
    from smvue_tui.config import app_paths
    from smvue_tui.salesforce.credentials import credentials_from_token
    from smvue_tui.salesforce.environments import resolve_environment
    from smvue_tui.salesforce.token_store import TokenStore
    from smvue_tui.services.automation import LIVE_FIELDS
    from smvue_tui.store.db import open_store
    from smvue_tui.store.object_spec import Lookbacks
    from tests.integration.conftest import RunningOrg
    from tests.integration.sync_support import differences

    org = build_org(size=args.org_size, seed=1,
                    cache_dir=Path(tempfile.gettempdir()) / "smvue-bench-cache")
    with serve_in_thread(org) as url:
        running = RunningOrg(org, url)
        TokenStore().save(credentials_from_token(
            running.web_login(), environment=resolve_environment(url), client_id=org.client_id))
        listener, port = _start_listener(home, env)
        try:
            token = (home / "config" / "webhook-token").read_text().strip()
            messages, unique_ids, stale = _bodies(
                running, _changes(running, 3, 400), args.notifications, args.max_per_message,
                seed=7)
            sent = sum(body.count(b"<Notification>") for body in messages)
            senders = []
            for number in range(args.senders):
                job = work / f"sender{number}.pickle"
                share = [(i, messages[i]) for i in range(number, len(messages), args.senders)]
                job.write_bytes(pickle.dumps(("127.0.0.1", port, f"/sf/outbound/{token}",
                                              share, args.connections)))
                senders.append(subprocess.Popen(
                    [sys.executable, __file__, "--sender", str(job)], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, text=True, env=env))
            spy = subprocess.Popen(["py-spy", "record", "--pid", str(listener.pid), "-f",
                                    "speedscope", "-o", args.profile, "--threads", "--gil"],
                                   stdout=subprocess.DEVNULL) if args.profile else None
            time.sleep(1.0)  # the senders have imported and are waiting
            cpu_before = _cpu_seconds(listener.pid)
            for proc in senders:
                proc.stdin.write("go\n")
                proc.stdin.flush()
            results = [json.loads(proc.communicate(timeout=600)[0]) for proc in senders]
            cpu_load = _cpu_seconds(listener.pid) - cpu_before
            database = app_paths().for_org(org.org_id).database
            stored, pending, drain = _wait_for_fetches(database, len(unique_ids), 180)
            cpu_all = _cpu_seconds(listener.pid) - cpu_before
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                spy.wait(timeout=60)
            db = open_store(database)
            try:
                from smvue_tui.store import models as m

                ids = [n for (n,) in m.ChangeNotification.select(
                    m.ChangeNotification.notification_id).tuples()]
                conn = org.store.reader()
                try:
                    problems = differences(conn, Lookbacks(), date.today(), limit=10**6)
                finally:
                    conn.close()
            finally:
                db.close()
        finally:
            listener.terminate()
            listener.wait(timeout=30)
        # The objects notified must equal the org now, before any sync; the rest (history,
        # contact roles, activities the random changes touched) is the next resync's to bring.
        notified = [p for p in problems if p.split(" ", 1)[0].rstrip(":") in LIVE_FIELDS]
        resynced = _resync_differences(org, env)
    org.store.close()
    acked = sorted(i for r in results for i in r["acked"])
    latencies = sorted(x for r in results for x in r["latencies"])
    wall = max(r["last"] for r in results) - min(r["first"] for r in results)
    report = {
        "messages": len(messages), "notifications": sent, "unique_notifications": len(unique_ids),
        "stale_versions": stale, "senders": args.senders, "connections": args.connections,
        "max_per_message": args.max_per_message,
        "wall_s": round(wall, 3), "messages_per_s": round(len(messages) / wall),
        "notifications_per_s": round(sent / wall),
        "listener_cpu_s_during_load": round(cpu_load, 3),
        "messages_per_listener_cpu_s": round(len(messages) / cpu_load) if cpu_load else None,
        "listener_cpu_s_until_all_fetched": round(cpu_all, 3),
        "all_fetched_after_s": round(drain, 2),
        "ack_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "ack_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
        "resends": sum(r["retries"] for r in results),
        "all_acked": acked == list(range(len(messages))),
        "lost": len(unique_ids - set(ids)), "duplicated": len(ids) - len(set(ids)),
        "unexpected": len(set(ids) - unique_ids), "not_fetched": pending,
        "notified_objects_equal_org": not notified, "differences": notified[:5],
        "other_objects_differ_before_resync": len(problems) - len(notified),
        "store_equals_org_after_resync": not resynced, "after_resync": resynced[:5],
        "load": os.getloadavg(),
    }
    ok = (report["all_acked"] and not report["lost"] and not report["duplicated"]
          and not report["unexpected"] and not pending and not notified and not resynced
          and stored == len(ids))
    report["ok"] = ok
    return report


if __name__ == "__main__":
    main()
