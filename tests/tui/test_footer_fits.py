"""The footer never cuts a key off, on every screen, at 120 and at 80 columns; and every key
left out of the footer is one step away: in the command palette and on the keys screen (?)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from contextlib import suppress

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer
from textual.widgets._footer import FooterKey
from textual.worker import WorkerCancelled

from smvue_tui.store import models as m
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.commands import commands_for
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from smvue_tui.tui.screens.help import HelpScreen
from tests.tui.test_team_snapshot import build_store


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        with suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def mode(pilot: Pilot, name: str) -> None:
    while len(pilot.app.screen_stack) > 1:
        pilot.app.pop_screen()
    pilot.app.switch_mode(name)


async def deal_detail(pilot: Pilot) -> None:
    await mode(pilot, "pipelines")
    deal = m.Opportunity.select().order_by(m.Opportunity.amount.desc()).first()
    await pilot.app.push_screen(DealDetailScreen(deal.id))


async def over_pipelines(pilot: Pilot, key: str) -> None:
    await mode(pilot, "pipelines")
    await settle(pilot)
    await pilot.press(key)


SCREENS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "connect": lambda pilot: mode(pilot, "connect"),
    "sync": lambda pilot: mode(pilot, "sync"),
    "team": lambda pilot: mode(pilot, "team"),
    "fields": lambda pilot: mode(pilot, "fields"),
    "pipelines": lambda pilot: mode(pilot, "pipelines"),
    "deal detail": deal_detail,
    "integrations": lambda pilot: mode(pilot, "integrations"),
    "why missing": lambda pilot: over_pipelines(pilot, "w"),
    "help": lambda pilot: over_pipelines(pilot, "question_mark"),
}


def bottom_line(app: SmvueApp) -> str:
    """The last row of the terminal as the user sees it (modal screens over dimmed ones)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system="truecolor", legacy_windows=False)
    console.print(app.screen._compositor.render_update(  # as App.export_screenshot renders
        full=True, screen_stack=app._background_screens))
    return console.export_text().splitlines()[height - 1]


def binding_id(screen, key: FooterKey) -> str | None:
    return screen.active_bindings[key.key].binding.id


async def help_ids(pilot: Pilot) -> set[str]:
    """The binding ids the keys screen lists for the current screen."""
    app = pilot.app
    app.action_help()
    await pilot.pause()
    assert isinstance(app.screen, HelpScreen)
    table = app.screen.query_one(DataTable)
    ids = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
    app.pop_screen()
    await pilot.pause()
    return ids


def shown_whole(app: SmvueApp) -> set[str | None]:
    """The binding ids in the current screen's footer, after checking each is shown whole."""
    screen, width = app.screen, app.size.width
    footer = screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    assert any(binding_id(screen, k) == "help" or k.action == "dismiss" for k in keys)
    palette = [k for k in keys if k.has_class("-command-palette")]
    right_edge = palette[0].region.x if palette else width
    line = bottom_line(app)
    for key in keys:
        text = f"{key.key_display} {key.description}"
        edge = width if key in palette else right_edge
        assert key.region.x >= 0 and key.region.right <= edge, f"{text!r} is cut off"
        assert text in line, f"{text!r} is not shown whole in {line!r}"
    assert footer.max_scroll_x == 0
    return {binding_id(screen, k) for k in keys}


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
@pytest.mark.parametrize("name", list(SCREENS))
async def test_footer_keys_fit_and_hidden_keys_are_one_step_away(empty_services, name, size):
    build_store()
    app = SmvueApp(empty_services)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await SCREENS[name](pilot)
        await settle(pilot)
        screen = app.screen
        shown = shown_whole(app)
        hidden = {active.binding.id for active in screen.active_bindings.values()
                  if active.binding.id and active.enabled} - shown
        if size == (120, 40):  # a screen's own footer keys all fit; globals may wait in ?
            global_ids = {b.id for b in SmvueApp.BINDINGS}
            own = {a.binding.id for a in screen.active_bindings.values()
                   if a.binding.show and a.binding.id in hidden} - global_ids
            assert not own, f"own keys left out: {own}"
        palette_ids = {command.binding_id for command in commands_for(screen)}
        assert hidden <= palette_ids, f"not in the palette: {hidden - palette_ids}"
        if hidden:
            assert not screen.is_modal, f"a modal screen hides {hidden}"
            listed = await help_ids(pilot)
            assert hidden <= listed, f"not on the keys screen: {hidden - listed}"


async def test_footer_fits_again_after_the_terminal_narrows(empty_services):
    build_store()
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert "team_add" in shown_whole(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        shown = shown_whole(app)
        assert {"team_continue", "help"} <= shown and "team_add" not in shown
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert "team_add" in shown_whole(app)
