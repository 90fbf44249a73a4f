"""``smvue-tui store check|migrate|grants``: the store's health and upgrades, in words.

On this machine's SQLite stores, ``check`` runs SQLite's ``quick_check`` as well as the header
and size checks made at every open and lists damaged stores kept aside earlier (a damaged store
is moved aside — your notes, action items and team kept — by the next ``smvue-tui sync`` or start
of the app, not by this command); ``migrate`` brings every store to this version.

On a team store (``--store``, ``SMVUE_STORE_URL`` or ``[store] url``) ``check`` says each org
schema's version and writer, ``migrate`` upgrades the schemas (as their owner), and ``grants
ROLE`` prints the GRANTs that give a managers' role its rights (``services/team_admin.py``,
docs/team-store.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from smvue_tui.config import app_paths


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    for name, text in (("check", "check the store for damage or a needed upgrade (read-only)"),
                       ("migrate", "upgrade the store's schema to this smvue-tui's")):
        action = sub.add_parser(name, help=text, description=text)
        action.add_argument("--store", metavar="URL",
                            help="a team store: postgresql://user@host/db (no password: "
                                 "~/.pgpass, PGPASSWORD or SMVUE_STORE_URL)")
    grants = sub.add_parser("grants", help="print the GRANTs for a team store's managers' role")
    grants.add_argument("role", help="the PostgreSQL role every manager logs in as (or is in)")
    grants.add_argument("--store", metavar="URL",
                        help="the team store: postgresql://user@host/db (no password)")


def run(args: argparse.Namespace) -> int:
    from smvue_tui.store.setting import StoreUrlError, adopt_store_argument, store_url

    if problem := adopt_store_argument(getattr(args, "store", None)):  # as serve's
        print(f"error: {problem}", file=sys.stderr)
        return 2

    paths = app_paths()
    try:
        url = store_url(paths)
    except StoreUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if url:
        return _team_store(args, url)
    if args.store_command == "grants":
        print("error: grants are for a team store: give --store postgresql://… (or set "
              "SMVUE_STORE_URL)", file=sys.stderr)
        return 2
    if args.store_command == "migrate":
        return migrate_files(paths.data_dir, paths.database, sys.stdout)
    return check(paths.data_dir, paths.database, sys.stdout)


def _team_store(args: argparse.Namespace, url: str) -> int:
    from smvue_tui.errors import reason
    from smvue_tui.services import team_admin
    from smvue_tui.store.setting import redact

    try:
        if args.store_command == "grants":
            states = team_admin.org_schemas(url)
            if not states:
                print("error: no org in this team store yet: start `smvue-tui serve` once, "
                      "then print the grants", file=sys.stderr)
                return 1
            for state in states:
                print(f"-- org {state.org_id or '?'}: run as the owner of {state.schema} "
                      f"(serve's role), e.g. psql \"{redact(url)}\" -f grants.sql")
                print(team_admin.grant_sql(state.schema, args.role))
            return 0
        action = team_admin.migrate if args.store_command == "migrate" else team_admin.check
        return action(url, print)
    except Exception as exc:  # psycopg's OperationalError and kin: the server, in words
        if type(exc).__module__.split(".")[0] not in ("psycopg", "peewee"):
            raise
        first = reason(exc)
        print(f"error: the team store at {redact(url)}: {first}", file=sys.stderr)
        return 1


def migrate_files(data_dir: Path, default: Path, out: TextIO) -> int:
    """Open (so migrate) every SQLite store on this machine; each one's version."""
    from smvue_tui.store.db import SCHEMA_VERSION, open_store, schema_version
    from smvue_tui.store.health import StoreDamaged

    failed = 0
    for path in _stores(data_dir, default, out):
        try:
            db = open_store(path, recover=False)
        except StoreDamaged as exc:
            failed += 1
            print(f"DAMAGED  {path}\n         {exc}", file=out)
            continue
        try:
            print(f"ok       {path}: schema v{schema_version(db)} (this smvue-tui: "
                  f"v{SCHEMA_VERSION})", file=out)
        finally:
            db.close()
    return 1 if failed else 0


def _stores(data_dir: Path, default: Path, out: TextIO) -> list[Path]:
    """Every SQLite store on this machine; says so on ``out`` when there is none yet."""
    found = {p for p in data_dir.rglob("*.sqlite3") if p.is_file()} if data_dir.exists() else set()
    if default.exists():
        found.add(default)
    if not found:
        print(f"No store yet (it will be {default}).", file=out)
    return sorted(found)


def check(data_dir: Path, default: Path, out: TextIO) -> int:
    """Report each store's health; exit 1 when any is damaged."""
    from smvue_tui.store import health

    damaged = 0
    for path in _stores(data_dir, default, out):
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
