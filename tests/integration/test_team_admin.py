"""docs/team-store.md followed on a real PostgreSQL: its roles (run as written), `serve` syncing
as the least-privileged writer role, `store grants` for the managers' role, a manager doing a
manager's work and refused a writer's, and `store check|migrate` around an upgrade."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.services import team_admin
from smvue_tui.services.team_mode import TeamModeError, open_team_services
from smvue_tui.store import deals as dl
from smvue_tui.store import field_mapping as fm
from smvue_tui.store import models as m
from smvue_tui.store import pipeline as pl
from smvue_tui.store import team
from smvue_tui.store.backend import schema_for
from smvue_tui.store.db import SCHEMA_VERSION, open_postgres
from smvue_tui.store.identity import set_manager
from smvue_tui.store.postgres import VERSION_TABLE
from smvue_tui.store.team_scope import my_member
from tests.integration.team_serve_support import Serve, save_login
from tests.tui.test_team_mode import manager_services

ROOT = Path(__file__).resolve().parents[2]


def docs_statements(dbname: str) -> list[str]:
    """The guide's database-and-roles block, for this test's database (made already)."""
    text = (ROOT / "docs" / "team-store.md").read_text()
    block = next(b for b in text.split("```sql")[1:]
                 if "-- smvue: the database and its roles" in b).split("```")[0]
    lines = [line for line in block.splitlines() if not line.strip().startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
    return [s.replace("DATABASE smvue", f'DATABASE "{dbname}"') for s in statements
            if not s.startswith("CREATE DATABASE")]


def as_role(url: str, role: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{role}@", 1)


def run_the_guides_sql(pg_url: str) -> None:
    """The guide's statements for this test's database. Roles belong to the whole server (one
    per test session), so one another test made already is left as it is."""
    with psycopg.connect(pg_url, autocommit=True) as admin:
        roles = {r[0] for r in admin.execute("SELECT rolname FROM pg_roles")}
        for statement in docs_statements(pg_url.rsplit("/", 1)[1]):
            if statement.startswith("CREATE ROLE") and statement.split()[2] in roles:
                continue
            admin.execute(statement)


def test_the_guide_gives_each_role_what_it_needs_and_no_more(
        demo, tmp_path, pg_url, serves, monkeypatch, capsys):
    monkeypatch.delenv("SMVUE_STORE_URL", raising=False)
    run_the_guides_sql(pg_url)
    serve_url, ann_url = as_role(pg_url, "smvue_serve"), as_role(pg_url, "ann")
    home = tmp_path / "server"
    save_login(demo, home)
    serve = Serve(home, serve_url)  # the writer with the guide's rights only
    serves.append(serve)
    serve.wait_for("sync: ok")
    schema = schema_for(demo.org.org_id)

    monkeypatch.setenv("SMVUE_STORE_URL", serve_url)
    assert main(["store", "grants", "smvue_managers"]) == 0
    grants = capsys.readouterr().out
    with psycopg.connect(serve_url, autocommit=True) as owner:
        owner.execute(grants)
    monkeypatch.delenv("SMVUE_STORE_URL")

    ann = manager_services(tmp_path / "ann", ann_url, "ann@acme.example")
    try:
        deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
        assert pl.summarize(pl.DealFilter()).totals  # reads the pipeline
        dl.add_note(deal.id, "Call the CFO")  # writes SMVue's own shared rows
        pl.set_stage_override(deal.stage_name, 42)
        assert dl.notes(deal.id)[0].author == "ann@acme.example"
        with pytest.raises(Exception, match="permission denied"):  # never the org's records
            m.Opportunity.update(amount=1).where(m.Opportunity.id == deal.id).execute()
        with pytest.raises(Exception, match="permission denied"):  # nor the writer's state
            m.SyncCursor.delete().execute()
    finally:
        set_manager("")
        ann.db.close()
    with psycopg.connect(ann_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f'CREATE SCHEMA "{schema}_x"')

    monkeypatch.setenv("SMVUE_STORE_URL", ann_url)
    assert main(["store", "check"]) == 0
    out = capsys.readouterr().out
    assert f"ok       {schema} (org {demo.org.org_id}): schema v{SCHEMA_VERSION}" in out
    assert "serve on " in out and "last sync" in out

    with psycopg.connect(serve_url, autocommit=True) as owner:  # as an older version left it
        owner.execute(f'UPDATE "{schema}"."{VERSION_TABLE}" SET "version" = %s',
                      (SCHEMA_VERSION - 1,))
    with pytest.raises(TeamModeError, match="the admin runs `smvue-tui store migrate`"):
        open_team_services(app_paths({"SMVUE_HOME": str(tmp_path / "ann")}))
    assert main(["store", "check"]) == 1
    assert "MIGRATE  " in capsys.readouterr().out
    monkeypatch.setenv("SMVUE_STORE_URL", serve_url)
    assert main(["store", "migrate"]) == 0
    assert f"{schema}: migrated v{SCHEMA_VERSION - 1} → v{SCHEMA_VERSION}" in \
        capsys.readouterr().out
    assert main(["store", "check"]) == 0


ORG = "00D8W0000000001QAA"
ANN, BO, CY = "0058W0000000001QAA", "0058W0000000002QAA", "0058W0000000003QAA"
DEAL = "0068W0000000001QAA"


def test_every_write_a_managers_tui_makes_is_granted(pg_url, monkeypatch):
    """Each write the screens of a manager's TUI make (Deal: notes, action items; Team: choose,
    role, manager, import, add by hand; Pipelines: stage override, default pipeline; the
    manager's own member row), run under the guide's managers' role with `store grants`' rights
    — none may fail on a permission; field mapping (the writer's cursors) is refused in words."""
    monkeypatch.delenv("SMVUE_STORE_URL", raising=False)
    run_the_guides_sql(pg_url)
    serve_url, ann_url = as_role(pg_url, "smvue_serve"), as_role(pg_url, "ann")
    schema = schema_for(ORG)
    db = open_postgres(serve_url, schema)  # what serve makes and writes
    try:
        for uid, name in ((ANN, "Ann Lee"), (BO, "Bo Chen"), (CY, "Cy Park")):
            first = name.split()[0].lower()
            m.SfUser.create(id=uid, name=name, username=f"{first}@acme.example",
                            email=f"{first}@acme.example", is_active=True)
        for n, owner in enumerate((BO, CY), 1):
            m.Opportunity.create(id=f"0068W000000000{n}QAA", name=f"Deal {n}", owner_id=owner,
                                 stage_name="Prospecting", amount=100.0, is_closed=False)
        m.CustomFieldMapping.create(api_name="Seats__c", label="Seats", type="double",
                                    enabled=True, backfilled=False)
        m.ObjectPlan.create(sobject="Opportunity", available=True,
                            fields='["Id", "Seats__c"]')
        m.SyncCursor.create(sobject="Opportunity", initial_done=True)
    finally:
        db.close()
    with psycopg.connect(serve_url, autocommit=True) as owner:
        owner.execute(team_admin.grant_sql(schema, "smvue_managers"))

    db = open_postgres(ann_url, schema)  # ann's TUI, as team mode opens it
    set_manager("ann@acme.example")
    try:
        me = my_member()
        assert me is not None and me.sf_user_id == ANN
        team.set_coached(BO, True)
        team.toggle_coached(BO)
        team.toggle_coached(BO)
        team.set_role(BO, "SE")
        team.cycle_manager(BO)
        assert team.import_from_crm() == 1  # Cy, who owns a deal
        team.add_member("Dee Hand", "dee@acme.example")
        note = dl.add_note(DEAL, "Call the CFO")
        dl.update_note(note.id, "Call the CFO on Monday")
        dl.delete_note(note.id)
        item = dl.add_action_item(DEAL, "Send the quote", "2026-12-24")
        dl.set_action_item_done(item.id, True)
        pl.set_stage_override("Prospecting", 42)
        pl.set_stage_override("Prospecting", None)
        pl.set_default_pipeline("0128W0000000001QAA")
        assert pl.summarize(pl.DealFilter()).totals
        # The Field Mapping screen reads (and would mark backfilled) on every load: no write
        # of the writer's rows from a manager's TUI; mapping is refused in words.
        assert fm.mark_backfilled() == 0
        assert [r.api_name for r in fm.field_rows(None)] == ["Seats__c"]
        with pytest.raises(ValueError, match="team store"):
            fm.set_enabled("Region__c", "Region", "string", True)
        assert m.SyncCursor.get_by_id("Opportunity").initial_done
    finally:
        set_manager("")
        db.close()
