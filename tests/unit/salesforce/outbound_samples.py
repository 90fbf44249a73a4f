"""Outbound Message bodies shaped like the ones Salesforce POSTs (protocol reference §5.1)."""

from __future__ import annotations

from smvue_tui.salesforce.ids import KEY_PREFIXES, normalize_id

ORG_ID = normalize_id("00DXX0000001abc")
ACTION_ID = normalize_id("04kXX0000000001")


def notification_id(n: int = 0) -> str:
    """A well-formed notification id (key prefix 04l), 18 characters."""
    return normalize_id(f"04lXX0000ABC{n:03d}")


def deal_id(n: int = 0, sobject: str = "Opportunity") -> str:
    """A well-formed id of ``sobject`` (Opportunity: key prefix 006), 18 characters."""
    return normalize_id(f"{KEY_PREFIXES[sobject]}XX000004A{n:03d}")


def notification_xml(n: int = 0, sobject: str = "Opportunity", prefix: str = "sf") -> str:
    return (
        f"<Notification><Id>{notification_id(n)}</Id>"
        f'<sObject xsi:type="{prefix}:{sobject}" '
        f'xmlns:{prefix}="urn:sobject.enterprise.soap.sforce.com">'
        f"<{prefix}:Id>{deal_id(n, sobject)}</{prefix}:Id>"
        f"<{prefix}:Amount>48000.0</{prefix}:Amount>"
        f'<{prefix}:CloseDate xsi:nil="true"/>'
        f"<{prefix}:LastModifiedDate>2026-11-02T09:14:05.000Z</{prefix}:LastModifiedDate>"
        f"<{prefix}:Name>Acme &amp; Co - 200 seats</{prefix}:Name>"
        f"<{prefix}:StageName>Negotiation/Review</{prefix}:StageName>"
        f"</sObject></Notification>"
    )


def envelope(items: str | None = None, *, org_id: str = ORG_ID, action_id: str = ACTION_ID,
             session: str = '<SessionId xsi:nil="true"/>',
             ns: str = "http://soap.sforce.com/2005/09/outbound",
             prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    items = notification_xml() if items is None else items
    return (
        f"{prolog}"
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"\n'
        '  xmlns:xsd="http://www.w3.org/2001/XMLSchema"\n'
        '  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        " <soapenv:Body>\n"
        f'  <notifications xmlns="{ns}">\n'
        f"   <OrganizationId>{org_id}</OrganizationId>\n"
        f"   <ActionId>{action_id}</ActionId>\n"
        f"   {session}\n"
        "   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/66.0/00DXX0000001abc"
        "</EnterpriseUrl>\n"
        "   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/66.0/00DXX0000001abc"
        "</PartnerUrl>\n"
        f"   {items}\n"
        "  </notifications>\n"
        " </soapenv:Body>\n"
        "</soapenv:Envelope>\n"
    ).encode()


def many(n: int) -> bytes:
    return envelope("".join(notification_xml(i) for i in range(n)))


VALID = envelope()
