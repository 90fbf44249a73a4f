"""The demo org's objects and fields: one catalog drives storage, describe and SOQL.

Storage contract (shared by the generator, the SOQL engine and the REST server): one SQLite table
per sObject, named exactly as the sObject, one column per field named exactly as the field.
Values are stored as Salesforce serialises them: dates ``YYYY-MM-DD``, datetimes
``YYYY-MM-DDThh:mm:ss.000+0000`` (UTC, so text order is time order), booleans 0/1, numbers as
numbers, null as NULL. Every table has ``Id`` (primary key) and an ``IsDeleted`` column, but
only objects that have IsDeleted in real Salesforce show it through the API (``api_hidden``):
Organization, User, BusinessProcess, RecordType and OpportunityStage do not
(smvue_demo_org/real_salesforce.py names the sources).

``build_catalog(profile)`` gives the org as stored (every field); ``catalog.visible(profile)``
gives the org as the connected user sees it (field-level security applied): use the visible one
for describe and SOQL.
"""

from __future__ import annotations

from smvue_demo_org.catalog_types import Catalog, ChildRelationship, FieldDef, ObjectDef
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.real_width import widen

__all__ = ["Catalog", "ChildRelationship", "FieldDef", "ObjectDef", "build_catalog",
           "create_tables"]

# --- the objects -----------------------------------------------------------------------------

STAGES_SALES = (  # (name, probability, closed, won, forecast category)
    ("Prospecting", 10, False, False, "Pipeline"),
    ("Qualification", 20, False, False, "Pipeline"),
    ("Needs Analysis", 30, False, False, "Pipeline"),
    ("Value Proposition", 50, False, False, "Pipeline"),
    ("Proposal/Price Quote", 75, False, False, "BestCase"),
    ("Negotiation/Review", 90, False, False, "Forecast"),
    ("Closed Won", 100, True, True, "Closed"),
    ("Closed Lost", 0, True, False, "Omitted"),
)
STAGES_EXTRA = (
    ("Renewal Due", 60, False, False, "Pipeline"),
    ("Renewal Confirmed", 90, False, False, "Forecast"),
    ("Discovery", 15, False, False, "Pipeline"),
    ("Pilot", 40, False, False, "BestCase"),
)
# Record types (pipelines) and the stages their business process allows, in order.
PIPELINES = {
    "New_Business": ("New Business", [s[0] for s in STAGES_SALES]),
    "Renewal": ("Renewal", ["Renewal Due", "Negotiation/Review", "Renewal Confirmed",
                            "Closed Won", "Closed Lost"]),
    "Partner": ("Partner", ["Discovery", "Qualification", "Pilot", "Proposal/Price Quote",
                            "Closed Won", "Closed Lost"]),
}
ALL_STAGES = STAGES_SALES + STAGES_EXTRA
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
CONTACT_ROLES = ("Decision Maker", "Economic Buyer", "Influencer", "Technical Buyer",
                 "Evaluator", "Executive Sponsor", "Business User", "Other")
TEAM_ROLES = ("Sales Engineer", "Account Manager", "Executive Sponsor", "Lead Qualifier",
              "Channel Manager", "Opportunity Owner")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                 "Closed - Not Converted")
TASK_SUBTYPES = ("Task", "Email", "Call", "ListEmail", "LinkedIn")


def _f(name: str, type_: str, **kw: object) -> FieldDef:
    label = kw.pop("label", None) or name.removesuffix("__c").removesuffix("Id").replace("_", " ")
    return FieldDef(name, type_, str(label), **kw)  # type: ignore[arg-type]


def _ref(name: str, to: str | tuple[str, ...], rel: str, **kw: object) -> FieldDef:
    targets = (to,) if isinstance(to, str) else to
    return _f(name, "reference", reference_to=targets, relationship_name=rel, **kw)


def _audit(modstamp: bool = True, modified: bool = True) -> list[FieldDef]:
    out = [
        FieldDef("Id", "id", "Record ID", nillable=False, system=True, length=18),
        FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, system=True),
        FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, system=True),
        _ref("CreatedById", "User", "CreatedBy", nillable=False, system=True),
    ]
    if modified:
        out += [
            FieldDef("LastModifiedDate", "datetime", "Last Modified Date", nillable=False,
                     system=True),
            _ref("LastModifiedById", "User", "LastModifiedBy", nillable=False, system=True),
        ]
    if modstamp:
        out.append(FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False,
                            system=True))
    return out


def _obj(name: str, prefix: str, plural: str, body: list[FieldDef], *, modstamp: bool = True,
         modified: bool = True, label: str | None = None, is_deleted: bool = True,
         replicateable: bool = True) -> ObjectDef:
    """``is_deleted``/``replicateable`` as real Salesforce has them (real_salesforce.py)."""
    fields = {f.name: f for f in _audit(modstamp, modified) + body}
    hidden = frozenset() if is_deleted else frozenset({"IsDeleted"})
    return ObjectDef(name, prefix, label or name, plural, fields, replicateable=replicateable,
                     api_hidden=hidden)


def _stage_names() -> tuple[str, ...]:
    return tuple(s[0] for s in ALL_STAGES)


def build_catalog(profile: OrgProfile) -> Catalog:
    """Every object and field this org stores, shaped by the profile's feature toggles."""
    money: list[FieldDef] = (
        [_f("CurrencyIsoCode", "picklist", label="Currency ISO Code", picklist=CURRENCIES)]
        if profile.multi_currency else []
    )
    objects = [
        _obj("Organization", "00D", "Organizations", [
            _f("Name", "string", length=80), _f("IsSandbox", "boolean"),
            _f("OrganizationType", "picklist", label="Edition",
               picklist=tuple(f"{e} Edition" for e in ("Professional", "Enterprise",
                                                       "Unlimited", "Developer"))),
            _f("InstanceName", "string", length=5),
            _f("TimeZoneSidKey", "picklist"), _f("DefaultLocaleSidKey", "picklist"),
            _f("FiscalYearStartMonth", "int"), _f("TrialExpirationDate", "datetime"),
            _f("NamespacePrefix", "string", length=15), *money,
        ], is_deleted=False, replicateable=False),
        _obj("User", "005", "Users", [
            _f("Username", "string", length=80), _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80), _f("Name", "string", label="Full Name"),
            _f("Email", "email", length=128), _f("Title", "string", length=80),
            _f("IsActive", "boolean"),
            _f("UserType", "picklist", picklist=("Standard", "PowerPartner", "CsnOnly",
                                                 "Guest", "AutomatedProcess")),
            _ref("ManagerId", "User", "Manager"), _f("Department", "string", length=80),
            _f("TimeZoneSidKey", "picklist"), *money,
        ], is_deleted=False),
        _obj("BusinessProcess", "019", "Business Processes", [
            _f("Name", "string", length=80), _f("TableEnumOrId", "picklist"),
            _f("IsActive", "boolean"), _f("Description", "string", length=255),
        ], label="Business Process", is_deleted=False, replicateable=False),
        _obj("RecordType", "012", "Record Types", [
            _f("Name", "string", length=80), _f("DeveloperName", "string", length=80),
            _f("SobjectType", "picklist"), _ref("BusinessProcessId", "BusinessProcess",
                                               "BusinessProcess"),
            _f("IsActive", "boolean"), _f("Description", "string", length=255),
        ], label="Record Type", is_deleted=False),
        _obj("OpportunityStage", "01J", "Opportunity Stages", [
            _f("MasterLabel", "string", label="Master Label", length=255),
            _f("ApiName", "string", length=255), _f("IsActive", "boolean"),
            _f("SortOrder", "int"), _f("IsClosed", "boolean"), _f("IsWon", "boolean"),
            _f("ForecastCategory", "picklist",
               picklist=("Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
            _f("ForecastCategoryName", "picklist"), _f("DefaultProbability", "percent"),
            _f("Description", "string", length=255),
        ], label="Opportunity Stage", is_deleted=False, replicateable=False),
        _obj("Account", "001", "Accounts", [
            _f("Name", "string", length=255), _ref("ParentId", "Account", "Parent"),
            _ref("OwnerId", "User", "Owner", nillable=False),
            _f("Type", "picklist", picklist=("Prospect", "Customer - Direct",
                                             "Customer - Channel", "Partner", "Other")),
            _f("Industry", "picklist"), _f("AnnualRevenue", "currency"),
            _f("NumberOfEmployees", "int", label="Employees"),
            _f("BillingCity", "string", length=40), _f("BillingCountry", "string", length=80),
            _f("Website", "url", length=255), *money,
        ]),
        _obj("Contact", "003", "Contacts", [
            _ref("AccountId", "Account", "Account"), _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80), _f("Name", "string", label="Full Name"),
            _f("Email", "email", length=80), _f("Title", "string", length=128),
            _f("Phone", "phone", length=40), _ref("OwnerId", "User", "Owner", nillable=False),
            *money,
        ]),
        _obj("Opportunity", "006", "Opportunities", [
            _f("Name", "string", length=120, nillable=False),
            _ref("AccountId", "Account", "Account"),
            *([_ref("RecordTypeId", "RecordType", "RecordType")] if profile.record_types else []),
            _f("StageName", "picklist", label="Stage", picklist=_stage_names(), nillable=False),
            _f("Amount", "currency"), _f("Probability", "percent", label="Probability (%)"),
            _f("ExpectedRevenue", "currency", label="Expected Amount"),
            _f("CloseDate", "date", nillable=False), _f("Type", "picklist",
               picklist=("New Customer", "Existing Customer - Upgrade",
                         "Existing Customer - Renewal")),
            _f("NextStep", "string", length=255),
            _f("LeadSource", "picklist", picklist=("Web", "Phone Inquiry", "Partner Referral",
                                                   "Trade Show", "Other")),
            _f("IsClosed", "boolean", label="Closed"), _f("IsWon", "boolean", label="Won"),
            _f("ForecastCategory", "picklist",
               picklist=("Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
            _f("ForecastCategoryName", "picklist", label="Forecast Category"),
            _ref("OwnerId", "User", "Owner", nillable=False),
            _f("HasOpenActivity", "boolean"), _f("LastActivityDate", "date"),
            _f("FiscalQuarter", "int"), _f("FiscalYear", "int"),
            _f("Description", "textarea", length=32000), *money,
            _f("Competitor__c", "string", label="Main Competitor", custom=True, length=100),
            _f("Deal_Tier__c", "picklist", label="Deal Tier", custom=True,
               picklist=("Bronze", "Silver", "Gold", "Platinum")),
            _f("Seats__c", "double", label="Seats", custom=True),
            _f("Is_Strategic__c", "boolean", label="Strategic", custom=True),
            _f("Renewal_Date__c", "date", label="Renewal Date", custom=True),
        ]),
        _obj("OpportunityContactRole", "00K", "Opportunity Contact Roles", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _ref("ContactId", "Contact", "Contact", nillable=False),
            _f("Role", "picklist", picklist=CONTACT_ROLES), _f("IsPrimary", "boolean"),
        ], label="Opportunity Contact Role"),
        _obj("OpportunityHistory", "008", "Opportunity History", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _f("StageName", "picklist", picklist=_stage_names()), _f("Amount", "currency"),
            _f("Probability", "percent"), _f("CloseDate", "date"),
            _f("ExpectedRevenue", "currency"), _f("ForecastCategory", "picklist"),
            _f("PrevAmount", "currency"), _f("PrevCloseDate", "date"), *money,
        ], modified=False, label="Opportunity History"),
        _obj("OpportunityFieldHistory", "017", "Opportunity Field History", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _f("Field", "picklist"), _f("DataType", "picklist"),
            _f("OldValue", "anyType"), _f("NewValue", "anyType"),
        ], modstamp=False, modified=False, label="Opportunity Field History"),
        _obj("Lead", "00Q", "Leads", [
            _f("FirstName", "string", length=40), _f("LastName", "string", length=80),
            _f("Name", "string", label="Full Name"), _f("Company", "string", length=255),
            _f("Title", "string", length=128), _f("Email", "email", length=80),
            _f("Status", "picklist", picklist=LEAD_STATUSES),
            _f("LeadSource", "picklist"), _ref("OwnerId", "User", "Owner", nillable=False),
            _f("IsConverted", "boolean"), _f("ConvertedDate", "date"),
            _ref("ConvertedAccountId", "Account", "ConvertedAccount"),
            _ref("ConvertedContactId", "Contact", "ConvertedContact"),
            _ref("ConvertedOpportunityId", "Opportunity", "ConvertedOpportunity"), *money,
        ]),
        _obj("LeadHistory", "017", "Lead History", [
            _ref("LeadId", "Lead", "Lead", nillable=False), _f("Field", "picklist"),
            _f("DataType", "picklist"), _f("OldValue", "anyType"), _f("NewValue", "anyType"),
        ], modstamp=False, modified=False, label="Lead History"),
        _obj("Task", "00T", "Tasks", [
            _f("Subject", "combobox", length=255), _f("ActivityDate", "date", label="Due Date"),
            _f("Status", "picklist", picklist=("Not Started", "In Progress", "Completed")),
            _f("Priority", "picklist", picklist=("High", "Normal", "Low")),
            _f("IsClosed", "boolean"),
            _ref("WhatId", ("Opportunity", "Account"), "What"),
            _ref("WhoId", ("Contact", "Lead"), "Who"),
            _ref("OwnerId", "User", "Owner", nillable=False),
            _f("TaskSubtype", "picklist", picklist=TASK_SUBTYPES),
            _f("CompletedDateTime", "datetime"), _f("CallDurationInSeconds", "int"),
            _f("CallType", "picklist", picklist=("Internal", "Inbound", "Outbound")),
            _f("Description", "textarea", length=32000),
        ]),
        _obj("Event", "00U", "Events", [
            _f("Subject", "combobox", length=255), _f("ActivityDate", "date"),
            _f("ActivityDateTime", "datetime"), _f("StartDateTime", "datetime"),
            _f("EndDateTime", "datetime"), _f("DurationInMinutes", "int"),
            _f("IsAllDayEvent", "boolean"), _f("Location", "string", length=255),
            _ref("WhatId", ("Opportunity", "Account"), "What"),
            _ref("WhoId", ("Contact", "Lead"), "Who"),
            _ref("OwnerId", "User", "Owner", nillable=False),
            _f("Description", "textarea", length=32000),
        ]),

    ]
    if profile.email_messages:  # Enhanced Email: emails are EmailMessage records
        objects.append(
            _obj("EmailMessage", "02s", "Email Messages", [
                _f("Subject", "string", length=3000), _f("FromAddress", "email"),
                _f("FromName", "string"), _f("ToAddress", "string", length=4000),
                _f("MessageDate", "datetime"), _f("Incoming", "boolean"),
                _f("Status", "picklist", picklist=("0", "1", "2", "3", "4", "5")),
                _ref("RelatedToId", ("Opportunity", "Account"), "RelatedTo"),
                _ref("ActivityId", "Task", "Activity"),
            ], label="Email Message"))
    if profile.team_selling:
        objects.append(_obj("OpportunityTeamMember", "00q", "Opportunity Team Members", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _ref("UserId", "User", "User", nillable=False), _f("Name", "string"),
            _f("TeamMemberRole", "picklist", label="Member Role", picklist=TEAM_ROLES),
            _f("OpportunityAccessLevel", "picklist", picklist=("Read", "Edit", "All")),
        ], label="Opportunity Team Member"))
    if profile.account_teams:
        objects.append(_obj("AccountTeamMember", "01M", "Account Team Members", [
            _ref("AccountId", "Account", "Account", nillable=False),
            _ref("UserId", "User", "User", nillable=False),
            _f("TeamMemberRole", "picklist", label="Team Role", picklist=TEAM_ROLES),
            _f("AccountAccessLevel", "picklist", picklist=("Read", "Edit", "All")),
            _f("OpportunityAccessLevel", "picklist", picklist=("None", "Read", "Edit")),
            _f("CaseAccessLevel", "picklist", picklist=("None", "Read", "Edit")),
        ], label="Account Team Member"))
    catalog = Catalog({o.name: widen(o) for o in objects})  # real width (real_width.py)
    _link_children(catalog)
    return catalog


# Child relationship names as Salesforce spells them (parent, child, field) → name.
_CHILD_NAMES = {
    ("Account", "Opportunity", "AccountId"): "Opportunities",
    ("Account", "Contact", "AccountId"): "Contacts",
    ("Account", "Account", "ParentId"): "ChildAccounts",
    ("Account", "AccountTeamMember", "AccountId"): "AccountTeamMembers",
    ("Account", "Task", "WhatId"): "Tasks",
    ("Account", "Event", "WhatId"): "Events",
    ("Opportunity", "OpportunityContactRole", "OpportunityId"): "OpportunityContactRoles",
    ("Opportunity", "OpportunityHistory", "OpportunityId"): "OpportunityHistories",
    ("Opportunity", "OpportunityFieldHistory", "OpportunityId"): "Histories",
    ("Opportunity", "OpportunityTeamMember", "OpportunityId"): "OpportunityTeamMembers",
    ("Opportunity", "Task", "WhatId"): "Tasks",
    ("Opportunity", "Event", "WhatId"): "Events",
    ("Opportunity", "EmailMessage", "RelatedToId"): "Emails",
    ("Contact", "OpportunityContactRole", "ContactId"): "OpportunityContactRoles",
    ("Lead", "LeadHistory", "LeadId"): "Histories",
    ("User", "Opportunity", "OwnerId"): "Opportunities",
    ("RecordType", "Opportunity", "RecordTypeId"): "Opportunities",
}


def _link_children(catalog: Catalog) -> None:
    for (parent, child, fld), rel in _CHILD_NAMES.items():
        if parent in catalog.objects and child in catalog.objects \
                and fld in catalog.objects[child].fields:
            catalog.objects[parent].child_relationships.append(
                ChildRelationship(child, fld, rel, cascade_delete=_cascades(parent, child, fld)))


def _cascades(parent: str, child: str, fld: str) -> bool:
    """Whether deleting the parent deletes the child, as Salesforce does: an account takes its
    contacts, deals and team with it; a deal or lead its roles, history and team; a contact its
    contact roles."""
    if fld in ("OpportunityId", "LeadId"):
        return True
    if parent == "Account" and fld == "AccountId":
        return True
    return (parent, child) == ("Contact", "OpportunityContactRole")


def create_tables(conn: object, catalog: Catalog) -> None:
    """Create one table per object (see the storage contract above) plus the indexes SOQL needs.

    ``conn`` is a sqlite3 connection. Reference fields and SystemModstamp are indexed because the
    app's queries filter and page on them.
    """
    for obj in catalog.objects.values():
        cols = ", ".join(
            f'"{f.name}" {f.sql_type}' + (" PRIMARY KEY" if f.name == "Id" else "")
            for f in obj.fields.values() if f.stored
        )
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{obj.name}" ({cols})')  # type: ignore[attr-defined]
        # Lookups to objects this org serves (not the system or foreign ones the real field
        # list adds: MasterRecordId, CampaignId, ProfileId, ...).
        indexed = [f.name for f in obj.fields.values() if f.type == "reference"
                   and not f.system and all(t in catalog.objects for t in f.reference_to)]
        indexed += [n for n in ("SystemModstamp", "CreatedDate", "CloseDate", "StageName")
                    if n in obj.fields]
        for col in indexed:
            conn.execute(  # type: ignore[attr-defined]
                f'CREATE INDEX IF NOT EXISTS "ix_{obj.name}_{col}" ON "{obj.name}" ("{col}")'
            )
