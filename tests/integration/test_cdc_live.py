"""Change Data Capture end to end: the demo org's Pub/Sub API (real gRPC on loopback) → store.

No public URL anywhere: the app subscribes itself. Each test starts its own demo org with the
Pub/Sub API served beside the HTTP one, syncs a store, and runs the CDC live mode as the app does
(LiveServices → debounced ``webhook`` sync → fetch by Id → never-backwards upsert).
"""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
import pytest

from sf_pubsub_api import pubsub_api_pb2 as pb
from sf_pubsub_api import pubsub_api_pb2_grpc as pb_grpc
from smvue_demo_org.change_events import replay_bytes
from smvue_demo_org.profile import OrgProfile
from smvue_tui.salesforce.pubsub import (
    ALL_CHANGES,
    ChangeDataCaptureOff,
    ChangeEvent,
    PubSubClient,
    PubSubError,
    change_channel,
)
from smvue_tui.services.cdc import ChangeDataCapture
from smvue_tui.store import models as m
from tests.integration.sync_support import client_for
from tests.integration.test_live_latency import Live

SIZE = 120


@pytest.fixture
def db(backend_db):
    return backend_db


class App(Live):
    """A store kept fresh by the CDC mode as the app does it (one lane, debounced fetches)."""

    def __init__(self, running, db) -> None:
        super().__init__(running, db)
        self.kinds: list[str] = []
        self.session_client = client_for(running)  # its Session authenticates the gRPC calls
        self.mode: ChangeDataCapture | None = None

    async def sync(self, kind: str):
        self.kinds.append(kind)
        return await super().sync(kind)

    async def start_cdc(self) -> ChangeDataCapture:
        org = self.running.org
        self.mode = ChangeDataCapture(self.db, org.org_id, self.session_client.session,
                                      org.pubsub_endpoint, retry_max=1.0)
        await self.live.start_mode(self.mode)
        await asyncio.wait_for(self.mode.streaming.wait(), timeout=20)
        await self.settled()
        return self.mode

    async def settled(self) -> None:
        """Wait until no sync runs or waits (a new subscription first resyncs once)."""
        await asyncio.sleep(0.1)
        await _until(lambda: self.lane.running is None and not self.live._tasks)

    async def stop(self) -> None:
        await self.live.stop()

    async def close(self) -> None:
        await self.stop()
        await self.session_client.aclose()


async def _admin(running, method: str, path: str, **kw) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        response = await client.request(method, f"{running.base_url}/demo{path}", **kw)
    response.raise_for_status()
    return response


async def _until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _amount(deal_id: str) -> float | None:
    row = m.Opportunity.get_or_none(m.Opportunity.id == deal_id)
    return row.amount if row else None


def _open_deals(n: int) -> list[str]:
    return [d.id for d in m.Opportunity.select().where(m.Opportunity.is_closed == False)  # noqa: E712
            .order_by(m.Opportunity.id).limit(n)]


@pytest.fixture
def cdc_org(make_org):
    return make_org(size=SIZE, pubsub=True, pubsub_keepalive=0.5)


async def _synced_app(running, db) -> App:
    app = App(running, db)
    assert (await app.sync("initial")).status == "ok"
    return app


async def test_a_change_in_the_org_reaches_the_store_with_no_public_url(cdc_org, db):
    app = await _synced_app(cdc_org, db)
    try:
        await app.start_cdc()
        synced = len(app.kinds)
        deal = _open_deals(1)[0]
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{deal}", json={"Amount": 777001.0})
        await _until(lambda: _amount(deal) == 777001.0)
        await app.settled()
        assert app.kinds[synced:] == ["webhook"]  # fetched by Id, not found by a resync
        notes = list(m.ChangeNotification.select().where(m.ChangeNotification.record_id == deal))
        assert len(notes) == 1 and notes[0].fetched_at is not None
        assert m.LiveReplay.get().replay_id  # the position is kept with the store
    finally:
        await app.close()


async def test_restart_resumes_after_the_stored_replay_id(cdc_org, db):
    app = await _synced_app(cdc_org, db)
    a, b, c = _open_deals(3)
    try:
        first = await app.start_cdc()
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{a}", json={"Amount": 1001.0})
        await _until(lambda: _amount(a) == 1001.0)
        events_before = first.stats["events"]
        await app.stop()  # the app is killed; the org goes on changing
        for deal, amount in ((b, 2002.0), (c, 3003.0)):
            await _admin(cdc_org, "PATCH", f"/records/Opportunity/{deal}", json={"Amount": amount})
        assert _amount(b) != 2002.0
        second = await app.start_cdc()
        await _until(lambda: _amount(b) == 2002.0 and _amount(c) == 3003.0)
        # Resumed after a's event: only b's and c's came again, each stored once.
        assert events_before == 1 and second.stats["events"] == 2
        for deal in (a, b, c):
            assert m.ChangeNotification.select().where(
                m.ChangeNotification.record_id == deal).count() == 1
        assert m.LiveReplay.get().events == 3
    finally:
        await app.close()


async def test_gap_events_reread_their_records_and_overflow_resyncs(cdc_org, db):
    app = await _synced_app(cdc_org, db)
    gap_deal, silent_deal = _open_deals(2)
    try:
        mode = await app.start_cdc()
        # A change Salesforce could not describe: a GAP_UPDATE with the id, no values.
        await _admin(cdc_org, "POST", "/cdc", json={"mode": "gap"})
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{gap_deal}", json={"Amount": 5.0})
        await _until(lambda: _amount(gap_deal) == 5.0)
        assert mode.stats["gaps"] == 1
        # A change with no event, then an overflow naming only the object: resync it.
        await _admin(cdc_org, "POST", "/cdc", json={"mode": "silent"})
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{silent_deal}", json={"Amount": 6.0})
        await asyncio.sleep(0.3)
        assert _amount(silent_deal) != 6.0
        await _admin(cdc_org, "POST", "/cdc/events", json={
            "entity": "Opportunity", "change_type": "GAP_OVERFLOW", "record_ids": []})
        await _until(lambda: _amount(silent_deal) == 6.0)
        assert "incremental" in app.kinds
    finally:
        await app.close()


async def test_pubsub_api_auth_topics_schemas_and_flow_control(cdc_org, db):
    app = App(cdc_org, db)
    org = cdc_org.org
    client = PubSubClient(app.session_client.session, org.org_id, org.pubsub_endpoint)
    try:
        topic = await client.get_topic(change_channel("Opportunity"))
        assert topic.can_subscribe and topic.schema_id
        schema = await client.schema(topic.schema_id)
        assert schema["name"].endswith("OpportunityChangeEvent")
        with pytest.raises(ChangeDataCaptureOff):
            await client.get_topic(change_channel("Lead"))  # not selected for CDC
        for n in range(3):
            await _admin(cdc_org, "PATCH", f"/records/Account/{_account(org, n)}",
                         json={"Name": f"Renamed {n}"})
        # Flow control: asked for one event, the server sends one and waits for more.
        channel = grpc.aio.insecure_channel(org.pubsub_endpoint)
        stub = pb_grpc.PubSubStub(channel)
        requests: asyncio.Queue = asyncio.Queue()
        await requests.put(pb.FetchRequest(topic_name=change_channel("Account"),
                                           replay_preset=pb.EARLIEST, num_requested=1))

        async def outgoing():
            while True:
                yield await requests.get()

        call = stub.Subscribe(outgoing(), metadata=client._metadata())
        got = await call.read()
        assert len(got.events) == 1 and got.pending_num_requested == 0
        keepalive = await asyncio.wait_for(call.read(), timeout=5)
        assert not keepalive.events  # nothing more until asked
        await requests.put(pb.FetchRequest(num_requested=5))
        more = await asyncio.wait_for(call.read(), timeout=5)
        assert len(more.events) == 2
        call.cancel()
        await channel.close()
        # A bad token is refused (and, with no way to refresh, reported in words).
        bad = PubSubClient(_Dead(org), org.org_id, org.pubsub_endpoint)
        with pytest.raises(PubSubError) as refused:
            await bad.get_topic(ALL_CHANGES)
        assert refused.value.kind == "auth"
        await bad.aclose()
    finally:
        await client.aclose()
        await app.close()


def _account(org, n: int) -> str:
    return org.store.select("SELECT Id FROM Account ORDER BY Id LIMIT 1 OFFSET ?", (n,))[0]["Id"]


class _Dead:
    """A session whose token the org does not know and cannot be refreshed."""

    access_token = "00Dbogus!token"

    def __init__(self, org) -> None:
        self.instance_url = org.base_url

    async def refresh(self, _failed: str) -> None:
        return None


async def test_cdc_not_enabled_stops_the_mode_and_says_why(make_org, db):
    running = make_org(size=SIZE, pubsub=True, profile=OrgProfile(change_data_capture=()))
    app = App(running, db)
    try:
        org = running.org
        mode = ChangeDataCapture(db, org.org_id, app.session_client.session, org.pubsub_endpoint)
        await app.live.start_mode(mode)
        await _until(lambda: mode.state.startswith("stopped"))
        assert "not enabled" in mode.state
    finally:
        await app.close()


async def test_a_replay_id_salesforce_no_longer_has_restarts_from_now_and_resyncs(cdc_org, db):
    app = await _synced_app(cdc_org, db)
    org = cdc_org.org
    m.LiveReplay.create(topic=ALL_CHANGES, org_id=org.org_id,
                        replay_id=(10**9).to_bytes(8, "big").hex())  # past the retention
    kinds = len(app.kinds)
    try:
        mode = await app.start_cdc()
        assert mode.state == "streaming"
        assert "incremental" in app.kinds[kinds:]  # the hole is covered by a resync
        assert bytes.fromhex(m.LiveReplay.get().replay_id) != (10**9).to_bytes(8, "big")
        deal = _open_deals(1)[0]
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{deal}", json={"Amount": 31.0})
        await _until(lambda: _amount(deal) == 31.0)
    finally:
        await app.close()


async def test_a_dropped_stream_reconnects_and_loses_nothing(cdc_org, db):
    app = await _synced_app(cdc_org, db)
    a, b = _open_deals(2)
    try:
        mode = await app.start_cdc()
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{a}", json={"Amount": 71.0})
        await _until(lambda: _amount(a) == 71.0)
        await _admin(cdc_org, "POST", "/cdc", json={"drop_streams": True})
        await _until(lambda: mode.stats["reconnects"] == 1)
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{b}", json={"Amount": 72.0})
        await _until(lambda: _amount(b) == 72.0)  # after the reconnect, from the stored id
        assert mode.stats["events"] == 2 and mode.state == "streaming"
        for deal in (a, b):
            assert m.ChangeNotification.select().where(
                m.ChangeNotification.record_id == deal).count() == 1
    finally:
        await app.close()


async def test_an_expired_session_is_refreshed_when_resubscribing(cdc_org, db):
    app = await _synced_app(cdc_org, db)
    deal = _open_deals(1)[0]
    try:
        mode = await app.start_cdc()
        session = app.session_client.session
        refreshes = session.refresh_count
        await _admin(cdc_org, "POST", "/expire-sessions")
        await _admin(cdc_org, "POST", "/cdc", json={"drop_streams": True})
        await _admin(cdc_org, "PATCH", f"/records/Opportunity/{deal}", json={"Amount": 73.0})
        await _until(lambda: _amount(deal) == 73.0)
        assert session.refresh_count == refreshes + 1 and mode.state == "streaming"
    finally:
        await app.close()


def _contact(contact_id: str) -> m.Contact:
    return m.Contact.get(m.Contact.id == contact_id)


async def _events_after(running, app: App, position: int, count: int) -> list[ChangeEvent]:
    """The Contact channel's events after ``position``, decoded by our own client."""
    org = running.org
    client = PubSubClient(app.session_client.session, org.org_id, org.pubsub_endpoint)
    got: list[ChangeEvent] = []

    async def read() -> None:
        async for batch in client.subscribe(change_channel("Contact"), replay_bytes(position)):
            got.extend(batch.events)
            if len(got) >= count:
                return

    try:
        await asyncio.wait_for(read(), timeout=20)
    finally:
        await client.aclose()
    return got


async def _named_contact_app(running, db) -> tuple[App, m.Contact]:
    app = await _synced_app(running, db)
    contact = (m.Contact.select().where(m.Contact.first_name.is_null(False))
               .order_by(m.Contact.id).first())
    await app.start_cdc()
    return app, contact


async def test_a_contacts_last_name_change_reaches_the_store(cdc_org, db):
    """Salesforce sends the name as one nested Name record, the change named Name.LastName in a
    nested bitmap (CDC Developer Guide, "Get Compound Fields in Change Events")."""
    app, contact = await _named_contact_app(cdc_org, db)
    try:
        start = cdc_org.org.change_events.latest
        await _admin(cdc_org, "PATCH", f"/records/Contact/{contact.id}",
                     json={"LastName": "Okafor-Diaz"})
        await _until(lambda: _contact(contact.id).last_name == "Okafor-Diaz")
        stored = _contact(contact.id)
        assert (stored.first_name, stored.name) == (contact.first_name,
                                                     f"{contact.first_name} Okafor-Diaz")
        [event] = await _events_after(cdc_org, app, start, 1)
        assert event.entity == "Contact" and event.record_ids == (contact.id,)
        assert "LastName" in event.changed_fields
        assert not {"Name", "FirstName", "Salutation"} & set(event.changed_fields)
        assert event.nulled_fields == ()
    finally:
        await app.close()


async def test_a_contacts_first_name_set_to_null_reaches_the_store(cdc_org, db):
    app, contact = await _named_contact_app(cdc_org, db)
    try:
        start = cdc_org.org.change_events.latest
        await _admin(cdc_org, "PATCH", f"/records/Contact/{contact.id}", json={"FirstName": None})
        await _until(lambda: _contact(contact.id).first_name is None)
        stored = _contact(contact.id)
        assert (stored.last_name, stored.name) == (contact.last_name, contact.last_name)
        [event] = await _events_after(cdc_org, app, start, 1)
        assert event.nulled_fields == ("FirstName",)  # from nulledFields' nested bitmap
        assert "FirstName" in event.changed_fields
    finally:
        await app.close()
