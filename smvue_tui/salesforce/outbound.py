"""Outbound Messages from Salesforce: parse the SOAP notification safely, answer with the ACK.

Anything that came over the network is parsed after a size check by expat with a DOCTYPE, any
entity declaration and any external reference refused (no XXE, no billion laughs, no fetches) —
the handlers defusedxml installs, set on the parser here so the tree is built by the C
TreeBuilder: defusedxml's pure-Python parser cost ~1 ms a message and held the listener under
a mass update to ~130 messages/s. Every way a body can be wrong ends in ``OutboundMessageError``
with a short reason that never echoes the input; the listener answers it with a non-ACK so
Salesforce retries or gives up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from smvue_tui.salesforce.ids import (
    KEY_PREFIXES,
    NOTIFICATION_PREFIX,
    OUTBOUND_MESSAGE_PREFIX,
    id_shaped,
    normalize_id,
    record_id,
)

SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs for Notification
DEFAULT_MAX_BYTES = 1_000_000

_SOBJECT_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
# A SystemModstamp as Salesforce sends it; anything else is not kept.
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)")
# Tags and attribute names as expat gives them with "}" as its namespace separator:
# "namespace}local" (no leading "{"), a bare "local" for a name in no namespace.
_XSI_TYPE = f"{XSI_NS}}}type"
_XSI_NIL = f"{XSI_NS}}}nil"
_TRUE = ("true", "1")
_NOTIFICATION_ID = f"{OUTBOUND_NS}}}Id"
_SOBJECT = f"{OUTBOUND_NS}}}sObject"
_ENCODING_ERRORS = {expat.errors.codes[expat.errors.XML_ERROR_UNKNOWN_ENCODING],
                    expat.errors.codes[expat.errors.XML_ERROR_INCORRECT_ENCODING]}

# §5.2 verbatim: one ACK covers every notification in the message.
ACK_BODY: bytes = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
    b" <soapenv:Body>\n"
    b'  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    b"   <Ack>true</Ack>\n"
    b"  </notificationsResponse>\n"
    b" </soapenv:Body>\n"
    b"</soapenv:Envelope>\n"
)


def ack_response_headers() -> dict[str, str]:
    """Headers for the HTTP 200 that carries ``ACK_BODY``."""
    return {"Content-Type": "text/xml; charset=utf-8"}


class OutboundMessageError(ValueError):
    """The body is not an outbound message we accept; ``reason`` says why (never the input)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Rejected outbound message: {reason}")


@dataclass(frozen=True)
class Notification:
    id: str  # the notification id (04l…): the dedupe key
    sobject_type: str  # "Opportunity", from xsi:type="sf:Opportunity"
    fields: dict[str, str | None]  # field name → text as sent; xsi:nil → None
    # The record's id, checked against the object's key prefix, in canonical 18-char form.
    record_id: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    # A live API session when "Send Session ID" is on: a secret, so kept out of repr.
    session_id: str | None = field(repr=False)
    enterprise_url: str
    partner_url: str
    notifications: list[Notification]


def is_salesforce_id(value: str) -> bool:
    return normalize_id(value) is not None


def org_ids_match(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same org, in 15- or 18-char form.

    15-char ids are case-sensitive; an 18-char id's suffix carries the case of the first 15,
    so a case-folded 18-char id still matches.
    """
    canonical = normalize_id(a)
    return canonical is not None and canonical == normalize_id(b)


# --- parsing -----------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised from an expat handler: the parse stops at once with this reason."""


def _refuse(reason: str) -> Callable[..., NoReturn]:
    def handler(*_args: object) -> NoReturn:
        raise _Refused(reason)
    return handler


def _parse_xml(body: bytes, max_bytes: int) -> Element:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise OutboundMessageError(f"body must be bytes, not {type(body).__name__}")
    body = bytes(body)
    if len(body) > max_bytes:
        raise OutboundMessageError(f"body is {len(body)} bytes, over the {max_bytes}-byte limit")
    if not body.strip():
        raise OutboundMessageError("body is empty")
    builder = TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    # What defusedxml forbids, forbidden the same way: any DOCTYPE (so no entity can be
    # declared at all), entity declarations and external references should one get through.
    parser.StartDoctypeDeclHandler = _refuse("a DTD (DOCTYPE) is not allowed")
    parser.EntityDeclHandler = _refuse("entity declarations are not allowed")
    parser.UnparsedEntityDeclHandler = _refuse("entity declarations are not allowed")
    parser.ExternalEntityRefHandler = _refuse("external references are not allowed")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True  # one data call per text node
    # The C TreeBuilder's own methods as handlers: no Python frame per element.
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(body, True)
        return builder.close()
    except _Refused as exc:
        raise OutboundMessageError(str(exc)) from None
    except expat.ExpatError as exc:
        if exc.code in _ENCODING_ERRORS:
            raise OutboundMessageError("unsupported or inconsistent character encoding") from None
        raise OutboundMessageError(f"not well-formed XML (line {exc.lineno}, column "
                                   f"{exc.offset})") from None
    except (LookupError, ValueError, UnicodeError):
        raise OutboundMessageError("unsupported or inconsistent character encoding") from None


def _child(parent: Element, ns: str, name: str, *, required: bool = True) -> Element | None:
    found = [el for el in parent if el.tag == f"{ns}}}{name}"]
    if len(found) > 1:
        raise OutboundMessageError(f"more than one {name} element")
    if not found and required:
        raise OutboundMessageError(f"missing {name} element")
    return found[0] if found else None


def _text(parent: Element, name: str, *, required: bool = True) -> str | None:
    el = _child(parent, OUTBOUND_NS, name, required=required)
    if el is None or el.get(_XSI_NIL) in _TRUE:
        if required:
            raise OutboundMessageError(f"{name} is nil")
        return None
    return (el.text or "").strip()


def _id_text(parent: Element, name: str, prefix: str) -> str:
    """The element's text as a canonical 18-character id of key ``prefix``, or refused."""
    value = normalize_id(_text(parent, name) or "", prefix)
    if value is None:
        raise OutboundMessageError(f"{name} is not a Salesforce id of key prefix {prefix}")
    return value


def _notification(el: Element) -> Notification:
    # Only a dedupe key, never sent to Salesforce: the shape and prefix are checked, and it is
    # kept as sent (published sample bodies carry hand-made ones with impossible suffixes).
    id_el = sobject = None
    for child in el:  # one pass for both (a mass update holds thousands of these)
        if child.tag == _NOTIFICATION_ID:
            if id_el is not None:
                raise OutboundMessageError("more than one Id element")
            id_el = child
        elif child.tag == _SOBJECT:
            if sobject is not None:
                raise OutboundMessageError("more than one sObject element")
            sobject = child
    if id_el is None:
        raise OutboundMessageError("missing Id element")
    if id_el.get(_XSI_NIL) in _TRUE:
        raise OutboundMessageError("Id is nil")
    notification_id = (id_el.text or "").strip()
    if not id_shaped(notification_id, NOTIFICATION_PREFIX):
        raise OutboundMessageError(f"Id is not a Salesforce id of key prefix {NOTIFICATION_PREFIX}")
    if sobject is None:
        raise OutboundMessageError("missing sObject element")
    # The prefix is whatever the sender bound; only the local part names the object.
    sobject_type = (sobject.get(_XSI_TYPE) or "").strip().rpartition(":")[2]
    if not _SOBJECT_TYPE.fullmatch(sobject_type):
        raise OutboundMessageError("sObject has no valid xsi:type")
    fields: dict[str, str | None] = {}
    for child in sobject:  # the hot loop of a mass update: kept to C calls
        tag = child.tag
        name = tag[tag.rfind("}") + 1:]
        if name in fields:
            raise OutboundMessageError(f"field {name[:80]} appears twice")
        fields[name] = None if child.get(_XSI_NIL) in _TRUE else (child.text or "")
    # The record id is what a fetch will carry: it must be an id of this object's key prefix
    # (a 900,000-character "id" once blocked every fetch after it), kept in canonical form.
    canonical = record_id(sobject_type, fields.get("Id"))
    if canonical is None:
        expected = KEY_PREFIXES.get(sobject_type)
        raise OutboundMessageError("sObject Id is not a Salesforce id of " + (
            f"key prefix {expected}" if expected else "this object"))
    stamp = fields.get("SystemModstamp")
    if stamp is not None and not _STAMP.fullmatch(stamp):
        raise OutboundMessageError("SystemModstamp is not a Salesforce dateTime")
    return Notification(notification_id, sobject_type, fields, canonical)


def parse_notifications(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> OutboundMessage:
    """The outbound message in ``body``; ``OutboundMessageError`` for anything else."""
    root = _parse_xml(body, max_bytes)
    if root.tag != f"{SOAPENV_NS}}}Envelope":
        raise OutboundMessageError("root element is not a SOAP 1.1 Envelope")
    soap_body = _child(root, SOAPENV_NS, "Body")
    assert soap_body is not None
    calls = [el for el in soap_body if isinstance(el.tag, str)]
    if len(calls) != 1 or calls[0].tag != f"{OUTBOUND_NS}}}notifications":
        raise OutboundMessageError(f"SOAP Body must hold one notifications element in "
                                   f"{OUTBOUND_NS}")
    msg = calls[0]
    items = [el for el in msg if el.tag == f"{OUTBOUND_NS}}}Notification"]
    if not items:
        raise OutboundMessageError("no Notification elements")
    if len(items) > MAX_NOTIFICATIONS:
        raise OutboundMessageError(f"{len(items)} notifications, over the limit of "
                                   f"{MAX_NOTIFICATIONS}")
    return OutboundMessage(
        organization_id=_id_text(msg, "OrganizationId", KEY_PREFIXES["Organization"]),
        action_id=_id_text(msg, "ActionId", OUTBOUND_MESSAGE_PREFIX),
        session_id=_text(msg, "SessionId", required=False) or None,
        enterprise_url=_text(msg, "EnterpriseUrl", required=False) or "",
        partner_url=_text(msg, "PartnerUrl", required=False) or "",
        notifications=[_notification(el) for el in items],
    )
