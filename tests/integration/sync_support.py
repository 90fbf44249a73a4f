"""Helpers for sync tests: a logged-in client for a demo org, and "does the store equal the org?".

The expected content is computed straight from the demo org's own SQLite with the scope rules
of ``smvue_tui/sync/plan.py`` written out independently in SQL, then compared with the store
object by object and field by field.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.session import Session
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks, ObjectSpec
from smvue_tui.sync.plan import SPECS


class _OwningClient(SalesforceClient):
    """A client that also closes its session's HTTP client (the tests build both)."""

    async def aclose(self) -> None:
        await super().aclose()
        await self.session.aclose()


def client_for(running: Any, **options: Any) -> SalesforceClient:
    token = running.web_login()
    creds = credentials_from_token(token, environment=resolve_environment(running.base_url),
                                   client_id=running.org.client_id)
    options.setdefault("backoff_base", 0.01)
    return _OwningClient(Session(creds), api_version="67.0", **options)


def _live(table: str) -> str:
    return f'SELECT * FROM "{table}" WHERE IsDeleted = 0'


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() \
        is not None


def expected_ids(conn: sqlite3.Connection, lookbacks: Lookbacks, today: date) -> dict[str, set]:
    closed = lookbacks.closed_cutoff(today).isoformat()
    recent = lookbacks.activity_cutoff(today).isoformat()
    q = {
        "deals": f"SELECT Id FROM ({_live('Opportunity')}) WHERE IsClosed = 0 "
                 f"OR CloseDate >= '{closed}'",
    }

    def ids(sql: str) -> set[str]:
        return {r[0] for r in conn.execute(sql)}

    deals = ids(q["deals"])
    accounts = ids(f"""WITH RECURSIVE needed(id) AS (
        SELECT AccountId FROM Opportunity WHERE Id IN ({q['deals']}) AND AccountId IS NOT NULL
        UNION SELECT a.ParentId FROM Account a JOIN needed n ON a.Id = n.id
        WHERE a.ParentId IS NOT NULL AND a.IsDeleted = 0)
        SELECT needed.id FROM needed JOIN Account ON Account.Id = needed.id
        WHERE Account.IsDeleted = 0""")
    role_rows = conn.execute(f"SELECT Id, OpportunityId, ContactId FROM "
                             f"({_live('OpportunityContactRole')})").fetchall()
    roles = {r[0] for r in role_rows if r[1] in deals}
    role_contacts = {r[2] for r in role_rows if r[1] in deals}
    contacts = {r[0] for r in conn.execute(f"SELECT Id, AccountId FROM ({_live('Contact')})")
                if r[1] in accounts or r[0] in role_contacts}

    def children(table: str, parent: str, parents: set[str]) -> set[str]:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        if not exists:
            return set()
        return {r[0] for r in conn.execute(f"SELECT Id, {parent} FROM ({_live(table)})")
                if r[1] in parents}

    return {
        "Organization": ids("SELECT Id FROM Organization"),
        "User": ids(f"SELECT Id FROM ({_live('User')})"),
        "RecordType": ids(f"SELECT Id FROM ({_live('RecordType')}) "
                          "WHERE SobjectType = 'Opportunity'"),
        "OpportunityStage": ids(f"SELECT Id FROM ({_live('OpportunityStage')})"),
        "Opportunity": deals,
        "Account": accounts,
        "Contact": contacts,
        "OpportunityContactRole": roles,
        "OpportunityHistory": children("OpportunityHistory", "OpportunityId", deals),
        "OpportunityTeamMember": children("OpportunityTeamMember", "OpportunityId", deals),
        "AccountTeamMember": children("AccountTeamMember", "AccountId", accounts),
        "Lead": ids(f"SELECT Id FROM ({_live('Lead')})"),
        "LeadHistory": ids(f"SELECT Id FROM ({_live('LeadHistory')})"),
        "Task": ids(f"SELECT Id FROM ({_live('Task')}) WHERE ActivityDate >= '{recent}'"),
        "Event": ids(f"SELECT Id FROM ({_live('Event')}) WHERE substr(COALESCE("
                     f"ActivityDateTime, ActivityDate), 1, 10) >= '{recent}'"),
        "EmailMessage": ids(f"SELECT Id FROM ({_live('EmailMessage')}) "
                            f"WHERE substr(MessageDate, 1, 10) >= '{recent}'")
        if _has_table(conn, "EmailMessage") else set(),  # no Enhanced Email: no such object
    }


def _stored(spec: ObjectSpec) -> dict[str, Any]:
    model = spec.model
    query = model.select()
    if spec.constants.get("_sobject"):
        query = query.where(model.sobject == spec.constants["_sobject"])
    if spec.constants.get("_kind"):
        query = query.where(model.kind == spec.constants["_kind"])
    return {row.id: row for row in query}


def _same(stored: Any, org: Any) -> bool:
    if isinstance(org, float) or isinstance(stored, float):
        return org is not None and stored is not None and abs(float(org) - float(stored)) < 1e-6
    if isinstance(stored, bool) or (org in (0, 1) and stored in (True, False)):
        return bool(stored) == bool(org)
    return stored == org


def differences(conn: sqlite3.Connection, lookbacks: Lookbacks, today: date,
                limit: int = 20) -> list[str]:
    """Every way the store differs from the org (empty: they are equal)."""
    problems: list[str] = []
    expected = expected_ids(conn, lookbacks, today)
    for spec in SPECS:
        stored = _stored(spec)
        want = expected[spec.sobject]
        missing, extra = want - set(stored), set(stored) - want
        if missing or extra:
            problems.append(f"{spec.sobject}: missing {sorted(missing)[:5]} "
                            f"({len(missing)}), extra {sorted(extra)[:5]} ({len(extra)})")
            continue
        columns = {f.column_name: name for name, f in spec.model._meta.fields.items()}
        plan = m.ObjectPlan.get_or_none(m.ObjectPlan.sobject == spec.sobject)
        readable = json.loads(plan.fields) if plan else []
        fields = [f for f in readable if f in columns and f != "Id"]
        org_rows = {r["Id"]: r for r in _rows(conn, spec.sobject, fields, want)}
        for record_id in sorted(want):
            row, org_row = stored[record_id], org_rows[record_id]
            for name in fields:
                if not _same(getattr(row, columns[name]), org_row[name]):
                    problems.append(f"{spec.sobject} {record_id}.{name}: store "
                                    f"{getattr(row, columns[name])!r} != org {org_row[name]!r}")
            if spec.sobject == "Opportunity":
                custom = json.loads(row.custom_fields)
                for name, value in custom.items():
                    if not _same(value, _rows(conn, "Opportunity", [name],
                                              {record_id})[0][name]):
                        problems.append(f"Opportunity {record_id}.{name} differs")
            if len(problems) >= limit:
                return problems
    return problems


def _rows(conn: sqlite3.Connection, table: str, fields: list[str], ids: set[str]) -> list:
    conn.row_factory = sqlite3.Row
    cols = ", ".join(f'"{f}"' for f in ["Id", *fields])
    out = []
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        out += conn.execute(f'SELECT {cols} FROM "{table}" WHERE Id IN ({marks})', chunk)
    conn.row_factory = None
    return out
