"""A fake Metadata API transport: parses our envelopes and answers the way Salesforce does.

It keeps the deployed components, enforces the rules the removal order exists for (an active
flow cannot be deleted; a message used by a rule or flow cannot be deleted) and can be told to
refuse new workflow rules, flows or deletes, expire the session, or fail a call outright.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from tests.unit.salesforce.metadata_samples import INVALID_SESSION, MD, TOKEN, response, result

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _local(el: Element) -> str:
    return el.tag.rpartition("}")[2]


def _text(el: Element, path: str) -> str:
    found = el.find("/".join(f"{{{MD}}}{p}" for p in path.split("/")))
    return (found.text or "") if found is not None else ""


class FakeMetadataApi:
    def __init__(self) -> None:
        self.tokens = {TOKEN}
        self.components: dict[tuple[str, str], dict[str, str]] = {}
        self.calls: list[tuple[str, str, list[str]]] = []  # (operation, type, full names)
        self.bodies: list[bytes] = []
        self.refuse_rules = False
        self.refuse_flows = False
        self.refuse_statuses: set[str] = set()  # flow statuses the upsert refuses
        self.refuse_deletes: set[str] = set()
        self.fail_call: int | None = None  # index of a call answered with a 503 page
        self.raise_on_call: tuple[int, Exception] | None = None

    async def __call__(self, body: bytes) -> tuple[int, bytes]:
        index = len(self.bodies)
        self.bodies.append(body)
        if self.raise_on_call and self.raise_on_call[0] == index:
            raise self.raise_on_call[1]
        if self.fail_call == index:
            return 503, b"<html>Service Unavailable</html>"
        root = SafeET.fromstring(body, forbid_dtd=True)
        if _text(root[0], "SessionHeader/sessionId") not in self.tokens:
            self.calls.append(("INVALID_SESSION", "", []))
            return 500, INVALID_SESSION
        call = root[1][0]
        op = _local(call)
        if op == "deleteMetadata":
            type_ = _text(call, "type")
            names = [el.text or "" for el in call if _local(el) == "fullNames"]
            self.calls.append((op, type_, names))
            return 200, response(op, "".join(self._delete(type_, n) for n in names))
        items = list(call)
        type_ = items[0].get(XSI_TYPE, "")
        self.calls.append((op, type_, [_text(el, "fullName") for el in items]))
        return 200, response(op, "".join(self._save(type_, el) for el in items))

    def _save(self, type_: str, el: Element) -> str:
        name = _text(el, "fullName")
        exists = (type_, name) in self.components
        state = {"status": _text(el, "status")}
        if type_ == "WorkflowRule":
            obj = name.partition(".")[0]
            state["uses"] = f"{obj}.{_text(el, 'actions/name')}"
            if self.refuse_rules and not exists:
                return result(name, [("INVALID_OPERATION", "Workflow rules can no longer be "
                                      "created. Use a record-triggered flow.")], created=False)
        if type_ == "Flow":
            state["uses"] = _text(el, "actionCalls/actionName")
            if (self.refuse_flows and not exists) or state["status"] in self.refuse_statuses:
                return result(name, [("FIELD_INTEGRITY_EXCEPTION", "Flow refused")], created=False)
        if "uses" in state and ("WorkflowOutboundMessage", state["uses"]) not in self.components:
            return result(name, [("INVALID_CROSS_REFERENCE_KEY", "no such message")],
                          created=False)
        self.components[(type_, name)] = state
        return result(name, created=not exists)

    def _delete(self, type_: str, name: str) -> str:
        state = self.components.get((type_, name))
        if state is None:
            return result(name, [("INVALID_CROSS_REFERENCE_KEY",
                                  f"In field: fullName - no {type_} named {name} found")])
        if name in self.refuse_deletes:
            return result(name, [("DELETE_FAILED", "Cannot delete: locked by an admin")])
        if type_ == "Flow" and state["status"] == "Active":
            return result(name, [("DELETE_FAILED", "You can't delete an active flow.")])
        users = [n for (t, n), s in self.components.items() if s.get("uses") == name]
        if users:
            return result(name, [("DELETE_FAILED", f"Used by {', '.join(users)}")])
        del self.components[(type_, name)]
        return result(name)

    def names(self, type_: str) -> set[str]:
        return {n for t, n in self.components if t == type_}
