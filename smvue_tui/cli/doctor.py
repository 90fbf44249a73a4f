"""``smvue-tui doctor``: the Connect screen's preflight, printed — for a user over SSH.

Runs the same checks as the Connect screen after a login (salesforce/preflight.py) against the
stored login, prints one line per check with what to do when it is not ok, and adds what only
this machine knows: the callback URL the connected app must register, and whether config.toml's
[webhook] section is usable. Exit code 0 when SMVue can sync, 1 when a check failed, 2 when
there is no usable login. Nothing is written, here or in Salesforce.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from smvue_tui.config import app_paths

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
EXIT_NOT_CONNECTED = 2


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    """No options: it checks the stored login."""


def run(args: argparse.Namespace) -> int:
    return asyncio.run(doctor(sys.stdout, sys.stderr))


async def doctor(out: TextIO, err: TextIO) -> int:
    from smvue_tui.salesforce.errors import AuthorizationError, SalesforceError
    from smvue_tui.salesforce.preflight import run_preflight
    from smvue_tui.salesforce.redaction import install_redaction
    from smvue_tui.services.connection import client_factory_for, has_stored_login

    install_redaction()
    paths = app_paths()
    _local_lines(paths, out)
    if not has_stored_login(paths):
        print("Not logged in to Salesforce: run `smvue-tui login` first "
              "(docs/real-org.md says how to set up a connected app).", file=err)
        return EXIT_NOT_CONNECTED
    try:
        client = client_factory_for(paths)()
    except SalesforceError as exc:
        print(f"The stored login cannot be used: {exc.describe()}\n  {exc.remedy}", file=err)
        return EXIT_NOT_CONNECTED
    creds = client.session.credentials
    print(f"Login: {creds.who()} at {creds.instance_url} ({creds.environment.label()})",
          file=out)
    try:
        report = await run_preflight(client)
    except AuthorizationError as exc:
        print(f"The stored login no longer works: {exc.describe()}\n  {exc.remedy}", file=err)
        return EXIT_NOT_CONNECTED
    finally:
        await client.aclose()
    print(_heading(report), file=out)
    for line in report.lines:
        print(f"  [{MARKS.get(line.status, line.status)}] {line.name}: {line.message}",
              file=out)
        if line.remedy and line.status != "ok":
            print(f"         What to do: {line.remedy}", file=out)
    print("SMVue can sync this org." if report.ok else
          "SMVue cannot sync this org until the failed checks are fixed.", file=out)
    return 0 if report.ok else 1


def _heading(report: Any) -> str:
    kind = {True: "Sandbox", False: "Production"}.get(report.is_sandbox, "")
    extra = ", ".join(x for x in (report.edition or "", kind) if x)
    return f"Org: {report.org_name or 'unknown'}" + (f" ({extra})" if extra else "")


def _local_lines(paths: Any, out: TextIO) -> None:
    """What this machine's configuration says, before asking Salesforce anything."""
    from smvue_tui.salesforce.consumer import ConsumerNotConfigured, load_settings
    from smvue_tui.salesforce.loopback import DEFAULT_PATH
    from smvue_tui.services.automation import webhook_config

    try:
        settings = load_settings(paths.config_file)
        print(f"Callback URL your connected app must list: "
              f"http://localhost:{settings.redirect_port}{DEFAULT_PATH}", file=out)
    except ConsumerNotConfigured as exc:
        print(f"config.toml [salesforce]: {exc.detail or exc.user_message}", file=out)
    try:
        from smvue_tui.config import read_config

        public, _user = webhook_config(read_config(paths.config_file))
    except ValueError as exc:  # config.ConfigError too: the file's own problem, in words
        print(f"config.toml [webhook]: not usable — {exc}; updates come from the scheduled "
              "resync", file=out)
        return
    if not public:
        print("Change notifications: off (no [webhook] public_url); updates come from the "
              "scheduled resync", file=out)
    else:
        print(f"Change notifications: Salesforce will call {public}", file=out)
