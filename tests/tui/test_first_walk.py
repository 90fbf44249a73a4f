"""Issue 19: what a new user found walking every screen — each numbered item has a test here
(or in tests/unit/test_first_walk_cli.py for the command line)."""

from __future__ import annotations

from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.widgets.paged_table import ListSource, PagedTable
from tests.tui.test_pipelines import settle
from tests.tui.test_pipelines_paged_table import COLUMNS, TableApp  # noqa: F401

# --- 2: the row cursor is visible -----------------------------------------------------------

async def test_cursor_row_has_its_own_background():
    """The cursor's colours win over the row's background (they lost: no cursor was seen)."""
    app = TableApp(ListSource([("a", 1), ("b", 2), ("c", 3)], ["name", "amount"]))
    async with app.run_test(size=(40, 8)) as pilot:
        await settle(app, pilot)
        table = app.query_one(PagedTable)
        await pilot.press("down")

        def backgrounds(y: int) -> set:
            return {seg.style.bgcolor for seg in table.render_line(y) if seg.style}

        cursor, other = backgrounds(2), backgrounds(1)
        assert cursor and cursor.isdisjoint(other), (cursor, other)
        expected = table.get_component_rich_style("paged-table--cursor").bgcolor
        assert cursor == {expected}


# --- 3: config.toml problems are said, and a remap never takes another binding's key ---------

def _write_config(services, text: str) -> None:
    services.paths.config_dir.mkdir(parents=True, exist_ok=True)
    services.paths.config_file.write_text(text)


async def test_keys_remaps_are_checked_and_problems_shown(empty_services):
    _write_config(empty_services, '[keys]\nquit = "p"\nno_such_binding = "x"\n'
                                  'sync_now = "ctrl+r"\n')
    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        problems = "\n".join(app.config_problems)
        assert '[keys] quit = "p": p is already "Pipelines" (pipelines); keeping q' in problems
        assert "[keys] no_such_binding: no key binding has this id" in problems
        assert any(n.title == "config.toml" and "keeping q" in n.message
                   for n in app._notifications)
        await pilot.press("p")  # still Pipelines, not quit
        await settle(app, pilot)
        assert app.is_running and app.current_mode == "pipelines"
        assert "ctrl+r" in {k for k, b in app.active_bindings.items()
                            if b.binding.id == "sync_now"}


async def test_malformed_config_and_bad_public_url_are_said(empty_services):
    _write_config(empty_services, "[keys\nquit = 'x'\n")
    assert "is not valid TOML" in empty_services.config_problem()
    assert "line 1" in empty_services.config_problem()
    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert any("is not valid TOML" in n.message for n in app._notifications)
    _write_config(empty_services, '[webhook]\npublic_url = "http://example.com/hook"\n')
    assert empty_services.config_problem() is None
    problem = empty_services.webhook_problem()
    assert problem == ("change notifications off: [webhook] public_url = "
                       "'http://example.com/hook' is not an https:// URL Salesforce can reach")
    assert empty_services.webhook() is None
    _write_config(empty_services, '[webhook]\npublic_url = "https://hooks.example.com"\n')
    assert empty_services.webhook_problem() is None
    assert empty_services.webhook().public_url == "https://hooks.example.com"
