"""Generate a demo org's data: deterministic for (seed, anchor), proportional to its size.

Everything is dated relative to ``anchor`` (the Monday, UTC, of the current ISO week), so
lookbacks stay meaningful while the data stays the same all week. Rows are streamed to SQLite in
chunks; only per-account counters (arrays of ints) stay in memory. Opportunities and their
children live in ``generate_deals``.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta

from smvue_demo_org import gen_details, generate_deals
from smvue_demo_org.derived import FORECAST_NAMES
from smvue_demo_org.gen_support import (
    CITIES,
    COMPANY_A,
    COMPANY_B,
    DAY,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    TITLES,
    Gen,
    Progress,
    Sink,
    account_name,
    audit,
    sf_date,
    sf_datetime,
)
from smvue_demo_org.ids import make_id, org_id
from smvue_demo_org.org import DEMO_USERNAME
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import ALL_STAGES, LEAD_STATUSES, PIPELINES, TEAM_ROLES, Catalog

GENERATOR_VERSION = 4  # bump whenever the generated data changes: old caches are not reused
DEMO_USER_COUNTER = 1  # the demo user is the first User id


def anchor_for(now: datetime | None = None) -> date:
    """The Monday (UTC) of the ISO week of ``now``: the date all generated data hangs from."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return today - timedelta(days=today.weekday())


def demo_user_id() -> str:
    return make_id("005", DEMO_USER_COUNTER)


def generate(conn: sqlite3.Connection, catalog: Catalog, profile: OrgProfile, size: int,
             seed: int, anchor: date, progress: Progress | None = None) -> None:
    """Write a whole org for ``size`` opportunities into ``conn`` (tables already created)."""
    anchor_ts = int(datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC).timestamp())
    g = Gen(random.Random(seed), anchor_ts, profile, Sink(conn, catalog), size,
            details=random.Random(seed * 1_000_003 + 7))
    report = progress or (lambda phase, done, total: None)
    report("setup", 0, 1)
    _organization(g, seed)
    _users(g)
    _stages_and_record_types(g)
    _accounts_and_contacts(g, report)
    generate_deals.opportunities(g, report)
    _leads(g, report)
    g.sink.flush()
    report("done", 1, 1)


def _organization(g: Gen, seed: int) -> None:
    sandbox = g.profile.sandbox
    row = audit({
        "Id": org_id(seed, sandbox), "Name": f"Demo Org {seed}" + (" (Sandbox)" if sandbox else ""),
        "IsSandbox": int(sandbox), "OrganizationType": g.profile.organization_type,
        "InstanceName": "CS42" if sandbox else "NA224", "TimeZoneSidKey": "America/Los_Angeles",
        "DefaultLocaleSidKey": "en_US", "FiscalYearStartMonth": 1,
        "CurrencyIsoCode": "USD" if g.profile.multi_currency else None,
    }, g.anchor_ts - 1100 * DAY, g.anchor_ts - 400 * DAY, demo_user_id())
    g.sink.add("Organization", row)


def _user(g: Gen, first: str, last: str, title: str, *, manager: str | None, active: bool = True,
          username: str | None = None, dept: str = "Sales") -> str:
    uid = g.ids.next("005")
    handle = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    email = username or f"{handle}{len(g.users) + 1}@demo.smvue.local"
    created = g.anchor_ts - g.rng.randint(800, 1000) * DAY + g.rng.randint(0, DAY)
    row = audit({
        "Id": uid, "Username": email, "FirstName": first, "LastName": last,
        "Name": f"{first} {last}", "Email": email, "Title": title, "IsActive": int(active),
        "UserType": "Standard", "ManagerId": manager, "Department": dept,
        "TimeZoneSidKey": "America/Los_Angeles",
        "CurrencyIsoCode": "USD" if g.profile.multi_currency else None,
        **gen_details.user(g.details, first, last, len(g.users) + 1),
    }, created, created + g.rng.randint(1, 700) * DAY, demo_user_id())
    g.users.append(row)
    g.user_names[uid] = row["Name"]
    g.sink.add("User", row)
    return uid


def _users(g: Gen) -> None:
    """The demo manager, a VP, managers, reps (some inactive), and users who own nothing."""
    rng = g.rng
    demo = _user(g, "Morgan", "Reyes", "Regional Sales Manager",
                 manager=make_id("005", DEMO_USER_COUNTER + 1), username=DEMO_USERNAME)
    vp = _user(g, "Alex", "Whitaker", "VP of Sales", manager=None)  # the id just promised
    reps_n = max(8, g.size // 250)
    managers = [demo] + [
        _user(g, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "Sales Manager", manager=vp)
        for _ in range(max(1, reps_n // 7))
    ]
    inactive = max(1, reps_n // 10)
    g.owner_pool = [demo]  # the demo user owns some deals itself
    for i in range(reps_n):
        active = i >= inactive
        rep = _user(g, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES),
                    rng.choice(("Account Executive", "Senior Account Executive", "SDR")),
                    manager=managers[i % len(managers)], active=active)
        g.owner_pool += [rep] * (4 if active else 1)  # inactive reps keep a few old deals
        if active:
            g.team_pool.append(rep)
    for first, last, title, dept, active in (
            ("Sam", "Ortiz", "Sales Operations Analyst", "Sales Ops", True),
            ("Jordan", "Blake", "Marketing Manager", "Marketing", True),
            ("Integration", "User", "Integration", "IT", True),
            ("Casey", "Moss", "Former Account Executive", "Sales", False)):
        _user(g, first, last, title, manager=vp if dept == "Sales" else None, active=active,
              dept=dept)
    g.team_pool += managers[1:]


def _stages_and_record_types(g: Gen) -> None:
    by, created = demo_user_id(), g.anchor_ts - 900 * DAY
    for order, (name, prob, closed, won, forecast) in enumerate(ALL_STAGES, start=1):
        g.sink.add("OpportunityStage", audit({
            "Id": g.ids.next("01J"), "MasterLabel": name, "ApiName": name, "IsActive": 1,
            "SortOrder": order, "IsClosed": int(closed), "IsWon": int(won),
            "ForecastCategory": forecast, "ForecastCategoryName": FORECAST_NAMES[forecast],
            "DefaultProbability": prob, "Description": None,
        }, created, created, by))
    if not g.profile.record_types:
        return
    for dev_name, (label, stages) in PIPELINES.items():
        process = g.ids.next("019")
        g.sink.add("BusinessProcess", audit({
            "Id": process, "Name": f"{label} Process", "TableEnumOrId": "Opportunity",
            "IsActive": 1, "Description": f"Stages: {', '.join(stages)}",
        }, created, created, by))
        rt = g.ids.next("012")
        g.sink.add("RecordType", audit({
            "Id": rt, "Name": label, "DeveloperName": dev_name, "SobjectType": "Opportunity",
            "BusinessProcessId": process, "IsActive": 1, "Description": f"{label} deals",
        }, created, created, by))
        g.record_types.append((rt, dev_name))


def _accounts_and_contacts(g: Gen, report: Progress) -> None:
    """Accounts ≈ N/4 in a 3-level hierarchy (roots, divisions, sites), ≈3 contacts each."""
    rng, users, n = g.rng, g.users, max(3, g.size // 4)
    roots, level2 = max(1, n // 20), max(1, n // 5)
    start, step = g.anchor_ts - 1080 * DAY, (1050 * DAY) / n  # 36 → 1 months ago, in id order
    deal_owners = set(g.owner_pool)
    owners = [i for i, u in enumerate(users) if u["Id"] in deal_owners]
    account_teams = g.profile.account_teams
    contact_counter = 0
    for i in range(n):
        aid = g.ids.next("001")
        created = int(start + (i + rng.random()) * step)
        if i < roots:
            parent = None
        elif i < roots + level2:
            parent = make_id("001", rng.randrange(roots) + 1)
        elif rng.random() < 0.3:
            parent = make_id("001", roots + rng.randrange(level2) + 1)
        else:
            parent = None
        owner = rng.choice(owners)
        owner_id = users[owner]["Id"]
        city, country = rng.choice(CITIES)
        name = account_name(i)
        g.sink.add("Account", audit({
            "Id": aid, "Name": name, "ParentId": parent, "OwnerId": owner_id,
            "Type": rng.choice(("Prospect", "Customer - Direct", "Customer - Direct",
                                "Customer - Channel", "Partner", "Other")),
            "Industry": rng.choice(INDUSTRIES),
            "AnnualRevenue": float(rng.randint(1, 5000) * 100_000),
            "NumberOfEmployees": rng.randint(10, 50_000), "BillingCity": city,
            "BillingCountry": country,
            "Website": f"https://www.{name.split()[0].lower()}{i + 1}.example.com",
            "CurrencyIsoCode": g.currency(),
            **gen_details.account(g.details, i, name, city, country),
        }, created, g.ts_between(created, g.anchor_ts - DAY), owner_id))
        g.account_owner.append(owner)
        g.account_ts.append(created)
        contacts = rng.randint(1, 5)
        g.contact_start.append(contact_counter + 1)
        g.contact_count.append(contacts)
        for _ in range(contacts):
            contact_counter += 1
            _contact(g, aid, owner_id, created)
        if account_teams and rng.random() < 0.17:
            for member in rng.sample(g.team_pool, min(len(g.team_pool), rng.randint(1, 2))):
                g.sink.add("AccountTeamMember", audit({
                    "Id": g.ids.next("01M"), "AccountId": aid, "UserId": member,
                    "TeamMemberRole": rng.choice(TEAM_ROLES), "AccountAccessLevel": "Edit",
                    "OpportunityAccessLevel": "Read", "CaseAccessLevel": "None",
                }, created + DAY, created + DAY, owner_id))
        if i % 2000 == 0:
            report("Account", i, n)
    g.accounts = n
    report("Account", n, n)


def _contact(g: Gen, account_id: str, owner_id: str, account_created: int) -> None:
    rng = g.rng
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    created = min(account_created + rng.randint(0, 40) * DAY + rng.randint(0, DAY),
                  g.anchor_ts - 3600)
    g.sink.add("Contact", audit({
        "Id": g.ids.next("003"), "AccountId": account_id, "FirstName": first, "LastName": last,
        "Name": f"{first} {last}", "Title": rng.choice(TITLES),
        "Email": f"{first}.{last}{rng.randint(1, 999)}@example.com".lower().replace("'", ""),
        "Phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "OwnerId": owner_id, "CurrencyIsoCode": g.currency(), **gen_details.contact(g.details),
    }, created, g.ts_between(created, g.anchor_ts - 60), owner_id))


def _leads(g: Gen, report: Progress) -> None:
    """Leads ≈ N/2 over 24 months; about a fifth converted into an account/contact/deal."""
    rng, n = g.rng, max(1, g.size // 2)
    start, step = g.anchor_ts - 730 * DAY, (729 * DAY) / n
    tracking = g.profile.history_tracking
    for i in range(n):
        lid = g.ids.next("00Q")
        created = int(start + (i + rng.random()) * step)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        owner = rng.choice(g.owner_pool)
        converted = rng.random() < 0.2 and created < g.anchor_ts - 2 * DAY
        status = "Closed - Converted" if converted else rng.choice(
            ("Open - Not Contacted", "Working - Contacted", "Working - Contacted",
             "Closed - Not Converted"))
        modified = g.ts_between(created, g.anchor_ts - 60)
        row = audit({
            "Id": lid, "FirstName": first, "LastName": last, "Name": f"{first} {last}",
            "Company": f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}",
            "Title": rng.choice(TITLES), "Email": f"{first}.{last}@lead.example.com".lower(),
            "Status": status, "LeadSource": rng.choice(("Web", "Phone Inquiry", "Trade Show",
                                                        "Partner Referral", "Other")),
            "OwnerId": owner, "IsConverted": int(converted), "CurrencyIsoCode": g.currency(),
            **gen_details.lead(g.details, INDUSTRIES),
        }, created, modified, owner)
        if converted:
            acct = rng.randrange(g.accounts)
            row["ConvertedDate"] = sf_date(modified)
            row["ConvertedAccountId"] = make_id("001", acct + 1)
            row["ConvertedContactId"] = make_id("003", g.contact_start[acct])
            row["ConvertedOpportunityId"] = make_id("006", rng.randrange(g.size) + 1)
        g.sink.add("Lead", row)
        if tracking:
            _lead_history(g, lid, owner, created, modified, status, converted)
        if i % 5000 == 0:
            report("Lead", i, n)
    report("Lead", n, n)


def _lead_history(g: Gen, lead_id: str, owner: str, created: int, modified: int, status: str,
                  converted: bool) -> None:
    rows = [("created", None, None, None)]
    if status != LEAD_STATUSES[0]:
        rows.append(("Status", "Picklist", LEAD_STATUSES[0], status))
    if converted:
        rows.append(("leadConverted", None, None, None))
    for k, (fld, dtype, old, new) in enumerate(rows):
        at = created if k == 0 else created + (modified - created) * k // len(rows)
        g.sink.add("LeadHistory", {
            "Id": g.ids.next("017"), "LeadId": lead_id, "Field": fld, "DataType": dtype,
            "OldValue": old, "NewValue": new, "CreatedDate": sf_datetime(at), "CreatedById": owner,
        })
