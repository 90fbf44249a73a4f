"""What ``smvue-tui status`` reports: the store, the login, the last and next sync, API usage.

Everything is read from files that already exist: the store is never created here and no
Salesforce call is made, so status works offline, before a login and before the first sync.
The last API-usage reading is kept in a small JSON file next to the store (written by
``smvue-tui sync``), because the client only learns it from response headers. The store is the
one of the stored login's org (without a login, the org last used); ``org`` names it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smvue_tui.config import Paths
from smvue_tui.safe_files import write_private
from smvue_tui.sync.live_state import describe_live, load_live_state

log = logging.getLogger(__name__)

USAGE_FILE = "api-usage.json"
ON_DEMAND = "on demand (smvue-tui sync)"


@dataclass
class StatusReport:
    store_path: str
    store_exists: bool = False
    org: dict[str, Any] | None = None  # {"id", "name", "environment"}: whose store this is
    store_problem: str | None = None  # the store holds another org than the login's
    connection: dict[str, Any] | None = None  # None: not logged in
    login_problem: str | None = None  # the token file exists but cannot be read
    objects: dict[str, int] = field(default_factory=dict)
    last_sync: dict[str, Any] | None = None
    next_sync: str = ON_DEMAND
    api_usage: dict[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    store_damage: str | None = None  # the store is damaged (it is not opened)
    moved_aside: list[str] = field(default_factory=list)  # damaged stores kept beside it
    set_aside: dict[str, int] = field(default_factory=dict)  # notifications never fetchable
    live: dict[str, Any] | None = None  # the live mode last chosen (live_state.py)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the stored API-usage reading ------------------------------------------------------------


def usage_path(paths: Paths) -> Path:
    return paths.store_dir / USAGE_FILE


def save_usage(paths: Paths, usage: Any) -> None:
    """Keep the client's latest ``ApiUsage`` reading (nothing when it has none)."""
    if not getattr(usage, "max", None):
        return
    updated = usage.updated_at or datetime.now(UTC)
    data = {"used": usage.used, "max": usage.max, "updated_at": updated.isoformat()}
    target = usage_path(paths)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Temporary sibling, fsync, rename: a reader never sees half a file, and a failed write
        # (a full disk) leaves the old reading and no temporary file behind.
        write_private(target, json.dumps(data).encode() + b"\n")
    except OSError as exc:  # a status nicety: never what fails a sync
        log.warning("could not save the API usage reading to %s: %s", target, exc.strerror)


def short_time(iso: str | None) -> str:
    """``2026-11-26 19:40 UTC`` from an ISO timestamp (as stored)."""
    if not iso:
        return ""
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def usage_line(reading: dict[str, Any]) -> str:
    """One API-usage reading as every screen says it: the figure and when it was read (a live
    reading and a saved one taken minutes apart must not look like a contradiction)."""
    share = reading["used"] / reading["max"]
    line = f"{reading['used']:,} of {reading['max']:,} calls today ({share:.0%})"
    when = short_time(reading.get("updated_at"))
    return f"{line}, read {when}" if when else line


def load_usage(paths: Paths) -> dict[str, Any] | None:
    try:
        data = json.loads(usage_path(paths).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("max"), int) or not data["max"]:
        return None
    return {"used": int(data.get("used") or 0), "max": data["max"],
            "updated_at": str(data.get("updated_at") or "")}


# --- collecting ------------------------------------------------------------------------------


def collect_status(paths: Paths) -> StatusReport:
    """The status of this installation, from the token file, the store and the usage file."""
    from smvue_tui.store.org_stores import (
        StoreOrgMismatch,
        adopt_unassigned,
        check_store,
        paths_for_login,
    )

    if not paths.org_id:
        paths = paths_for_login(paths)
    report = StatusReport(store_path=str(paths.database))
    _collect_login(report, paths)
    report.api_usage = load_usage(paths)
    report.live = load_live_state(paths)
    if _collect_shared(report, paths):  # the store is on PostgreSQL
        return report
    if paths.org_id:
        adopt_unassigned(paths)
    if not paths.database.exists():
        _name_org(report, paths, [])
        return report
    try:
        check_store(paths.database, paths.org_id)
    except StoreOrgMismatch as exc:
        report.store_problem = str(exc)
        return report
    from peewee import Database  # peewee only when there is a store to read

    from smvue_tui.store import health, models
    from smvue_tui.store.db import open_store

    report.store_exists = True
    report.moved_aside = [str(p) for p in health.moved_aside(paths.database)]
    bound = models.SyncRun._meta.database  # a caller's open store (the TUI) stays bound
    try:
        db = open_store(paths.database, recover=False)  # status only looks
    except health.StoreDamaged as exc:
        report.store_damage = exc.reason
        if isinstance(bound, Database):
            bound.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
        return report
    _read_and_close(report, paths, db, bound)
    return report


def _read_and_close(report: StatusReport, paths: Paths, db: Any, bound: Any) -> None:
    """Collect from the open store ``db``, close it, and bind the caller's store back."""
    from peewee import Database

    from smvue_tui.store import models

    try:
        _collect_store(report)
        _name_org(report, paths, list(models.Organization.select()))
    finally:
        db.close()
        if isinstance(bound, Database) and bound is not db:
            bound.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)


def _collect_shared(report: StatusReport, paths: Paths) -> bool:
    """With a PostgreSQL store set, its org schema's status (False: no such setting)."""
    from smvue_tui.store import models
    from smvue_tui.store.backend import describe
    from smvue_tui.store.org_stores import StoreRefused, open_org_store
    from smvue_tui.store.setting import StoreUrlError, store_url

    try:
        if not store_url(paths):
            return False
    except StoreUrlError as exc:
        report.store_problem = str(exc)
        return True
    bound = models.SyncRun._meta.database  # a caller's open store (the TUI) stays bound
    try:
        db = open_org_store(paths)
    except StoreRefused as exc:
        report.store_problem = str(exc)
        return True
    report.store_path = describe(db)
    report.store_exists = True
    _read_and_close(report, paths, db, bound)
    return True


def _name_org(report: StatusReport, paths: Paths, rows: list[Any]) -> None:
    """Whose store this is: the synced Organization row, else what the login says."""
    from smvue_tui.store.org_stores import OrgLabel

    if rows:
        label = OrgLabel(rows[0].id, rows[0].name or "", rows[0].is_sandbox)
    elif paths.org_id:
        sandbox = (report.connection or {}).get("is_sandbox")
        label = OrgLabel(paths.org_id, "", sandbox)
    else:
        return
    report.org = {"id": label.org_id, "name": label.name, "environment": label.environment}


def _collect_login(report: StatusReport, paths: Paths) -> None:
    from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError

    try:
        creds = TokenStore(paths.token_file).load()
    except TokenStoreError as exc:
        report.login_problem = f"{exc.describe()}. {exc.remedy}"
        return
    if creds is not None:
        report.connection = {
            "org_id": creds.org_id, "instance_url": creds.instance_url, "user": creds.who(),
            "environment": creds.environment.label(),
            "is_sandbox": {"sandbox": True, "production": False}.get(creds.environment.name),
        }


def _collect_store(report: StatusReport) -> None:
    from smvue_tui.store import models as m
    from smvue_tui.sync.fields import load_plans
    from smvue_tui.sync.live import set_aside_counts
    from smvue_tui.sync.plan import SPECS

    for spec in SPECS:
        query = spec.model.select()
        for column, value in spec.constants.items():  # tables shared by several objects
            if column in ("_sobject", "_kind"):
                attr = "sobject" if column == "_sobject" else "kind"
                query = query.where(getattr(spec.model, attr) == value)
        report.objects[spec.sobject] = query.count()
    report.skipped = {name: plan.reason for name, plan in sorted(load_plans().items())
                      if plan.reason}
    report.set_aside = set_aside_counts()
    last = m.SyncRun.select().order_by(m.SyncRun.id.desc()).first()
    if last is not None:
        report.last_sync = _run_dict(last)
        report.next_sync = _next_sync(report.last_sync)


def _run_dict(run: Any) -> dict[str, Any]:
    try:
        errors = json.loads(run.errors or "[]")
    except ValueError:
        errors = []
    return {"kind": run.kind, "status": run.status, "started_at": run.started_at,
            "finished_at": run.finished_at, "api_calls": run.api_calls,
            "resumes_at": run.resumes_at, "errors": errors if isinstance(errors, list) else []}


def _next_sync(last: dict[str, Any]) -> str:
    if last["status"] == "paused" and last.get("resumes_at"):
        return f"after the API limit resets ({local_time(last['resumes_at'])}), on demand"
    if last["status"] in ("cancelled", "failed", "running", "interrupted"):
        return f"{ON_DEMAND} — it resumes where the last run stopped"
    return ON_DEMAND


# --- rendering -------------------------------------------------------------------------------


def local_time(stamp: str | None) -> str:
    """An ISO timestamp in the user's local time zone, or the text itself when unparseable."""
    if not stamp:
        return "unknown"
    try:
        value = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _ago(stamp: str | None, now: datetime) -> str:
    try:
        value = datetime.fromisoformat(stamp or "")
    except ValueError:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    minutes = int((now - value).total_seconds() // 60)
    if minutes < 1:
        return " (just now)"
    if minutes < 120:
        return f" ({minutes} min ago)"
    hours = minutes // 60
    return f" ({hours} h ago)" if hours < 48 else f" ({hours // 24} days ago)"


def render_text(status: StatusReport, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    lines: list[str] = []
    conn = status.connection
    if status.login_problem:
        lines.append(f"Salesforce: login unreadable — {status.login_problem}")
    elif conn is None:
        lines.append("Salesforce: not connected (run `smvue-tui login`)")
    else:
        lines.append(f"Salesforce: {conn['user']} · org {conn['org_id'] or '(unknown)'} at "
                     f"{conn['instance_url']} ({conn['environment']})")
    org = status.org
    if org:
        badge = "  [SANDBOX]" if org["environment"] == "Sandbox" else ""
        lines.append(f"Org: {org['name'] or '(name known after the first sync)'} · {org['id']}"
                     f" · {org['environment'] or 'environment known after the first sync'}"
                     f"{badge}")
    if status.store_problem:
        lines.append(f"Store: refused — {status.store_problem}")
    elif not status.store_exists:
        lines.append(f"Store: none yet at {status.store_path} — run `smvue-tui sync`")
    elif status.store_damage:
        lines.append(f"Store: {status.store_path} is DAMAGED — {status.store_damage}")
        lines.append("  The next `smvue-tui sync` (or starting smvue-tui) moves it aside, keeps "
                     "your notes, action items and team, and reads Salesforce again. "
                     "Details: `smvue-tui store check`.")
    else:
        lines.append(f"Store: {status.store_path}")
        width = max(len(name) for name in status.objects) if status.objects else 0
        lines += [f"  {name:<{width}}  {count:>9,}" for name, count in status.objects.items()]
    last = status.last_sync
    if last is None:
        lines.append("Last sync: never")
    else:
        when = last["finished_at"] or last["started_at"]
        lines.append(f"Last sync: {last['kind']} {last['status']} at {local_time(when)}"
                     f"{_ago(when, now)}, {last['api_calls']} API calls, "
                     f"{len(last['errors'])} errors")
        if last["status"] == "paused":
            lines.append(f"  paused: Salesforce API rate limit exceeded — resumes at "
                         f"{local_time(last.get('resumes_at'))}")
    lines += [f"  a damaged store was moved aside and kept: {p}" for p in status.moved_aside]
    if last and last["status"] == "interrupted":
        lines.append("  interrupted: the process running it stopped (killed or crashed)")
    lines.append(f"Next sync: {status.next_sync}")
    if conn is not None:
        lines.append(f"Live updates: {describe_live(status.live)}")
    usage = status.api_usage
    if usage:
        share = usage["used"] / usage["max"]
        lines.append(f"API usage: {usage['used']:,} / {usage['max']:,} today ({share:.0%}), "
                     f"read {local_time(usage['updated_at'])}")
    else:
        lines.append("API usage: not known yet (read during a sync)")
    if last and last["errors"]:
        lines.append("What failed:")
        for error in last["errors"]:
            where = f"{error.get('object')}: " if error.get("object") else ""
            code = f" [{error['code']}]" if error.get("code") else ""
            lines.append(f"  {where}{error.get('message', '')}{code}")
            if error.get("detail"):
                lines.append(f"    {error['detail']}")
            if error.get("remedy"):
                lines.append(f"    what to do: {error['remedy']}")
    if status.set_aside:
        lines.append("Change notifications set aside (they can never be fetched):")
        lines += [f"  {n} × {reason}" for reason, n in sorted(status.set_aside.items())]
    if status.skipped:
        lines.append("Skipped:")
        lines += [f"  {reason}" for reason in status.skipped.values()]
    return "\n".join(lines)


def status_json(status: StatusReport) -> str:
    return json.dumps(status.to_dict(), indent=2, sort_keys=True)


def write_status(paths: Paths, *, as_json: bool, out: Any) -> int:
    """``smvue-tui status``: always exit 0 (a missing store or login is a state, not an error)."""
    status = collect_status(paths)
    print(status_json(status) if as_json else render_text(status), file=out)
    return 0
