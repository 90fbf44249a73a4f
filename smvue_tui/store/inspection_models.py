"""What the pipeline inspection (issue 13) keeps beside the mirrors: the deal change log and
the per-deal facts and stage stints derived from it and from OpportunityHistory
(``changelog.py``, ``deal_facts.py``).
"""

from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, FloatField, IntegerField, TextField

from smvue_tui.store.model_base import BaseModel


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
