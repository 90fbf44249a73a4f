"""A real loopback listener for outbound messages, and direct deployment of automation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

from smvue_demo_org.automation import FLOW, OUTBOUND, RULE, AutomationRegistry, Component
from smvue_demo_org.org import DemoOrg
from smvue_demo_org.outbound_dispatch import OutboundDispatcher
from tests.unit.demo_org.metadata_fakes import serve

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUT = "http://soap.sforce.com/2005/09/outbound"
SF = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACK = (b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="'
       + SOAPENV.encode() + b'"><soapenv:Body><notificationsResponse xmlns="' + OUT.encode()
       + b'"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>')
FAILURES = {
    "500": (500, b"Internal Server Error"),
    "nack": (200, ACK.replace(b"true", b"false")),
    "garbage": (200, b"<html>OK</html"),
    "wrong-ns": (200, ACK.replace(OUT.encode(), b"urn:not-outbound")),
    "fault": (500, b'<soapenv:Envelope xmlns:soapenv="' + SOAPENV.encode()
              + b'"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode>'
              b"<faultstring>busy</faultstring></soapenv:Fault></soapenv:Body>"
              b"</soapenv:Envelope>"),
}


@dataclass
class Listener:
    """Answers the first calls as ``script`` says ("500", "nack", "slow", …), then ACKs.

    ``always`` answers every call that way instead.
    """

    script: list[str] = field(default_factory=list)
    always: str | None = None
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    on_call: Any = None  # called with the call number (1-based) before answering
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((dict(request.headers), body))
        if self.on_call is not None:
            self.on_call(len(self.calls))
        how = self.always or (self.script.pop(0) if self.script else "ack")
        if how == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), 5)
            how = "ack"
        status, payload = FAILURES.get(how, (200, ACK))
        return web.Response(status=status, body=payload, content_type="text/xml")


@contextlib.asynccontextmanager
async def listening(listener: Listener) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/sf/hook", listener.handle)
    async with serve(app) as url:
        yield f"{url}/sf/hook"
    listener.release.set()


def deploy(org: DemoOrg, endpoint: str, *, fields: tuple[str, ...] = ("Id", "StageName"),
           trigger: str = "rule", active: bool = True, when: str = "onAllChanges",
           sobject: str = "Opportunity") -> Component:
    """Deploy an outbound message and its trigger straight into the registry."""
    reg = org.automation = org.automation or AutomationRegistry()
    om, _ = reg.put(OUTBOUND, f"{sobject}.Pulse_OM", {
        "apiVersion": ["66.0"], "endpointUrl": [endpoint], "fields": list(fields),
        "includeSessionId": ["false"], "integrationUser": ["manager@demo.smvue.local"],
        "name": ["Pulse"]})
    if trigger == "rule":
        reg.put(RULE, f"{sobject}.Pulse_Rule", {
            "actions": [{"name": ["Pulse_OM"], "type": ["OutboundMessage"]}],
            "active": [str(active).lower()], "formula": ["TRUE"], "triggerType": [when]})
    else:
        reg.put(FLOW, "Pulse_Flow", {
            "actionCalls": [{"actionName": [f"{sobject}.Pulse_OM"],
                             "actionType": ["outboundMessage"]}],
            "label": ["Pulse"], "processType": ["AutoLaunchedFlow"],
            "start": [{"object": [sobject], "recordTriggerType": [when],
                       "triggerType": ["RecordAfterSave"]}],
            "status": ["Active" if active else "Draft"]})
    return om


@contextlib.asynccontextmanager
async def dispatching(org: DemoOrg, **kwargs: Any) -> AsyncIterator[OutboundDispatcher]:
    dispatcher = OutboundDispatcher(org, **kwargs)
    await dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()


@dataclass
class Sent:
    org_id: str
    action_id: str
    session_nil: bool
    enterprise_url: str
    partner_url: str
    notifications: list[tuple[str, str, list[tuple[str, str]]]]  # (id, xsi:type, fields)


def parse(body: bytes) -> Sent:
    root = ET.fromstring(body)
    n = root.find(f"{{{SOAPENV}}}Body/{{{OUT}}}notifications")
    assert n is not None
    notes = []
    for note in n.findall(f"{{{OUT}}}Notification"):
        sobj = note.find(f"{{{OUT}}}sObject")
        assert sobj is not None
        pairs = [(c.tag.removeprefix(f"{{{SF}}}"), c.text or "") for c in sobj]
        notes.append((note.findtext(f"{{{OUT}}}Id") or "", sobj.get(f"{{{XSI}}}type") or "",
                      pairs))
    session = n.find(f"{{{OUT}}}SessionId")
    return Sent(n.findtext(f"{{{OUT}}}OrganizationId") or "",
                n.findtext(f"{{{OUT}}}ActionId") or "",
                session is not None and session.get(f"{{{XSI}}}nil") == "true",
                n.findtext(f"{{{OUT}}}EnterpriseUrl") or "",
                n.findtext(f"{{{OUT}}}PartnerUrl") or "", notes)
