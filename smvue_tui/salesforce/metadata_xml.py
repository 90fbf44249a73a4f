"""Metadata API SOAP on the wire: CRUD request envelopes, their results, faults and records.

Salesforce validates each component against the WSDL's ``xsd:sequence``, so elements must come
in WSDL order ("Element … invalid at this location" otherwise). A component's body is a plain
mapping; the serializer emits it in the order of ``ORDER`` whatever the mapping's own order, and
refuses names it does not know. Responses are parsed with defusedxml (no DTD, no entities).
The session id is in every request body, so every text taken from a response is scrubbed of it
(and of anything shaped like a session id) before it reaches an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from smvue_tui.salesforce.errors import MetadataFault, MetadataSessionInvalid

MD_NS = "http://soap.sforce.com/2006/04/metadata"
SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
MAX_COMPONENTS = 10  # per CRUD call, all of one type
OUTBOUND, RULE, FLOW = "WorkflowOutboundMessage", "WorkflowRule", "Flow"

# WSDL sequence order (after the inherited fullName) of every complex type we write.
ORDER: dict[str, tuple[str, ...]] = {
    OUTBOUND: ("apiVersion", "description", "endpointUrl", "fields", "includeSessionId",
               "integrationUser", "name", "protected", "useDeadLetterQueue"),
    RULE: ("actions", "active", "booleanFilter", "criteriaItems", "description",
           "failedMigrationToolVersion", "formula", "triggerType", "workflowTimeTriggers"),
    "WorkflowActionReference": ("name", "type"),
    "FilterItem": ("field", "operation", "value", "valueField"),
    FLOW: ("actionCalls", "apiVersion", "description", "environments", "interviewLabel",
           "label", "processMetadataValues", "processType", "runInMode", "start", "status"),
    # FlowActionCall extends FlowNode (label, location) extends FlowElement (description, name).
    "FlowActionCall": ("description", "name", "label", "locationX", "locationY", "actionName",
                       "actionType", "connector", "faultConnector", "flowTransactionModel",
                       "inputParameters", "nameSegment", "storeOutputAutomatically",
                       "versionSegment"),
    "FlowStart": ("description", "name", "label", "locationX", "locationY", "connector",
                  "doesRequireRecordChangedToMeetCriteria", "filterFormula", "filterLogic",
                  "filters", "object", "recordTriggerType", "triggerType"),
    "FlowConnector": ("isGoTo", "targetReference"),
}
NESTED: dict[tuple[str, str], str] = {
    (RULE, "actions"): "WorkflowActionReference",
    (RULE, "criteriaItems"): "FilterItem",
    (FLOW, "actionCalls"): "FlowActionCall",
    (FLOW, "start"): "FlowStart",
    ("FlowStart", "connector"): "FlowConnector",
    ("FlowActionCall", "connector"): "FlowConnector",
    ("FlowActionCall", "faultConnector"): "FlowConnector",
}
# Elements that may repeat: a read record gives them back as lists even when there is one.
REPEATED = frozenset({"fields", "actions", "criteriaItems", "workflowTimeTriggers",
                      "actionCalls", "environments", "filters", "inputParameters",
                      "processMetadataValues"})

_SESSION_LIKE = re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]+")
_MAX_TEXT = 500


@dataclass(frozen=True)
class MetadataComponent:
    """One component for create/update/upsert: ``type`` is its xsi:type."""

    type: str
    full_name: str
    body: Mapping[str, Any] = field(default_factory=dict)


class MetadataError(NamedTuple):
    status_code: str
    message: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetadataResult:
    """A SaveResult, UpsertResult (``created`` set) or DeleteResult."""

    full_name: str
    success: bool
    created: bool = False
    errors: list[MetadataError] = field(default_factory=list)

    def has_code(self, *codes: str) -> bool:
        return any(e.status_code in codes for e in self.errors)

    def describe(self) -> str:
        return "; ".join(f"{e.status_code}: {e.message}" for e in self.errors) or "ok"


def scrub(text: str, secret: str | None = None) -> str:
    """``text`` without the session id (or anything shaped like one), cut to a sane length."""
    if secret:
        text = text.replace(secret, "[redacted]")
    text = _SESSION_LIKE.sub("[redacted]", text)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


# --- building requests ---------------------------------------------------------------------------


def _value_xml(type_name: str, tag: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "".join(_value_xml(type_name, tag, v) for v in value)
    if isinstance(value, Mapping):
        nested = NESTED.get((type_name, tag))
        if nested is None:
            raise ValueError(f"{type_name}.{tag} is not a nested element we know")
        return f"<{tag}>{elements_xml(nested, value)}</{tag}>"
    if isinstance(value, bool):
        return f"<{tag}>{'true' if value else 'false'}</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def elements_xml(type_name: str, body: Mapping[str, Any]) -> str:
    """``body``'s elements in the WSDL order of ``type_name``; ValueError for unknown names."""
    order = ORDER.get(type_name)
    if order is None:
        raise ValueError(f"no element order known for metadata type {type_name}")
    unknown = [k for k in body if k not in order]
    if unknown:
        raise ValueError(f"{type_name} has no element(s) {', '.join(unknown)}")
    return "".join(_value_xml(type_name, k, body[k]) for k in sorted(body, key=order.index))


def component_xml(component: MetadataComponent) -> str:
    inner = elements_xml(component.type, component.body)
    return (f"<metadata xsi:type={quoteattr(component.type)}>"
            f"<fullName>{escape(component.full_name)}</fullName>{inner}</metadata>")


def _envelope(session_id: str, call: str, *, all_or_none: bool = False) -> bytes:
    if not session_id:
        raise ValueError("a session id (access token) is required")
    header = f"<SessionHeader><sessionId>{escape(session_id)}</sessionId></SessionHeader>"
    if all_or_none:
        header += "<AllOrNoneHeader><allOrNone>true</allOrNone></AllOrNoneHeader>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" xmlns:xsi="{XSI_NS}">'
        f'<soapenv:Header xmlns="{MD_NS}">{header}</soapenv:Header>'
        f'<soapenv:Body xmlns="{MD_NS}">{call}</soapenv:Body></soapenv:Envelope>'
    ).encode()


def _check_count(n: int) -> None:
    if not 1 <= n <= MAX_COMPONENTS:
        raise ValueError(f"a Metadata CRUD call takes 1 to {MAX_COMPONENTS} components, not {n}")


def save_envelope(operation: str, session_id: str, components: Sequence[MetadataComponent], *,
                  all_or_none: bool = False) -> bytes:
    """createMetadata / updateMetadata / upsertMetadata of same-typed components."""
    if operation not in ("createMetadata", "updateMetadata", "upsertMetadata"):
        raise ValueError(f"not a save call: {operation}")
    _check_count(len(components))
    if len({c.type for c in components}) != 1:
        raise ValueError("all components of one Metadata call must have the same type")
    inner = "".join(component_xml(c) for c in components)
    return _envelope(session_id, f"<{operation}>{inner}</{operation}>", all_or_none=all_or_none)


def create_metadata_envelope(session_id: str, components: Sequence[MetadataComponent], *,
                             all_or_none: bool = False) -> bytes:
    return save_envelope("createMetadata", session_id, components, all_or_none=all_or_none)


def upsert_metadata_envelope(session_id: str, components: Sequence[MetadataComponent], *,
                             all_or_none: bool = False) -> bytes:
    return save_envelope("upsertMetadata", session_id, components, all_or_none=all_or_none)


def _by_name_envelope(operation: str, session_id: str, type_: str,
                      full_names: Sequence[str]) -> bytes:
    _check_count(len(full_names))
    names = "".join(f"<fullNames>{escape(n)}</fullNames>" for n in full_names)
    return _envelope(session_id, f"<{operation}><type>{escape(type_)}</type>{names}"
                                 f"</{operation}>")


def read_metadata_envelope(session_id: str, type_: str, full_names: Sequence[str]) -> bytes:
    return _by_name_envelope("readMetadata", session_id, type_, full_names)


def delete_metadata_envelope(session_id: str, type_: str, full_names: Sequence[str]) -> bytes:
    return _by_name_envelope("deleteMetadata", session_id, type_, full_names)


# --- parsing responses ---------------------------------------------------------------------------


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2]


def _find(parent: Element, name: str) -> Element | None:
    """The first child with local name ``name`` (namespace-agnostic: faults mix sf:/none)."""
    return next((el for el in parent if _local(el.tag) == name), None)


def _text(parent: Element, name: str) -> str:
    el = _find(parent, name)
    return (el.text or "").strip() if el is not None else ""


def _fault(fault: Element, status: int, secret: str | None) -> MetadataFault:
    code = _text(fault, "faultcode").rpartition(":")[2]
    message = _text(fault, "faultstring")
    detail = _find(fault, "detail")
    if detail is not None and len(detail):
        code = _text(detail[0], "exceptionCode") or code
    cls = MetadataSessionInvalid if code == "INVALID_SESSION_ID" else MetadataFault
    message = message.removeprefix(f"{code}: ")  # Salesforce repeats the code in the text
    return cls(scrub(message, secret), code=scrub(code, secret)[:100], status=status)


def parse_response(body: bytes, *, status: int = 200, secret: str | None = None) -> Element:
    """The ``<operation>Response`` element; MetadataFault for a fault or a non-SOAP answer."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except (ParseError, DefusedXmlException, LookupError, ValueError, UnicodeError):
        raise MetadataFault(f"HTTP {status}: the Metadata API answered with something other "
                            "than SOAP", status=status) from None
    soap_body = _find(root, "Body") if root.tag == f"{{{SOAPENV_NS}}}Envelope" else None
    if soap_body is None or not len(soap_body):
        raise MetadataFault(f"HTTP {status}: not a SOAP envelope with a Body", status=status)
    answer = soap_body[0]
    if answer.tag == f"{{{SOAPENV_NS}}}Fault":
        raise _fault(answer, status, secret)
    if status != 200 or answer.tag.rpartition("}")[0] != f"{{{MD_NS}" or \
            not _local(answer.tag).endswith("Response"):
        raise MetadataFault(f"HTTP {status}: unexpected answer {_local(answer.tag)[:80]}",
                            status=status)
    return answer


def _result(el: Element, secret: str | None) -> MetadataResult:
    errors = []
    for err in el:
        if _local(err.tag) != "errors":
            continue
        fields = tuple((f.text or "").strip() for f in err if _local(f.tag) == "fields")
        errors.append(MetadataError(_text(err, "statusCode"),
                                    scrub(_text(err, "message"), secret), fields))
    success = _text(el, "success") in ("true", "1")
    return MetadataResult(full_name=_text(el, "fullName"), success=success and not errors,
                          created=_text(el, "created") in ("true", "1"), errors=errors)


def parse_results(body: bytes, *, status: int = 200,
                  secret: str | None = None) -> list[MetadataResult]:
    """SaveResult / UpsertResult / DeleteResult list, in request order."""
    answer = parse_response(body, status=status, secret=secret)
    return [_result(el, secret) for el in answer if _local(el.tag) == "result"]


def _value(el: Element) -> Any:
    if not len(el):
        return None if el.get(f"{{{XSI_NS}}}nil") in ("true", "1") else (el.text or "")
    out: dict[str, Any] = {}
    for child in el:
        name = _local(child.tag)
        value = _value(child)
        if name in out and not isinstance(out[name], list):
            out[name] = [out[name]]
        if isinstance(out.get(name), list):
            out[name].append(value)
        else:
            out[name] = [value] if name in REPEATED else value
    return out


def parse_read_records(body: bytes, *, status: int = 200,
                       secret: str | None = None) -> list[dict[str, Any]]:
    """readMetadata's records as dicts (``fullName`` included); names not found are left out."""
    answer = parse_response(body, status=status, secret=secret)
    records = []
    for result in (el for el in answer if _local(el.tag) == "result"):
        for rec in (el for el in result if _local(el.tag) == "records"):
            value = _value(rec) if len(rec) else None
            if isinstance(value, dict) and value.get("fullName"):
                records.append(value)
    return records
