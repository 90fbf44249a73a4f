"""Outbound message delivery to a real loopback listener: content, retries, batching, drops."""

from __future__ import annotations

import asyncio
import random
import socket

import pytest

from smvue_demo_org.ids import make_id, to_18
from tests.unit.demo_org.metadata_fakes import make_org
from tests.unit.demo_org.outbound_fakes import Listener, deploy, dispatching, listening, parse

FIELDS = ("Id", "StageName", "Amount", "CloseDate", "LastModifiedDate", "Is_Strategic__c",
          "NextStep", "Name", "Seats__c")


def opp(n: int) -> str:
    return make_id("006", n)


async def test_retries_until_the_exact_ack_and_sends_the_record_as_it_is_then() -> None:
    org = make_org()
    org.base_url = "https://acme.demo.example"
    listener = Listener(script=["500", "nack", "garbage", "wrong-ns", "fault"])

    def change_between_attempts(call: int) -> None:
        if call == 1:  # the record changes after the first attempt: later ones carry it
            org.store.rows[("Opportunity", opp(1))]["Amount"] = 51000.0

    listener.on_call = change_between_attempts
    async with listening(listener) as url, dispatching(org, time_scale=10_000) as disp:
        om = deploy(org, url, fields=FIELDS)
        org.store.write("Opportunity", opp(1), "create", Name="Acme - 200 seats",
                        StageName="Negotiation/Review", Amount=48000.0,
                        CloseDate="2026-12-15", Is_Strategic__c=1, NextStep=None,
                        Seats__c=120, CreatedDate="2026-11-01T08:00:00.000+0000")
        await disp.drain(10)
        assert disp.stats | {"waiting": 0} == {
            "queued": 1, "attempts": 6, "delivered": 1, "failed_attempts": 5, "dropped": 0,
            "duplicates": 0, "messages_delivered": 1, "waiting": 0}

    assert len(listener.calls) == 6
    headers, _ = listener.calls[0]
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    assert headers["SOAPAction"] == '""'
    first, last = parse(listener.calls[0][1]), parse(listener.calls[-1][1])
    org18 = to_18(org.org_id)
    assert (last.org_id, last.action_id, last.session_nil) == (org18, om.id, True)
    assert last.enterprise_url == f"https://acme.demo.example/services/Soap/c/66.0/{org18[:15]}"
    assert last.partner_url == f"https://acme.demo.example/services/Soap/u/66.0/{org18[:15]}"
    [(note_id, xsi_type, pairs)] = last.notifications
    assert note_id.startswith("04l") and len(note_id) == 18
    assert {parse(body).notifications[0][0] for _, body in listener.calls} == {note_id}
    assert xsi_type == "sf:Opportunity"
    assert [name for name, _ in pairs] == ["Id", "Amount", "CloseDate", "Is_Strategic__c",
                                           "LastModifiedDate", "Name", "Seats__c",
                                           "StageName"]  # NextStep is null: left out
    values = dict(pairs)
    assert values["Id"] == opp(1) and values["Is_Strategic__c"] == "true"
    assert values["Seats__c"] == "120.0" and values["CloseDate"] == "2026-12-15"
    assert values["LastModifiedDate"].endswith(".000Z")
    assert dict(first.notifications[0][2])["Amount"] == "48000.0"
    assert values["Amount"] == "51000.0"


async def test_batches_hold_at_most_100_notifications_with_unique_ids() -> None:
    org = make_org()
    listener = Listener()
    async with listening(listener) as url, dispatching(org, time_scale=1000) as disp:
        deploy(org, url)
        for n in range(1, 251):  # one burst, as a bulk update commits it
            org.store.write("Opportunity", opp(n), "update", StageName="Closed Won")
        await disp.drain(10)
        assert disp.stats["delivered"] == 250 and disp.stats["messages_delivered"] == 3
    sent = [parse(body) for _, body in listener.calls]
    assert sorted(len(s.notifications) for s in sent) == [50, 100, 100]
    ids = [note[0] for s in sent for note in s.notifications]
    assert len(set(ids)) == 250 and all(i.startswith("04l") for i in ids)
    records = {dict(note[2])["Id"] for s in sent for note in s.notifications}
    assert records == {opp(n) for n in range(1, 251)}


async def test_duplicate_delivery_resends_the_same_notifications() -> None:
    org = make_org()
    listener = Listener()
    async with listening(listener) as url, dispatching(org, duplicate_rate=1.0,
                                                       rng=random.Random(1)) as disp:
        deploy(org, url)
        for n in (1, 2, 3):
            org.store.write("Opportunity", opp(n), "update", StageName="Pilot")
        await disp.drain(10)  # the duplicate POST is made before the message counts as done
        assert disp.stats["duplicates"] == 1 and disp.stats["delivered"] == 3
    first, second = (parse(body) for _, body in listener.calls)
    assert [n[0] for n in first.notifications] == [n[0] for n in second.notifications]


async def test_shuffle_delivers_out_of_order() -> None:
    org = make_org()
    listener = Listener()
    async with listening(listener) as url, dispatching(org, shuffle=True,
                                                       rng=random.Random(7)) as disp:
        deploy(org, url)
        for n in range(1, 31):
            org.store.write("Opportunity", opp(n), "update", StageName="Pilot")
        await disp.drain(10)
    [(_, body)] = listener.calls
    order = [dict(note[2])["Id"] for note in parse(body).notifications]
    assert sorted(order) == [opp(n) for n in range(1, 31)]
    assert order != sorted(order)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("how", ["500", "refused"])
async def test_dropped_after_24_simulated_hours(how: str) -> None:
    org = make_org()
    listener = Listener(always="500")
    async with listening(listener) as url, dispatching(org, time_scale=86_400) as disp:
        endpoint = url if how == "500" else f"http://127.0.0.1:{_closed_port()}/sf/hook"
        deploy(org, endpoint)
        org.store.write("Opportunity", opp(1), "update", StageName="Pilot")
        await disp.drain(30)
        stats = disp.stats
    assert (stats["dropped"], stats["delivered"], stats["waiting"]) == (1, 0, 0)
    # 15 s doubling to a 2 h cap fits 20 attempts into 24 h; a slow machine spends more
    # simulated time per POST and fits fewer
    assert 3 <= stats["attempts"] <= 20
    assert stats["failed_attempts"] == stats["attempts"]
    if how == "500":
        assert len(listener.calls) == stats["attempts"]


async def test_a_listener_slower_than_the_timeout_is_retried() -> None:
    org = make_org()
    listener = Listener(script=["slow"])
    async with listening(listener) as url, dispatching(org, time_scale=10_000,
                                                       http_timeout=0.5) as disp:
        deploy(org, url)
        org.store.write("Opportunity", opp(1), "update", StageName="Pilot")
        await disp.drain(10)
        listener.release.set()
        assert disp.stats["attempts"] == 2 and disp.stats["delivered"] == 1


async def test_a_record_deleted_before_sending_carries_only_its_id() -> None:
    org = make_org()
    listener = Listener()
    async with listening(listener) as url, dispatching(org) as disp:
        deploy(org, url, fields=("Id", "StageName", "Name"))
        org.store.write("Opportunity", opp(1), "update", StageName="Pilot", Name="Gone")
        org.store.rows[("Opportunity", opp(1))]["IsDeleted"] = 1  # before the sender runs
        await disp.drain(10)
    [(_, body)] = listener.calls
    assert parse(body).notifications[0][2] == [("Id", opp(1))]


async def test_changes_reported_from_another_thread_are_delivered() -> None:
    org = make_org()
    listener = Listener()
    async with listening(listener) as url, dispatching(org) as disp:
        deploy(org, url)
        await asyncio.to_thread(org.store.write, "Opportunity", opp(1), "update",
                                StageName="Pilot")
        for _ in range(500):
            if disp.stats["queued"]:
                break
            await asyncio.sleep(0.01)
        await disp.drain(10)
        assert disp.stats["delivered"] == 1
