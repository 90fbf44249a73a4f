"""Small fakes and builders for the Metadata API and outbound dispatch tests.

FakeStore and FakeTokens follow the interfaces of OrgStore (``add_listener``, ``get``) and
TokenRegistry (``check_access``) and nothing more.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import httpx
from aiohttp import web

from smvue_demo_org.ids import make_id
from smvue_demo_org.metadata_api import add_metadata_routes
from smvue_demo_org.org import DEMO_USERNAME, DemoOrg
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import build_catalog

GOOD_TOKEN = "00D8W000000001!AQ4.fake-access-token"
ORG_ID = make_id("00D", 4242)
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass
class Change:
    sobject: str
    id: str
    kind: str
    modstamp: str


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._listeners: list[Callable[[Change], None]] = []
        self._tick = 0

    def add_listener(self, fn: Callable[[Change], None]) -> None:
        self._listeners.append(fn)

    def is_active_username(self, username: str) -> bool:
        return username.lower() == DEMO_USERNAME

    def get(self, sobject: str, id_: str) -> dict[str, Any] | None:
        row = self.rows.get((sobject, id_))
        return dict(row) if row is not None else None

    def write(self, sobject: str, id_: str, kind: str = "update", **values: Any) -> None:
        """Commit one write and tell the listeners, as OrgStore does."""
        self._tick += 1
        stamp = f"2026-11-02T09:{self._tick // 60 % 60:02d}:{self._tick % 60:02d}.000+0000"
        row = self.rows.setdefault((sobject, id_), {"Id": id_, "IsDeleted": 0})
        row.update(values, SystemModstamp=stamp, LastModifiedDate=stamp)
        if kind == "delete":
            row["IsDeleted"] = 1
        for fn in list(self._listeners):
            fn(Change(sobject, id_, kind, stamp))


class FakeTokens:
    def check_access(self, token: str) -> object | None:
        return object() if token == GOOD_TOKEN else None


def make_org(**profile: Any) -> DemoOrg:
    prof = OrgProfile(**profile)
    catalog = build_catalog(prof)
    return DemoOrg(profile=prof, catalog=catalog, visible=catalog.visible(prof), org_id=ORG_ID,
                   user_id=make_id("005", 1), store=FakeStore(), tokens=FakeTokens(),
                   usage=None, faults=None)


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1, a free port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def metadata_client(org: DemoOrg) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client pointed at a demo org app with only the Metadata API routes."""
    app = web.Application()
    add_metadata_routes(app, org)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        org.base_url = url
        yield client


# --- SOAP bodies as a client builds them (protocol reference §6.1) ----------------------------

def envelope(call: str, token: str = GOOD_TOKEN, all_or_none: bool = False) -> str:
    aon = ("<AllOrNoneHeader><allOrNone>true</allOrNone></AllOrNoneHeader>"
           if all_or_none else "")
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}" xmlns:xsi="{XSI}">'
            f'<soapenv:Header xmlns="{MD}"><SessionHeader><sessionId>{token}</sessionId>'
            f"</SessionHeader>{aon}</soapenv:Header>"
            f'<soapenv:Body xmlns="{MD}">{call}</soapenv:Body></soapenv:Envelope>')


def om_xml(full_name: str = "Opportunity.PipelinePulse_OM",
           endpoint: str = "https://hooks.example.org/sf/7f3c9a",
           fields: tuple[str, ...] = ("Id", "Amount", "CloseDate", "LastModifiedDate",
                                      "StageName")) -> str:
    field_xml = "".join(f"<fields>{f}</fields>" for f in fields)
    endpoint_xml = f"<endpointUrl>{endpoint}</endpointUrl>" if endpoint else ""
    return (f'<metadata xsi:type="WorkflowOutboundMessage"><fullName>{full_name}</fullName>'
            "<apiVersion>66.0</apiVersion><description>Pushes changes</description>"
            f"{endpoint_xml}{field_xml}<includeSessionId>false</includeSessionId>"
            "<integrationUser>manager@demo.smvue.local</integrationUser>"  # the demo user
            f"<name>{full_name.partition('.')[2]}</name><protected>false</protected>"
            "<useDeadLetterQueue>false</useDeadLetterQueue></metadata>")


def rule_xml(full_name: str = "Opportunity.PipelinePulse_Rule", action: str = "PipelinePulse_OM",
             active: bool = True, trigger: str = "onAllChanges") -> str:
    return (f'<metadata xsi:type="WorkflowRule"><fullName>{full_name}</fullName>'
            f"<actions><name>{action}</name><type>OutboundMessage</type></actions>"
            f"<active>{str(active).lower()}</active><description>Every change</description>"
            f"<formula>TRUE</formula><triggerType>{trigger}</triggerType></metadata>")


def flow_xml(full_name: str = "PipelinePulse_Flow",
             action: str = "Opportunity.PipelinePulse_OM", status: str = "Active",
             when: str = "CreateAndUpdate", sobject: str = "Opportunity",
             filter_formula: str = "") -> str:
    formula = f"<filterFormula>{filter_formula}</filterFormula>" if filter_formula else ""
    return (f'<metadata xsi:type="Flow"><fullName>{full_name}</fullName>'
            f"<actionCalls><name>Send_OM</name><label>Send OM</label>"
            f"<locationX>176</locationX><locationY>323</locationY>"
            f"<actionName>{action}</actionName><actionType>outboundMessage</actionType>"
            f"<flowTransactionModel>CurrentTransaction</flowTransactionModel>"
            f"<nameSegment>{action}</nameSegment></actionCalls>"
            "<apiVersion>66.0</apiVersion><environments>Default</environments>"
            "<interviewLabel>Pulse {!$Flow.CurrentDateTime}</interviewLabel>"
            "<label>Pipeline Pulse</label><processType>AutoLaunchedFlow</processType>"
            f"<start><locationX>50</locationX><locationY>0</locationY>"
            f"<connector><targetReference>Send_OM</targetReference></connector>{formula}"
            f"<object>{sobject}</object><recordTriggerType>{when}</recordTriggerType>"
            f"<triggerType>RecordAfterSave</triggerType></start>"
            f"<status>{status}</status></metadata>")


def names_xml(call: str, type_: str, *names: str) -> str:
    inner = "".join(f"<fullNames>{n}</fullNames>" for n in names)
    return f"<{call}><type>{type_}</type>{inner}</{call}>"


async def soap(client: httpx.AsyncClient, body: str, *, version: str = "66.0",
               headers: dict[str, str] | None = None) -> httpx.Response:
    hdrs = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "''"}
    if headers is not None:
        hdrs = headers
    return await client.post(f"/services/Soap/m/{version}", content=body.encode(), headers=hdrs)


def results(resp: httpx.Response) -> list[dict[str, Any]]:
    """The ``result`` elements of a save/upsert/delete answer as dicts."""
    assert resp.status_code == 200, resp.text
    out = []
    for el in ET.fromstring(resp.content).iter(f"{{{MD}}}result"):
        item: dict[str, Any] = {"errors": []}
        for child in el:
            tag = child.tag.rpartition("}")[2]
            if tag == "errors":
                item["errors"].append({c.tag.rpartition("}")[2]: c.text for c in child})
            else:
                item[tag] = child.text
        out.append(item)
    return out


def fault(resp: httpx.Response) -> tuple[str, str]:
    assert resp.status_code == 500, resp.text
    root = ET.fromstring(resp.content)
    f = root.find(f"{{{SOAPENV}}}Body/{{{SOAPENV}}}Fault")
    assert f is not None
    return f.findtext("faultcode") or "", f.findtext("faultstring") or ""
