"""Change Data Capture: the demo org's record changes as change events on its event bus.

As Salesforce does it (Change Data Capture Developer Guide, Pub/Sub API guide):

- one event per committed record change of an object selected for CDC (the profile's
  ``change_data_capture``), on the channel ``/data/<Object>ChangeEvent`` and on the all-objects
  channel ``/data/ChangeEvents``;
- the payload is Avro binary; its schema (``<Object>ChangeEvent``: a ``ChangeEventHeader`` record
  and every field as a nullable union) is fetched by schema id;
- the header names ``entityName``, ``recordIds``, ``changeType`` (CREATE, UPDATE, DELETE,
  UNDELETE, GAP_* when no event could be made, GAP_OVERFLOW past a transaction's threshold, with
  no record ids), ``commitTimestamp`` (epoch ms), ``commitUser``, and the changed fields as a
  bitmap: hex strings whose bit ``i`` is the schema's field ``i``;
- replay ids are opaque bytes (here 8 bytes, big-endian) that only grow; events are retained
  (here: the last ``retention`` events) so a subscriber can resume after one.

``mode`` is for tests and demos: ``"gap"`` turns changes into GAP_* events (as when an event
would exceed 1 MB), ``"silent"`` makes none (a change applied outside the application servers).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import fastavro

from smvue_demo_org.org import DemoOrg
from smvue_demo_org.store import Change

ALL_CHANNEL = "/data/ChangeEvents"
CHANGE_TYPES = ("CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE",
                "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW")
MODES = ("normal", "gap", "silent")
_AVRO = {"boolean": "boolean", "int": "int", "double": "double", "currency": "double",
         "percent": "double", "datetime": "long", "date": "int"}
_STRINGS = {"type": "array", "items": "string"}
_HEADER = {
    "type": "record", "name": "ChangeEventHeader", "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": _STRINGS},
        {"name": "changeType", "type": {"type": "enum", "name": "ChangeType",
                                        "symbols": list(CHANGE_TYPES)}},
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": _STRINGS},
        {"name": "diffFields", "type": _STRINGS},
        {"name": "changedFields", "type": _STRINGS},
    ]}


def channel_of(entity: str) -> str:
    return f"/data/{entity}ChangeEvent"


def replay_bytes(position: int) -> bytes:
    return position.to_bytes(8, "big")


def replay_position(raw: bytes) -> int | None:
    """The position a replay id names, or None when it is not one of ours."""
    return int.from_bytes(raw, "big") if len(raw) == 8 else None


@dataclass(frozen=True)
class BusEvent:
    position: int
    entity: str
    event_id: str
    schema_id: str
    payload: bytes


def _avro_value(ftype: str, value: Any) -> Any:
    if value is None:
        return None
    if ftype == "boolean":
        return bool(value)
    if ftype == "datetime":
        text = str(value).replace("+0000", "+00:00").replace("Z", "+00:00")
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    if ftype == "date":
        return (date.fromisoformat(str(value)[:10]) - date(1970, 1, 1)).days
    if ftype == "int":
        return int(value)
    if _AVRO.get(ftype) == "double":
        return float(value)
    return str(value)


# Not in change events: IsDeleted, SystemModstamp and values derived from other records or
# formulas such as LastActivityDate and PhotoUrl (Object Reference, "StandardObjectNameChangeEvent",
# Change Event Fields).
_NOT_IN_EVENTS = frozenset({"Id", "IsDeleted", "SystemModstamp", "LastActivityDate", "PhotoUrl"})


# A person's name is a compound too: ``Name`` is one nested ``Switchable_PersonName`` record of
# Salutation, FirstName, LastName (plus MiddleName and Suffix only where the org turned them on
# for person objects — Metadata API "NameSettings": enableMiddleName, enableNameSuffix for
# Contact, Lead, Person Account and User — and InformalName where it exists [unverified]), and those
# components are not top-level fields. Sources: CDC Developer Guide, "Get Compound Fields in
# Change Events" ("Compound fields, such as lead or contact Name, Address, and Geolocation
# fields, are represented as nested field structures"; "Change Events for Person Accounts":
# ``"Name": {"FirstName": "John", "LastName": "Doe"}``); the record's name
# ``Switchable_PersonName`` as Salesforce's own Pub/Sub API examples read it (forcedotcom/
# pub-sub-api, python/util/ChangeEventHeaderUtility.py ``get_value_schema`` and java
# utility/EventParser.java). The components present follow the object's describe
# (real_objects/<Object>.json: Contact and Lead have Salutation, User does not; none has
# MiddleName/Suffix, off by default); their order in the record is [unverified], the bitmap
# indexes whatever order the schema gives.
_NAME_PARTS = ("Salutation", "FirstName", "LastName", "MiddleName", "InformalName", "Suffix")
_RECORD_NAMES = {"address": "Address", "location": "Location"}
PERSON_NAME = "Switchable_PersonName"


def _name_parts(obj: Any) -> list[Any]:
    """The person-name components of an object with a compound Name (Contact, Lead, User)."""
    if not {"Name", "FirstName", "LastName"} <= obj.fields.keys():
        return []
    return [obj.fields[n] for n in _NAME_PARTS if n in obj.fields]


def _component_name(compound: str, component: str) -> str:
    """A compound's component as the event names it: BillingStreet of BillingAddress is Street,
    FirstName of Name is FirstName (CDC Developer Guide, "Get Compound Fields in Change Events")."""
    return component.removeprefix(compound.removesuffix("Address"))


class _EntitySchema:
    """``<Object>ChangeEvent``: the header, then the object's fields; a compound field (an
    address, a person's Name) is one nested record of its components, which are not top-level
    fields."""

    def __init__(self, obj: Any) -> None:
        name_parts = _name_parts(obj)
        in_name = {f.name for f in name_parts}
        self.fields = [f for f in obj.fields.values()
                       if f.name not in _NOT_IN_EVENTS and not f.compound and f.name not in in_name]
        self.components = {f.name: [c for c in obj.fields.values() if c.compound == f.name]
                           for f in self.fields if not f.stored}
        if name_parts:
            self.components["Name"] = name_parts
        avro_fields: list[dict[str, Any]] = [{"name": "ChangeEventHeader", "type": _HEADER}]
        named: set[str] = set()
        for f in self.fields:
            avro_fields.append({"name": f.name, "type": ["null", self._avro_type(f, named)],
                                "default": None})
        schema = {"type": "record", "name": f"{obj.name}ChangeEvent",
                  "namespace": "com.sforce.eventbus", "fields": avro_fields}
        self.json = json.dumps(schema, separators=(",", ":"))
        digest = hashlib.sha256(self.json.encode()).digest()[:16]
        self.schema_id = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        self.parsed = fastavro.parse_schema(json.loads(self.json))
        self.position = {f.name: i + 1 for i, f in enumerate(self.fields)}  # 0 is the header
        # A component's compound field and its bit in the compound's nested record.
        self.nested = {c.name: (compound, bit) for compound, parts in self.components.items()
                       for bit, c in enumerate(parts)}

    def _avro_type(self, f: Any, named: set[str]) -> Any:
        if f.name not in self.components:
            return _AVRO.get(f.type, "string")
        record = _RECORD_NAMES.get(f.type, PERSON_NAME)
        if record in named:  # an Avro named type is defined once, then referred to by name
            return record
        named.add(record)
        return {"type": "record", "name": record, "fields": [
            {"name": _component_name(f.name, c.name), "type": ["null", _AVRO.get(c.type, "string")],
             "default": None} for c in self.components[f.name]]}

    def bitmaps(self, names: list[str]) -> list[str]:
        """The header's bitmap for changed (or nulled) fields: top-level bits first, then one
        ``"<compound position>-0x<bits>"`` per compound with changed components (Pub/Sub API
        guide, "Event Deserialization Considerations"). A compound's own name (the store's
        derived full Name) sets no bit: its components say what changed (CDC Developer Guide,
        "Get Compound Fields in Change Events": changedFields lists
        CompoundField.ComponentField)."""
        top = sum(1 << self.position[n] for n in names
                  if n in self.position and n not in self.components)
        nested: dict[str, int] = {}
        for name in names:
            if name in self.nested:
                compound, bit = self.nested[name]
                nested[compound] = nested.get(compound, 0) | 1 << bit
        out = [f"0x{top:X}"] if top else []
        return out + [f"{self.position[c]}-0x{bits:X}" for c, bits in nested.items()]

    def encode(self, header: dict[str, Any], values: dict[str, Any]) -> bytes:
        record: dict[str, Any] = {"ChangeEventHeader": header}
        for f in self.fields:
            if f.name not in self.components:
                record[f.name] = _avro_value(f.type, values.get(f.name))
                continue
            parts = {_component_name(f.name, c.name): _avro_value(c.type, values.get(c.name))
                     for c in self.components[f.name]}
            record[f.name] = parts if any(v is not None for v in parts.values()) else None
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self.parsed, record)
        return out.getvalue()


class ChangeEventBus:
    """The org's change events, in order, with the subscribers waiting for the next one."""

    def __init__(self, org: DemoOrg, *, retention: int = 100_000) -> None:
        self.org = org
        selected = set(org.profile.change_data_capture)
        self.enabled = {name: _EntitySchema(obj) for name, obj in org.catalog.objects.items()
                        if name in selected}
        self.mode = "normal"
        self.drops = 0  # bumped to end every open subscription (a restart, a dropped link)
        self._events: deque[BusEvent] = deque(maxlen=retention)
        self._position = 0
        self._commit = 0
        self._lock = threading.Lock()
        self._waiters: set[threading.Event] = set()  # one per open subscription

    def start(self) -> None:
        self.org.store.add_listener(self._on_change)

    def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.org.store.remove_listener(self._on_change)

    # --- topics and schemas --------------------------------------------------------------------

    def entities_of(self, topic: str) -> set[str] | None:
        """The entities a channel carries; None when it is not an enabled channel."""
        if topic == ALL_CHANNEL:
            return set(self.enabled) or None
        for name in self.enabled:
            if topic == channel_of(name):
                return {name}
        return None

    def schema_json(self, schema_id: str) -> str | None:
        return next((s.json for s in self.enabled.values() if s.schema_id == schema_id), None)

    def schema_id(self, entity: str) -> str:
        return self.enabled[entity].schema_id

    # --- publishing ----------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if change.sobject not in self.enabled or self.mode == "silent":
            return
        kind = change.kind.upper()
        if self.mode == "gap":
            self.publish(change.sobject, [change.id], "GAP_" + kind)
            return
        values: dict[str, Any] = {}
        changed: list[str] = []
        if kind != "DELETE":
            row = self.org.store.get(change.sobject, change.id) or {}
            if kind == "UPDATE":  # only the changed fields carry values; the header names them
                changed = list(change.fields)
                values = {n: row.get(n) for n in changed}
            else:  # a new (or undeleted) record: every field, changedFields empty
                values = row
        self.publish(change.sobject, [change.id], kind, values=values, changed=changed)

    def publish(self, entity: str, record_ids: list[str], change_type: str, *,
                values: dict[str, Any] | None = None, changed: list[str] | None = None,
                user: str | None = None) -> int:
        """Append one change event; returns its position (the replay id's number)."""
        if entity not in self.enabled:
            raise ValueError(f"Change Data Capture is not enabled for {entity}")
        if change_type not in CHANGE_TYPES:
            raise ValueError(f"unknown change type {change_type!r}")
        schema = self.enabled[entity]
        values, changed = values or {}, list(changed or ())
        # nulledFields: "the fields that were set to null", a bitmap like changedFields (nested
        # "<pos>-0x<bits>" for a compound's component) — Pub/Sub API guide, "Event
        # Deserialization Considerations"; a nulled field is in changedFields too [unverified].
        # diffFields stays empty: it is for fields sent as a data diff (same page), and we send
        # none [unverified which fields Salesforce diffs].
        nulled = [n for n in changed if n in values and values[n] is None]
        with self._lock:
            self._commit += 1
            header = {
                "entityName": entity, "recordIds": list(record_ids), "changeType": change_type,
                "changeOrigin": "com/salesforce/api/rest/67.0", "transactionKey": uuid.uuid4().hex,
                "sequenceNumber": 1, "commitTimestamp": int(datetime.now(UTC).timestamp() * 1000),
                "commitNumber": self._commit, "commitUser": user or self.org.user_id,
                "nulledFields": schema.bitmaps(nulled), "diffFields": [],
                "changedFields": schema.bitmaps(changed),
            }
            self._position += 1
            self._events.append(BusEvent(self._position, entity, str(uuid.uuid4()),
                                         schema.schema_id, schema.encode(header, values)))
            position = self._position
            waiters = list(self._waiters)
        for event in waiters:
            event.set()
        return position

    def drop_streams(self) -> None:
        """End every open Subscribe call with UNAVAILABLE, as a server restart would."""
        with self._lock:
            self.drops += 1
            waiters = list(self._waiters)
        for event in waiters:
            event.set()

    # --- reading -------------------------------------------------------------------------------

    @property
    def latest(self) -> int:
        return self._position

    @property
    def earliest(self) -> int:
        """The position before the oldest retained event (a replay id below it is too old)."""
        with self._lock:
            return self._events[0].position - 1 if self._events else self._position

    def after(self, position: int, entities: set[str], limit: int) -> tuple[list[BusEvent], int]:
        """Up to ``limit`` events of ``entities`` after ``position``, and the position reached
        (past events of other entities too, so a quiet channel's keepalive moves on)."""
        with self._lock:
            events = [e for e in self._events if e.position > position]
        out: list[BusEvent] = []
        reached = position
        for event in events:
            if event.entity in entities:
                if len(out) == limit:
                    break
                out.append(event)
            reached = event.position
        return out, reached

    def waiter(self) -> threading.Event:
        """Set at each new event and at ``drop_streams`` (a subscription's thread waits on it)."""
        event = threading.Event()
        with self._lock:
            self._waiters.add(event)
        return event

    def forget(self, event: threading.Event) -> None:
        with self._lock:
            self._waiters.discard(event)
