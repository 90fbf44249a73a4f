"""Which fields to query: what the app needs ∩ what describe says this user can read.

The plan is kept in the store (``ObjectPlan``) so an incremental resync spends no API call on
describe; it is renewed on a full sync, a reconciliation, or when Salesforce reports a field or
object gone (INVALID_FIELD / INVALID_TYPE) — then that object alone is re-planned and retried,
and the missing field is reported, never a failed sync.

Describe also says how deletes can be seen (never assumed: User, RecordType, OpportunityStage,
BusinessProcess and Organization have no IsDeleted in real orgs): ``is_deleted`` — queryAll can
select IsDeleted; ``replicateable`` — /sobjects/X/deleted answers; neither — an Id check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smvue_tui.salesforce.client import composite_error
from smvue_tui.store import models as m
from smvue_tui.store.backend import replace_row
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.sync.plan import SPECS

# Fields that exist only when the org has the feature (multi-currency, record types): their
# absence is normal and not worth a warning.
FEATURE_FIELDS = frozenset({"CurrencyIsoCode", "RecordTypeId"})


@dataclass(frozen=True)
class FieldPlan:
    sobject: str
    available: bool
    fields: tuple[str, ...]
    missing: tuple[str, ...]
    is_deleted: bool = False  # describe lists IsDeleted: queryAll shows deleted rows
    replicateable: bool = False  # describe says replicateable: /deleted and /updated answer
    known: bool = True  # False: planned before capabilities were kept; re-plan it
    # The describe type of each planned field ("datetime", "double"…): how a Bulk job's CSV is
    # read. Empty for a plan kept before types were (bulk_read describes the object then).
    types: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def reason(self) -> str | None:
        if not self.available:
            return f"{self.sobject} is not available in this org (or not readable)"
        notable = [f for f in self.missing if f not in FEATURE_FIELDS]
        if notable:
            return f"{self.sobject}: hidden or missing fields skipped: {', '.join(notable)}"
        return None


def plan_from_describe(spec: ObjectSpec, describe: dict[str, Any] | None,
                       custom_fields: tuple[str, ...] = ()) -> FieldPlan:
    if not describe:
        return FieldPlan(spec.sobject, False, (), spec.fields)
    described = {f["name"]: f.get("type", "string") for f in describe.get("fields", [])}
    readable = set(described)
    wanted = spec.fields + (custom_fields if spec.sobject == "Opportunity" else ())
    missing = tuple(f for f in wanted if f not in readable)
    if any(f in missing for f in spec.required):
        return FieldPlan(spec.sobject, False, (), missing)
    fields = tuple(f for f in wanted if f in readable)
    return FieldPlan(spec.sobject, True, fields, missing, is_deleted="IsDeleted" in readable,
                     replicateable=describe.get("replicateable") is True,
                     types={f: described[f] for f in fields})


def save_plans(plans: list[FieldPlan]) -> None:
    for plan in plans:
        replace_row(m.ObjectPlan, sobject=plan.sobject, available=plan.available,
                    fields=json.dumps(plan.fields), missing=json.dumps(plan.missing),
                    capabilities=json.dumps({"is_deleted": plan.is_deleted,
                                             "replicateable": plan.replicateable,
                                             "types": plan.types}))


def load_plans() -> dict[str, FieldPlan]:
    plans = {}
    for row in m.ObjectPlan.select():
        try:
            caps = json.loads(row.capabilities) if row.capabilities else None
        except ValueError:
            caps = None
        caps = caps if isinstance(caps, dict) else None
        types = caps.get("types") if caps else None
        plans[row.sobject] = FieldPlan(
            row.sobject, row.available, tuple(json.loads(row.fields)),
            tuple(json.loads(row.missing)), is_deleted=bool(caps and caps.get("is_deleted")),
            replicateable=bool(caps and caps.get("replicateable")), known=caps is not None,
            types=types if isinstance(types, dict) else {})
    return plans


def forget_plan(sobject: str) -> None:
    """Salesforce refused a field or the object: describe it again on the next run."""
    m.ObjectPlan.delete().where(m.ObjectPlan.sobject == sobject).execute()


async def describe_plans(client: Any, specs: tuple[ObjectSpec, ...] = SPECS,
                         custom_fields: tuple[str, ...] = ()) -> list[FieldPlan]:
    """Describe the objects, ≤25 per /composite call (one call for our 16). No global
    describe first: an object the org lacks answers NOT_FOUND there, which is the same news
    one round trip sooner; one that is not queryable is treated as missing."""
    describes: dict[str, dict[str, Any]] = {}
    for start in range(0, len(specs), 25):
        group = specs[start:start + 25]
        results = await client.composite([
            {"url": f"sobjects/{s.sobject}/describe", "referenceId": s.sobject} for s in group])
        for item in results:
            body = item.get("body")
            if composite_error(item) is None and isinstance(body, dict) \
                    and body.get("queryable", True):
                describes[item["referenceId"]] = body
    return [plan_from_describe(s, describes.get(s.sobject), custom_fields) for s in specs]
