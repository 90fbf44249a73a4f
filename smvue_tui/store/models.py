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

# Each kind of table has its module; this one names them all, in the order the store creates
# them, for the many callers that say ``models.X`` (``from smvue_tui.store import models as m``).
from smvue_tui.store.inspection_models import DealChange, DealFact, FactsStale, StageStint
from smvue_tui.store.manager_models import (
    ActionItem,
    CustomFieldMapping,
    Note,
    PipelineSetting,
    StageOverride,
    TeamMember,
)
from smvue_tui.store.mirror_models import (
    MIRRORS,
    Account,
    Activity,
    Collaborator,
    Contact,
    Lead,
    Opportunity,
    OpportunityContactRole,
    OpportunityStage,
    Organization,
    RecordType,
    SfUser,
    StageHistory,
)
from smvue_tui.store.model_base import BaseModel, SfRecord, database, sf_columns, utcnow
from smvue_tui.store.sync_models import (
    ChangeNotification,
    Connection,
    DeployedAutomation,
    LiveReplay,
    ObjectPlan,
    SyncCursor,
    SyncRun,
    WriterInfo,
)

OWN = [Connection, TeamMember, StageOverride, PipelineSetting, CustomFieldMapping, SyncCursor,
       ObjectPlan, SyncRun, ChangeNotification, DeployedAutomation, Note, ActionItem, DealChange,
       LiveReplay, DealFact, StageStint, FactsStale, WriterInfo]
ALL_MODELS = MIRRORS + OWN

__all__ = ["ALL_MODELS", "MIRRORS", "OWN", "Account", "ActionItem", "Activity", "BaseModel",
           "ChangeNotification", "Collaborator", "Connection", "Contact", "CustomFieldMapping",
           "DealChange", "DealFact", "DeployedAutomation", "FactsStale", "Lead", "LiveReplay",
           "Note", "ObjectPlan", "Opportunity", "OpportunityContactRole", "OpportunityStage",
           "Organization", "PipelineSetting", "RecordType", "SfRecord", "SfUser", "StageHistory",
           "StageOverride", "StageStint", "SyncCursor", "SyncRun", "TeamMember", "WriterInfo",
           "database", "sf_columns", "utcnow"]
