"""The store-side half of the scope rules (see plan.py): which rows stay, what is missing.

Everything here runs in the store's writer thread and only reads and writes the store; it
never calls Salesforce. ``keep_ids`` filters a fetched page, ``prune`` removes rows that left
the scope (deals closed long ago, old activities, accounts no deal needs any more), and the
``missing_*`` functions say which records the closure still lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from peewee import Database

from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks, ObjectSpec

# Accounts needed: those of stored deals, and every ancestor of those (ParentId chain).
_NEEDED_ACCOUNTS = """
WITH RECURSIVE needed(id) AS (
    SELECT DISTINCT "AccountId" FROM opportunity WHERE "AccountId" IS NOT NULL
    UNION
    SELECT a."ParentId" FROM account a JOIN needed n ON a."Id" = n.id
    WHERE a."ParentId" IS NOT NULL
)
SELECT id FROM needed
"""


def needed_account_ids(db: Database) -> set[str]:
    return {row[0] for row in db.execute_sql(_NEEDED_ACCOUNTS)}


def in_deal_scope(row: dict[str, Any], closed_cutoff: str) -> bool:
    return not row.get("is_closed") or (row.get("close_date") or "") >= closed_cutoff


def keep_ids(db: Database, spec: ObjectSpec, rows: Sequence[dict[str, Any]],
             lookbacks: Lookbacks, today: date) -> set[str]:
    """The ids among ``rows`` (store rows of ``spec``) that belong in the store."""
    scope = spec.scope
    if scope == "all":
        return {r["id"] for r in rows}
    if scope == "opportunity":
        cutoff = lookbacks.closed_cutoff(today).isoformat()
        return {r["id"] for r in rows if in_deal_scope(r, cutoff)}
    if scope.startswith("since:"):
        cutoff = lookbacks.activity_cutoff(today).isoformat()
        return {r["id"] for r in rows if (r.get("occurred_at") or "")[:10] >= cutoff}
    if scope == "account":
        needed = needed_account_ids(db)
        return {r["id"] for r in rows if r["id"] in needed}
    if scope == "contact":
        accounts = _stored_ids(m.Account, {r.get("account_id") for r in rows})
        in_roles = {c for (c,) in m.OpportunityContactRole.select(
            m.OpportunityContactRole.contact_id).where(
            m.OpportunityContactRole.contact_id.in_([r["id"] for r in rows])).tuples()}
        return {r["id"] for r in rows if r.get("account_id") in accounts or r["id"] in in_roles}
    if scope == "child:OpportunityId":
        parent_attr = "parent_id" if "parent_id" in spec.model._meta.fields else "opportunity_id"
        deals = _stored_ids(m.Opportunity, {r.get(parent_attr) for r in rows})
        return {r["id"] for r in rows if r.get(parent_attr) in deals}
    if scope == "child:AccountId":
        accounts = _stored_ids(m.Account, {r.get("parent_id") for r in rows})
        return {r["id"] for r in rows if r.get("parent_id") in accounts}
    raise ValueError(f"unknown scope {scope!r}")


def _stored_ids(model: type[m.SfRecord], ids: set[Any]) -> set[str]:
    wanted = [i for i in ids if i]
    found: set[str] = set()
    db, table = model._meta.database, model._meta.table_name
    for start in range(0, len(wanted), 500):  # raw SQL: peewee's IN-list building was slow
        part = wanted[start:start + 500]
        marks = ", ".join([db.param] * len(part))
        sql = f'SELECT "Id" FROM "{table}" WHERE "Id" IN ({marks})'
        found.update(i for (i,) in db.execute_sql(sql, part))
    return found


def prune(db: Database, lookbacks: Lookbacks, today: date) -> dict[str, int]:
    """Delete what left the scope; returns rows removed per store table."""
    closed_cutoff = lookbacks.closed_cutoff(today).isoformat()
    activity_cutoff = lookbacks.activity_cutoff(today).isoformat()
    removed: dict[str, int] = {}
    with db.atomic():
        removed["opportunity"] = m.Opportunity.delete().where(
            (m.Opportunity.is_closed == True)  # noqa: E712 - SQL comparison
            & (m.Opportunity.close_date < closed_cutoff)).execute()
        deals = m.Opportunity.select(m.Opportunity.id)
        facts = deal_facts.parents_leaving(
            f'SELECT "Id" FROM "{m.Opportunity._meta.table_name}"', activity_cutoff)
        removed["contact_role"] = m.OpportunityContactRole.delete().where(
            m.OpportunityContactRole.opportunity_id.not_in(deals)).execute()
        removed["deal_children"] = (m.StageHistory.delete().where(
            (m.StageHistory.sobject == "OpportunityHistory")
            & m.StageHistory.parent_id.not_in(deals)).execute()
            + m.Collaborator.delete().where(
            (m.Collaborator.sobject == "OpportunityTeamMember")
            & m.Collaborator.parent_id.not_in(deals)).execute())
        removed["activity"] = m.Activity.delete().where(
            m.Activity.occurred_at.is_null() | (m.Activity.occurred_at < activity_cutoff)
        ).execute()
        needed = needed_account_ids(db)
        stale = [a for (a,) in m.Account.select(m.Account.id).tuples() if a not in needed]
        removed["account"] = sum(m.Account.delete().where(
            m.Account.id.in_(stale[i:i + 500])).execute() for i in range(0, len(stale), 500))
        accounts = m.Account.select(m.Account.id)
        role_contacts = m.OpportunityContactRole.select(m.OpportunityContactRole.contact_id)
        removed["contact"] = m.Contact.delete().where(
            (m.Contact.account_id.is_null() | m.Contact.account_id.not_in(accounts))
            & m.Contact.id.not_in(role_contacts)).execute()
        removed["account_team"] = m.Collaborator.delete().where(
            (m.Collaborator.sobject == "AccountTeamMember")
            & m.Collaborator.parent_id.not_in(accounts)).execute()
        facts()  # the inspection's facts of the deals whose rows went
    return {k: v for k, v in removed.items() if v}


def missing_account_ids(db: Database) -> list[str]:
    """Accounts the closure needs but the store lacks."""
    stored = {a for (a,) in m.Account.select(m.Account.id).tuples()}
    return sorted(needed_account_ids(db) - stored)


def missing_contact_ids() -> list[str]:
    """Contacts named by stored contact roles but not stored."""
    query = (m.OpportunityContactRole.select(m.OpportunityContactRole.contact_id).distinct()
             .where(m.OpportunityContactRole.contact_id.not_in(m.Contact.select(m.Contact.id))))
    return sorted(c for (c,) in query.tuples() if c)


def stored_ids(model: type[m.SfRecord], ids: Sequence[str]) -> set[str]:
    return _stored_ids(model, set(ids))
