"""``smvue-tui sync`` and ``smvue-tui status``: the sync engine and the store, headless.

``sync`` runs one sync with the stored login into the store of its org
(``data_dir/orgs/<org id>/``): the initial one (or its resumption) when the store
is not complete yet, otherwise an incremental one; ``--full`` re-reads everything and
``--reconcile`` also checks every stored Id against the org. Progress goes to stderr (redrawn in
place on a terminal, one line per event otherwise), the summary to stdout (``--json``: the
report as JSON). Exit codes: 0 ok, 1 failed, 2 not logged in, 3 paused by the API limit,
130 interrupted (the run is recorded as cancelled; the next one resumes).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
import time
from typing import Any, TextIO

from smvue_tui.config import ConfigError, Paths, app_paths, read_config
from smvue_tui.sync.progress import ProgressEvent
from smvue_tui.sync.status import local_time, write_status

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_NOT_CONNECTED, EXIT_PAUSED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
NOT_CONNECTED = "Not connected to Salesforce — run `smvue-tui login` first"
_EXIT_BY_STATUS = {"ok": EXIT_OK, "paused": EXIT_PAUSED, "cancelled": EXIT_INTERRUPTED}


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "sync":
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--full", action="store_true",
                          help="re-read everything (renews the field plan)")
        kind.add_argument("--reconcile", action="store_true",
                          help="also check every stored record still exists in the org")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    paths = app_paths()
    if args.command == "status":
        return write_status(paths, as_json=args.json, out=sys.stdout)
    kind = "full" if args.full else "reconcile" if args.reconcile else None
    try:
        return asyncio.run(sync_command(paths, kind, as_json=args.json,
                                        out=sys.stdout, err=sys.stderr))
    except KeyboardInterrupt:
        print("\ninterrupted: the run is recorded as cancelled; the next `smvue-tui sync` "
              "resumes where it stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug or a broken store: one clear line, details in the log
        log.exception("sync failed unexpectedly")
        print(f"error: the sync stopped unexpectedly ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        print("  what to do: run `smvue-tui sync` again; it resumes where it stopped",
              file=sys.stderr)
        return EXIT_FAILED


# --- progress --------------------------------------------------------------------------------


class ProgressDisplay:
    """Renders ProgressEvents: a block of lines redrawn in place on a terminal, else a log."""

    BAR = 20
    REDRAW_EVERY = 0.1  # seconds; a terminal cannot show faster updates anyway

    def __init__(self, stream: TextIO, *, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.latest: dict[str, ProgressEvent] = {}
        self._drawn = 0  # lines of the block on screen
        self._last_draw = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        self.latest[event.sobject] = event
        if not self.live:
            print(format_event(event), file=self.stream, flush=True)
            return
        now = time.monotonic()
        if event.phase == "running" and now - self._last_draw < self.REDRAW_EVERY:
            return
        self.redraw(now)

    def redraw(self, now: float | None = None) -> None:
        if not self.live:
            return
        self._last_draw = now if now is not None else time.monotonic()
        up = f"\x1b[{self._drawn}F" if self._drawn else ""  # to the block's first line
        lines = [f"{format_event(e)}\x1b[K" for e in self.latest.values()]
        self.stream.write(up + "\n".join(lines) + "\n")
        self.stream.flush()
        self._drawn = len(lines)

    def records(self) -> dict[str, int]:
        return {name: e.done for name, e in self.latest.items()}


def format_event(event: ProgressEvent, width: int = ProgressDisplay.BAR) -> str:
    total = event.total
    if event.phase == "done":
        total = event.done if total is None else max(total, event.done)
    share = min(1.0, event.done / total) if total else (1.0 if event.phase == "done" else 0.0)
    filled = round(share * width)
    bar = "#" * filled + "-" * (width - filled)
    count = f"{event.done:,}/{total:,}" if total is not None else f"{event.done:,}/?"
    eta = "done" if event.phase == "done" else (
        f"ETA {_clock(event.eta_s)}" if event.eta_s is not None else "ETA --")
    return (f"{event.sobject:<23} [{bar}] {count:>17}  {event.records_per_s:>8,.0f} rec/s  "
            f"{eta:<10} {event.api_calls:>5} API calls")


def _clock(seconds: float) -> str:
    whole = int(seconds + 0.5)
    return f"{whole // 60}:{whole % 60:02d}"


# --- the sync --------------------------------------------------------------------------------


async def sync_command(paths: Paths, kind: str | None, *, as_json: bool, out: TextIO,
                       err: TextIO, progress_live: bool | None = None) -> int:
    """One sync with the stored login; ``kind`` None picks initial or incremental."""
    from smvue_tui.salesforce.client import SalesforceClient
    from smvue_tui.salesforce.errors import ReauthorizationNeeded, SalesforceError
    from smvue_tui.salesforce.session import Session
    from smvue_tui.salesforce.token_store import TokenStore
    from smvue_tui.store.org_stores import StoreRefused, open_org_store, paths_for_org
    from smvue_tui.sync.runner import initial_or_incremental, login_org, run_once
    from smvue_tui.sync.status import save_usage

    try:  # read once, first: a file that cannot be used stops the sync before anything
        config = read_config(paths.config_file)
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    try:
        session = Session.from_store(TokenStore(paths.token_file))
    except ReauthorizationNeeded:
        print(NOT_CONNECTED, file=err)
        return EXIT_NOT_CONNECTED
    except SalesforceError as exc:  # a damaged token file
        print_error(_error_dict(exc), err)
        return EXIT_FAILED
    try:  # the store of the login's org; one holding another org is refused, unchanged
        paths = paths_for_org(paths, session.credentials.org_id)
        db = open_org_store(paths, login_org(session.credentials))
    except (StoreRefused, ValueError) as exc:
        await session.aclose()
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    recovery = getattr(db, "recovery", None)
    if recovery is not None:  # a damaged store was moved aside: say so before anything else
        print(recovery.message(), file=err)
    display = ProgressDisplay(err, live=progress_live)
    try:
        record_connection(session.credentials)
        kind = kind or initial_or_incremental()
        try:
            report = await run_once(SalesforceClient(session), db, kind, progress=display,
                                    on_usage=lambda usage: save_usage(paths, usage),
                                    config=config)
        finally:
            display.redraw()
            await session.aclose()
    finally:
        db.close()
    result = dataclasses.asdict(report)
    result["records"] = {name: max(n, report.counts.get(name, 0))
                         for name, n in display.records().items()}
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True), file=out)
    else:
        print(render_summary(result), file=out)
    return finish(result, err)


def record_connection(creds: Any) -> None:
    """The Connection row for the logged-in org, when the store does not have it yet."""
    from smvue_tui.store import models as m

    if not creds.org_id or m.Connection.get_or_none(m.Connection.org_id == creds.org_id):
        return
    env = creds.environment
    m.Connection.create(org_id=creds.org_id, environment=env.name, login_url=env.login_url,
                        instance_url=creds.instance_url, username=creds.username or None,
                        user_id=creds.user_id or None, is_sandbox=env.is_sandbox)


def finish(result: dict[str, Any], err: TextIO) -> int:
    """Explain a run that did not end ok on stderr; the exit code for its status."""
    status = result["status"]
    if status == "paused":
        budget = any(e.get("code") == "BUDGET" for e in result["errors"])
        what = "SMVue's share of the daily API limit reached" if budget else \
            "Salesforce API rate limit exceeded"
        when = local_time(result["resumes_at"]) if result["resumes_at"] else \
            "midnight Pacific Time"
        print(f"paused: {what} — resumes at {when}", file=err)
    elif status == "failed":
        for error in result["errors"][-1:]:  # the one that stopped the run
            print_error(error, err)
    elif status == "cancelled":
        print("cancelled: the next `smvue-tui sync` resumes where this one stopped", file=err)
    return _EXIT_BY_STATUS.get(status, EXIT_FAILED)


def _error_dict(exc: Any) -> dict[str, str]:
    return {"object": "", "code": exc.code, "message": exc.user_message, "detail": exc.detail,
            "remedy": exc.remedy}


def print_error(error: dict[str, str], err: TextIO) -> None:
    where = f" ({error['object']})" if error.get("object") else ""
    code = f" [{error['code']}]" if error.get("code") else ""
    print(f"error{where}: {error.get('message', '')}{code}", file=err)
    if error.get("detail"):
        print(f"  {error['detail']}", file=err)
    if error.get("remedy"):
        print(f"  what to do: {error['remedy']}", file=err)


def render_summary(result: dict[str, Any]) -> str:
    records = result["records"] or result["counts"]
    removed = sum(n for name, n in result["removed"].items())
    lines = [f"{result['kind']} sync {result['status']}: {len(records)} objects, "
             f"{sum(records.values()):,} records stored ({sum(result['counts'].values()):,} "
             f"new), {removed:,} removed, {result['api_calls']} API calls, "
             f"{result['seconds']:.1f} s"]
    drift = result.get("drift") or {}
    if drift:  # reconcile found rows the store had missed: say which, and that they are back
        found = ", ".join(f"{name} {n:,}" for name, n in sorted(drift.items()))
        lines.append(f"  drift repaired: rows missing from the store were read again ({found})"
                     if result["status"] == "ok" else f"  drift found, not yet repaired: {found}")
    elif result["kind"] == "reconcile" and result["status"] == "ok":
        lines.append("  reconciled: every object's Ids and counts match the org")
    for name, reason in sorted(result["skipped"].items()):
        lines.append(f"  skipped {name}: {reason}")
    for error in result["errors"] if result["status"] == "ok" else []:
        lines.append(f"  warning ({error.get('object') or 'sync'}): {error.get('message')} "
                     f"— {error.get('remedy')}")
    return "\n".join(lines)
