"""Generate opportunities and everything hanging off them, one deal at a time.

Per deal: its stage path (OpportunityHistory, and OpportunityFieldHistory with tracking), contact
roles, team members, tasks/events/emails in the last 12 months. Deals are created over 24 months
in id order; closed ones close across those 24 months, open ones close in the next 0–6 months
(some overdue).
"""

from __future__ import annotations

from typing import Any

from smvue_demo_org.derived import derive
from smvue_demo_org.gen_support import (
    COMPETITORS,
    DAY,
    Gen,
    Progress,
    account_name,
    audit,
    sf_date,
    sf_datetime,
)
from smvue_demo_org.ids import make_id
from smvue_demo_org.schema import CONTACT_ROLES, PIPELINES, TEAM_ROLES

ROLE_COUNTS = (0, 1, 1, 2, 2, 2, 3, 3, 4)  # contact roles per deal: mostly 1–3
SALES = "New_Business"
DEAL_KINDS = ("Expansion", "New Logo", "Renewal", "Pilot", "Upgrade", "Platform")


def opportunities(g: Gen, report: Progress) -> None:
    n = g.size
    start, step = g.anchor_ts - 730 * DAY, (728 * DAY) / n
    acct_start, acct_step = g.account_ts[0], (g.account_ts[-1] - g.account_ts[0] + 1) / g.accounts
    for i in range(n):
        created = int(start + (i + g.rng.random()) * step)
        # only accounts created before the deal: account creation is linear in the index
        eligible = max(1, min(g.accounts, int((created - acct_start) / acct_step)))
        _deal(g, created, eligible)
        if i % 2000 == 0:
            report("Opportunity", i, n)
    report("Opportunity", n, n)


def _deal(g: Gen, created: int, eligible_accounts: int) -> None:
    rng, anchor = g.rng, g.anchor_ts
    oid = g.ids.next("006")  # deals are made in counter order: the same id, faster
    rt_id, rt_name = rng.choice(g.record_types) if g.record_types else (None, SALES)
    if g.record_types and rng.random() < 0.5:
        rt_id, rt_name = g.record_types[0]  # most deals are new business
    stages = PIPELINES[rt_name][1]
    open_stages = [s for s in stages if not s.startswith("Closed")]
    account = None if rng.random() < 0.03 else rng.randrange(eligible_accounts)
    if account is not None and rng.random() < 0.5:
        owner = g.users[g.account_owner[account]]["Id"]
    else:
        owner = rng.choice(g.owner_pool)
    age = (anchor - created) / DAY
    p_closed = 0.92 if age > 270 else 0.6 if age > 90 else 0.25
    closed = rng.random() < p_closed and age > 12
    if closed:
        close_ts = created + rng.randint(10, int(max(11, min(age - 1, 240)))) * DAY
        close_ts = min(close_ts, anchor - DAY)
        path = open_stages[:rng.randint(1, min(4, len(open_stages)))]
        path.append("Closed Won" if rng.random() < 0.4 else "Closed Lost")
        last_change = close_ts + rng.randint(0, 20 * 3600)
    else:
        close_ts = max(anchor + rng.randint(-45, 180) * DAY, created + 7 * DAY)
        path = open_stages[:rng.randint(1, len(open_stages))]
        if len(path) > 5:
            path = path[:1] + path[-4:]
        last_change = g.ts_between(created, anchor - 60)
    last_change = min(max(last_change, created), anchor - 60)
    amount = float(round(rng.lognormvariate(10.0, 0.9), -2) or 500)
    close_date = sf_date(close_ts)
    first_amount = amount if rng.random() < 0.8 else float(round(amount * 0.8, -2))
    first_close = close_date if rng.random() < 0.7 else sf_date(close_ts - 30 * DAY)
    currency = g.currency()
    account_id = make_id("001", account + 1) if account is not None else None
    _history(g, oid, owner, path, created, last_change, (first_amount, amount),
             (first_close, close_date), currency)

    contacts = _contact_roles(g, oid, account, owner, created)
    has_open, last_activity = _activities(g, oid, account_id, contacts, owner, created,
                                          close_ts if closed else None)
    won = path[-1] == "Closed Won"
    row: dict[str, Any] = {
        "Id": oid, "AccountId": account_id, "RecordTypeId": rt_id, "StageName": path[-1],
        "Name": f"{account_name(account) if account is not None else 'Inbound'} - "
                f"{rng.choice(DEAL_KINDS)}",
        "Amount": amount, "CloseDate": close_date, "OwnerId": owner,
        "Type": "Existing Customer - Renewal" if rt_name == "Renewal" else rng.choice(
            ("New Customer", "Existing Customer - Upgrade")),
        "NextStep": None if closed else rng.choice(("Send proposal", "Demo with IT", "Legal review",
                                                    "Pricing call", None)),
        "LeadSource": rng.choice(("Web", "Phone Inquiry", "Partner Referral", "Trade Show",
                                  "Other")),
        "HasOpenActivity": int(has_open), "LastActivityDate": last_activity,
        "Description": None, "CurrencyIsoCode": currency,
        "Competitor__c": rng.choice(COMPETITORS) if rng.random() < 0.6 else None,
        "Deal_Tier__c": ("Bronze" if amount < 10_000 else "Silver" if amount < 40_000
                         else "Gold" if amount < 150_000 else "Platinum"),
        "Seats__c": float(rng.randint(5, 2000)), "Is_Strategic__c": int(rng.random() < 0.15),
        "Renewal_Date__c": sf_date(close_ts + 365 * DAY) if won else None,
    }
    derive(row)
    g.sink.add("Opportunity", audit(row, created, last_change, owner,
                                    last_change + rng.choice((0, 0, 0, 60, 3600))))
    if g.sink.has("OpportunityTeamMember") and rng.random() < 0.25:
        _team(g, oid, owner, created)


def _history(g: Gen, oid: str, owner: str, path: list[str], created: int, last: int,
             amounts: tuple[float, float], closes: tuple[str, str], currency: str | None) -> None:
    """One OpportunityHistory row per stage on the path; field history rows when tracked."""
    tracking = g.sink.has("OpportunityFieldHistory") and g.profile.history_tracking
    prev_amount = prev_close = None
    prev_stage = None
    n = len(path)
    for k, stage in enumerate(path):
        at = created if k == 0 else created + (last - created) * k // (n - 1)
        amount, close = (amounts[1], closes[1]) if k == n - 1 else (amounts[0], closes[0])
        row: dict[str, Any] = {"StageName": stage, "Amount": amount, "CloseDate": close}
        derive(row)
        stamp = sf_datetime(at)
        g.sink.add("OpportunityHistory", {
            "Id": g.ids.next("008"), "OpportunityId": oid, "StageName": stage, "Amount": amount,
            "Probability": row["Probability"], "CloseDate": close,
            "ExpectedRevenue": row["ExpectedRevenue"], "ForecastCategory": row["ForecastCategory"],
            "PrevAmount": prev_amount, "PrevCloseDate": prev_close, "CurrencyIsoCode": currency,
            "CreatedDate": stamp, "CreatedById": owner, "SystemModstamp": stamp,
        })
        if tracking:
            changes = [("created", None, None, None)] if k == 0 else [
                ("StageName", "Picklist", prev_stage, stage)]
            if k and amount != prev_amount:
                changes.append(("Amount", "Currency", _text(prev_amount), _text(amount)))
            if k and close != prev_close:
                changes.append(("CloseDate", "Date", prev_close, close))
            for fld, dtype, old, new in changes:
                g.sink.add("OpportunityFieldHistory", {
                    "Id": g.ids.next("017"), "OpportunityId": oid, "Field": fld,
                    "DataType": dtype, "OldValue": old, "NewValue": new, "CreatedDate": stamp,
                    "CreatedById": owner,
                })
        prev_amount, prev_close, prev_stage = amount, close, stage


def _text(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


def _contact_roles(g: Gen, oid: str, account: int | None, owner: str,
                   created: int) -> list[str]:
    """0–4 contacts of the deal's account with roles, exactly one primary when any."""
    if account is None:
        return []
    rng = g.rng
    first, available = g.contact_start[account], g.contact_count[account]
    k = min(rng.choice(ROLE_COUNTS), available)
    picked = [make_id("003", first + j) for j in rng.sample(range(available), k)]
    roles = rng.sample(CONTACT_ROLES, k)
    for j, (contact, role) in enumerate(zip(picked, roles, strict=True)):
        at = min(created + (j + 1) * 3600, g.anchor_ts - 60)
        g.sink.add("OpportunityContactRole", audit({
            "Id": g.ids.next("00K"), "OpportunityId": oid, "ContactId": contact, "Role": role,
            "IsPrimary": int(j == 0),
        }, at, at, owner))
    return picked


def _activities(g: Gen, oid: str, account_id: str | None, contacts: list[str], owner: str,
                created: int, closed_at: int | None) -> tuple[bool, str | None]:
    """≈2 tasks (calls, emails, to-dos) and ≈1 event in the last 12 months; emails get an
    EmailMessage. Deals that ended more than a year ago log theirs on the account instead."""
    rng, anchor = g.rng, g.anchor_ts
    lo = max(created, anchor - 365 * DAY)
    hi = min(closed_at if closed_at is not None else anchor + 30 * DAY, anchor + 30 * DAY)
    what = oid
    if hi <= lo:
        if account_id is None:
            return False, None
        what, lo, hi = account_id, anchor - 365 * DAY, anchor - DAY
    has_open, last_done = False, 0
    for _ in range(rng.randint(0, 4)):
        at = g.ts_between(lo, hi)
        done = at < anchor
        has_open |= not done
        last_done = max(last_done, at if done else 0)
        _task(g, what, rng.choice(contacts) if contacts else None, owner, at, done, created)
    for _ in range(rng.choice((0, 1, 1, 2))):
        at = g.ts_between(lo, hi) // 1800 * 1800
        has_open |= at >= anchor
        last_done = max(last_done, at if at < anchor else 0)
        _event(g, what, rng.choice(contacts) if contacts else None, owner, at, created)
    on_deal = what == oid
    return has_open and on_deal, sf_date(last_done) if last_done and on_deal else None


def _created_before(g: Gen, at: int, floor: int) -> int:
    return max(floor, min(at, g.anchor_ts - 3600) - g.rng.randint(0, 3 * DAY))


def _task(g: Gen, what: str, who: str | None, owner: str, at: int, done: bool,
          floor: int) -> None:
    rng = g.rng
    r = rng.random()
    subtype = "Call" if r < 0.4 else "Email" if r < 0.75 else "Task"
    subject = {"Call": "Call: ", "Email": "Email: ", "Task": ""}[subtype] + rng.choice(
        ("Follow up", "Pricing discussion", "Intro", "Check in on next steps",
         "Send contract", "Security questionnaire"))
    tid = g.ids.next("00T")
    created = _created_before(g, at, floor)
    g.sink.add("Task", audit({
        "Id": tid, "Subject": subject, "ActivityDate": sf_date(at),
        "Status": "Completed" if done else rng.choice(("Not Started", "In Progress")),
        "Priority": rng.choice(("High", "Normal", "Normal", "Low")), "IsClosed": int(done),
        "WhatId": what, "WhoId": who, "OwnerId": owner, "TaskSubtype": subtype,
        "CompletedDateTime": sf_datetime(at) if done else None,
        "CallDurationInSeconds": rng.randint(60, 3600) if subtype == "Call" and done else None,
        "CallType": rng.choice(("Inbound", "Outbound", "Outbound")) if subtype == "Call" else None,
    }, created, at if done else created, owner))
    if subtype == "Email" and done and g.sink.has("EmailMessage"):
        incoming = rng.random() < 0.4
        g.sink.add("EmailMessage", audit({
            "Id": g.ids.next("02s"), "Subject": subject.removeprefix("Email: "),
            "FromAddress": "customer@example.com" if incoming else "rep@demo.smvue.local",
            "FromName": "Customer" if incoming else "Sales Rep",
            "ToAddress": "rep@demo.smvue.local" if incoming else "customer@example.com",
            "MessageDate": sf_datetime(at), "Incoming": int(incoming),
            "Status": "1" if incoming else "3", "RelatedToId": what, "ActivityId": tid,
        }, at, at, owner))


def _event(g: Gen, what: str, who: str | None, owner: str, at: int, floor: int) -> None:
    rng = g.rng
    minutes = rng.choice((30, 30, 60, 60, 90))
    created = _created_before(g, at, floor)
    g.sink.add("Event", audit({
        "Id": g.ids.next("00U"), "Subject": rng.choice(("Discovery meeting", "Demo",
                                                        "QBR", "Negotiation", "Onsite visit")),
        "ActivityDate": sf_date(at), "ActivityDateTime": sf_datetime(at),
        "StartDateTime": sf_datetime(at), "EndDateTime": sf_datetime(at + minutes * 60),
        "DurationInMinutes": minutes, "IsAllDayEvent": 0,
        "Location": rng.choice(("Zoom", "Customer office", "Teams", None)),
        "WhatId": what, "WhoId": who, "OwnerId": owner,
    }, created, created, owner))


def _team(g: Gen, oid: str, owner: str, created: int) -> None:
    rng = g.rng
    wanted = rng.randint(1, 2)
    picked = rng.sample(g.team_pool, min(len(g.team_pool), wanted + 1))
    for member in [u for u in picked if u != owner][:wanted]:
        name = g.user_names[member]
        g.sink.add("OpportunityTeamMember", audit({
            "Id": g.ids.next("00q"), "OpportunityId": oid, "UserId": member, "Name": name,
            "TeamMemberRole": rng.choice(TEAM_ROLES),
            "OpportunityAccessLevel": rng.choice(("Read", "Edit")),
        }, created + 3600, created + 3600, owner))
