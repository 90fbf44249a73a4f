"""CRM Field Mapping store logic: which custom fields are synced, and the refetch they need."""

from __future__ import annotations

import json

import pytest

from smvue_tui.store import field_mapping as fm
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store

DESCRIBE = {"fields": [
    {"name": "Name", "label": "Name", "type": "string", "custom": False},
    {"name": "Seats__c", "label": "Seats", "type": "double", "custom": True},
    {"name": "Deal_Tier__c", "label": "Deal Tier", "type": "picklist", "custom": True},
]}


@pytest.fixture
def store(tmp_path):
    db = open_store(tmp_path / "s.sqlite3")
    m.SyncCursor.create(sobject="Opportunity", initial_done=True, watermark="w")
    m.SyncCursor.create(sobject="Account", initial_done=True, watermark="w")
    for name in ("Opportunity", "Account"):
        m.ObjectPlan.create(sobject=name, available=True, fields=json.dumps(["Id", "Name"]))
    yield db
    db.close()


def _deals_reread_pending() -> bool:
    cursor = m.SyncCursor.get_or_none(m.SyncCursor.sobject == "Opportunity")
    return cursor is None or (not cursor.initial_done and cursor.watermark is None)


def _deals_reread_done() -> None:
    m.SyncCursor.update(initial_done=True).where(m.SyncCursor.sobject == "Opportunity").execute()


def test_custom_fields_come_from_describe_sorted_by_label():
    assert fm.custom_fields(DESCRIBE) == [("Deal_Tier__c", "Deal Tier", "picklist"),
                                          ("Seats__c", "Seats", "double")]


def test_rows_merge_describe_with_saved_mappings(store):
    m.CustomFieldMapping.create(api_name="Gone__c", label="Gone", type="string", enabled=True)
    offline = fm.field_rows(None)
    assert [(r.api_name, r.in_org, r.status) for r in offline] == \
        [("Gone__c", None, "fills on next sync")]
    rows = fm.field_rows(fm.custom_fields(DESCRIBE))
    assert [(r.api_name, r.enabled, r.in_org, r.status) for r in rows] == [
        ("Deal_Tier__c", False, True, "not synced"),
        ("Gone__c", True, False, "mapped · not in org"),
        ("Seats__c", False, True, "not synced")]


def test_enabling_a_field_schedules_a_refetch_of_deals_only(store):
    assert fm.set_enabled("Seats__c", "Seats", "double", True) is True
    saved = m.CustomFieldMapping.get_by_id("Seats__c")
    assert (saved.enabled, saved.backfilled, saved.label) == (True, False, "Seats")
    assert _deals_reread_pending()
    assert m.ObjectPlan.get_or_none(m.ObjectPlan.sobject == "Opportunity") is None
    assert m.SyncCursor.get_by_id("Account").initial_done  # other objects untouched
    assert fm.set_enabled("Seats__c", "Seats", "double", True) is False  # already on: no-op


def test_backfilled_only_after_a_sync_read_the_field(store):
    fm.set_enabled("Seats__c", "Seats", "double", True)
    assert fm.mark_backfilled() == 0  # no sync yet
    _deals_reread_done()
    m.ObjectPlan.create(sobject="Opportunity", available=True,
                        fields=json.dumps(["Id", "Seats__c"]))
    assert fm.mark_backfilled() == 1
    [row] = fm.field_rows(None)
    assert row.status == "synced"


def test_disabling_keeps_cursors_and_reenabling_refetches(store):
    fm.set_enabled("Seats__c", "Seats", "double", True)
    _deals_reread_done()
    [row] = fm.field_rows(None)
    assert fm.toggle(row) is False
    assert not m.CustomFieldMapping.get_by_id("Seats__c").enabled
    assert m.SyncCursor.get_by_id("Opportunity").initial_done
    [row] = fm.field_rows(None)
    assert row.status == "not synced" and fm.toggle(row) is True
    assert _deals_reread_pending()


def test_only_custom_fields_can_be_mapped(store):
    with pytest.raises(ValueError, match="not a custom field"):
        fm.set_enabled("Amount", "Amount", "currency", True)
