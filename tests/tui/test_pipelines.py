"""Pipelines screen on a store synced from a demo org: tabs, filters, search, sort, the
probability override (Salesforce untouched), the default pipeline, team focus and refresh."""

from __future__ import annotations

from contextlib import suppress

from textual.worker import WorkerCancelled, WorkerFailed

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store import models as m
from smvue_tui.store import pipeline as pl
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.pipelines import PipelinesScreen
from smvue_tui.tui.widgets.paged_table import PagedTable
from tests.unit.store.pipeline_fixtures import store as store  # the hand-built store fixture

SIZE = (130, 40)


async def settle(app, pilot, rounds: int = 3) -> None:
    """Let every store worker finish and its messages land (no sleeps on timing)."""
    for _ in range(rounds):
        with suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def sql_count(where: str, *params) -> int:
    db = m.Opportunity._meta.database
    return db.execute_sql(f"SELECT COUNT(*) FROM opportunity WHERE {where}", params).fetchone()[0]


def parts(app) -> tuple[PipelinesScreen, PagedTable]:
    screen = app.screen
    assert isinstance(screen, PipelinesScreen)
    return screen, screen.query_one("#deals", PagedTable)


async def test_opens_on_default_pipeline_then_switches_tabs(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, table = parts(app)
        names = [p.name for p in screen.pipelines]
        assert names == sorted(r.name for r in m.RecordType.select())  # one tab per type
        first = m.RecordType.select().order_by(m.RecordType.name).first()
        assert screen.filter.pipeline == first.id and screen.filter.status == "open"
        expected = sql_count("RecordTypeId = ? AND IsClosed = 0", first.id)
        assert table.row_count == expected
        text = screen_text(app)
        assert "Map your team (t) to focus on your reps" in text
        assert f"{expected:,} deals" in text
        assert "directional, not board-grade" in text
        top = table.row_at(0)
        earliest = (m.Opportunity.select().where((m.Opportunity.record_type_id == first.id)
                                                 & (m.Opportunity.is_closed == False))  # noqa: E712
                    .order_by(m.Opportunity.close_date, m.Opportunity.id).first())
        assert top is not None and top[-1] == earliest.id
        assert earliest.name[:20] in text
        await pilot.press("right_square_bracket")  # the next pipeline tab
        await settle(app, pilot)
        second = screen.pipelines[1]
        assert screen.filter.pipeline == second.key
        assert table.row_count == sql_count("RecordTypeId = ? AND IsClosed = 0", second.key)
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert screen.filter.pipeline == screen.pipelines[0].key


async def test_status_rep_and_period_filters(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, table = parts(app)
        rt = screen.filter.pipeline
        await pilot.press("o")  # open → won
        await settle(app, pilot)
        assert screen.filter.status == "won"
        assert table.row_count == sql_count("RecordTypeId = ? AND IsClosed = 1 AND IsWon = 1",
                                            rt)
        await pilot.press("o", "o")  # → lost → all
        await settle(app, pilot)
        assert table.row_count == sql_count("RecordTypeId = ?", rt)
        await pilot.press("r")
        await settle(app, pilot)
        await pilot.press("down", "enter")  # the first rep after "All reps"
        await settle(app, pilot)
        rep = screen.filter.rep
        assert rep is not None and screen.rep_name in screen_text(app)
        assert table.row_count == sql_count("RecordTypeId = ? AND OwnerId = ?", rt, rep)
        assert {table.row_at(i)[6] for i in range(table.row_count)} == {screen.rep_name}
        await pilot.press("c")
        await settle(app, pilot)
        await pilot.press("end", "enter")  # custom…
        await settle(app, pilot)
        await pilot.press(*"2020-01-01", "enter", *"2099", "enter")
        await settle(app, pilot)
        assert "dates look like 2026-12-31" in screen_text(app)  # a clear error, no traceback
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"2099-12-31", "enter")
        await settle(app, pilot)
        assert str(screen.filter.close_to) == "2099-12-31" and screen.period == "custom"
        assert table.row_count == sql_count("RecordTypeId = ? AND OwnerId = ?", rt, rep)


async def test_incremental_search_and_sort(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, table = parts(app)
        rt = screen.filter.pipeline
        await pilot.press("slash", *"inbound")
        await settle(app, pilot)
        assert screen.filter.search == "inbound"
        expected = sql_count("RecordTypeId = ? AND IsClosed = 0 AND Name LIKE '%inbound%'", rt)
        assert 0 < table.row_count == expected
        await pilot.press("escape")  # clears the search
        await settle(app, pilot)
        assert screen.filter.search == ""
        assert table.row_count == sql_count("RecordTypeId = ? AND IsClosed = 0", rt)
        await pilot.press("greater_than_sign")  # close date → owner
        await settle(app, pilot)
        assert table.sort == ("owner", False)
        owners = [table.row_at(i)[6] for i in range(min(table.row_count, 30))]
        assert owners == sorted(owners)
        await pilot.press("v")
        await settle(app, pilot)
        owners = [table.row_at(i)[6] for i in range(min(table.row_count, 30))]
        assert table.sort == ("owner", True) and owners == sorted(owners, reverse=True)
        assert "Owner ▼" in screen_text(app)


async def test_probability_override_changes_risk_adjusted_and_never_touches_salesforce(
        synced_services):
    factory_calls = []
    real_factory = synced_services.client_factory
    synced_services.client_factory = lambda: factory_calls.append(1) or real_factory()
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, _ = parts(app)
        before = next(g for g in screen.summary.by_stage if g.key == "Prospecting")
        assert before.probability == 10.0
        assert before.risk_adjusted == before.amount * 0.10
        await pilot.press("e")
        await settle(app, pilot)
        await pilot.press("enter")  # Prospecting: the first stage
        await settle(app, pilot)
        await pilot.press(*"150", "enter")
        await settle(app, pilot)
        assert "from 0 to 100" in screen_text(app)
        await pilot.press("backspace", "backspace", "backspace", *"35", "enter")
        await settle(app, pilot)
        assert m.StageOverride.get(m.StageOverride.stage_name == "Prospecting").probability == 35.0
        after = next(g for g in screen.summary.by_stage if g.key == "Prospecting")
        assert after.probability_source == "override"
        assert after.risk_adjusted == before.amount * 0.35
        assert "35%*" in screen_text(app)
    assert factory_calls == []  # no Salesforce client was even built
    running = synced_services.running_org
    with running.api() as api:
        rows = api.get("/query", params={"q": "SELECT DefaultProbability FROM OpportunityStage "
                                              "WHERE MasterLabel = 'Prospecting'"}).json()
    assert rows["records"][0]["DefaultProbability"] == 10.0


async def test_default_pipeline_is_remembered(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, _ = parts(app)
        await pilot.press("right_square_bracket", "d")
        await settle(app, pilot)
        chosen = screen.pipelines[1].key
        assert screen.filter.pipeline == chosen
        assert [p.key for p in screen.pipelines if p.is_default] == [chosen]
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, _ = parts(app)
        assert screen.filter.pipeline == chosen
        assert "★" in screen_text(app)


async def test_team_mapping_focuses_on_reps_and_refresh_keeps_the_cursor(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, table = parts(app)
        await pilot.press("o", "o", "o")  # all statuses: plenty of rows
        await settle(app, pilot)
        await pilot.press("down", "down", "down")
        assert table.cursor_row == 3
        rt = screen.filter.pipeline
        owners = [r[0] for r in m.Opportunity._meta.database.execute_sql(
            "SELECT OwnerId FROM opportunity WHERE RecordTypeId = ? GROUP BY OwnerId "
            "ORDER BY COUNT(*) DESC LIMIT 2", (rt,))]
        for uid in owners:
            m.TeamMember.create(sf_user_id=uid, name=uid, coached=True)
        app.post_message(StoreChanged(frozenset({"TeamMember"})))
        await settle(app, pilot)
        assert screen.team_mapped and "Map your team" not in screen_text(app)
        placeholders = ",".join("?" * len(owners))
        assert table.row_count == sql_count(
            f"RecordTypeId = ? AND OwnerId IN ({placeholders})", rt, *owners)
        assert table.cursor_row == 3  # kept across the refresh


async def test_org_without_record_types_gets_one_all_deals_tab_and_currency_split(
        store, tmp_path):
    m.RecordType.delete().execute()
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x")
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    app = SmvueApp(AppServices(paths=paths, db=store, background=False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen, table = parts(app)
        assert [(p.key, p.name) for p in screen.pipelines] == [(pl.ALL_DEALS, "All deals")]
        assert table.row_count == 6  # every open deal of the hand-built store
        text = screen_text(app)
        assert "All deals" in text
        # two currencies: one total line each, never one summed figure
        totals = [line.split() for line in text.splitlines() if line.strip().startswith("Total")]
        assert [t[2] for t in totals] == ["EUR", "USD"]
        assert [t[3] for t in totals] == ["4,000", "3,900"]
        await pilot.press("slash", *"[b]acme")  # brackets are text, not markup
        await settle(app, pilot)
        assert table.row_count == 0 and "Search: '[b]acme'" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert table.row_count == 6
        await pilot.press("g")  # by rep
        await settle(app, pilot)
        assert "By rep" in screen_text(app) and "Ana Lee" in screen_text(app)
        await pilot.press("question_mark")  # the key list shows this screen's keys too
        await settle(app, pilot)
        assert "Default pipeline" in screen_text(app)


async def test_a_failing_store_read_is_reported_not_a_traceback(store, tmp_path, monkeypatch):
    def broken(flt):
        raise RuntimeError("database disk image is malformed")

    monkeypatch.setattr(pl, "summarize", broken)
    m.Connection.create(org_id="00D8W0000000001QAA", environment="demo", login_url="x",
                        instance_url="x")
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    app = SmvueApp(AppServices(paths=paths, db=store, background=False))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, PipelinesScreen)
        assert "Could not finish" in screen_text(app)  # the toast is on screen
        assert [n.message for n in app._notifications] == [
            "Could not finish pipeline totals: database disk image is malformed"]
        assert parts(app)[1].row_count == 5  # the deal list still works (New Business, open)
