"""Deal queries: the paged deal list behind the virtual table, one deal's detail, and the
manager's own notes and action items on a deal (SMVue's rows; no sync ever touches them).

Plain store code without Textual; call it from thread workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from peewee import JOIN

from smvue_tui.store import models as m
from smvue_tui.store.pipeline import (
    DealFilter,
    Probability,
    effective_probability,
    where,
)

# Columns of a deal row, in order; the Id rides along last (hidden) for selection.
DEAL_COLUMNS = ("name", "account", "stage", "amount", "currency", "close_date", "owner",
                "probability")
ID_INDEX = len(DEAL_COLUMNS)
DEFAULT_SORT = ("close_date", False)
_DEEP = 5_000  # from this offset on, a page may be cheaper to read from the end

_Owner = m.SfUser.alias("owner")
_Stage = m.OpportunityStage.alias("stage")
_SORT_EXPR = {
    "name": m.Opportunity.name,
    "account": m.Account.name,
    "stage": _Stage.sort_order,
    "amount": m.Opportunity.amount,
    "currency": m.Opportunity.currency_iso_code,
    "close_date": m.Opportunity.close_date,
    "owner": _Owner.name,
    "probability": m.Opportunity.probability,
}


def money(amount: float | None, currency: str | None = None) -> str:
    """12,300 or 12,300 EUR; no cents (pipeline figures are directional). A ``Money`` says its
    own currency."""
    if amount is None:
        return "—"
    currency = currency or getattr(amount, "currency", None)
    text = f"{amount:,.0f}"
    return f"{text} {currency}" if currency else text


class Money(float):
    """An amount with its currency: the deal's CurrencyIsoCode (multi-currency orgs; a
    single-currency org's REST API names no currency, so its amounts stay bare)."""

    currency: str | None = None

    def __new__(cls, value: float, currency: str | None) -> Money:
        made = super().__new__(cls, value)
        made.currency = currency
        return made


def _money(amount: float | None, currency: str | None) -> Money | None:
    return None if amount is None else Money(amount, currency)


def _ordered(expr: Any, descending: bool) -> Any:
    return expr.desc(nulls="LAST") if descending else expr.asc(nulls="FIRST")


@dataclass(frozen=True)
class DealSource:
    """The deals of a filter, sorted, served a page at a time (LIMIT/OFFSET on indexed columns).

    Implements the PagedTable source protocol: ``count()``, ``fetch(offset, limit)`` and
    ``sorted_by(key, descending)``.
    """

    filter: DealFilter = field(default_factory=DealFilter)
    sort: tuple[str, bool] = DEFAULT_SORT

    def sorted_by(self, key: str, descending: bool) -> DealSource:
        if key not in _SORT_EXPR:
            raise ValueError(f"cannot sort deals by {key!r}")
        return replace(self, sort=(key, descending))

    def count(self) -> int:
        return m.Opportunity.select().where(where(self.filter)).count()

    def fetch(self, offset: int, limit: int) -> list[tuple]:
        """``limit`` rows from ``offset``. Deep pages (the end of 100k deals) are read from the
        other end, since OFFSET walks every skipped row; the order is exactly reversed, as
        SQLite puts NULLs first ascending and last descending."""
        if offset >= _DEEP:
            total = self.count()
            if offset > total // 2:
                start = max(total - offset - limit, 0)
                rows = self._page(start, min(limit, total - offset), reverse=True)
                return rows[::-1]
        return self._page(offset, limit)

    def _page(self, offset: int, limit: int, reverse: bool = False) -> list[tuple]:
        if limit <= 0:
            return []
        o = m.Opportunity
        key, descending = self.sort
        descending ^= reverse
        expr = _SORT_EXPR[key]
        # Empty values sort first ascending, last descending — SQLite's way, said explicitly
        # so PostgreSQL (the other way round by default) agrees.
        order = [_ordered(expr, descending),
                 o.id.desc() if descending else o.id.asc()]
        query = (o.select()
                 .join_from(o, m.Account, JOIN.LEFT_OUTER, on=(m.Account.id == o.account_id))
                 .join_from(o, _Owner, JOIN.LEFT_OUTER, on=(_Owner.id == o.owner_id)))
        query, probability, override = effective_probability(query)
        if key == "stage":
            query = query.join_from(o, _Stage, JOIN.LEFT_OUTER,
                                    on=(_Stage.master_label == o.stage_name))
        if key == "probability":
            expr = probability
            order[0] = _ordered(expr, descending)
        query = query.select(o.name, m.Account.name, o.stage_name, o.amount,
                             o.currency_iso_code, o.close_date, _Owner.name, probability, o.id,
                             override)
        return [(*row[:3], _money(row[3], row[4]), *row[4:7],
                 None if row[7] is None else Probability(row[7], bool(row[9])), row[8])
                for row in query.where(where(self.filter)).order_by(*order)
                .limit(limit).offset(offset).tuples()]


# --- one deal ----------------------------------------------------------------------------------

ROLE_RANK = ("Decision Maker", "Economic Buyer", "Executive Sponsor", "Technical Buyer",
             "Business User", "Evaluator", "Influencer")


@dataclass
class ContactRoleRow:
    name: str
    title: str
    role: str
    is_primary: bool
    email: str


@dataclass
class ActivityRow:
    when: str
    kind: str  # Meeting | Call | Email | Task
    subject: str
    status: str
    on_account: bool  # logged on the deal's account rather than the deal


@dataclass
class CollaboratorRow:
    name: str
    role: str
    on: str  # "deal" (OpportunityTeamMember) | "account" (AccountTeamMember)
    team_member: bool  # maps to a coached team member


@dataclass
class DealDetail:
    id: str
    name: str
    fields: list[tuple[str, str]]
    custom_fields: list[tuple[str, str]]
    account: tuple[str, str] | None  # (Id, name)
    ancestors: list[tuple[str, str]]  # root first, ending with the direct parent
    children: list[tuple[str, str]]
    contact_roles: list[ContactRoleRow]
    activities: list[ActivityRow]
    stage_history: list[tuple[str, str, str, str]]  # when, stage, amount, close date
    collaborators: list[CollaboratorRow]
    notes: list[m.Note] = field(default_factory=list)
    action_items: list[m.ActionItem] = field(default_factory=list)
    url: str | None = None  # the record in Salesforce (Lightning), when the org is known


def record_url(record_id: str, sobject: str = "Opportunity") -> str | None:
    """The record's Lightning page on the org's instance (the connection in use, else the last
    one): ``https://acme.my.salesforce.com/lightning/r/Opportunity/006…/view``."""
    c = m.Connection
    row = (c.select(c.instance_url).where(c.instance_url.is_null(False))
           .order_by(c.disconnected_at.is_null(False), c.connected_at.desc()).first())
    if row is None or not (row.instance_url or "").startswith(("https://", "http://")):
        return None
    return f"{row.instance_url.rstrip('/')}/lightning/r/{sobject}/{record_id}/view"


class DealNotFound(LookupError):
    pass


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _probability_text(o: m.Opportunity) -> str | None:
    """The probability the pipeline math uses (as the deal list shows it), and Salesforce's own
    figure for the deal when they differ."""
    query, value, override = effective_probability(m.Opportunity.select())
    row = query.select(value, override).where(m.Opportunity.id == o.id).tuples().first()
    if row is None or row[0] is None:
        return None
    text = f"{row[0]:g}%" + (" (SMVue override)" if row[1] else "")
    if o.probability is not None and o.probability != row[0]:
        text += f"; Salesforce: {o.probability:g}%"
    return text


def _standard_fields(o: m.Opportunity) -> list[tuple[str, str]]:
    owner = m.SfUser.get_or_none(m.SfUser.id == o.owner_id)
    rtype = m.RecordType.get_or_none(m.RecordType.id == o.record_type_id)
    prob = _probability_text(o)
    return [("Amount", money(o.amount, o.currency_iso_code)), ("Close date", _text(o.close_date)),
            ("Stage", _text(o.stage_name)), ("Probability", _text(prob)),
            ("Owner", _text(owner.name if owner else o.owner_id)),
            ("Pipeline", _text(rtype.name if rtype else None)), ("Type", _text(o.type)),
            ("Next step", _text(o.next_step)), ("Lead source", _text(o.lead_source)),
            ("Forecast", _text(o.forecast_category_name)),
            ("Closed", _text(o.is_closed)), ("Won", _text(o.is_won)),
            ("Created", _text((o.created_date or "")[:10] or None)),
            ("Last modified", _text((o.last_modified_date or "")[:10] or None))]


def _custom_fields(o: m.Opportunity) -> list[tuple[str, str]]:
    try:
        values = json.loads(o.custom_fields or "{}")
    except ValueError:
        values = {}
    mappings = m.CustomFieldMapping.select().where(m.CustomFieldMapping.enabled == True)  # noqa: E712
    return [(mp.label, _text(values.get(mp.api_name)))
            for mp in mappings.order_by(m.CustomFieldMapping.label)]


def _hierarchy(account_id: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ancestors: list[tuple[str, str]] = []
    seen = {account_id}
    current = m.Account.get_or_none(m.Account.id == account_id)
    while current is not None and current.parent_id and current.parent_id not in seen:
        seen.add(current.parent_id)
        parent = m.Account.get_or_none(m.Account.id == current.parent_id)
        ancestors.append((current.parent_id, parent.name if parent else "(not synced)"))
        current = parent
    children = [(a.id, a.name) for a in m.Account.select(m.Account.id, m.Account.name)
                .where(m.Account.parent_id == account_id).order_by(m.Account.name)]
    return list(reversed(ancestors)), children


def _contact_roles(deal_id: str) -> list[ContactRoleRow]:
    r = m.OpportunityContactRole
    rows = [ContactRoleRow(c.name if c else "(contact not synced)", (c.title or "") if c else "",
                           role.role or "", bool(role.is_primary), (c.email or "") if c else "")
            for role in r.select().where(r.opportunity_id == deal_id)
            for c in [m.Contact.get_or_none(m.Contact.id == role.contact_id)]]

    def rank(row: ContactRoleRow) -> tuple:
        known = ROLE_RANK.index(row.role) if row.role in ROLE_RANK else len(ROLE_RANK)
        return (not row.is_primary, known, row.name.lower())

    return sorted(rows, key=rank)


# EmailMessage.Status is a code: 0 New, 1 Read, 2 Replied, 3 Sent, 4 Forwarded, 5 Draft.
_EMAIL_STATUS = {"0": "New", "1": "Read", "2": "Replied", "3": "Sent", "4": "Forwarded",
                 "5": "Draft"}


def _activity_kind(a: m.Activity) -> str:
    if a.kind == "Event":
        return "Meeting"
    if a.kind == "EmailMessage" or a.subtype == "Email":
        return "Email"
    return "Call" if a.subtype == "Call" else "Task"


def _activities(deal_id: str, account_id: str | None) -> list[ActivityRow]:
    a = m.Activity
    related = [deal_id] + ([account_id] if account_id else [])
    return [ActivityRow((x.occurred_at or "")[:16].replace("T", " "), _activity_kind(x),
                        x.subject or "",
                        _EMAIL_STATUS.get(x.status or "", x.status or "") if x.kind ==
                        "EmailMessage" else x.status or "", x.what_id != deal_id)
            for x in a.select().where(a.what_id.in_(related))
            .order_by(a.occurred_at.desc(nulls="LAST"), a.id.desc())]


def _collaborators(deal_id: str, account_id: str | None) -> list[CollaboratorRow]:
    c = m.Collaborator
    cond = (c.sobject == "OpportunityTeamMember") & (c.parent_id == deal_id)
    if account_id:
        cond |= (c.sobject == "AccountTeamMember") & (c.parent_id == account_id)
    team = {t.sf_user_id for t in m.TeamMember.select().where(
        m.TeamMember.sf_user_id.is_null(False) & (m.TeamMember.coached == True))}  # noqa: E712
    rows = []
    for row in c.select().where(cond):
        user = m.SfUser.get_or_none(m.SfUser.id == row.user_id)
        rows.append(CollaboratorRow(user.name if user else row.user_id or "?", row.role or "",
                                    "deal" if row.sobject == "OpportunityTeamMember"
                                    else "account", row.user_id in team))
    return sorted(rows, key=lambda r: (r.on != "deal", not r.team_member, r.name.lower()))


def _stage_history(deal_id: str, currency: str | None) -> list[tuple[str, str, str, str]]:
    h = m.StageHistory
    return [((x.created_date or "")[:10], x.stage_name or "", money(x.amount, currency),
             x.close_date or "")
            for x in h.select().where((h.sobject == "OpportunityHistory")
                                      & (h.parent_id == deal_id))
            .order_by(h.created_date.desc(), h.id.desc())]


def deal_detail(deal_id: str) -> DealDetail:
    """Everything the deal screen shows about one deal (raises DealNotFound)."""
    o = m.Opportunity.get_or_none(m.Opportunity.id == deal_id)
    if o is None:
        raise DealNotFound(f"deal {deal_id} is not in the store (deleted or out of scope)")
    account = m.Account.get_or_none(m.Account.id == o.account_id) if o.account_id else None
    ancestors, children = _hierarchy(account.id) if account else ([], [])
    return DealDetail(
        id=o.id, name=o.name or "(unnamed deal)", fields=_standard_fields(o),
        custom_fields=_custom_fields(o),
        account=(account.id, account.name or "") if account else None,
        ancestors=ancestors, children=children, contact_roles=_contact_roles(o.id),
        activities=_activities(o.id, o.account_id),
        stage_history=_stage_history(o.id, o.currency_iso_code),
        collaborators=_collaborators(o.id, o.account_id), notes=notes(o.id),
        action_items=action_items(o.id), url=record_url(o.id))


# --- the manager's notes and action items ------------------------------------------------------


def notes(deal_id: str) -> list[m.Note]:
    return list(m.Note.select().where(m.Note.opportunity_id == deal_id)
                .order_by(m.Note.updated_at.desc(), m.Note.id.desc()))


def action_items(deal_id: str) -> list[m.ActionItem]:
    a = m.ActionItem
    return list(a.select().where(a.opportunity_id == deal_id)
                .order_by(a.done, a.due_date.asc(nulls="LAST"), a.id))


def _body(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError(f"{what} cannot be empty")
    return text


def add_note(deal_id: str, body: str) -> m.Note:
    return m.Note.create(opportunity_id=deal_id, body=_body(body, "a note"))


def update_note(note_id: int, body: str) -> None:
    m.Note.update(body=_body(body, "a note"), updated_at=m.utcnow().isoformat()).where(
        m.Note.id == note_id).execute()


def delete_note(note_id: int) -> None:
    m.Note.delete().where(m.Note.id == note_id).execute()


def parse_due(text: str) -> str | None:
    """An optional YYYY-MM-DD due date (ValueError with a clear message otherwise)."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"due date must look like 2026-12-31, not {text!r}") from None


def add_action_item(deal_id: str, text: str, due: str = "") -> m.ActionItem:
    return m.ActionItem.create(opportunity_id=deal_id, text=_body(text, "an action item"),
                               due_date=parse_due(due))


def set_action_item_done(item_id: int, done: bool = True) -> None:
    m.ActionItem.update(done=done).where(m.ActionItem.id == item_id).execute()
