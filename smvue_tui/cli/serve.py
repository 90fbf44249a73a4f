"""``smvue-tui serve``: the headless mode for a server — scheduler and listener, no UI.

Keeps the store fresh exactly as the TUI does while it is open: a resync every 15 minutes, a
reconciliation every 6 hours, and (when config.toml's ``[webhook] public_url`` is set) the
change-notification listener plus the automation that makes Salesforce call it.

On a team store (``--store postgresql://…``, ``SMVUE_STORE_URL`` or ``[store] url``) it is the
org's one writer (``services/team_serve.py``): a second ``serve`` for the org is refused, and the
TUIs of the team read what it writes (docs/team-store.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import datetime
from typing import Any

from smvue_tui.config import ConfigError, app_paths, read_config


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--host", help="listener address (default: [webhook] host)")
    parser.add_argument("--port", type=int, help="listener port (default: [webhook] port)")
    parser.add_argument("--no-deploy", action="store_true",
                        help="listen, but do not deploy the Salesforce automation")
    parser.add_argument("--store", metavar="URL",
                        help="the team store to write: postgresql://user@host/db, with no "
                             "password (it would show in ps: use ~/.pgpass, PGPASSWORD or "
                             "SMVUE_STORE_URL) (default: SMVUE_STORE_URL, else [store] url, "
                             "else this machine's SQLite)")


def run(args: argparse.Namespace) -> int:
    from smvue_tui.services.connection import has_stored_login
    from smvue_tui.store.setting import adopt_store_argument

    # The one setting every part (a sync child too) opens the store by; never a password.
    if problem := adopt_store_argument(args.store):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    paths = app_paths()
    try:  # read once, first: a file that cannot be used stops serve before anything
        config = read_config(paths.config_file)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not has_stored_login(paths):
        print("Not connected to Salesforce — run `smvue-tui login` first", file=sys.stderr)
        return 2
    from smvue_tui.services.app_services import AppServices
    from smvue_tui.services.team_serve import TeamServeError, claim_org
    from smvue_tui.store.org_stores import StoreRefused

    try:  # a team store: the org's writer lock first, so a refused serve writes nothing
        writer = claim_org(paths)
    except TeamServeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:  # the store of the login's org; one holding another org is refused, unchanged
        services = AppServices.create(paths)
        if writer is not None:
            writer.started()
    except StoreRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    where = writer.where if writer is not None else services.paths.database
    _say(f"serving org {services.paths.org_id or '(unknown)'}: {where}")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args, services, config, writer))
    except StoreRefused as exc:  # the listener's own check (the store changed under it)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except TeamServeError as exc:  # the writer lock was lost to another serve
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if writer is not None:
            writer.release()
    return 0



def _say(text: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {text}", flush=True)


async def _serve(args: argparse.Namespace, services: Any, config: dict[str, Any],
                 writer: Any = None) -> None:
    from smvue_tui.services.connection import client_factory_for
    from smvue_tui.services.live import LiveServices
    from smvue_tui.store.field_mapping import mark_backfilled
    from smvue_tui.sync.coordinator import SyncCoordinator
    from smvue_tui.sync.runner import run_once
    from smvue_tui.sync.status import save_usage

    factory = client_factory_for(services.paths)

    async def sync(kind: str) -> object:
        if writer is not None:  # still the org's writer? (TeamServeError when not)
            await asyncio.to_thread(writer.before_sync)
        report = await run_once(factory(), services.db, kind, config=config,  # read once
                                on_usage=lambda usage: save_usage(services.paths, usage))
        _say(f"{kind} sync: {report.status}, {sum(report.counts.values())} records, "
             f"{report.api_calls} API calls" + "".join(
                 f"\n  {e['message']}: {e['remedy']}" for e in report.errors))
        if writer is not None:  # the team's TUIs show when the store was last synced
            await asyncio.to_thread(writer.synced, report.status)
        # Mapped fields a sync has filled show as such (the TUI's Field Mapping screen marks
        # them itself; a team store's managers may not, so the writer does).
        if report.status == "ok":
            await asyncio.to_thread(mark_backfilled)
        return report

    lane = SyncCoordinator(sync)
    live = LiveServices(lane.request, lane.cancel, lambda: lane.running)
    live.start()
    try:
        if not await _live_mode(services, live, factory):  # CDC or polling: no listener
            await _notifications(args, services, live, factory)
        await lane.request("incremental")
        for job, when in live.next_runs().items():
            _say(f"next {job}: {when:%H:%M}" if when else f"next {job}: -")
        # Forever; a team store's writer beats its heart meanwhile and ends (TeamServeError)
        # only if another serve took the org while its database connection was down.
        await (writer.hold() if writer is not None else asyncio.Event().wait())
    finally:
        await live.stop()
        services.db.close()


async def _live_mode(services: Any, live: Any, factory: Any) -> bool:
    """CDC, then Outbound Messages, then polling (services/live_choice.py), said in one line;
    True when CDC or polling runs (Outbound Messages is ``_notifications``' to start)."""
    from smvue_tui.services.connection import adopt_stored_login
    from smvue_tui.services.live_choice import start_best_mode

    connection = adopt_stored_login(services.paths)
    if connection is None or _webhook_problem(services):  # a [webhook] meant: say what is wrong
        return False
    webhook = services.webhook()
    choice = await start_best_mode(
        live, paths=services.paths, config=services.config(), db=services.db,
        connection=connection, public_url=webhook.public_url if webhook else None,
        loopback_ok=False, client_factory=factory)
    _say(f"live updates: {live.mode.name if live.mode else 'Outbound Messages'} — "
         f"{choice.reason}")
    return choice.mode != "outbound"


async def _notifications(args: argparse.Namespace, services: Any, live: Any,
                         factory: Any) -> None:
    """Listener + automation when ``[webhook] public_url`` is set; one truthful line either way."""
    from smvue_tui.services import automation as cn
    from smvue_tui.services.connection import adopt_stored_login

    config_problem = _webhook_problem(services)
    webhook = services.webhook()
    if webhook is None or not webhook.public_url:
        _say(config_problem or "no [webhook] public_url in config.toml: updates come from the "
             "scheduled resync")
        return
    # The stored login is the truth of which org this is: `smvue-tui login` writes only it.
    connection = adopt_stored_login(services.paths)
    if connection is None:
        _say("the stored login names no org: run `smvue-tui login` again; updates come from "
             "the scheduled resync")
        return
    org_id = services.paths.org_id or connection.org_id  # the store's org (issue 17)
    listener = await live.start_listener(services.db, org_id, webhook.path_token,
                                         host=args.host or webhook.host,
                                         port=args.port or webhook.port)
    # The path's token is the listener's secret: never in a daemon's output or journal.
    _say(f"listening for change notifications on {listener.local_url.rsplit('/', 1)[0]}/…")
    if args.no_deploy:
        _say("--no-deploy: the Salesforce automation was not deployed")
        return
    user = cn.integration_user_for(org_id, webhook.integration_user)
    if not user:
        _say("change-notification automation not deployed: no Salesforce username is known "
             "to send the messages as; set [webhook] integration_user in config.toml")
        return
    from smvue_tui.salesforce.errors import SalesforceError

    try:
        async with factory() as client:
            report = await cn.deploy(client, org_id, webhook.endpoint_url,
                                     integration_user=user)
    except SalesforceError as exc:
        _say(f"change-notification automation not deployed: {exc.describe()}")
        return
    _say(deploy_summary(report))


def deploy_summary(report: Any) -> str:
    """A DeployReport in words: what is live, and each refusal with Salesforce's reason."""
    if report.ok:
        live = ", ".join(report.live_objects)
        return f"change-notification automation deployed ({live}) — Salesforce will call us"
    lines = ["change-notification automation not (fully) deployed; updates for the objects "
             "below come from the scheduled resync:"]
    lines += [f"  {f.object}: {f.type} {f.full_name} refused — {f.reason}"
              for f in report.failures]
    if report.fault is not None:
        lines.append(f"  Salesforce stopped the deploy: {report.fault.describe()}")
    if report.live_objects:
        lines.append(f"  live: {', '.join(report.live_objects)}")
    return "\n".join(lines)


def _webhook_problem(services: Any) -> str | None:
    """Why config.toml's [webhook] section is unusable, in words (None when it is fine)."""
    problem = services.webhook_problem()  # the sentence the TUI shows too
    return f"{problem}; updates come from the scheduled resync" if problem else None
