"""Draining change notifications: one that can never be fetched is set aside with its reason
and the others still arrive; a failure that says nothing about the ids keeps them all pending
(issue 20, item 1)."""

from __future__ import annotations

from datetime import date

import pytest

from smvue_tui.salesforce.errors import SalesforceError, ServerUnavailable
from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.fetch import SyncContext
from smvue_tui.sync.live import fetch_notified, set_aside_counts
from smvue_tui.sync.status import StatusReport, render_text

FIELDS = ("Id", "SystemModstamp", "Name", "StageName")
DEALS = [normalize_id(f"0068W00000{n:05d}") for n in range(1, 9)]
REFUSED = DEALS[5]


class OrgRefusingOneId:
    """Answers sObject Collections like Salesforce, except that any call carrying ``refused``
    fails as a whole (what a MALFORMED_ID or a too-long URL does), or every call fails."""

    def __init__(self, refused: str | None = None, down: bool = False) -> None:
        self.refused, self.down = refused, down
        self.calls: list[list[str]] = []
        self.calls_sent = 0

    async def get_records(self, sobject, ids, fields, **_kw):
        self.calls.append(list(ids))
        if self.down:
            raise ServerUnavailable("HTTP 503 (gave up after 6 attempts)")
        if self.refused in ids:
            raise SalesforceError(f"malformed id {self.refused}", code="MALFORMED_ID", status=400)
        return [{"Id": i, "SystemModstamp": "2026-11-02T09:14:05.000+0000", "Name": f"Deal {i}",
                 "StageName": "Prospecting"} for i in ids]


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "s.sqlite3")
    for n, deal in enumerate(DEALS):
        m.ChangeNotification.create(notification_id=normalize_id(f"04l8W00000{n:05d}"),
                                    sobject="Opportunity", record_id=deal)
    m.ChangeNotification.create(notification_id=normalize_id("04l8W0000099999"),
                                sobject="Opportunity", record_id="0" * 3000)
    yield database
    database.close()


def _ctx(db, client) -> SyncContext:
    return SyncContext(client=client, writer=StoreWriter(db), lookbacks=Lookbacks(),
                       today=date(2026, 11, 26), fields={"Opportunity": FIELDS})


async def test_one_refused_id_is_set_aside_and_the_others_arrive(db):
    client = OrgRefusingOneId(REFUSED)
    ctx = _ctx(db, client)
    try:
        written = await fetch_notified(ctx)
    finally:
        ctx.writer.close()
    assert written == {"Opportunity": len(DEALS) - 1}
    assert {o.id for o in m.Opportunity.select()} == set(DEALS) - {REFUSED}
    assert all("0" * 20 not in "".join(call) for call in client.calls)  # never sent
    assert set_aside_counts() == {
        "not a valid Opportunity id": 1,
        "Salesforce refused it: Salesforce returned an error [MALFORMED_ID]": 1}
    assert not m.ChangeNotification.select().where(
        m.ChangeNotification.fetched_at.is_null()).exists()
    shown = render_text(StatusReport(store_path="s", store_exists=True,
                                     set_aside=set_aside_counts()))
    assert "set aside" in shown and "1 × not a valid Opportunity id" in shown
    # Set aside means not retried: the next drain asks for nothing.
    ctx = _ctx(db, client)
    try:
        before = len(client.calls)
        assert await fetch_notified(ctx) == {}
        assert len(client.calls) == before
    finally:
        ctx.writer.close()


async def test_a_failure_that_is_not_about_the_ids_keeps_them_pending(db):
    ctx = _ctx(db, OrgRefusingOneId(down=True))
    try:
        with pytest.raises(ServerUnavailable):
            await fetch_notified(ctx)
    finally:
        ctx.writer.close()
    pending = m.ChangeNotification.select().where(m.ChangeNotification.fetched_at.is_null())
    assert pending.count() == len(DEALS)  # the malformed one set aside; the rest kept
