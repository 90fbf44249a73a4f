"""Settings > CRM Field Mapping: which custom Opportunity fields are synced.

Plain store logic (no Textual). The custom fields come from ``describe("Opportunity")`` (fields
with ``custom: true``) when connected, or from the mappings already saved when not. A field
mapped for the first time (or again) is filled on the next sync: the Opportunity sync cursor
and the saved field plans are dropped, so the next run describes again (adding the new field to
the query) and re-reads every in-scope deal from the start.

In a team store a manager's TUI only reads the mappings: mapping a field changes what ``serve``
syncs for every manager and resets the writer's cursor, which the managers' role may not (and
should not) touch; ``serve`` marks mapped fields filled after its syncs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smvue_tui.store import models as m
from smvue_tui.store.backend import replace_row
from smvue_tui.store.team_scope import per_manager

TEAM_STORE_REFUSAL = ("In a team store the synced fields are the same for every manager, and "
                      "`serve` reads them: a field is not mapped from a manager's TUI (not "
                      "supported yet — see docs/team-store.md)")


@dataclass(frozen=True)
class FieldRow:
    api_name: str
    label: str
    type: str
    enabled: bool = False
    backfilled: bool = False  # enabled and filled by a sync since
    in_org: bool | None = None  # None: not connected, unknown

    @property
    def status(self) -> str:
        if not self.enabled:
            return "not synced" if self.in_org is not False else "not in org"
        if self.in_org is False:
            return "mapped · not in org"
        return "synced" if self.backfilled else "fills on next sync"


def custom_fields(describe: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(api name, label, type) of the custom fields in an object describe, by label."""
    found = [(f["name"], f.get("label") or f["name"], f.get("type") or "")
             for f in describe.get("fields", []) if f.get("custom")]
    return sorted(found, key=lambda f: (f[1].lower(), f[0]))


def field_rows(described: Iterable[tuple[str, str, str]] | None) -> list[FieldRow]:
    """Rows to show: the org's custom fields (``described``; None when not connected) merged
    with the saved mappings (a mapped field the org no longer has is kept and marked)."""
    mapped = {c.api_name: c for c in m.CustomFieldMapping.select()}
    rows: dict[str, FieldRow] = {}
    for api_name, label, ftype in described or ():
        saved = mapped.get(api_name)
        rows[api_name] = FieldRow(api_name, label, ftype, bool(saved and saved.enabled),
                                  bool(saved and saved.backfilled), True)
    for api_name, saved in mapped.items():
        if api_name not in rows:
            rows[api_name] = FieldRow(api_name, saved.label, saved.type, saved.enabled,
                                      saved.backfilled, None if described is None else False)
    return sorted(rows.values(), key=lambda r: (r.label.lower(), r.api_name))


def schedule_refetch() -> None:
    """Make the next sync re-plan fields and re-read deals (call inside a transaction)."""
    # Re-read deals from the start, but keep where the delete check stands.
    m.SyncCursor.update(initial_done=False, watermark=None, watermark_id=None).where(
        m.SyncCursor.sobject == "Opportunity").execute()
    m.ObjectPlan.delete().where(m.ObjectPlan.sobject == "Opportunity").execute()


def set_enabled(api_name: str, label: str, ftype: str, enabled: bool) -> bool:
    """Map (or unmap) a field. Returns True when deals will be re-read on the next sync."""
    if not api_name.endswith("__c"):
        raise ValueError(f"{api_name} is not a custom field (custom fields end in __c)")
    if per_manager():  # the writer's cursors and plans: not a manager's to reset
        raise ValueError(TEAM_STORE_REFUSAL)
    with m.CustomFieldMapping._meta.database.atomic():
        saved = m.CustomFieldMapping.get_or_none(m.CustomFieldMapping.api_name == api_name)
        if saved is not None and saved.enabled == enabled:
            return False
        replace_row(m.CustomFieldMapping, api_name=api_name, label=label or api_name,
                    type=ftype or "", enabled=enabled, backfilled=False)
        if enabled:  # while unmapped, deal writes dropped its values: read them again
            schedule_refetch()
        return enabled


def toggle(row: FieldRow) -> bool:
    return set_enabled(row.api_name, row.label, row.type, not row.enabled)


def mark_backfilled() -> int:
    """After a sync: a mapped field is filled once deals were re-read (the Opportunity cursor
    is done again) with the field in the query plan. Returns how many fields that marked.
    A manager's TUI on a team store marks nothing (``serve`` does, after its syncs)."""
    if per_manager():
        return 0
    cursor = m.SyncCursor.get_or_none(m.SyncCursor.sobject == "Opportunity")
    plan = m.ObjectPlan.get_or_none(m.ObjectPlan.sobject == "Opportunity")
    if cursor is None or not cursor.initial_done or plan is None:
        return 0
    queried = set(json.loads(plan.fields))
    pending = [c.api_name for c in m.CustomFieldMapping.select().where(
        m.CustomFieldMapping.enabled, ~m.CustomFieldMapping.backfilled)
        if c.api_name in queried]
    if not pending:
        return 0
    return (m.CustomFieldMapping.update(backfilled=True)
            .where(m.CustomFieldMapping.api_name.in_(pending)).execute())
