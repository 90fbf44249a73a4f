"""Upgrade in place: the one ``smvue.sqlite3`` of earlier versions becomes the store of the org
its Organization row names — once, with nothing lost — and a store that cannot be given to one
org is left where it is and listed."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from smvue_demo_org.profile import OrgProfile
from smvue_tui.cli.main import main
from smvue_tui.cli.sync import record_connection
from smvue_tui.config import app_paths
from smvue_tui.store import deals
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.sync.runner import run_once
from smvue_tui.sync.status import save_usage
from tests.integration.sync_support import client_for
from tests.integration.test_org_stores import log_in, org_differences, sync


def legacy_store(running) -> dict:
    """What today's code leaves: a real sync into ``data_dir/smvue.sqlite3`` (the engine and
    runner write there unchanged), the Connection row, the manager's own data, the usage file."""
    paths = app_paths()
    db = open_store(paths.unassigned_database)
    client = client_for(running)
    record_connection(client.session.credentials)
    report = asyncio.run(run_once(client, db, "initial",
                                  on_usage=lambda usage: save_usage(paths, usage)))
    assert report.status == "ok", report.errors
    deal = m.Opportunity.select().order_by(m.Opportunity.id).first()
    kept = {
        "deal": deal.id,
        "note": deals.add_note(deal.id, "champion left; find a new one").body,
        "item": deals.add_action_item(deal.id, "book the exec sponsor call").text,
        "member": m.TeamMember.create(name="Hand Added").name,
        "override": m.StageOverride.create(stage_name="Negotiation", probability=55).stage_name,
        "rows": {model._meta.table_name: model.select().count() for model in m.ALL_MODELS},
    }
    db.close()
    assert (paths.data_dir / "api-usage.json").exists()
    return kept


def test_the_old_store_is_adopted_by_its_org_once_with_nothing_lost(make_org, capsys):
    running = make_org(size=60)
    kept = legacy_store(running)
    paths = app_paths()
    org_paths = paths.for_org(running.org.org_id)
    assert not org_paths.database.exists()

    log_in(running)
    report = sync(capsys)
    assert report["kind"] == "incremental" and report["status"] == "ok"  # cursors came along
    assert not paths.unassigned_database.exists()  # moved, not copied
    assert not (paths.data_dir / "api-usage.json").exists()
    assert (org_paths.store_dir / "api-usage.json").exists()
    db = open_store(org_paths.database)
    try:
        rows = {model._meta.table_name: model.select().count() for model in m.ALL_MODELS}
        assert rows["sync_run"] == kept["rows"]["sync_run"] + 1
        assert {k: v for k, v in rows.items() if k != "sync_run"} == \
            {k: v for k, v in kept["rows"].items() if k != "sync_run"}
        assert [n.body for n in deals.notes(kept["deal"])] == [kept["note"]]
        assert [i.text for i in deals.action_items(kept["deal"])] == [kept["item"]]
        assert m.TeamMember.get(m.TeamMember.name == kept["member"])
        assert m.StageOverride.get(m.StageOverride.stage_name == kept["override"])
        assert org_differences(running) == []
    finally:
        db.close()

    # Once: a new (empty) store at the old place — a TUI started before any login — stays.
    open_store(paths.unassigned_database).close()
    assert sync(capsys)["kind"] == "incremental"
    assert paths.unassigned_database.exists() and org_paths.database.exists()


def dump(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_store_of_two_orgs_is_left_in_place_and_listed(make_org, capsys):
    """The bug this issue fixes could leave two orgs in the one store: no org gets it."""
    a = make_org(size=40)
    b = make_org(size=40, seed=2, profile=OrgProfile(sandbox=True))
    legacy_store(a)
    paths = app_paths()
    conn = sqlite3.connect(paths.unassigned_database)
    conn.execute('INSERT INTO organization ("Id", "Name", "IsSandbox") VALUES (?, ?, 1)',
                 (b.org.org_id, "Other org"))
    conn.commit()
    conn.close()
    before = dump(paths.unassigned_database)

    log_in(b)
    assert sync(capsys)["kind"] == "initial"  # B starts its own store
    assert dump(paths.unassigned_database) == before
    assert main(["orgs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["org_id"] for r in rows if not r["adopted"]] == \
        [f"{a.org.org_id}, {b.org.org_id}"]
    assert {r["org_id"] for r in rows if r["adopted"]} == {b.org.org_id}
