"""The manager's own data: team members, stage-probability overrides, pipeline and field
choices, notes and action items. No sync, disconnect or reconnect ever touches them; in a
team store the managers' role may write them all but the field mapping, which decides what
``serve`` reads (``services/team_admin.py``).
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    CompositeKey,
    FloatField,
    ForeignKeyField,
    TextField,
)

from smvue_tui.store.identity import current_manager
from smvue_tui.store.model_base import BaseModel, utcnow


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
    """Per-pipeline preferences of a manager; ``is_default`` marks the one shown first.
    ``manager``: whose (``identity.py``; "" in a one-manager store — and in a team store the
    store-wide choice made before store v11, every manager's until they choose their own)."""

    manager = CharField(default=current_manager, constraints=[SQL("DEFAULT ''")])
    record_type_id = CharField(max_length=18)
    is_default = BooleanField(default=False)

    class Meta:
        primary_key = CompositeKey("manager", "record_type_id")


class CustomFieldMapping(BaseModel):
    """A custom Opportunity field the user chose to sync (Settings > CRM Field Mapping)."""

    api_name = CharField(primary_key=True)
    label = CharField()
    type = CharField()
    enabled = BooleanField(default=True)
    backfilled = BooleanField(default=False)  # filled on the next sync after mapping


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
