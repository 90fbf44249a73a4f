"""The outbound message on the wire: the notifications envelope Salesforce POSTs, and the ACK.

Values are written as the enterprise WSDL serialises them: booleans true/false, datetimes in UTC
with ``Z``, doubles as Java prints them (``48000.0``, ``1.5E7``), nulls left out. The sObject's
fields come in WSDL order: ``Id`` (from the base sObject type) first, then alphabetical.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DET

from smvue_demo_org.schema import ObjectDef

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
_DOUBLES = ("double", "currency", "percent")


def java_double(x: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE<exp>``."""
    x = float(x)
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(x)
    sign, digits, exp = Decimal(repr(x)).as_tuple()
    sci_exp = len(digits) + int(exp) - 1
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{ds[0]}.{ds[1:] or '0'}E{sci_exp}"


def format_value(field_type: str, value: Any) -> str | None:
    """One stored value as the notification carries it; None means "leave the field out"."""
    if value is None:
        return None
    if field_type == "boolean":
        return "true" if value in (1, True, "1", "true") else "false"
    if field_type == "datetime":
        text = str(value)
        return text[:-5] + "Z" if text.endswith("+0000") else text
    if field_type in _DOUBLES:
        return java_double(value)
    if field_type == "int":
        return str(int(value))
    return str(value)


def field_order(obj: ObjectDef | None, fields: list[str]) -> list[str]:
    """Selected fields by their real names: Id first, then alphabetical, no repeats."""
    names = {(obj.field(f).name if obj and obj.field(f) else f) for f in fields}
    names.add("Id")
    return ["Id", *sorted(names - {"Id"}, key=str.lower)]


def sobject_xml(obj: ObjectDef, fields: list[str], record_id: str,
                row: dict[str, Any] | None) -> str:
    """The ``sObject`` element; a deleted or missing record carries only its Id."""
    parts = []
    live = row is not None and not row.get("IsDeleted")
    for name in field_order(obj, fields):
        fdef = obj.field(name)
        if name == "Id":
            value: str | None = record_id
        elif not live or fdef is None:
            continue
        else:
            value = format_value(fdef.type, row.get(fdef.name))  # type: ignore[union-attr]
        if value is not None:
            parts.append(f"<sf:{name}>{escape(value)}</sf:{name}>")
    return (f'<sObject xsi:type={quoteattr("sf:" + obj.name)} xmlns:sf="{SOBJECT_NS}">'
            f"{''.join(parts)}</sObject>")


def notifications_xml(org_id: str, action_id: str, enterprise_url: str, partner_url: str,
                      notifications: list[tuple[str, str]]) -> bytes:
    """The whole SOAP message; ``notifications`` are (04l id, sObject xml) pairs."""
    items = "".join(f"<Notification><Id>{nid}</Id>{sobj}</Notification>"
                    for nid, sobj in notifications)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<soapenv:Body><notifications xmlns="{OUTBOUND_NS}">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>{action_id}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{escape(enterprise_url)}</EnterpriseUrl>"
        f"<PartnerUrl>{escape(partner_url)}</PartnerUrl>{items}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def is_ack(status: int, body: bytes) -> bool:
    """Only HTTP 200 with ``notificationsResponse/Ack`` = true counts as delivered."""
    if status != 200:
        return False
    try:
        root = DET.fromstring(body, forbid_dtd=True)
    except Exception:  # any unparsable body is simply not an ACK
        return False
    ack = root.find(f"{{{SOAPENV}}}Body/{{{OUTBOUND_NS}}}notificationsResponse/"
                    f"{{{OUTBOUND_NS}}}Ack")
    return root.tag == f"{{{SOAPENV}}}Envelope" and ack is not None and \
        (ack.text or "").strip() in ("true", "1")
