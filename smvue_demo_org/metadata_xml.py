"""SOAP plumbing of the demo org's Metadata API: parse a request safely, build answers and faults.

Requests are parsed with defusedxml and any DTD is refused (no entity expansion, no XXE). A
metadata component's body is kept as a ``Body``: element name → list of values, each value a
string (a leaf) or another ``Body``, in document order — so ``readMetadata`` can give it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

Node = Union[str, "Body"]
Body = dict[str, list[Node]]


class SoapFault(Exception):
    """Answered as a soapenv:Fault (HTTP 500). ``code`` is e.g. ``sf:INVALID_SESSION_ID``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def sf_fault(code: str, message: str) -> SoapFault:
    """A fault as Salesforce raises an API exception: ``sf:CODE`` and "CODE: message"."""
    return SoapFault(f"sf:{code}", f"{code}: {message}")


def invalid_element(el: Element | str) -> SoapFault:
    tag = el if isinstance(el, str) else el.tag
    return SoapFault("soapenv:Client", f"Element {tag} invalid at this location")


@dataclass
class SoapCall:
    operation: str  # local name of the Body's first child, e.g. "createMetadata"
    params: Element
    session_id: str | None = None
    all_or_none: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def ns(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def parse_envelope(data: bytes) -> SoapCall:
    """The call inside a SOAP 1.1 envelope; a SoapFault for anything that is not one."""
    if not data.strip():
        raise SoapFault("soapenv:Client", "Premature end of file.")
    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise SoapFault("soapenv:Client",
                        'DOCTYPE is disallowed when the feature "http://apache.org/xml/features/'
                        'disallow-doctype-decl" set to true.') from None
    except ParseError as exc:
        raise SoapFault("soapenv:Client", f"Malformed XML: {exc}") from None
    if root.tag != f"{{{SOAPENV}}}Envelope":
        raise SoapFault("soapenv:VersionMismatch",
                        f"Wrong envelope: expected {{{SOAPENV}}}Envelope, got {root.tag}")
    header = root.find(f"{{{SOAPENV}}}Header")
    body = root.find(f"{{{SOAPENV}}}Body")
    if body is None or len(body) == 0:
        raise SoapFault("soapenv:Client", "No operation found: the SOAP Body is empty")
    op = body[0]
    if ns(op.tag) != MD:
        raise SoapFault("soapenv:Client",
                        f"No operation available for request {op.tag}, please check the WSDL "
                        "for the service.")
    call = SoapCall(local(op.tag), op)
    for part in header if header is not None else ():
        if ns(part.tag) != MD:
            continue  # other headers are ignored, as mustUnderstand is not set
        for child in part:
            call.headers[f"{local(part.tag)}.{local(child.tag)}"] = (child.text or "").strip()
    call.session_id = call.headers.get("SessionHeader.sessionId") or None
    call.all_or_none = call.headers.get("AllOrNoneHeader.allOrNone", "").lower() in ("true", "1")
    return call


def to_body(el: Element) -> Body:
    """An element's children as a Body; only metadata-namespace elements are allowed."""
    out: Body = {}
    for child in el:
        if ns(child.tag) != MD:
            raise invalid_element(child)
        value: Node = to_body(child) if len(child) else (child.text or "")
        out.setdefault(local(child.tag), []).append(value)
    return out


def xsi_type(el: Element) -> str | None:
    value = el.get(f"{{{XSI}}}type")
    return value.rpartition(":")[2] if value else None


# --- building answers ------------------------------------------------------------------------

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def _xml(tag: str, value: Node | bool | list[Node]) -> str:
    if isinstance(value, list):
        return "".join(_xml(tag, v) for v in value)
    if isinstance(value, bool):
        return f"<{tag}>{str(value).lower()}</{tag}>"
    if isinstance(value, dict):
        return f"<{tag}>{body_xml(value)}</{tag}>"
    return f"<{tag}>{escape(value)}</{tag}>"


def body_xml(body: Body) -> str:
    return "".join(_xml(tag, values) for tag, values in body.items())


def record_xml(type_: str, full_name: str | None, body: Body | None) -> str:
    """One ``records`` element of readMetadata; ``xsi:nil`` for a name that does not exist."""
    if full_name is None or body is None:
        return '<records xsi:nil="true"/>'
    inner = _xml("fullName", full_name) + body_xml(body)
    return f"<records xsi:type={quoteattr(type_)}>{inner}</records>"


@dataclass
class ResultError:
    status_code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def xml(self) -> str:
        return (f"<errors>{_xml('fields', list(self.fields))}{_xml('message', self.message)}"
                f"{_xml('statusCode', self.status_code)}</errors>")


def result_xml(full_name: str, errors: list[ResultError], created: bool | None = None) -> str:
    """SaveResult / DeleteResult, or UpsertResult when ``created`` is given (WSDL order)."""
    parts = [] if created is None else [_xml("created", created and not errors)]
    parts += [e.xml() for e in errors]
    parts += [_xml("fullName", full_name), _xml("success", not errors)]
    return f"<result>{''.join(parts)}</result>"


def response_xml(operation: str, inner: str) -> bytes:
    return (f'{_HEAD}<soapenv:Envelope xmlns:soapenv="{SOAPENV}" xmlns="{MD}" '
            f'xmlns:xsi="{XSI}"><soapenv:Body><{operation}Response>{inner}'
            f"</{operation}Response></soapenv:Body></soapenv:Envelope>").encode()


def fault_xml(fault: SoapFault) -> bytes:
    detail = ""
    if fault.code.startswith("sf:"):
        code = fault.code[3:]
        message = fault.message.removeprefix(f"{code}: ")
        detail = (f'<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
                  f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
                  f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
                  f"</sf:UnexpectedErrorFault></detail>")
    return (f'{_HEAD}<soapenv:Envelope xmlns:soapenv="{SOAPENV}" xmlns:sf="{MD}" '
            f'xmlns:xsi="{XSI}"><soapenv:Body><soapenv:Fault>'
            f"<faultcode>{escape(fault.code)}</faultcode>"
            f"<faultstring>{escape(fault.message)}</faultstring>{detail}"
            f"</soapenv:Fault></soapenv:Body></soapenv:Envelope>").encode()
