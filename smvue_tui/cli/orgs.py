"""``smvue-tui orgs`` and ``smvue-tui forget ORG_ID``: the org stores on this machine.

Each org has its own store (``data_dir/orgs/<org id>/``, see ``store/org_stores.py``). ``orgs``
lists them — org, environment, size, last sync, and which one the stored login opens. ``forget``
deletes one org's store and its companion files after a confirmation (``--yes`` for scripts);
the store of the org you are logged in to is refused (log out first), since a running TUI or
``serve`` may have it open.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TextIO

from smvue_tui.config import Paths, app_paths


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "forget":
        parser.add_argument("org_id", metavar="ORG_ID", help="the org id (15 or 18 characters)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        return
    parser.add_argument("--json", action="store_true", help="print the list as JSON")


def run(args: argparse.Namespace) -> int:
    from smvue_tui.store.backend import shared_store_note
    from smvue_tui.store.setting import StoreUrlError

    paths = app_paths()
    try:
        note = shared_store_note(paths, args.command)
    except StoreUrlError as exc:  # which store is meant is unknown: refused, not listed
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if note:  # forgetting would leave the shared store's schema: refused, in words
        print(note, file=sys.stderr if args.command == "forget" else sys.stdout)
        return 2 if args.command == "forget" else 0
    if args.command == "forget":
        return forget(paths, args.org_id, assume_yes=args.yes, out=sys.stdout, err=sys.stderr,
                      ask=input)
    return list_orgs(paths, as_json=args.json, out=sys.stdout)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def list_orgs(paths: Paths, *, as_json: bool, out: TextIO) -> int:
    from smvue_tui.store.org_stores import list_stores, paths_for_login

    current = paths_for_login(paths).org_id  # the login's org (or the last used)
    stores = list_stores(paths)
    rows = [{"org_id": s.org.org_id, "name": s.org.name, "environment": s.org.environment,
             "size_bytes": s.size_bytes, "last_sync": s.last_sync, "path": str(s.path),
             "current": bool(current) and s.org.org_id == current, "adopted": s.adopted}
            for s in stores]
    if as_json:
        print(json.dumps(rows, indent=2), file=out)
        return 0
    if not rows:
        print("No org stores yet: `smvue-tui login`, then `smvue-tui sync`.", file=out)
        return 0
    for row in rows:
        mark = "*" if row["current"] else " "
        env = row["environment"] or "environment unknown"
        badge = "  [SANDBOX]" if row["environment"] == "Sandbox" else ""
        print(f"{mark} {row['org_id']:<18}  {row['name'] or '(not synced yet)'} · {env}"
              f"{badge}", file=out)
        print(f"    {_size(row['size_bytes'])}, last sync: {row['last_sync'] or 'never'}"
              f"  ({row['path']})", file=out)
    print("* the store `smvue-tui sync` and the TUI open (the stored login's org)", file=out)
    return 0


def forget(paths: Paths, org_id: str, *, assume_yes: bool, out: TextIO, err: TextIO,
           ask: Callable[[str], str]) -> int:
    from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError
    from smvue_tui.store.health import others_open
    from smvue_tui.store.org_stores import (
        automation_left_in_org,
        canonical_org_id,
        forget_store,
        list_stores,
        same_org,
    )

    try:
        wanted = canonical_org_id(org_id)
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    store = next((s for s in list_stores(paths) if s.adopted and s.org.org_id == wanted), None)
    if store is None:
        print(f"error: there is no store for org {wanted} on this machine "
              "(`smvue-tui orgs` lists them)", file=err)
        return 1
    try:
        creds = TokenStore(paths.token_file).load()
    except TokenStoreError:
        creds = None
    if creds is not None and same_org(creds.org_id, wanted):
        print(f"error: you are logged in to org {wanted}; run `smvue-tui logout` first, "
              "then forget its store", file=err)
        return 1
    if others_open(store.path):
        print(f"error: another smvue-tui (the app, `serve` or a sync) has org {wanted}'s store "
              "open; close it first, then forget the store", file=err)
        return 1
    what = f"{store.org} — {_size(store.size_bytes)} at {store.path.parent}"
    left = automation_left_in_org(store.path)
    if left:
        print(f"warning: SMVue's automation is still deployed in org {wanted} ({', '.join(left)})"
              " and this store is its only record; log in to that org and Disconnect first to "
              "remove it, or remove it by hand in Setup afterwards", file=err)
    if not assume_yes:
        try:
            answer = ask(f"Delete the store of {what}, with its notes and action items? "
                         "Type yes to confirm: ")
        except EOFError:
            answer = ""
        if str(answer).strip().lower() not in ("y", "yes"):
            print("Nothing deleted.", file=out)
            return 1
    forget_store(paths, wanted)
    print(f"Deleted the store of {what}.", file=out)
    return 0
