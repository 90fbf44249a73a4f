"""What the store keeps.

Two kinds of table:

- **Mirrors** of Salesforce objects (``SfRecord`` subclasses). Each column's ``column_name`` is the
  Salesforce field's API name, so a record from the API maps onto a row by name alone
  (``sf_columns(Model)``) and a reader of the database sees Salesforce's own names. Values are
  kept as Salesforce sends them (ISO date/datetime text, numbers, 0/1). Only sync writes these.
- **SMVue's own** tables: team members, stage overrides, field mappings, sync cursors and runs,
  change notifications, deployed automation, and the manager's notes and action items — which no
  sync, disconnect or reconnect ever touches.
"""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from smvue_tui.store.identity import current_manager

database = DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def _sf(name: str, kind: type = TextField, **kw: object) -> object:
    """A mirrored column named as the Salesforce field."""
    return kind(column_name=name, null=True, **kw)


class SfRecord(BaseModel):
    """A mirrored Salesforce record: keyed by its 18-char Id."""

    id = CharField(primary_key=True, max_length=18, column_name="Id")
    # Not indexed: the store never selects by it (cursors live in SyncCursor), and an index
    # on every mirrored table cost each written row one more b-tree update.
    system_modstamp = _sf("SystemModstamp")


# --- mirrors ---------------------------------------------------------------------------------


class Organization(SfRecord):
    name = _sf("Name")
    is_sandbox = _sf("IsSandbox", BooleanField)
    organization_type = _sf("OrganizationType")
    instance_name = _sf("InstanceName")
    fiscal_year_start_month = _sf("FiscalYearStartMonth", IntegerField)


class SfUser(SfRecord):
    name = _sf("Name")
    first_name = _sf("FirstName")
    last_name = _sf("LastName")
    username = _sf("Username")
    email = _sf("Email")
    title = _sf("Title")
    is_active = _sf("IsActive", BooleanField)
    user_type = _sf("UserType")
    manager_id = _sf("ManagerId")
    department = _sf("Department")


class RecordType(SfRecord):
    """An Opportunity record type: one pipeline."""

    name = _sf("Name")
    developer_name = _sf("DeveloperName")
    sobject_type = _sf("SobjectType")
    business_process_id = _sf("BusinessProcessId")
    is_active = _sf("IsActive", BooleanField)
    description = _sf("Description")


class OpportunityStage(SfRecord):
    master_label = _sf("MasterLabel")
    api_name = _sf("ApiName")
    is_active = _sf("IsActive", BooleanField)
    sort_order = _sf("SortOrder", IntegerField)
    is_closed = _sf("IsClosed", BooleanField)
    is_won = _sf("IsWon", BooleanField)
    forecast_category = _sf("ForecastCategory")
    forecast_category_name = _sf("ForecastCategoryName")
    default_probability = _sf("DefaultProbability", FloatField)


class Account(SfRecord):
    name = _sf("Name")
    parent_id = _sf("ParentId", index=True)
    owner_id = _sf("OwnerId")
    type = _sf("Type")
    industry = _sf("Industry")
    annual_revenue = _sf("AnnualRevenue", FloatField)
    number_of_employees = _sf("NumberOfEmployees", IntegerField)
    billing_city = _sf("BillingCity")
    billing_country = _sf("BillingCountry")
    website = _sf("Website")
    currency_iso_code = _sf("CurrencyIsoCode")


class Contact(SfRecord):
    account_id = _sf("AccountId", index=True)
    first_name = _sf("FirstName")
    last_name = _sf("LastName")
    name = _sf("Name")
    email = _sf("Email")
    title = _sf("Title")
    phone = _sf("Phone")
    owner_id = _sf("OwnerId")


class Opportunity(SfRecord):
    name = _sf("Name")
    account_id = _sf("AccountId", index=True)
    record_type_id = _sf("RecordTypeId", index=True)
    stage_name = _sf("StageName", index=True)
    amount = _sf("Amount", FloatField)
    probability = _sf("Probability", FloatField)
    close_date = _sf("CloseDate", index=True)
    type = _sf("Type")
    next_step = _sf("NextStep")
    lead_source = _sf("LeadSource")
    is_closed = _sf("IsClosed", BooleanField, index=True)
    is_won = _sf("IsWon", BooleanField)
    forecast_category = _sf("ForecastCategory")
    forecast_category_name = _sf("ForecastCategoryName")
    owner_id = _sf("OwnerId", index=True)
    created_date = _sf("CreatedDate")
    last_modified_date = _sf("LastModifiedDate")
    last_activity_date = _sf("LastActivityDate")
    currency_iso_code = _sf("CurrencyIsoCode")
    # Mapped custom fields (Settings > CRM Field Mapping), as a JSON object {api name: value}.
    custom_fields = TextField(column_name="_custom_fields", default="{}")


class OpportunityContactRole(SfRecord):
    opportunity_id = _sf("OpportunityId", index=True)
    contact_id = _sf("ContactId", index=True)
    role = _sf("Role")
    is_primary = _sf("IsPrimary", BooleanField)


class Activity(SfRecord):
    """Events, Tasks and EmailMessages in one timeline; ``kind`` says which."""

    kind = CharField(column_name="_kind", max_length=12)  # Event | Task | EmailMessage
    subject = _sf("Subject")
    occurred_at = _sf("_OccurredAt", index=True)  # ActivityDateTime / ActivityDate / MessageDate
    what_id = _sf("WhatId", index=True)  # Opportunity or Account (RelatedToId for emails)
    who_id = _sf("WhoId")
    owner_id = _sf("OwnerId")
    subtype = _sf("TaskSubtype")  # Call, Email, Task… (Tasks only)
    status = _sf("Status")
    is_closed = _sf("IsClosed", BooleanField)
    duration_minutes = _sf("DurationInMinutes", IntegerField)
    incoming = _sf("Incoming", BooleanField)


class Lead(SfRecord):
    name = _sf("Name")
    company = _sf("Company")
    title = _sf("Title")
    email = _sf("Email")
    status = _sf("Status")
    lead_source = _sf("LeadSource")
    owner_id = _sf("OwnerId", index=True)
    is_converted = _sf("IsConverted", BooleanField)
    converted_date = _sf("ConvertedDate")
    converted_opportunity_id = _sf("ConvertedOpportunityId")
    converted_account_id = _sf("ConvertedAccountId")
    created_date = _sf("CreatedDate")


class StageHistory(SfRecord):
    """OpportunityHistory and LeadHistory rows; ``sobject`` says which."""

    sobject = CharField(column_name="_sobject", max_length=20)
    parent_id = _sf("_ParentId", index=True)  # OpportunityId / LeadId
    stage_name = _sf("StageName")
    amount = _sf("Amount", FloatField)
    probability = _sf("Probability", FloatField)
    close_date = _sf("CloseDate")
    field = _sf("Field")
    old_value = _sf("OldValue")
    new_value = _sf("NewValue")
    created_date = _sf("CreatedDate", index=True)
    created_by_id = _sf("CreatedById")


class Collaborator(SfRecord):
    """OpportunityTeamMember and AccountTeamMember rows; ``sobject`` says which."""

    sobject = CharField(column_name="_sobject", max_length=24)
    parent_id = _sf("_ParentId", index=True)  # OpportunityId / AccountId
    user_id = _sf("UserId", index=True)
    role = _sf("TeamMemberRole")


MIRRORS = [Organization, SfUser, RecordType, OpportunityStage, Account, Contact, Opportunity,
           OpportunityContactRole, Activity, Lead, StageHistory, Collaborator]


# --- SMVue's own -----------------------------------------------------------------------------


class Connection(BaseModel):
    """The connected org (one row while connected; kept, marked, after disconnect)."""

    org_id = CharField(primary_key=True, max_length=18)
    environment = CharField()  # production | sandbox | mydomain | demo
    login_url = CharField()
    instance_url = CharField()
    username = CharField(null=True)
    user_id = CharField(null=True, max_length=18)
    is_sandbox = BooleanField(default=False)
    connected_at = TextField(default=lambda: utcnow().isoformat())
    disconnected_at = TextField(null=True)


class TeamMember(BaseModel):
    id = AutoField()
    sf_user_id = CharField(null=True, unique=True, max_length=18)  # None: added by hand
    name = CharField()
    email = CharField(null=True)
    role = CharField(default="AE")  # AE, SDR, CSM, SE, AM, Manager, Other
    manager = ForeignKeyField("self", null=True, backref="reports", on_delete="SET NULL")
    coached = BooleanField(default=True)
    created_at = TextField(default=lambda: utcnow().isoformat())


class StageOverride(BaseModel):
    """A local probability for a stage (pipeline math), never sent to Salesforce; a team
    store keeps one set per manager's team (``team``: the manager key, "" in a one-manager
    store — ``identity.py``)."""

    team = CharField(default=current_manager, constraints=[SQL("DEFAULT ''")])
    stage_name = CharField()
    probability = FloatField()

    class Meta:
        primary_key = CompositeKey("team", "stage_name")


class PipelineSetting(BaseModel):
    """Per-pipeline preferences; ``is_default`` marks the one shown first."""

    record_type_id = CharField(primary_key=True, max_length=18)
    is_default = BooleanField(default=False)


class CustomFieldMapping(BaseModel):
    """A custom Opportunity field the user chose to sync (Settings > CRM Field Mapping)."""

    api_name = CharField(primary_key=True)
    label = CharField()
    type = CharField()
    enabled = BooleanField(default=True)
    backfilled = BooleanField(default=False)  # filled on the next sync after mapping


class SyncCursor(BaseModel):
    """Where the sync of one object stands; written in the same transaction as its rows."""

    sobject = CharField(primary_key=True)
    initial_done = BooleanField(default=False)
    watermark = TextField(null=True)  # the (SystemModstamp, Id) reached, modstamp part
    watermark_id = CharField(null=True, max_length=18)  # … and its Id tie-break
    deletes_checked_until = TextField(null=True)
    last_reconciled_at = TextField(null=True)
    skipped_reason = TextField(null=True)  # object or fields missing/hidden in this org


class ObjectPlan(BaseModel):
    """What describe said we may read of one object, kept so a resync needs no describe."""

    sobject = CharField(primary_key=True)
    available = BooleanField()  # False: the org lacks the object or hides it from the user
    fields = TextField(default="[]")  # JSON list of field names to query
    missing = TextField(default="[]")  # JSON list of wanted fields the user cannot read
    # JSON {"is_deleted": bool, "replicateable": bool} from describe; "" = not known (re-plan)
    capabilities = TextField(default="")
    planned_at = TextField(default=lambda: utcnow().isoformat())


class SyncRun(BaseModel):
    id = AutoField()
    kind = CharField()  # initial | incremental | reconcile | webhook
    started_at = TextField(default=lambda: utcnow().isoformat())
    finished_at = TextField(null=True)
    # running | ok | failed | paused | cancelled | interrupted (its process died mid-run)
    status = CharField(default="running")
    counts = TextField(default="{}")  # JSON {sobject: {"upserted": n, "deleted": n}}
    api_calls = IntegerField(default=0)
    errors = TextField(default="[]")  # JSON list of {"object", "code", "message", "remedy"}
    resumes_at = TextField(null=True)  # paused: API limit — when it resets
    pid = IntegerField(null=True)  # the process running it: a dead one's run was interrupted


class ChangeNotification(BaseModel):
    """A received outbound-message notification id, stored before the ACK (de-duplication)."""

    # An Outbound Message's id is 18 characters; a CDC event's "<event uuid>:<n>" is longer
    # (PostgreSQL enforces the length SQLite ignores).
    notification_id = CharField(primary_key=True)
    sobject = CharField()
    record_id = CharField(max_length=18, index=True)
    modstamp = TextField(null=True)
    received_at = TextField(default=lambda: utcnow().isoformat())
    fetched_at = TextField(null=True, index=True)
    # Why it can never be fetched (then fetched_at is set too): kept and shown, never retried,
    # so one bad notification cannot hold up the ones after it.
    set_aside = TextField(null=True)


class LiveReplay(BaseModel):
    """Where a Change Data Capture subscription stands: the replay id of the last events whose
    record ids are stored (written in the same transaction), so a restart resumes after it."""

    topic = CharField(primary_key=True)  # /data/ChangeEvents
    org_id = CharField(max_length=18)  # a replay id is only meaningful on its own org
    replay_id = TextField()  # hex of Salesforce's opaque bytes
    events = IntegerField(default=0)  # change events received, ever (for status)
    updated_at = TextField(default=lambda: utcnow().isoformat())


class DeployedAutomation(BaseModel):
    """A Metadata component SMVue deployed; ``leftover`` when removal failed."""

    full_name = CharField()
    type = CharField()  # WorkflowOutboundMessage | WorkflowRule | Flow
    org_id = CharField(max_length=18)
    component = TextField(default="{}")  # JSON: what removal needs (object, message it sends)
    deployed_at = TextField(default=lambda: utcnow().isoformat())
    removed_at = TextField(null=True)
    leftover_reason = TextField(null=True)
    setup_path = TextField(null=True)

    class Meta:
        primary_key = False
        indexes = ((("org_id", "type", "full_name"), True),)


class Note(BaseModel):
    """The manager's note on a deal. Keyed by Salesforce Id, never deleted by sync."""

    id = AutoField()
    opportunity_id = CharField(max_length=18, index=True)
    body = TextField()
    author = TextField(default=current_manager, constraints=[SQL("DEFAULT ''")])  # "": the only
    created_at = TextField(default=lambda: utcnow().isoformat())
    updated_at = TextField(default=lambda: utcnow().isoformat())


class ActionItem(BaseModel):
    id = AutoField()
    opportunity_id = CharField(max_length=18, index=True)
    text = TextField()
    due_date = TextField(null=True)
    done = BooleanField(default=False)
    author = TextField(default=current_manager, constraints=[SQL("DEFAULT ''")])  # "": the only
    created_at = TextField(default=lambda: utcnow().isoformat())


class DealChange(BaseModel):
    """One new version of a deal the sync stored over an older one, and what it changed.

    The store's own change log (``store/changelog.py``): written with the page that brought the
    version, only when a tracked field differs, never deleted by sync, resync or reconnect. It is
    how the inspection sees changes in orgs without OpportunityHistory, and owner changes in all.
    """

    id = AutoField()
    opportunity_id = CharField(max_length=18, index=True)
    changed_at = TextField(index=True)  # the new version's LastModifiedDate (else SystemModstamp)
    seen_at = TextField()  # when the sync stored it
    changes = TextField()  # JSON {Salesforce field: [old, new]}


class DealFact(BaseModel):
    """What the inspection (issue 13) needs of one deal's past, derived from its stored rows by
    ``store/deal_facts.py`` in the transaction that writes them: the report reads one row per
    deal instead of replaying history. ``h_`` from OpportunityHistory, ``l_`` from the change
    log (the report picks by what the org lets the sync read). Rebuilt by migration and repair.
    """

    deal_id = CharField(primary_key=True, max_length=18)
    h_stage = TextField(null=True)  # the current stint: its stage and since when
    h_since = TextField(null=True)
    h_pushes = IntegerField(default=0)  # close date moved later, how many times
    h_push_dates = TextField(null=True)  # JSON: the close dates it went through (when pushed)
    h_steps = TextField(null=True)  # JSON [[at, field, old, new], …]: each change, in order
    l_stage = TextField(null=True)
    l_since = TextField(null=True)
    l_pushes = IntegerField(default=0)
    l_push_dates = TextField(null=True)
    l_steps = TextField(null=True)
    last_activity = TextField(null=True)  # newest activity's date (YYYY-MM-DD)
    contacts = IntegerField(default=0)  # distinct contacts with a role on the deal
    has_primary = BooleanField(default=False)
    one_contact = TextField(null=True)  # the lowest ContactId (the name when single-threaded)


class FactsStale(BaseModel):
    """A kind of deal fact (``deal_facts.SOURCES``) a big page left to be recomputed whole
    before the next read (an initial or full sync: per-page upkeep would slow it down)."""

    source = CharField(primary_key=True, max_length=12)


class StageStint(BaseModel):
    """A finished stint of a deal in a stage, in days: the stage-age rule's medians."""

    id = AutoField()
    deal_id = CharField(max_length=18, index=True)
    source = CharField(max_length=1)  # h: OpportunityHistory, l: change log
    stage = TextField(null=True)
    days = FloatField()

    class Meta:
        indexes = ((("source", "stage", "days"), False),)


class WriterInfo(BaseModel):
    """Who syncs the org into a team store: ``smvue-tui serve`` (one row per org), for the
    TUIs that only read it (``store/team_tables.py``)."""

    org_id = CharField(primary_key=True, max_length=18)
    host = TextField()
    pid = IntegerField()
    version = TextField()
    started_at = TextField()
    heartbeat_at = TextField()
    last_sync_finished_at = TextField(null=True)
    last_sync_status = TextField(null=True)  # ok | failed | paused | …

    class Meta:
        table_name = "team_writer"


OWN = [Connection, TeamMember, StageOverride, PipelineSetting, CustomFieldMapping, SyncCursor,
       ObjectPlan, SyncRun, ChangeNotification, DeployedAutomation, Note, ActionItem, DealChange,
       LiveReplay, DealFact, StageStint, FactsStale, WriterInfo]
ALL_MODELS = MIRRORS + OWN


def sf_columns(model: type[SfRecord]) -> dict[str, str]:
    """Salesforce field name → attribute name, for the model's mirrored columns."""
    return {f.column_name: name for name, f in model._meta.fields.items()
            if not f.column_name.startswith("_")}

