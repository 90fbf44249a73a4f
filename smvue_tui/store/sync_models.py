"""SMVue's own bookkeeping of the org and its syncs: the connection, each object's cursor and
field plan, sync runs, change notifications waiting to be fetched, Change Data Capture's
replay id, the automation deployed in the org, and a team store's writer. Written by the
sync, the live modes and ``serve``; never by a manager's hand.
"""

from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, IntegerField, TextField

from smvue_tui.store.model_base import BaseModel, utcnow


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
