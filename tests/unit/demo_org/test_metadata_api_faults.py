"""Metadata API requests that fail as a whole: SOAP faults, never a traceback."""

from __future__ import annotations

import pytest

from smvue_demo_org.automation import OUTBOUND
from tests.unit.demo_org.metadata_fakes import (
    MD,
    SOAPENV,
    XSI,
    envelope,
    fault,
    flow_xml,
    make_org,
    metadata_client,
    names_xml,
    om_xml,
    soap,
)

INVALID_SESSION = ("sf:INVALID_SESSION_ID",
                   "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: "
                   "Illegal Session")
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
<soapenv:Body><readMetadata xmlns="http://soap.sforce.com/2006/04/metadata">
<type>&lol3;</type></readMetadata></soapenv:Body></soapenv:Envelope>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
<soapenv:Body><readMetadata xmlns="http://soap.sforce.com/2006/04/metadata">
<type>&xxe;</type></readMetadata></soapenv:Body></soapenv:Envelope>"""


def create(*components: str, token: str | None = None) -> str:
    call = f"<createMetadata>{''.join(components)}</createMetadata>"
    return envelope(call) if token is None else envelope(call, token=token)


async def test_bad_or_missing_session_is_invalid_session_id() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        assert fault(await soap(client, create(om_xml(), token="stale"))) == INVALID_SESSION
        no_header = (f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}" xmlns:xsi="{XSI}">'
                     f'<soapenv:Body xmlns="{MD}"><createMetadata>{om_xml()}</createMetadata>'
                     "</soapenv:Body></soapenv:Envelope>")
        resp = await soap(client, no_header)
        assert fault(resp) == INVALID_SESSION
        assert b"<sf:exceptionCode>INVALID_SESSION_ID</sf:exceptionCode>" in resp.content
        assert org.automation.components() == []


async def test_missing_soapaction_header_is_a_fault() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        resp = await soap(client, create(om_xml()), headers={"Content-Type": "text/xml"})
        assert fault(resp) == ("soapenv:Client", "No SOAPAction header!")
        empty = await soap(client, create(om_xml()),
                           headers={"Content-Type": "text/xml", "SOAPAction": ""})
        assert fault(empty) == ("soapenv:Client", "No SOAPAction header!")
        ok = await soap(client, create(om_xml()),
                        headers={"Content-Type": "text/xml", "SOAPAction": '""'})
        assert ok.status_code == 200


@pytest.mark.parametrize("body, words", [
    ("<soapenv:Envelope", "Malformed XML"),
    ("", "Premature end of file"),
    ("not xml at all", "Malformed XML"),
    (BILLION_LAUGHS, "DOCTYPE is disallowed"),
    (XXE, "DOCTYPE is disallowed"),
    ("<Envelope><Body/></Envelope>", "Wrong envelope"),
])
async def test_malformed_or_hostile_xml_is_refused(body: str, words: str) -> None:
    org = make_org()
    async with metadata_client(org) as client:
        resp = await soap(client, body)
        code, message = fault(resp)
        assert code.startswith("soapenv:") and words in message
        assert b"root:" not in resp.content and b"lollol" not in resp.content


@pytest.mark.parametrize("component, element", [
    (om_xml().replace("<apiVersion>", "<bogus>1</bogus><apiVersion>"), "bogus"),
    # endpointUrl after fields breaks the WSDL's sequence order
    (om_xml().replace("<endpointUrl>https://hooks.example.org/sf/7f3c9a</endpointUrl>", "")
     .replace("<includeSessionId>", "<endpointUrl>https://h.example.org/</endpointUrl>"
              "<includeSessionId>"), "endpointUrl"),
    (om_xml().replace("<name>", "<name>A</name><name>"), "name"),
])
async def test_elements_out_of_place_are_invalid_at_this_location(component: str,
                                                                  element: str) -> None:
    org = make_org()
    async with metadata_client(org) as client:
        code, message = fault(await soap(client, create(component)))
        assert code == "soapenv:Client"
        assert message == f"Element {{{MD}}}{element} invalid at this location"


async def test_unknown_operation_type_and_mixed_types() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        code, message = fault(await soap(client, envelope("<renameThings/>")))
        assert code == "soapenv:Client" and "No operation available" in message
        code, message = fault(await soap(client, envelope(
            names_xml("readMetadata", "CustomWidget", "X"))))
        assert code == "sf:INVALID_TYPE" and "CustomWidget" in message
        bogus = om_xml().replace('xsi:type="WorkflowOutboundMessage"', 'xsi:type="Gizmo"')
        assert fault(await soap(client, create(bogus)))[0] == "sf:INVALID_TYPE"
        code, message = fault(await soap(client, create(om_xml(), flow_xml())))
        assert code == "sf:INVALID_TYPE" and "same type" in message


async def test_more_than_ten_components_is_refused() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        many = [om_xml(f"Opportunity.OM_{i}") for i in range(11)]
        code, _ = fault(await soap(client, create(*many)))
        assert code == "sf:EXCEEDED_ID_LIMIT"
        names = [f"Opportunity.OM_{i}" for i in range(11)]
        assert fault(await soap(client, envelope(names_xml("deleteMetadata", OUTBOUND,
                                                           *names))))[0] == "sf:EXCEEDED_ID_LIMIT"
        assert org.automation.components() == []


async def test_bad_boolean_and_unsupported_version() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        bad = om_xml().replace("<protected>false", "<protected>maybe")
        code, message = fault(await soap(client, create(bad)))
        assert code == "soapenv:Client" and "xsd:boolean" in message
        code, _ = fault(await soap(client, create(om_xml()), version="12.0"))
        assert code == "sf:UNSUPPORTED_API_VERSION"
        code, _ = fault(await soap(client, create(om_xml()), version="abc"))
        assert code == "sf:UNSUPPORTED_API_VERSION"


async def test_org_without_api_access_refuses_metadata_calls() -> None:
    org = make_org(edition="Professional", api_enabled=False)
    async with metadata_client(org) as client:
        code, _ = fault(await soap(client, create(om_xml())))
        assert code == "sf:API_DISABLED_FOR_ORG"


async def test_a_demo_org_bug_still_answers_with_a_soap_fault(monkeypatch) -> None:
    org = make_org()
    async with metadata_client(org) as client:
        monkeypatch.setattr(org.automation, "clone", lambda: 1 / 0)
        resp = await soap(client, create(om_xml()))
        assert fault(resp) == ("sf:UNKNOWN_EXCEPTION",
                               "UNKNOWN_EXCEPTION: An unexpected error occurred.")
        assert b"ZeroDivisionError" not in resp.content
