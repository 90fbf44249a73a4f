"""Switching back to a screen redoes only what changed: no store read, no new footer keys and
no table rebuild when nothing did; fresh data once the store changed while it was hidden."""

from __future__ import annotations

from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from smvue_tui.store import models as m
from smvue_tui.store import team
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.pipelines import PipelinesScreen
from smvue_tui.tui.screens.team_mapping import TeamMappingScreen
from smvue_tui.tui.widgets.paged_table import PagedTable
from tests.tui.test_team_snapshot import USERS, build_store, settle

DEE = USERS[4][0]  # owns one open New Business deal, not coached


def dee_row(app: SmvueApp) -> list:
    return app.screen.query_one(DataTable).get_row(DEE)


async def test_back_to_an_unchanged_screen_reads_and_rebuilds_nothing(empty_services,
                                                                     monkeypatch):
    build_store()
    reads = []
    original = team.team_rows
    monkeypatch.setattr(team, "team_rows", lambda: reads.append(1) or original())
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TeamMappingScreen) and len(reads) == 1
        keys = list(screen.query(FooterKey))
        rows = screen.rows
        for key in ("p", "s", "i", "t"):
            await pilot.press(key)
            await settle(pilot)
        assert app.screen is screen and len(reads) == 1
        assert list(screen.query(FooterKey)) == keys  # the same widgets: not composed again
        assert screen.rows is rows

        # A sync stores a deal while another screen is shown: the team catches up when shown.
        await pilot.press("p")
        m.Opportunity.create(id="0068W0000000099QAA", name="Dee Two", owner_id=DEE,
                             amount=1_000, stage_name="Prospecting", is_closed=False,
                             currency_iso_code="USD", close_date="2026-12-15")
        app.post_message(StoreChanged(frozenset({"Opportunity"})))
        await settle(pilot)
        assert len(reads) == 1  # not shown: not read
        await pilot.press("t")
        await settle(pilot)
        assert len(reads) == 2 and dee_row(app)[4] == "2"


async def test_a_rep_chosen_on_the_team_screen_reaches_the_pipelines(empty_services):
    build_store()
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pipelines = app.screen
        assert isinstance(pipelines, PipelinesScreen)
        deals = pipelines.query_one("#deals", PagedTable)
        before = deals.row_count
        await pilot.press("t")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(DEE))
        await pilot.press("space")
        await settle(pilot)
        assert dee_row(app)[0] == "✓"  # only the changed cells were redrawn
        await pilot.press("p")
        await settle(pilot)
        assert app.screen is pipelines and deals.row_count == before + 1


async def test_the_other_screens_are_built_hidden_after_start_up(empty_services, monkeypatch):
    """With background services on, pipelines, team, sync and integrations are built (and
    read) after the first screen paints; visiting one then shows that screen, read once."""
    from smvue_tui.tui import app as app_module

    build_store()
    reads = []
    original = team.team_rows
    monkeypatch.setattr(team, "team_rows", lambda: reads.append(1) or original())
    monkeypatch.setattr(app_module, "WARM_UP_DELAY", 0.05)
    empty_services.background = True  # not connected to an org: no live services start
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if all(mode in app._screen_stacks for mode in app_module.WARM_UP_MODES):
                break
        await settle(pilot)
        assert all(mode in app._screen_stacks for mode in app_module.WARM_UP_MODES)
        assert "fields" not in app._screen_stacks and "connect" not in app._screen_stacks
        assert app.current_mode == "pipelines" and len(reads) == 1
        built = app._screen_stacks["team"][0]
        assert built.rows  # read and filled while hidden
        await pilot.press("t")
        await settle(pilot)
        assert app.screen is built and len(reads) == 1
        assert dee_row(app)[4] == "1"
