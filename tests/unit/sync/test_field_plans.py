"""What describe says about each object is kept with its field plan (issue 12): IsDeleted,
replicateable — and a plan from before (no capabilities) is known to need describing again."""

from __future__ import annotations

import json

from smvue_tui.store import models as m
from smvue_tui.sync.fields import forget_plan, load_plans, plan_from_describe, save_plans
from smvue_tui.sync.plan import SPECS_BY_NAME


def _describe(*fields: str, replicateable: bool) -> dict:
    return {"fields": [{"name": f} for f in fields], "replicateable": replicateable}


def test_capabilities_come_from_describe_and_survive_the_store(paths):
    user = SPECS_BY_NAME["User"]
    stage = SPECS_BY_NAME["OpportunityStage"]
    deal = SPECS_BY_NAME["Opportunity"]
    plans = [
        plan_from_describe(user, _describe(*user.fields, replicateable=True)),
        plan_from_describe(stage, _describe(*stage.fields, replicateable=False)),
        plan_from_describe(deal, _describe(*deal.fields, "IsDeleted", replicateable=True)),
    ]
    save_plans(plans)
    loaded = load_plans()
    assert (loaded["User"].is_deleted, loaded["User"].replicateable) == (False, True)
    assert (loaded["OpportunityStage"].is_deleted,
            loaded["OpportunityStage"].replicateable) == (False, False)
    assert (loaded["Opportunity"].is_deleted, loaded["Opportunity"].replicateable) == \
        (True, True)
    assert all(p.known for p in loaded.values())
    assert "IsDeleted" not in loaded["Opportunity"].fields  # a capability, never a column


def test_a_plan_saved_before_capabilities_were_kept_is_not_known(paths):
    m.ObjectPlan.create(sobject="User", available=True, fields=json.dumps(["Id", "Name"]))
    assert load_plans()["User"].known is False  # the next run describes User again


def test_forgetting_one_plan_keeps_the_others(paths):
    user, lead = SPECS_BY_NAME["User"], SPECS_BY_NAME["Lead"]
    save_plans([plan_from_describe(s, _describe(*s.fields, replicateable=True))
                for s in (user, lead)])
    forget_plan("Lead")
    assert set(load_plans()) == {"User"}


def test_the_field_types_survive_the_store_and_an_older_plan_has_none(paths):
    deal = SPECS_BY_NAME["Opportunity"]
    describe = {"fields": [{"name": f, "type": "datetime" if f == "SystemModstamp" else "string"}
                           for f in (*deal.fields, "IsDeleted")]}
    save_plans([plan_from_describe(deal, describe)])
    types = load_plans()["Opportunity"].types
    assert set(types) == set(deal.fields)  # the planned fields only, IsDeleted not among them
    assert types["SystemModstamp"] == "datetime" and types["Name"] == "string"
    m.ObjectPlan.create(sobject="User", available=True, fields=json.dumps(["Id"]),
                        capabilities=json.dumps({"is_deleted": False, "replicateable": True}))
    assert load_plans()["User"].types == {}  # bulk_read describes it when Bulk reads it
