"""``smvue-tui store check``: is the local store sound? Says so in words, changes nothing.

Checks every store under the data folder (SQLite's ``quick_check`` as well as the header and
size checks made at every open) and lists damaged stores kept aside earlier. A damaged store
is moved aside — your notes, action items and team kept — by the next ``smvue-tui sync`` or
start of the app, not by this command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from smvue_tui.config import app_paths


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    sub.add_parser("check", help="check the store for damage (read-only)")


def run(args: argparse.Namespace) -> int:
    from smvue_tui.store.backend import shared_store_note

    note = shared_store_note(app_paths(), "store check")
    if note:
        print(note, file=sys.stdout)
        return 0
    return check(app_paths().data_dir, app_paths().database, sys.stdout)


def _stores(data_dir: Path, default: Path) -> list[Path]:
    found = {p for p in data_dir.rglob("*.sqlite3") if p.is_file()} if data_dir.exists() else set()
    if default.exists():
        found.add(default)
    return sorted(found)


def check(data_dir: Path, default: Path, out: TextIO) -> int:
    """Report each store's health; exit 1 when any is damaged."""
    from smvue_tui.store import health

    stores = _stores(data_dir, default)
    if not stores:
        print(f"No store yet (it will be {default}).", file=out)
    damaged = 0
    for path in stores:
        problem = health.inspect(path, thorough=True)
        if problem is None:
            print(f"ok       {path}", file=out)
        else:
            damaged += 1
            print(f"DAMAGED  {path}\n         {problem}", file=out)
        for aside in health.moved_aside(path):
            print(f"         kept aside earlier: {aside}", file=out)
    if damaged:
        print("The next `smvue-tui sync` (or starting smvue-tui) moves a damaged store aside, "
              "keeps your notes, action items, team and settings in a new one, and reads "
              "Salesforce again. The damaged file is kept.", file=out)
    return 1 if damaged else 0
