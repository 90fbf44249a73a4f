"""The change-notification listener over real loopback HTTP: ACK only what is stored."""

from __future__ import annotations

import httpx
import pytest

from smvue_tui.salesforce.outbound import ACK_BODY
from smvue_tui.services.webhook import WebhookListener, new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.writer_thread import StoreWriter
from tests.unit.salesforce.outbound_samples import ORG_ID, envelope, notification_xml

XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@pytest.fixture
async def listener(tmp_path):
    db = open_store(tmp_path / "s.sqlite3")
    writer = StoreWriter(db)
    received: list = []
    hook = WebhookListener(writer, org_id=ORG_ID, path_token=new_path_token(),
                           on_new=received.extend)
    await hook.start()
    hook.received = received
    yield hook
    await hook.stop()
    writer.close()
    db.close()


async def _post(hook, body: bytes, *, path: str | None = None, headers=XML):
    async with httpx.AsyncClient() as client:
        return await client.post(f"http://127.0.0.1:{hook.port}{path or hook.path}",
                                 content=body, headers=headers)


async def test_acks_after_storing_and_ignores_duplicates(listener):
    body = envelope(notification_xml(1) + notification_xml(2))
    first = await _post(listener, body)
    assert first.status_code == 200 and first.content == ACK_BODY
    assert m.ChangeNotification.select().count() == 2
    assert [r.record_id for r in listener.received] == ["006XX000004A001YAC",
                                                         "006XX000004A002YAC"]
    again = await _post(listener, body)  # Salesforce redelivers: ACK, but nothing new
    assert again.content == ACK_BODY
    assert len(listener.received) == 2 and listener.stats["duplicates"] == 2


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                  b"<lolz>&lol2;</lolz>")
XXE = (b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       b"<foo>&xxe;</foo>")


@pytest.mark.parametrize("case", ["wrong org", "wrong token", "xxe", "billion laughs",
                                  "oversize", "not xml", "truncated", "json", "get"])
async def test_hostile_input_gets_no_ack_and_changes_nothing(listener, case):
    body = envelope()
    kwargs: dict = {}
    if case == "wrong org":
        body = envelope(org_id="00DXX0000009zzz2AA")
    elif case == "wrong token":
        kwargs["path"] = "/sf/outbound/guess"
    elif case == "xxe":
        body = XXE
    elif case == "billion laughs":
        body = BILLION_LAUGHS
    elif case == "oversize":
        body = envelope(notification_xml(1) * 1) + b" " * 1_100_000
    elif case == "not xml":
        body = b"hello"
    elif case == "truncated":
        body = envelope()[:300]
    elif case == "json":
        kwargs["headers"] = {"Content-Type": "application/json"}
    if case == "get":
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{listener.port}{listener.path}")
    else:
        response = await _post(listener, body, **kwargs)
    assert response.status_code >= 400
    assert ACK_BODY not in response.content
    assert m.ChangeNotification.select().count() == 0
    assert listener.received == []
    ok = await _post(listener, envelope())  # still serving
    assert ok.status_code == 200


# --- what a client can hold (issue 20, item 7) ----------------------------------------------

import asyncio  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402

from smvue_tui.services import webhook  # noqa: E402


async def _open(hook) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", hook.port)


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before closing the connection (fails if it stays open)."""
    try:
        return await asyncio.wait_for(reader.read(), seconds)
    except ConnectionResetError:  # closed with our unread bytes in its buffer: closed too
        return b""


async def test_a_body_sent_too_slowly_is_cut_off(listener, monkeypatch):
    monkeypatch.setattr(webhook, "BODY_SECONDS", 0.5)
    reader, writer = await _open(listener)
    writer.write(f"POST {listener.path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                 f"Content-Length: 5000\r\n\r\n<soapenv".encode())
    await writer.drain()
    started = time.monotonic()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
    writer.close()
    assert listener.rejected == {"body too slow": 1}
    assert (await _post(listener, envelope())).status_code == 200


async def test_connections_are_bounded_and_slow_headers_closed(listener, monkeypatch):
    monkeypatch.setattr(webhook, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(webhook, "CONNECTION_SECONDS", 3.0)
    held = [await _open(listener) for _ in range(10)]
    for _reader, writer in held:  # headers that never end
        writer.write(f"POST {listener.path} HTTP/1.1\r\nHost: x\r\n".encode())
    await asyncio.gather(*(writer.drain() for _r, writer in held))
    # Beyond the bound: closed at once. Within it: closed once held too long.
    for reader, _writer in held:
        await _closed_within(reader, 10)
    # (Exactly 6 and 4 when the ten connect within CONNECTION_SECONDS, as they do unloaded.)
    assert listener.rejected.get("too many connections", 0) >= 1
    assert sum(listener.rejected.values()) == 10
    for _reader, writer in held:
        writer.close()
    assert (await _post(listener, envelope())).status_code == 200


async def test_rejections_are_counted_but_logged_at_a_rate_limit(listener, caplog):
    caplog.set_level(logging.WARNING, logger="smvue_tui.services.webhook")
    async with httpx.AsyncClient() as client:
        for n in range(40):
            await client.post(f"http://127.0.0.1:{listener.port}/sf/outbound/guess{n}",
                              content=b"x", headers=XML)
    assert listener.rejected == {"not found": 40} and listener.stats["rejected"] == 40
    lines = [r for r in caplog.records if r.name == "smvue_tui.services.webhook"]
    assert len(lines) == 1 and "not found" in lines[0].getMessage()


async def test_messages_arriving_during_a_commit_share_the_next_one(listener):
    """Group commit: while one transaction runs, the messages that arrive wait and are stored
    together — each ACKed only after its own ids are durable, duplicates across them once."""
    import asyncio
    import threading

    release = threading.Event()
    busy = asyncio.ensure_future(listener.writer.call(release.wait))  # the writer is busy
    await asyncio.sleep(0.05)
    bodies = [envelope(notification_xml(n)) for n in (1, 2, 3)] + \
        [envelope(notification_xml(3) + notification_xml(4))]  # 3 again, in another message
    posts = [asyncio.create_task(_post(listener, body)) for body in bodies]
    await asyncio.sleep(0.3)
    assert m.ChangeNotification.select().count() == 0 and not any(p.done() for p in posts)
    release.set()
    await busy
    answers = await asyncio.gather(*posts)
    assert all(a.status_code == 200 and a.content == ACK_BODY for a in answers)
    assert m.ChangeNotification.select().count() == 4
    assert len(listener.received) == 4 and listener.stats["duplicates"] == 1
    # Four messages, at most two transactions (the first may have started alone); one per
    # message — what the listener did before — would be four.
    assert listener.commits.commits <= 2


async def test_a_busy_keep_alive_connection_outlives_the_connection_limit(listener, monkeypatch):
    """A mass update on one keep-alive connection for longer than CONNECTION_SECONDS is not cut
    mid-stream (each answered request restarts its clock); a stalled one still is."""
    monkeypatch.setattr(webhook, "CONNECTION_SECONDS", 1.5)
    listener._sweeper.cancel()  # the running sweep waits the default interval: now every 0.5 s
    listener._sweeper = asyncio.get_running_loop().create_task(listener._sweep())
    stalled_reader, stalled = await _open(listener)
    stalled.write(f"POST {listener.path} HTTP/1.1\r\nHost: x\r\n".encode())  # never ends
    loop = asyncio.get_running_loop()
    began, n = loop.time(), 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as client:
        while loop.time() - began < 4.0:  # well past the limit, on one connection
            body = envelope(notification_xml(n))
            response = await client.post(listener.local_url, content=body, headers=XML)
            assert response.status_code == 200 and response.content == ACK_BODY
            n += 1
            await asyncio.sleep(0.05)
    await _closed_within(stalled_reader, 5)
    assert listener.rejected == {"connection held too long": 1}
    stalled.close()
