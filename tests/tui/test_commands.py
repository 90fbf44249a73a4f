"""The command palette offers every bound action, with its key, and runs it."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import OptionList

from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.commands import commands_for
from smvue_tui.tui.screens.team_mapping import TeamMappingScreen


def _prompts(app) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt)
            for i in range(options.option_count)]


async def test_palette_lists_sync_now_and_screen_actions(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        titles = {c.title: c for c in commands_for(app.screen)}
        assert {"Sync now", "Why missing?", "Import from CRM", "Select rep", "All keys",
                "Continue to pipelines"} <= set(titles)
        assert titles["Sync now"].help == "y  (sync_now)"
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"sync now")
        await pilot.pause(0.3)
        assert any("Sync now" in p for p in _prompts(app))


async def test_palette_runs_the_action_and_follows_remapped_keys(empty_services):
    empty_services.paths.config_dir.mkdir(parents=True, exist_ok=True)
    empty_services.paths.config_file.write_text('[keys]\nteam = "ctrl+t"\n')
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert next(c for c in commands_for(app.screen) if c.title == "Team").help \
            == "^t  (team)"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Team")
        await pilot.pause(0.3)
        assert any(p.startswith("Team") for p in _prompts(app))
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TeamMappingScreen)
