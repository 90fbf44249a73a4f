"""One store per org, as a user meets it on the command line: two demo orgs (a Production and a
Sandbox of another org), logged in to in turn with `smvue-tui sync` between; a store holding
another org is refused by sync, serve and the listener; `orgs` and `forget`."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from smvue_demo_org.profile import OrgProfile
from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.webhook import WebhookListener, new_path_token
from smvue_tui.store import deals
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.store.org_stores import StoreOrgMismatch
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.runner import run_once
from tests.integration.sync_support import client_for, differences


def log_in(running) -> None:
    """What `smvue-tui login` stores: the tokens of ``running``'s org."""
    token = running.web_login()
    TokenStore().save(credentials_from_token(
        token, environment=resolve_environment(running.base_url),
        client_id=running.org.client_id))


def sync(capsys) -> dict:
    code = main(["sync", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def store_of(running):
    return open_store(app_paths().for_org(running.org.org_id).database)


def org_differences(running) -> list[str]:
    conn = running.org.store.reader()
    try:
        return differences(conn, Lookbacks(), datetime.now(UTC).date())
    finally:
        conn.close()


@pytest.fixture
def two_orgs(make_org):
    """Org A (Production, seed 1) and org B (a Sandbox of another org, seed 2)."""
    return make_org(size=60), make_org(size=40, seed=2, profile=OrgProfile(sandbox=True))


def test_switching_orgs_never_mixes_their_data(two_orgs, capsys):
    a, b = two_orgs
    log_in(a)
    assert sync(capsys)["kind"] == "initial"
    db = store_of(a)
    deal = m.Opportunity.select().first()
    note = deals.add_note(deal.id, "call the CFO before Friday")
    item = deals.add_action_item(deal.id, "send the revised quote", "2026-12-31")
    member = m.TeamMember.create(name="Ann Example (by hand)")
    db.close()

    log_in(b)
    report = sync(capsys)
    assert report["kind"] == "initial" and report["status"] == "ok"  # B never synced: initial
    db = store_of(b)
    try:
        assert org_differences(b) == []  # B's store equals org B, object by object
        assert [o.id for o in m.Organization.select()] == [b.org.org_id]
        assert [c.org_id for c in m.Connection.select()] == [b.org.org_id]
        assert m.Note.select().count() == 0 and m.ActionItem.select().count() == 0
        assert not m.TeamMember.select().where(m.TeamMember.name == member.name).exists()
        assert [r.kind for r in m.SyncRun.select()] == ["initial"]
    finally:
        db.close()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["org"]["id"] == b.org.org_id and status["org"]["environment"] == "Sandbox"
    assert status["store_path"] == str(app_paths().for_org(b.org.org_id).database)

    log_in(a)
    again = sync(capsys)
    assert again["kind"] == "incremental" and again["status"] == "ok"  # not an initial
    assert again["api_calls"] <= 4
    db = store_of(a)
    try:
        assert org_differences(a) == []
        assert [n.body for n in deals.notes(deal.id)] == [note.body]
        assert [(i.text, i.due_date) for i in deals.action_items(deal.id)] == \
            [(item.text, item.due_date)]
        assert m.TeamMember.get(m.TeamMember.name == member.name)
        assert [o.id for o in m.Organization.select()] == [a.org.org_id]
        assert [r.kind for r in m.SyncRun.select().order_by(m.SyncRun.id)] == \
            ["initial", "incremental"]
    finally:
        db.close()
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert f"· {a.org.org_id} · Production" in text and "[SANDBOX]" not in text


def test_orgs_lists_each_store_and_forget_deletes_one(two_orgs, capsys):
    a, b = two_orgs
    for running in (a, b):
        log_in(running)
        sync(capsys)
    assert main(["orgs", "--json"]) == 0
    rows = {r["org_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {a.org.org_id, b.org.org_id}
    assert rows[b.org.org_id]["environment"] == "Sandbox" and rows[b.org.org_id]["current"]
    assert rows[a.org.org_id]["environment"] == "Production"
    assert rows[a.org.org_id]["size_bytes"] > 0
    assert rows[a.org.org_id]["last_sync"].endswith("initial ok")
    assert main(["orgs"]) == 0
    assert "[SANDBOX]" in capsys.readouterr().out

    # The logged-in org's store is refused; another is deleted only after a yes.
    assert main(["forget", b.org.org_id, "--yes"]) == 1
    assert "logout" in capsys.readouterr().err
    from smvue_tui.cli.orgs import forget

    paths = app_paths()
    assert forget(paths, a.org.org_id, assume_yes=False, out=sys.stdout, err=sys.stderr,
                  ask=lambda _q: "no") == 1
    assert paths.for_org(a.org.org_id).database.exists()
    assert forget(paths, a.org.org_id.lower(), assume_yes=False, out=sys.stdout,
                  err=sys.stderr, ask=lambda _q: "yes") == 0
    assert not paths.for_org(a.org.org_id).store_dir.exists()
    assert paths.for_org(b.org.org_id).database.exists()
    assert main(["forget", a.org.org_id, "--yes"]) == 1  # gone already: said so
    assert "no store for org" in capsys.readouterr().err


def test_forget_refuses_a_store_in_use_and_names_automation_left_in_the_org(two_orgs, capsys):
    a, b = two_orgs
    log_in(a)
    sync(capsys)
    log_in(b)
    paths = app_paths()
    store = paths.for_org(a.org.org_id).database
    conn = sqlite3.connect(store)
    conn.execute('INSERT INTO deployed_automation (full_name, type, org_id, component, '
                 "deployed_at) VALUES ('Opportunity.SMVue_Notify', 'WorkflowOutboundMessage', "
                 "?, '{}', '2026-12-01T00:00:00')",
                 (a.org.org_id,))
    conn.commit()
    conn.close()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    marker = store.parent / f".{store.name}.open-{holder.pid}"  # what an open store leaves
    try:
        marker.touch()
        assert main(["forget", a.org.org_id, "--yes"]) == 1
        assert "open" in capsys.readouterr().err and store.exists()
    finally:
        holder.kill()
        holder.wait()
    assert main(["forget", a.org.org_id, "--yes"]) == 0  # its holder gone: forgotten
    err = capsys.readouterr().err
    assert "WorkflowOutboundMessage Opportunity.SMVue_Notify" in err and "Disconnect" in err
    assert not store.exists()


@pytest.fixture
def a_store_in_bs_folder(two_orgs, capsys):
    """Org A synced, then its store copied into org B's folder; logged in to B."""
    a, b = two_orgs
    log_in(a)
    sync(capsys)
    paths = app_paths()
    target = paths.for_org(b.org.org_id).database
    target.parent.mkdir(parents=True)
    source = sqlite3.connect(paths.for_org(a.org.org_id).database)
    copy = sqlite3.connect(target)
    source.backup(copy)  # a consistent copy, write-ahead log included
    copy.close()
    source.close()
    log_in(b)
    return a, b, target


def _names_both(text: str, a, b) -> None:
    assert a.org.org_id in text and b.org.org_id in text, text
    assert "nothing was written" in text


def test_sync_refuses_a_store_holding_another_org(a_store_in_bs_folder, capsys):
    a, b, store = a_store_in_bs_folder
    before = store.read_bytes()
    assert main(["sync"]) == 1
    _names_both(capsys.readouterr().err, a, b)
    assert store.read_bytes() == before
    assert main(["status"]) == 0
    assert "Store: refused" in capsys.readouterr().out


def test_serve_refuses_a_store_holding_another_org(a_store_in_bs_folder, smvue_home):
    a, b, store = a_store_in_bs_folder
    before = store.read_bytes()
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "serve"], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "SMVUE_HOME": str(smvue_home)})
    assert done.returncode == 1
    _names_both(done.stderr, a, b)
    assert "Traceback" not in done.stderr
    assert store.read_bytes() == before


def test_the_sync_runner_and_the_listener_refuse_another_orgs_store(two_orgs, capsys):
    """Below the store-opening check: a store opened by hand for the wrong org."""
    a, b = two_orgs
    log_in(a)
    sync(capsys)
    db = store_of(a)
    runs = m.SyncRun.select().count()

    async def attempt() -> None:
        report = await run_once(client_for(b), db, "incremental")
        assert report.status == "failed"
        error = report.errors[0]
        assert error["code"] == "WRONG_ORG_STORE"
        _names_both(error["message"], a, b)
        writer = StoreWriter(db)
        listener = WebhookListener(writer, org_id=b.org.org_id, path_token=new_path_token(),
                                   on_new=lambda _new: None)
        try:
            with pytest.raises(StoreOrgMismatch) as refused:
                await listener.start()
        finally:
            await listener.stop()
            writer.close()
        _names_both(str(refused.value), a, b)
        assert listener._runner is None  # never listened

    try:
        asyncio.run(attempt())
        assert m.SyncRun.select().count() == runs  # nothing written
    finally:
        db.close()


def test_the_sync_child_refuses_a_store_holding_another_org(a_store_in_bs_folder):
    """The TUI's sync process opens the org store the app has open, with the same check."""
    from smvue_tui.services.sync_child import ChildSync

    a, b, store = a_store_in_bs_folder
    before = store.read_bytes()
    report = asyncio.run(ChildSync(app_paths().for_org(b.org.org_id)).run("incremental"))
    assert report.status == "failed" and report.errors[0]["code"] == "WRONG_ORG_STORE"
    _names_both(report.errors[0]["message"], a, b)
    assert store.read_bytes() == before
