"""A sync run in a process of its own, for the TUI.

Decoding 2,000-record pages and converting rows is pure Python: in the app's process it holds
the interpreter lock the screen needs, and keys took seconds to answer during an initial sync.
In a child process the screen keeps a core to itself. The store is SQLite in WAL mode, so the
app reads while the child writes.

Protocol. Parent → child (stdin): one JSON object ``{"kind", "paths"}`` (``paths.org_id``: the
org whose store the app has open); the login comes from the token store, never from argv or the
environment. Child → parent (stdout): one JSON object
per line — ``{"progress": ProgressEvent, "usage": {"used", "max"}}`` while it runs, then
``{"report": SyncReport}``. SIGTERM cancels the run between pages; it is recorded as cancelled
and the next run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from smvue_tui.config import Paths
from smvue_tui.salesforce.usage import ApiUsage
from smvue_tui.sync.engine import SyncReport
from smvue_tui.sync.progress import ProgressCallback, ProgressEvent

log = logging.getLogger(__name__)
CHILD_NICENESS = 10
STOP_GRACE_S = 10.0  # after SIGTERM, how long the child may take to finish its page
LINE_LIMIT = 1 << 20  # bytes per protocol line (a report with many errors stays well under)


class ChildSync:
    """Runs syncs in a child process; ``usage`` is the running sync's latest API reading."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.usage = ApiUsage()

    async def run(self, kind: str, progress: ProgressCallback | None = None) -> SyncReport:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smvue_tui.services.sync_child", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=LINE_LIMIT)
        assert proc.stdin and proc.stdout and proc.stderr
        paths = {f.name: str(getattr(self.paths, f.name)) for f in dataclasses.fields(Paths)}
        proc.stdin.write(json.dumps({"kind": kind, "paths": paths}).encode())
        proc.stdin.close()
        errors: collections.deque[str] = collections.deque(maxlen=20)
        drain = asyncio.create_task(_collect(proc.stderr, errors))
        report: SyncReport | None = None
        try:
            async for line in _lines(proc.stdout):
                try:
                    message = json.loads(line)
                except ValueError:  # not ours (a library printing): keep it for the log
                    errors.append(line.decode(errors="replace"))
                    continue
                if "report" in message:
                    report = SyncReport(**message["report"])
                elif "progress" in message:
                    self.usage = ApiUsage(**message.get("usage", {}))
                    if progress is not None:
                        progress(ProgressEvent(**message["progress"]))
            await proc.wait()
            await drain
        except BaseException:  # cancelled (or a bug here): the child must not run on alone
            await _stop(proc)
            drain.cancel()
            raise
        if report is None:  # it died before reporting: a bug, or killed from outside
            log.error("the sync process ended with code %s:\n%s", proc.returncode,
                      "".join(errors))
            report = SyncReport(kind, status="failed")
            report.errors.append({
                "object": "", "code": "SYNC_PROCESS_FAILED",
                "message": "The sync stopped on an unexpected error",
                "detail": (errors[-1].strip() if errors else f"exit code {proc.returncode}"),
                "remedy": "Press y to sync again; it resumes where it stopped. If it happens "
                          "again, please report it with the log file."})
        return report


async def _lines(stream: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The stream's lines; one longer than LINE_LIMIT is cut into pieces instead of ending the
    reading (it would leave the child blocked on a full pipe, and the run with no report)."""
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # over the limit: what was buffered is dropped, the rest follows
            line = b"[an over-long line was cut]\n"
        if not line:
            return
        yield line


async def _collect(stream: asyncio.StreamReader, into: collections.deque[str]) -> None:
    async for line in _lines(stream):
        into.append(line.decode(errors="replace"))


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Ask the child to stop between pages; kill it if it does not in time."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_GRACE_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


# --- the child ------------------------------------------------------------------------------


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


async def _child(kind: str, paths: Paths) -> int:
    from smvue_tui.salesforce.errors import SalesforceError
    from smvue_tui.services.connection import client_factory_for
    from smvue_tui.store.org_stores import StoreRefused, open_org_store
    from smvue_tui.sync.runner import client_org, could_not_start, run_once, wrong_store
    from smvue_tui.sync.status import save_usage

    try:
        client = client_factory_for(paths)()
    except SalesforceError as exc:
        _emit({"report": dataclasses.asdict(could_not_start(kind, exc))})
        return 1

    task = asyncio.current_task()
    assert task is not None

    def progress(event: ProgressEvent) -> None:
        usage = client.usage
        try:
            _emit({"progress": dataclasses.asdict(event),
                   "usage": {"used": usage.used, "max": usage.max}})
        except (BrokenPipeError, ValueError):  # the app is gone: stop as if cancelled
            task.cancel()

    with contextlib.suppress(NotImplementedError):  # no POSIX signals (Windows)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:  # the store of the org the app has open; refused when it holds another org
        db = open_org_store(paths, client_org(client))
    except StoreRefused as exc:
        await client.aclose()
        _emit({"report": dataclasses.asdict(wrong_store(kind, exc))})
        return 1
    try:
        report = await run_once(client, db, kind, progress=progress,
                                on_usage=lambda usage: save_usage(paths, usage))
    except asyncio.CancelledError:
        return 130
    finally:
        db.close()
    _emit({"report": dataclasses.asdict(report)})
    return 0


def main() -> int:
    from smvue_tui.services.log_file import log_to_file

    # Background work: when the CPU is short, the screen the user is looking at goes first.
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no os.nice (Windows)
        os.nice(CHILD_NICENESS)
    request = json.loads(sys.stdin.read())
    paths = Paths(**{name: value if name == "org_id" else Path(value)
                     for name, value in request["paths"].items()})
    log_to_file(paths)
    return asyncio.run(_child(request["kind"], paths))


if __name__ == "__main__":
    raise SystemExit(main())
