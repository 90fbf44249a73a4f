"""What is synced: the objects, the fields the app needs, and which rows belong in the store.

One ``ObjectSpec`` per Salesforce object. The *scope* of an object says which of the org's rows
the store keeps (the product page's "Initial Sync"):

- ``all``           every row (users, leads, record types, stages, the organization)
- ``opportunity``   open deals, and closed ones whose CloseDate is within the closed lookback
- ``account``       accounts of in-scope deals, and their parent chain
- ``contact``       contacts of in-scope accounts, and contacts in in-scope contact roles
- ``child:F``       rows whose parent field F points at an in-scope deal (or account)
- ``since:F``       rows whose date F is within the activity lookback

The same rules drive the initial SOQL, the pruning after incremental syncs, and the tests that
check the store equals the org.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks, ObjectSpec

_AUDIT = ("Id", "SystemModstamp")
_DEAL_PARENT = {"_ParentId": ("OpportunityId",)}

SPECS: tuple[ObjectSpec, ...] = (
    ObjectSpec("Organization", m.Organization, ("Id", "Name", "IsSandbox", "OrganizationType"),
               ("InstanceName", "FiscalYearStartMonth", "SystemModstamp")),
    ObjectSpec("User", m.SfUser, (*_AUDIT, "Name", "IsActive"),
               ("FirstName", "LastName", "Username", "Email", "Title", "UserType", "ManagerId",
                "Department")),
    ObjectSpec("RecordType", m.RecordType, (*_AUDIT, "Name", "DeveloperName", "SobjectType"),
               ("BusinessProcessId", "IsActive", "Description"),
               where="SobjectType = 'Opportunity'"),
    ObjectSpec("OpportunityStage", m.OpportunityStage,
               (*_AUDIT, "MasterLabel", "IsClosed", "IsWon", "DefaultProbability", "SortOrder"),
               ("ApiName", "IsActive", "ForecastCategory", "ForecastCategoryName")),
    ObjectSpec("Opportunity", m.Opportunity,
               (*_AUDIT, "Name", "Amount", "CloseDate", "StageName", "Probability", "OwnerId",
                "AccountId", "CreatedDate", "LastModifiedDate", "IsClosed", "IsWon"),
               ("RecordTypeId", "CurrencyIsoCode", "Type", "NextStep", "LeadSource",
                "ForecastCategory", "ForecastCategoryName", "LastActivityDate"),
               scope="opportunity"),
    ObjectSpec("Account", m.Account, (*_AUDIT, "Name"),
               ("ParentId", "OwnerId", "Type", "Industry", "AnnualRevenue", "NumberOfEmployees",
                "BillingCity", "BillingCountry", "Website", "CurrencyIsoCode"),
               scope="account"),
    ObjectSpec("Contact", m.Contact, (*_AUDIT, "Name", "AccountId"),
               ("FirstName", "LastName", "Email", "Title", "Phone", "OwnerId"), scope="contact"),
    ObjectSpec("OpportunityContactRole", m.OpportunityContactRole,
               (*_AUDIT, "OpportunityId", "ContactId", "Role", "IsPrimary"),
               scope="child:OpportunityId"),
    ObjectSpec("OpportunityHistory", m.StageHistory,
               (*_AUDIT, "OpportunityId", "StageName", "CreatedDate"),
               ("Amount", "Probability", "CloseDate", "CreatedById"),
               scope="child:OpportunityId", derived=_DEAL_PARENT,
               constants={"_sobject": "OpportunityHistory"}, essential=False),
    ObjectSpec("OpportunityTeamMember", m.Collaborator,
               (*_AUDIT, "OpportunityId", "UserId"), ("TeamMemberRole",),
               scope="child:OpportunityId", derived=_DEAL_PARENT,
               constants={"_sobject": "OpportunityTeamMember"}, essential=False),
    ObjectSpec("AccountTeamMember", m.Collaborator, (*_AUDIT, "AccountId", "UserId"),
               ("TeamMemberRole",), scope="child:AccountId",
               derived={"_ParentId": ("AccountId",)},
               constants={"_sobject": "AccountTeamMember"}, essential=False),
    ObjectSpec("Lead", m.Lead, (*_AUDIT, "Name", "Status", "OwnerId", "IsConverted"),
               ("Company", "Title", "Email", "LeadSource", "ConvertedDate",
                "ConvertedOpportunityId", "ConvertedAccountId", "CreatedDate"),
               essential=False),
    ObjectSpec("LeadHistory", m.StageHistory, ("Id", "LeadId", "Field", "CreatedDate"),
               ("OldValue", "NewValue", "CreatedById"), cursor_field="CreatedDate",
               derived={"_ParentId": ("LeadId",)}, constants={"_sobject": "LeadHistory"},
               essential=False),
    ObjectSpec("Task", m.Activity, (*_AUDIT, "Subject", "ActivityDate", "WhatId"),
               ("WhoId", "OwnerId", "TaskSubtype", "Status", "IsClosed", "CreatedDate"),
               scope="since:ActivityDate", derived={"_OccurredAt": ("ActivityDate",)},
               constants={"_kind": "Task"}, essential=False),
    ObjectSpec("Event", m.Activity,
               (*_AUDIT, "Subject", "ActivityDateTime", "ActivityDate", "WhatId"),
               ("WhoId", "OwnerId", "DurationInMinutes"),
               scope="since:ActivityDateTime,ActivityDate",
               derived={"_OccurredAt": ("ActivityDateTime", "ActivityDate")},
               constants={"_kind": "Event"}, essential=False),
    ObjectSpec("EmailMessage", m.Activity, (*_AUDIT, "Subject", "MessageDate"),
               ("RelatedToId", "Incoming", "Status"), scope="since:MessageDate",
               derived={"_OccurredAt": ("MessageDate",), "WhatId": ("RelatedToId",)},
               constants={"_kind": "EmailMessage"}, essential=False),
)
SPECS_BY_NAME = {spec.sobject: spec for spec in SPECS}


DATETIME_FIELDS = {"ActivityDateTime", "MessageDate", "SystemModstamp", "CreatedDate",
                   "LastModifiedDate"}


def soql_date(value: date) -> str:
    return value.isoformat()


def soql_literal(field_name: str, value: date) -> str:
    """A date literal typed for the field: dateTime fields want a time and a zone."""
    if field_name in DATETIME_FIELDS:
        return f"{value.isoformat()}T00:00:00Z"
    return value.isoformat()


def all_of(clauses: Iterable[str]) -> str:
    """SOQL conditions joined by AND, each in parentheses; empty ones left out ("" if none)."""
    return " AND ".join(f"({c})" for c in clauses if c)


def scope_filter(spec: ObjectSpec, lookbacks: Lookbacks, today: date) -> str:
    """The SOQL WHERE (without the keyword) that fetches this object's in-scope rows."""
    deals = (f"IsClosed = false OR CloseDate >= "
             f"{soql_date(lookbacks.closed_cutoff(today))}")
    clauses = [spec.where] if spec.where else []
    if spec.scope == "opportunity":
        clauses.append(deals)
    elif spec.scope == "child:OpportunityId":
        clauses.append(f"OpportunityId IN (SELECT Id FROM Opportunity WHERE {deals})")
    elif spec.scope.startswith("since:"):
        # The first non-null of the fields decides, as the store's occurred-at column does.
        cutoff = lookbacks.activity_cutoff(today)
        names = spec.scope.split(":", 1)[1].split(",")
        tests = [f"{n} >= {soql_literal(n, cutoff)}" for n in names]
        clause = tests[-1]
        for name, test in zip(reversed(names[:-1]), reversed(tests[:-1]), strict=True):
            clause = f"{test} OR ({name} = null AND ({clause}))"
        clauses.append(clause)
    # account, contact and child:AccountId are closures over the store: fetched by Id lists.
    return all_of(clauses)
