"""``smvue-tui inspect``: what changed, forecast categories, risk flags and per-rep figures, from
the local store (no Salesforce call), for scripts and cron.

    smvue-tui inspect [--since 7d | --period this-quarter] [--rep NAME] [--json]

Exit codes: 0 ok, 1 bad input (a clear message on stderr), 2 no local store yet, 120 the
output could not be written (a full disk).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from smvue_tui.cli.inspect_flags import Child
from smvue_tui.cli.main import EXIT_OUTPUT_LOST, hard_exit, output_lost
from smvue_tui.config import app_paths, read_config
from smvue_tui.errors import reason
from smvue_tui.inspection.periods import PERIODS
from smvue_tui.store.setting import without_postgres_driver

EXIT_OK, EXIT_BAD_INPUT, EXIT_NO_STORE = 0, 1, 2
KIND_LABELS = {"new": "new", "won": "won", "lost": "lost", "moved_in": "moved into the quarter",
               "moved_out": "moved out of the quarter", "pushed": "close date pushed",
               "pulled_in": "close date pulled in", "amount_up": "amount up",
               "amount_down": "amount down", "stage_forward": "stage forward",
               "stage_back": "stage back", "owner_changed": "owner changed"}


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--since", metavar="SPAN",
                      help="changes in the last SPAN (7d, 24h, 2w) or since a date "
                           "(2026-11-01); default 7d")
    span.add_argument("--period", metavar="NAME",
                      help=f"changes in a named period: {', '.join(PERIODS)}")
    parser.add_argument("--rep", metavar="NAME", help="one deal owner (a part of the name will do)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "own_process", False):  # a SQLite store: psycopg never imported
        without_postgres_driver(app_paths())
    now = datetime.now(UTC)
    child = None
    if args.json and not sys.stdout.isatty():  # the flags beside the rest (inspect_flags)
        child = Child.start(args.rep, now)
    try:
        return _run(args, now, child)
    finally:
        if child is not None:
            child.stop()


def _run(args: argparse.Namespace, now: datetime, child: Child | None) -> int:
    from smvue_tui.store.org_stores import (
        StoreMissing,
        StoreRefused,
        open_org_store,
        paths_for_login,
    )

    paths = paths_for_login(app_paths())  # the stored login's org, else the one used last
    try:
        db = open_org_store(paths, create=False)
    except StoreMissing:
        print("error: no local store yet — run `smvue-tui sync` (or open the app) first",
              file=sys.stderr)
        return EXIT_NO_STORE
    except StoreRefused as exc:  # another org's store, or the old one still in use
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if child is not None:
        from smvue_tui.store.inspection_queries import fresh_facts

        # The facts a sync left to recompute, written here first: the child only reads (two
        # at once would both start it, one waiting on the other's lock past SQLite's timeout).
        fresh_facts()
        child.go()  # the store is open, migrated and its facts fresh: the child may read it
    from smvue_tui.inspection.report import no_cycle_collection

    # The report is a few hundred thousand small objects and no cycles: the cyclic collector
    # stays off until it is freed, or its first pass after the report would walk all of them.
    with no_cycle_collection():
        return _report(args, paths.config_file, db, now, child)


def _report(args: argparse.Namespace, config: Any, db: Any, now: datetime,
            child: Child | None) -> int:
    """The report of the open store ``db`` (closed here), printed as ``args`` ask."""
    from smvue_tui.inspection.report import inspect
    from smvue_tui.store.inspection_queries import read_mapped

    kept: list[Any] = []  # never freed when the process ends after printing (hard_exit)
    try:
        read_mapped()
        report = inspect(read_config(config), since=args.since, period=args.period,
                         rep=args.rep, now=now, elsewhere=child,
                         keep=kept if getattr(args, "own_process", False) else None)
    except (ValueError, LookupError) as exc:  # our own errors, worded for the user
        print(f"error: {reason(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        db.close()
    try:
        _print(report, args.json)
    except BrokenPipeError:  # the reader left (`| head`): main() says that is fine
        raise
    except OSError as exc:  # a full disk: said in words, and not a success (as hard_exit)
        print(output_lost(exc), file=sys.stderr)
        # What stays in the buffer is dropped, not written again (and failed) at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OUTPUT_LOST
    if getattr(args, "own_process", False):
        hard_exit(EXIT_OK)  # the report is never freed object by object: the process ends
    return EXIT_OK


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:  # orjson: at 100,000 deals the report is tens of MB; json.dump took a second
        # Indented for a person at a terminal; one compact line for a script or a file (the
        # same object: a third smaller and faster to write and to parse at 100,000 deals).
        indent = orjson.OPT_INDENT_2 if sys.stdout.isatty() else 0
        sys.stdout.flush()
        sys.stdout.buffer.write(orjson.dumps(report, option=indent | orjson.OPT_SORT_KEYS
                                             | orjson.OPT_APPEND_NEWLINE))
        sys.stdout.buffer.flush()
    else:
        render_text(report, sys.stdout)
        sys.stdout.flush()


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def render_text(report: dict[str, Any], out: TextIO) -> None:
    """A plain summary for a terminal or a cron mail."""
    w, src = report["window"], report["sources"]
    rep = f" — {report['rep']['name']}" if report["rep"] else ""
    print(f"Pipeline inspection, {w['label']} ({w['start'][:16]} → {w['end'][:16]} UTC){rep}",
          file=out)
    source = ("OpportunityHistory + change log" if src["opportunity_history"]
              else "change log only (no OpportunityHistory)")
    print(f"  from {source}" + ("" if src["complete"] else
                                "; the change log began after the window's start"), file=out)
    ch = report["changes"]
    print("\nChanges", file=out)
    for kind, cell in ch["totals"].items():
        if cell["count"]:
            print(f"  {KIND_LABELS[kind]:<26} {cell['count']:>6}  {_money(cell['amount']):>14}",
                  file=out)
    if not ch["deals"]:
        print("  none", file=out)
    wf = ch["waterfall"]
    print(f"\nThis quarter's open pipeline: {_money(wf['start'])} → {_money(wf['end'])} "
          f"(new {_money(wf['new'])}, moved in {_money(wf['moved_in'])}, moved out "
          f"{_money(wf['moved_out'])}, won {_money(wf['won'])}, lost {_money(wf['lost'])}, "
          f"changed {_money(wf['changed'])})", file=out)
    for deal in ch["deals"][:15]:
        then, now = deal["then"] or {}, deal["now"]
        print(f"  {deal['name'][:34]:<34} {deal['owner'] or '':<18} "
              f"{', '.join(KIND_LABELS[k] for k in deal['kinds'])}"
              f"  {_money(then.get('amount'))} → {_money(now['amount'])}", file=out)
    if len(ch["deals"]) > 15:
        print(f"  … and {len(ch['deals']) - 15} more (--json for all)", file=out)
    print("\nForecast (this quarter / next quarter)", file=out)
    this, nxt = report["forecast"]["this_quarter"], report["forecast"]["next_quarter"]
    for cat, cell in this["total"].items():
        print(f"  {cat:<10} {_money(cell['amount']):>14} / "
              f"{_money(nxt['total'][cat]['amount']):>14}", file=out)
    fl = report["flags"]
    print(f"\nAt risk: {len(fl['deals'])} open deals flagged", file=out)
    for deal in fl["deals"][:10]:
        print(f"  {deal['name'][:34]:<34} {_money(deal['amount']):>12}  "
              f"{'; '.join(f['reason'] for f in deal['flags'])}", file=out)
    print("\nReps", file=out)
    print(f"  {'name':<22} {'open':>12} {'weighted':>12} {'win rate':>8} {'cycle':>6} "
          f"{'acts 14d':>8} {'flagged':>7}", file=out)
    for r in report["reps"]:
        rate = "—" if r["win_rate_12m"] is None else f"{r['win_rate_12m']:.0%}"
        cycle = "—" if r["avg_cycle_days_12m"] is None else f"{r['avg_cycle_days_12m']:.0f}d"
        print(f"  {r['name'][:22]:<22} {_money(r['open_amount']):>12} "
              f"{_money(r['weighted']):>12} {rate:>8} {cycle:>6} {r['activities_14d']:>8} "
              f"{r['flagged_deals']:>7}", file=out)
