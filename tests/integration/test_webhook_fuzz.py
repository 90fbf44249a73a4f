"""Property: whatever arrives at the listener's path, a genuine change still arrives after it.

Hypothesis generates hostile notification bodies — random bytes, well-formed envelopes with
random, huge, mis-prefixed or mis-cased ids, unknown object types, valid envelopes with bytes
flipped, cut or inserted — and posts them to a live listener (right org id, right path). Then
a real change is made in the demo org, whose Outbound Message reaches the listener, and a
``webhook`` sync must end ok with the change in the store and no notification left pending.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smvue_tui.salesforce.ids import KEY_PREFIXES, normalize_id
from smvue_tui.services.webhook import WebhookListener, new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.engine import SyncEngine
from tests.integration.sync_support import client_for
from tests.integration.test_live_webhook import XML, deploy_to
from tests.postgres_server import open_test_store
from tests.unit.salesforce.outbound_samples import envelope

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class LiveRig:
    """A synced store, a listener the demo org's automation calls, and an engine — on an
    event loop of their own, so hypothesis (synchronous) can drive them."""

    def __init__(self, demo, path) -> None:
        self.demo = demo
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.db = open_test_store(path)
        self.call(self._start())

    def call(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        self.client = client_for(self.demo)
        self.engine = SyncEngine(self.client, self.db)
        assert (await self.engine.run("initial")).status == "ok"
        self.writer = StoreWriter(self.db)
        self.listener = WebhookListener(self.writer, org_id=self.demo.org.org_id,
                                        path_token=new_path_token(), on_new=lambda r: None)
        await self.listener.start()
        await deploy_to(self.listener, self.client, self.demo)
        self.http = httpx.AsyncClient(timeout=30)

    async def post(self, body: bytes) -> int:
        answer = await self.http.post(self.listener.local_url, content=body, headers=XML)
        return answer.status_code

    async def genuine_change_arrives(self) -> None:
        deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
        step = f"step {uuid.uuid4().hex[:8]}"
        (await self.http.patch(f"{self.demo.base_url}/demo/records/Opportunity/{deal.id}",
                               json={"NextStep": step})).raise_for_status()
        deadline = time.monotonic() + 20
        while not m.ChangeNotification.select().where(
                (m.ChangeNotification.record_id == deal.id)
                & m.ChangeNotification.fetched_at.is_null()).exists():
            assert time.monotonic() < deadline, "the genuine notification never arrived"
            await asyncio.sleep(0.05)
        report = await self.engine.run("webhook")
        assert report.status == "ok", report.errors
        assert m.Opportunity.get_by_id(deal.id).next_step == step
        assert not m.ChangeNotification.select().where(
            m.ChangeNotification.fetched_at.is_null()).exists()

    async def _stop(self) -> None:
        await self.http.aclose()
        await self.listener.stop()
        self.writer.close()
        self.engine.close()
        await self.client.aclose()

    def close(self) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.db.close()


@pytest.fixture
def rig(demo, tmp_path, store_backend):
    live = LiveRig(demo, tmp_path / "store.sqlite3")
    yield live
    live.close()


# --- hostile bodies -------------------------------------------------------------------------

def _id15(prefix: str) -> st.SearchStrategy[str]:
    return st.text(ALNUM, min_size=12, max_size=12).map(lambda rest: prefix + rest)


ids = st.one_of(
    st.text(ALNUM, max_size=30),  # any length, mostly not an id
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),  # any text at all
    st.sampled_from([16, 19, 400, 9_000, 70_000, 900_000]).map(lambda n: "0" * n),  # too long
    _id15("006"),  # well-formed: the org does not have it
    _id15("006").map(lambda i: normalize_id(i).lower()),  # case-folded 18-char: same record
    st.sampled_from(sorted(KEY_PREFIXES.values())).flatmap(_id15),  # another object's id
    st.builds(lambda i, s: i + s, _id15("006"), st.text(ALNUM, min_size=3, max_size=3)),
)
types = st.one_of(st.just("Opportunity"), st.sampled_from(sorted(KEY_PREFIXES)),
                  st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True))


def _xml_text(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .encode("utf-8", "replace").decode("utf-8"))


@st.composite
def structured(draw) -> bytes:
    """An envelope from the connected org carrying generated notifications."""
    items = []
    for _ in range(draw(st.integers(1, 4))):
        note_id = draw(st.one_of(_id15("04l").map(normalize_id), ids))
        fields = f"<sf:Id>{_xml_text(draw(ids))}</sf:Id>"
        if draw(st.booleans()):
            stamp = draw(st.one_of(st.just("2026-11-02T09:14:05.000Z"),
                                   st.text(max_size=40)))
            fields += f"<sf:SystemModstamp>{_xml_text(stamp)}</sf:SystemModstamp>"
        items.append(f"<Notification><Id>{_xml_text(note_id)}</Id>"
                     f'<sObject xsi:type="sf:{draw(types)}" '
                     f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{fields}'
                     "</sObject></Notification>")
    return items


@st.composite
def mutated(draw, org_id: str) -> bytes:
    """A valid body with bytes flipped, cut or inserted."""
    body = bytearray(envelope(org_id=org_id))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(body) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            body[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del body[at:at + draw(st.integers(1, 40))]
        else:
            body[at:at] = draw(st.binary(min_size=1, max_size=40))
        if not body:
            body = bytearray(b"x")
    return bytes(body)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_no_body_or_id_stops_a_genuine_change_from_arriving(rig, data):
    org_id = rig.demo.org.org_id
    bodies = data.draw(st.lists(st.one_of(
        structured().map(lambda items: envelope("".join(items), org_id=org_id)),
        mutated(org_id),
        st.binary(max_size=2000),
    ), min_size=1, max_size=6))
    for body in bodies:
        status = rig.call(rig.post(body))
        assert status in (200, 400, 403, 413), status
    rig.call(rig.genuine_change_arrives())
