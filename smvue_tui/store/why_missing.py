"""Why is this deal missing? Reasons a deal is not in the pipeline view, with remedies.

Plain logic (no Textual, no network). A query is a deal name (partial, case-insensitive) or a
15/18-char Opportunity Id. Deals in the store are explained against the view the user looks at
(a ``store.pipeline.DealFilter``); deals not in the store from what Salesforce answered to
``remote_soql`` (queried with queryAll, so deleted deals are seen too), or, without a
connection, with the possible causes. Remedies use the product page's words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from peewee import fn

from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.store.pipeline import ALL_DEALS, NO_RECORD_TYPE, DealFilter, team_is_mapped

REMEDY_EXISTS = "Check that Opportunities exist and are active in Salesforce"
REMEDY_OWNER = "Verify Opportunity owner is a user you imported to SMVue"
REMEDY_SELECT_REP = "Select {owner} as a rep in Team mapping (t, then space on their row)"
REMEDY_STAGE = "Ensure Opportunities have a Stage set"
REMEDY_RECORD_TYPE = "Check record type filters (all record types should be enabled)"
REMEDY_SYNC = "Try manual refresh: Settings > Integrations > Sync Now"
REMEDY_CONNECT = "Connect to Salesforce (Settings > Integrations) so SMVue can look it up"
REMEDY_LOOKBACK = ("SMVue imports recently closed Opportunities only (about the last 12 "
                   "months); reopen it or move its Close Date in Salesforce to bring it back")
REMEDY_RESTORE = "Restore it from the Salesforce Recycle Bin; it comes back on the next sync"
REMEDY_FILTER = "Show {what} deals in the pipeline filter"
MAX_MATCHES = 20
_REMOTE_FIELDS = ("Id", "Name", "IsClosed", "CloseDate", "StageName", "OwnerId", "IsDeleted")


@dataclass(frozen=True)
class Reason:
    cause: str
    remedy: str


@dataclass
class Finding:
    """One deal (or the lack of one) and why it is not in the view; no reasons: it is there."""

    name: str
    deal_id: str | None = None
    in_store: bool = False
    reasons: list[Reason] = field(default_factory=list)


def opportunity_id(text: str) -> str | None:
    """The 18-char Id for a 15/18-char Opportunity Id (prefix 006), else None."""
    return normalize_id(text.strip(), prefix="006")


def find_stored(query: str) -> list[m.Opportunity]:
    """Deals in the store matching the Id or name (case-insensitive), at most MAX_MATCHES."""
    o = m.Opportunity
    deal_id = opportunity_id(query)
    if deal_id:
        # 18-char Ids are unique ignoring case: a lower-cased paste still matches.
        return list(o.select().where(fn.LOWER(o.id) == deal_id.lower()))
    text = query.strip()
    if not text:
        return []
    return list(o.select().where(o.name.contains(text)).order_by(o.name, o.id)
                .limit(MAX_MATCHES))


def _user_name(user_id: str | None) -> str:
    if not user_id:
        return "no owner"
    user = m.SfUser.get_or_none(m.SfUser.id == user_id)
    return user.name if user and user.name else user_id


def _record_type_name(record_type_id: str | None) -> str:
    if not record_type_id:
        return "no record type"
    rt = m.RecordType.get_or_none(m.RecordType.id == record_type_id)
    return rt.name if rt and rt.name else record_type_id


def _owner_reason(deal: m.Opportunity) -> Reason | None:
    member = m.TeamMember.get_or_none(m.TeamMember.sf_user_id == deal.owner_id) \
        if deal.owner_id else None
    owner = _user_name(deal.owner_id)
    if member is None:
        return Reason(f"Owner {owner} is not mapped to a team member", REMEDY_OWNER)
    if not member.coached:
        return Reason(f"Owner {owner} is in the team but not selected as a rep",
                      REMEDY_SELECT_REP.format(owner=owner))
    return None


def _record_type_reason(deal: m.Opportunity, flt: DealFilter) -> Reason | None:
    if flt.pipeline == ALL_DEALS:
        return None
    if flt.pipeline == NO_RECORD_TYPE:
        shown = "No record type"
        if not deal.record_type_id:
            return None
    elif deal.record_type_id == flt.pipeline:
        return None
    else:
        shown = _record_type_name(flt.pipeline)
    return Reason(f"Record type {_record_type_name(deal.record_type_id)} is not the pipeline "
                  f"shown ({shown})", REMEDY_RECORD_TYPE)


def _status_reason(deal: m.Opportunity, status: str) -> Reason | None:
    state = ("won" if deal.is_won else "lost") if deal.is_closed else "open"
    if status in ("all", state):
        return None
    label = {"open": "open", "won": "Closed Won", "lost": "Closed Lost"}
    when = f" on {deal.close_date}" if deal.is_closed and deal.close_date else ""
    return Reason(f"It is {label[state]}{when}; the current filter shows {label[status]} deals",
                  REMEDY_FILTER.format(what=label[state]))


def _matches_search(deal: m.Opportunity, term: str) -> bool:
    account = m.Account.get_or_none(m.Account.id == deal.account_id) if deal.account_id \
        else None
    names = (deal.name or "", account.name if account and account.name else "")
    return any(term.lower() in name.lower() for name in names)


def explain_stored(deal: m.Opportunity, flt: DealFilter) -> list[Reason]:
    """Why a stored deal is not among ``flt``'s deals (empty: it is shown)."""
    reasons = [r for r in (
        _owner_reason(deal) if flt.team_only and team_is_mapped() else None,
        _record_type_reason(deal, flt)) if r]
    if flt.rep and deal.owner_id != flt.rep:
        reasons.append(Reason(f"The view shows only {_user_name(flt.rep)}'s deals",
                              "Show every rep's deals (clear the rep filter)"))
    if not (deal.stage_name or "").strip():
        reasons.append(Reason("It has no Stage", REMEDY_STAGE))
    status = _status_reason(deal, flt.status)
    if status:
        reasons.append(status)
    close = deal.close_date or ""
    if (flt.close_from and close < flt.close_from.isoformat()) or \
            (flt.close_to and (not close or close > flt.close_to.isoformat())):
        span = f"{flt.close_from or '…'} to {flt.close_to or '…'}"
        reasons.append(Reason(f"Its close date {close or '(none)'} is outside the close dates "
                              f"shown ({span})", "Widen the close-date filter"))
    term = flt.search.strip()
    if term and not _matches_search(deal, term):
        reasons.append(Reason(f"It does not match the search \"{term}\"", "Clear the search"))
    return reasons


def remote_soql(query: str, fields: Iterable[str] = _REMOTE_FIELDS) -> str:
    """The queryAll SOQL that looks the deal up in Salesforce (deleted ones included)."""
    select = ", ".join(fields)
    deal_id = opportunity_id(query)
    if deal_id:
        return f"SELECT {select} FROM Opportunity WHERE Id = '{deal_id}'"
    text = query.strip().replace("\\", "\\\\").replace("'", "\\'")
    text = text.replace("%", "\\%").replace("_", "\\_")
    return (f"SELECT {select} FROM Opportunity WHERE Name LIKE '%{text}%' "
            f"ORDER BY Name LIMIT {MAX_MATCHES}")


def explain_remote(record: dict[str, Any], today: date,
                   lookbacks: Lookbacks | None = None) -> list[Reason]:
    """Why a deal Salesforce has is not in the store."""
    lookbacks = lookbacks or Lookbacks()
    if record.get("IsDeleted"):
        return [Reason("It was deleted in Salesforce (it is in the Recycle Bin)",
                       REMEDY_RESTORE)]
    close = str(record.get("CloseDate") or "")
    cutoff = lookbacks.closed_cutoff(today).isoformat()
    if record.get("IsClosed") and close and close < cutoff:
        return [Reason(f"It closed on {close}, before the closed-deal lookback "
                       f"(since {cutoff})", REMEDY_LOOKBACK)]
    reasons = [Reason("It is in Salesforce but not synced yet", REMEDY_SYNC)]
    if not (record.get("StageName") or "").strip():
        reasons.append(Reason("It has no Stage", REMEDY_STAGE))
    return reasons


def explain(query: str, flt: DealFilter, remote: list[dict[str, Any]] | None,
            today: date, lookbacks: Lookbacks | None = None) -> list[Finding]:
    """Every deal matching ``query``, each with why it is not shown.

    ``remote`` is what Salesforce answered to ``remote_soql(query)``; None when not connected
    (or not asked). Deals Salesforce has that the store lacks are explained from that answer.
    """
    findings = [Finding(d.name or d.id, d.id, True, explain_stored(d, flt))
                for d in find_stored(query)]
    stored = {f.deal_id for f in findings}
    for record in remote or ():
        if record.get("Id") not in stored:
            findings.append(Finding(record.get("Name") or record["Id"], record["Id"], False,
                                    explain_remote(record, today, lookbacks)))
    if findings:
        return findings
    if remote is None:
        return [Finding(query.strip(), opportunity_id(query), False, [
            Reason("No deal in SMVue matches; it may not exist, be deleted, or have closed "
                   "more than 12 months ago", REMEDY_CONNECT),
            Reason("It may be new since the last sync", REMEDY_SYNC)])]
    return [Finding(query.strip(), opportunity_id(query), False, [
        Reason("No Opportunity in Salesforce matches (deleted ones included)", REMEDY_EXISTS)])]
