"""What the Metadata API has deployed in one demo org, and which record changes it fires on.

Three component types matter to the app: WorkflowOutboundMessage (the message definition, id
prefix 04k), and its trigger — a WorkflowRule (01Q) or a record-triggered Flow (300). Ids are
handed out from per-prefix counters, so a fresh org always gives the same ids.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from smvue_demo_org.ids import make_id
from smvue_demo_org.metadata_xml import Body

OUTBOUND, RULE, FLOW = "WorkflowOutboundMessage", "WorkflowRule", "Flow"
TYPES = (OUTBOUND, RULE, FLOW)
KEY_PREFIX = {OUTBOUND: "04k", RULE: "01Q", FLOW: "300"}


def one(body: Body, key: str, default: str = "") -> str:
    """The text of a single-valued leaf (the first one if repeated)."""
    values = body.get(key) or []
    return values[0].strip() if values and isinstance(values[0], str) else default


def sub(body: Body, key: str) -> Body:
    """A single nested element (``start``), empty when absent."""
    values = body.get(key) or []
    return values[0] if values and isinstance(values[0], dict) else {}


def subs(body: Body, key: str) -> list[Body]:
    return [v for v in body.get(key) or [] if isinstance(v, dict)]


@dataclass
class Component:
    type: str
    full_name: str
    id: str
    body: Body  # as deployed, without fullName

    @property
    def sobject(self) -> str:
        """The object the component belongs to or triggers on."""
        if self.type == FLOW:
            return one(sub(self.body, "start"), "object")
        return self.full_name.partition(".")[0]

    def outbound_names(self) -> list[str]:
        """Full names (``Object.Name``) of the outbound messages this trigger sends."""
        if self.type == RULE:
            return [f"{self.sobject}.{one(a, 'name')}" for a in subs(self.body, "actions")
                    if one(a, "type") == "OutboundMessage"]
        if self.type == FLOW:
            return [one(a, "actionName") for a in subs(self.body, "actionCalls")
                    if one(a, "actionType") == "outboundMessage"]
        return []

    def fires_on(self, kind: str) -> bool:
        """Whether this trigger is live and fires on a record change of ``kind``.

        Workflow criteria are not evaluated, except a literal FALSE formula: a rule fires on
        every matching change (the app deploys ``formula TRUE``). Deletes never fire.
        """
        if kind not in ("create", "update"):
            return False
        if self.type == RULE:
            if one(self.body, "active").lower() != "true":
                return False
            if one(self.body, "formula").upper() == "FALSE":
                return False
            trigger = one(self.body, "triggerType")
            return kind == "create" or trigger in ("onAllChanges", "onCreateOrTriggeringUpdate")
        if self.type == FLOW:
            start = sub(self.body, "start")
            if one(self.body, "status") != "Active" or one(start, "triggerType") != \
                    "RecordAfterSave":
                return False
            when = one(start, "recordTriggerType")
            return when == "CreateAndUpdate" or when.lower() == kind
        return False

    def view(self) -> dict[str, Any]:
        return {"type": self.type, "fullName": self.full_name, "id": self.id,
                "object": self.sobject, "body": self.body}


class AutomationRegistry:
    """The deployed components of one org, by type and case-insensitive full name."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Component] = {}
        self._counters: dict[str, int] = {}

    def get(self, type_: str, full_name: str) -> Component | None:
        return self._items.get((type_, full_name.lower()))

    def components(self, type_: str | None = None) -> list[Component]:
        return [c for c in self._items.values() if type_ is None or c.type == type_]

    def put(self, type_: str, full_name: str, body: Body) -> tuple[Component, bool]:
        """Create or replace a component; its id survives replacement. Returns (it, created)."""
        old = self.get(type_, full_name)
        if old is not None:
            old.body = body
            return old, False
        comp = Component(type_, full_name, self.new_id(KEY_PREFIX[type_]), body)
        self._items[(type_, full_name.lower())] = comp
        return comp, True

    def new_id(self, prefix: str) -> str:
        """The next id with this key prefix (also used for 04l notification ids)."""
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return make_id(prefix, self._counters[prefix])

    def remove(self, type_: str, full_name: str) -> Component | None:
        return self._items.pop((type_, full_name.lower()), None)

    def referrers(self, outbound_full_name: str) -> list[Component]:
        """The rules and flows (active or not) whose actions name this outbound message."""
        name = outbound_full_name.lower()
        return [c for c in self._items.values()
                if name in (n.lower() for n in c.outbound_names())]

    def by_id(self, id_: str) -> Component | None:
        return next((c for c in self._items.values() if c.id == id_), None)

    def outbound_for_change(self, sobject: str, kind: str) -> list[Component]:
        """The outbound messages a record change fires, each once, in deployment order."""
        out: dict[str, Component] = {}
        for trigger in self._items.values():
            if trigger.type == OUTBOUND or trigger.sobject.lower() != sobject.lower():
                continue
            if not trigger.fires_on(kind):
                continue
            for name in trigger.outbound_names():
                om = self.get(OUTBOUND, name)
                if om is not None and om.sobject.lower() == sobject.lower():
                    out.setdefault(om.id, om)
        return sorted(out.values(), key=lambda c: c.id)

    def clone(self) -> AutomationRegistry:
        """A deep copy to stage one Metadata API call on (all-or-none rolls it back)."""
        twin = AutomationRegistry()
        twin._items = copy.deepcopy(self._items)
        twin._counters = dict(self._counters)
        return twin

    def adopt(self, staged: AutomationRegistry) -> None:
        self._items, self._counters = staged._items, staged._counters

    def snapshot(self) -> dict[str, Any]:
        """JSON-able view for GET /demo/automation: components by type, sorted by id."""
        out: dict[str, Any] = {t: [] for t in TYPES}
        for comp in sorted(self._items.values(), key=lambda c: c.id):
            view = comp.view()
            if comp.type != OUTBOUND:
                view["live"] = {k: comp.fires_on(k) for k in ("create", "update")}
            out[comp.type].append(view)
        return out
