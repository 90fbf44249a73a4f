"""The team store's parts against a real PostgreSQL: the org's writer lock, the writer's record
and its status as a team-mode TUI reads it, and the commit signal a TUI listens for."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from datetime import timedelta

import psycopg
import pytest

from smvue_tui.services.team_listen import ChangeListener
from smvue_tui.services.team_status import describe_writer, writer_status
from smvue_tui.services.team_writer import WriterLock, WriterRefused, record_sync, record_writer
from smvue_tui.store import models as m
from smvue_tui.store.backend import schema_for
from smvue_tui.store.db import open_postgres

ORG = "00D000000000001AAA"
OTHER = "00D000000000002AAA"


@pytest.fixture
def team_db(pg_url):
    db = open_postgres(pg_url, schema_for(ORG))
    yield db
    db.close()


@pytest.fixture
def locks():
    held: list[WriterLock] = []
    yield held
    for lock in held:
        lock.release()


def test_a_second_writer_for_the_org_is_refused_naming_the_first(pg_url, team_db, locks):
    first = WriterLock(pg_url, ORG, schema_for(ORG))
    locks.append(first)
    first.acquire()
    record_writer(ORG)
    record_sync(ORG, "ok")
    second = WriterLock(pg_url, ORG, schema_for(ORG))
    locks.append(second)
    with pytest.raises(WriterRefused) as refused:
        second.acquire()
    text = str(refused.value)
    assert f"org {ORG} already has a writer" in text
    assert f"on {socket.gethostname()} (pid {os.getpid()})" in text
    assert "last sync finished" in text and "stop that one first" in text
    other_org = WriterLock(pg_url, OTHER, schema_for(OTHER))  # another org: its own writer
    locks.append(other_org)
    other_org.acquire()


def test_the_lock_goes_with_its_connection(pg_url, team_db, locks):
    """A SIGKILLed serve's connection dies with it, and its lock with that: modelled here by
    ending the lock's backend from another session, as the server does for a dead client."""
    first = WriterLock(pg_url, ORG)
    locks.append(first)
    first.acquire()
    pid = first.conn.info.backend_pid
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    second = WriterLock(pg_url, ORG)
    locks.append(second)
    for _ in range(50):  # the backend exits a moment after it is told to
        try:
            second.acquire()
            break
        except WriterRefused:
            asyncio.run(asyncio.sleep(0.1))
    else:
        pytest.fail("the dead writer's lock was never released")
    assert not first.alive()


def test_writer_status_says_who_writes_and_when_it_is_gone(pg_url, team_db, locks):
    assert describe_writer(writer_status(ORG)) == (
        "team store · NO WRITER: start `smvue-tui serve` for this org", False)
    lock = WriterLock(pg_url, ORG)
    locks.append(lock)
    lock.acquire()
    record_writer(ORG)
    status = writer_status(ORG)
    assert status.holding and status.host == socket.gethostname()
    text, ok = describe_writer(status)
    assert ok and text == f"team store · serve on {socket.gethostname()} · not synced yet"
    record_sync(ORG, "failed")
    text, ok = describe_writer(writer_status(ORG))
    assert not ok and "last sync" in text and "(failed)" in text
    silent = describe_writer(writer_status(ORG), m.utcnow() + timedelta(minutes=5))
    assert silent[1] is False and "silent since" in silent[0]
    lock.release()
    for _ in range(100):  # the server ends the closed session (and its lock) a moment later
        if not writer_status(ORG).holding:
            break
        time.sleep(0.05)
    text, ok = describe_writer(writer_status(ORG))
    assert not ok and text.startswith(f"team store · NO WRITER: serve on {socket.gethostname()} "
                                      "stopped — data as of last sync")


async def _collect(pg_url: str, heard: list[frozenset[str]]) -> ChangeListener:
    listener = ChangeListener(pg_url, schema_for(ORG), heard.append, batch_seconds=0.05)
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 10)
    return listener


async def _until(condition, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_readers_hear_a_commit_with_the_objects_it_touched(pg_url, team_db):
    heard: list[frozenset[str]] = []
    listener = await _collect(pg_url, heard)
    try:
        with team_db.atomic():  # a sync page: rows of two objects and a cursor
            m.Opportunity.create(id="006000000000001AAA", name="Big deal", amount=10.0)
            m.Account.create(id="001000000000001AAA", name="Acme")
            m.SyncCursor.create(sobject="Opportunity")
            await asyncio.sleep(0.3)
            assert heard == []  # nothing is said before the commit
        await _until(lambda: heard)
        assert heard == [frozenset({"Opportunity", "Account"})]
        m.Note.create(opportunity_id="006000000000001AAA", body="call them")
        await _until(lambda: len(heard) == 2)
        assert heard[1] == frozenset({"Note"})
        with contextlib.suppress(RuntimeError), team_db.atomic():  # rolled back: never said
            m.Opportunity.update(amount=20.0).execute()
            raise RuntimeError
        await asyncio.sleep(0.3)
        assert len(heard) == 2
    finally:
        await listener.stop()


async def test_a_reader_that_lost_its_connection_reads_everything_again(pg_url, team_db):
    heard: list[frozenset[str]] = []
    listener = ChangeListener(pg_url, schema_for(ORG), heard.append, retry_max=0.2)
    listener.start()
    try:
        await asyncio.wait_for(listener.listening.wait(), 10)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                          "application_name = 'smvue-tui (team mode listener)'")
        await _until(lambda: frozenset() in heard)  # back, and told to read everything
        await asyncio.wait_for(listener.listening.wait(), 10)
        m.Account.create(id="001000000000002AAA", name="Globex")
        await _until(lambda: frozenset({"Account"}) in heard)
    finally:
        await listener.stop()


async def test_a_writer_whose_lock_went_to_another_stops(pg_url, team_db, locks):
    """serve's lock connection dropped and another serve took the org meanwhile: the first
    stops (TeamServeError, in words) rather than write beside it; a writer that merely lost
    its connection takes the lock back and beats on."""
    from smvue_tui.services.team_serve import OrgWriter, TeamServeError

    lock = WriterLock(pg_url, ORG, schema_for(ORG))
    locks.append(lock)
    lock.acquire()
    writer = OrgWriter(lock, ORG, "test")
    writer.started()
    lock.conn.close()  # dropped; nobody else wants the org: taken back on the next beat
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(writer.hold(every=0.05), 0.5)
    assert lock.alive()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (lock.conn.info.backend_pid,))
    other = WriterLock(pg_url, ORG, schema_for(ORG))
    locks.append(other)
    for _ in range(50):
        with contextlib.suppress(WriterRefused):
            other.acquire()
            break
        await asyncio.sleep(0.1)
    with pytest.raises(TeamServeError, match="lost the writer lock"):
        await asyncio.wait_for(writer.hold(every=0.05), 5)
    with pytest.raises(TeamServeError, match="lost the writer lock"):
        writer.before_sync()  # a sync due before the next heartbeat does not write either


async def test_a_stream_of_commits_wakes_the_screens_about_once_a_second(pg_url, team_db):
    """An initial sync commits page after page: the screens re-read at most once a second
    (not once a page), and the last commit is always among what they are told."""
    heard: list[frozenset[str]] = []
    listener = ChangeListener(pg_url, schema_for(ORG), heard.append, batch_seconds=0.05,
                              min_interval=1.0)
    listener.start()
    try:
        await asyncio.wait_for(listener.listening.wait(), 10)
        for n in range(20):  # a page every 60 ms for 1.2 s
            m.Account.create(id=f"001{n:015d}", name=f"Account {n}")
            await asyncio.sleep(0.06)
        m.Contact.create(id="003000000000000001", last_name="Last")
        await _until(lambda: any("Contact" in names for names in heard), 5)
        assert 2 <= len(heard) <= 4, heard
    finally:
        await listener.stop()


async def test_a_writer_beats_on_while_the_server_refuses_it_for_a_while(pg_url, team_db, locks):
    """A server restarting drops the lock's connection and refuses new ones for a moment:
    serve keeps beating (and takes the lock back once the server is there again) rather
    than die with psycopg's traceback on the first beat that cannot reconnect."""
    from smvue_tui.services.team_serve import OrgWriter

    lock = WriterLock(pg_url, ORG, schema_for(ORG))
    locks.append(lock)
    lock.acquire()
    writer = OrgWriter(lock, ORG, "test")
    writer.started()
    server, dbname = pg_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(%s)", (lock.conn.info.backend_pid,))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(writer.hold(every=0.05), 0.5)
            assert not lock.alive()
        finally:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(writer.hold(every=0.05), 0.5)
    assert lock.alive()


def test_the_writer_recomputes_the_facts_its_sync_left_for_the_readers(pg_url, team_db, locks):
    """An initial sync defers the deal facts to the next read; in a team store the readers
    may not write them, so serve recomputes them when its sync ends."""
    from smvue_tui.services.team_serve import OrgWriter

    lock = WriterLock(pg_url, ORG, schema_for(ORG))
    locks.append(lock)
    lock.acquire()
    writer = OrgWriter(lock, ORG, "test")
    writer.started()
    m.FactsStale.create(source="history")
    writer.synced("ok")
    assert not m.FactsStale.select().exists()
    assert m.WriterInfo.get_by_id(ORG).last_sync_status == "ok"
