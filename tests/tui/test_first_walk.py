"""Issue 19: what a new user found walking every screen — each numbered item has a test here
(or in tests/unit/test_first_walk_cli.py for the command line)."""

from __future__ import annotations

import threading

from textual.widgets import Static

from smvue_tui.services.integration_card import load_card
from smvue_tui.sync.status import load_usage, usage_line
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.widgets.paged_table import ListSource, PagedTable
from tests.tui.test_connect import demo_services  # noqa: F401 - the fixture
from tests.tui.test_connect import settle as until
from tests.tui.test_pipelines import screen_text, settle
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
    config, problem = empty_services.read_config()
    assert config == {} and problem == (
        f"{empty_services.paths.config_file} is not valid TOML (expected ']' at the end of a "
        "table declaration, at line 1, column 6); using the defaults")
    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert any(n.message == problem for n in app._notifications)
    _write_config(empty_services, '[webhook]\npublic_url = "http://example.com/hook"\n')
    assert empty_services.read_config()[1] is None
    problem = empty_services.webhook_problem()
    assert problem == ("change notifications off: [webhook] public_url = "
                       "'http://example.com/hook' is not an https:// URL Salesforce can reach")
    assert empty_services.webhook() is None
    _write_config(empty_services, '[webhook]\npublic_url = "https://hooks.example.com"\n')
    assert empty_services.webhook_problem() is None
    assert empty_services.webhook().public_url == "https://hooks.example.com"



async def test_a_keys_section_of_the_wrong_type_is_said_and_the_rest_applies(empty_services):
    """``keys = 2`` (not a table): the app says so in the file's words and keeps its keys;
    the file's other settings still apply."""
    _write_config(empty_services, 'keys = 2\n[webhook]\npublic_url = "http://x.example"\n')
    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        said = "\n".join(n.message for n in app._notifications)
        assert (f"[keys] in {empty_services.paths.config_file} must be a table of settings, "
                "not a number; using the defaults") in said
        assert "[webhook] public_url = 'http://x.example' is not an https:// URL" in said
        await pilot.press("p")
        await settle(app, pilot)
        assert app.current_mode == "pipelines"  # the default keys


async def test_config_toml_is_read_once_when_the_app_applies_it(empty_services, monkeypatch):
    """Keys, the file's own problem and the [webhook] problem come from one read of
    config.toml (it was parsed three times on every mount)."""
    import tomllib

    _write_config(empty_services, '[keys]\nno_such_binding = "x"\n[webhook]\n'
                                  'public_url = "http://example.com/hook"\n')
    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        reads = []
        loads = tomllib.loads

        def counted(text, *args, **kwargs):  # config.read_config, the one reader, parses
            reads.append(text)
            return loads(text, *args, **kwargs)

        monkeypatch.setattr(tomllib, "loads", counted)
        app._apply_config()
        assert len(reads) == 1
        problems = "\n".join(app.config_problems)
        assert "no_such_binding: no key binding has this id" in problems
        assert problems.startswith("change notifications off: [webhook] public_url")


# --- 4: one answer for how updates arrive, for the connection state, for API usage ----------

async def test_demo_preflight_and_card_agree_on_change_notifications(demo_services):  # noqa: F811
    demo_services.background = True  # start_live: the demo org's loopback automation
    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("enter", "enter")
        await until(pilot, lambda: screen.flow is not None)
        await pilot.press("a")
        await until(pilot, lambda: screen.preflight is not None, tries=600)
        lines = screen.notifications_line
        assert "Change notifications: on — Salesforce sends an Outbound Message" in lines
        assert "scheduled resync" not in lines
        card = load_card(demo_services.paths)
        assert card.notifications in lines
        assert "Change notifications: on" in screen_text(app)


async def test_a_slow_older_card_read_never_paints_over_the_disconnect(synced_services,
                                                                       monkeypatch):
    from smvue_tui.tui.screens import integrations

    gate, held = threading.Event(), threading.Event()
    real = integrations.load_card

    def load(paths):
        card = real(paths)
        if not held.is_set() and hold_next:
            held.set()
            gate.wait(10)  # read while connected, answered after the disconnect's read
        return card

    hold_next = False
    monkeypatch.setattr(integrations, "load_card", load)
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        screen = app.screen
        await until(pilot, lambda: screen.card is not None and screen.card.connected)
        hold_next = True
        screen.reload()
        await until(pilot, held.is_set)
        await pilot.press("x", "enter")
        await until(pilot, lambda: screen.card is not None and not screen.card.connected)
        gate.set()
        await settle(app, pilot)
        status = str(screen.query_one("#card-status", Static).render())
        assert status.startswith("○ Disconnected") and not screen.card.connected
        assert "Disconnected. Your SMVue data" in str(
            screen.query_one("#card-message", Static).render())


async def test_sync_screen_and_card_show_the_same_usage_reading(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        await pilot.press("y")  # 11: y on Integrations says what happened
        assert any("Sync started" in n.message for n in app._notifications)
        await until(pilot, lambda: app.last_report is not None, tries=600)
        await pilot.press("s")
        saved = load_usage(synced_services.paths)
        assert saved is not None
        await until(pilot, lambda: usage_line(saved) in app.screen.api_text)
        assert load_card(synced_services.paths).api_usage == usage_line(saved)
        assert ", read 20" in usage_line(saved)  # says when it was read


# --- 5: the sync screen says only what is true now ------------------------------------------

def _status(app) -> str:
    return str(app.screen.query_one("#sync-status", Static).render())


async def test_sync_screen_after_sync_now_has_no_initial_sync_text(synced_services):
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await settle(app, pilot)
        hint = app.screen.query_one("#sync-hint", Static)
        assert not hint.display  # no sync running: no "you can leave" hint
        await pilot.press("y")
        await until(pilot, lambda: app.last_report is not None, tries=600)
        await settle(app, pilot)
        assert app.last_report.status == "ok" and app.last_report.kind == "incremental"
        assert "Incremental sync finished" in _status(app)
        assert "Enter" not in _status(app) and "map your team" not in _status(app)
        assert not hint.display and "Initial sync" not in str(hint.render())
        assert "sync_continue" not in {b.binding.id for b in app.active_bindings.values()}
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "sync"  # Enter did not jump to team mapping


async def test_objects_finished_count_and_bars_add_up_to_records_stored(empty_services):
    from smvue_tui.sync.engine import SyncReport
    from smvue_tui.sync.progress import ProgressEvent
    from smvue_tui.tui.messages import SyncFinished, SyncProgress, SyncStarted
    from smvue_tui.tui.widgets.sync_panel import SyncPanel

    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        app.post_message(SyncStarted("initial"))
        for name, done, total in [("Opportunity", 35, 35), ("Account", 10, 10),
                                  ("Contact", 30, 30), ("Task", 3, 52)]:
            app.post_message(SyncProgress(ProgressEvent(name, done, total, 1.0, 0.0, 4)))
        await settle(app, pilot)
        assert "3 of 4 objects finished" in app.screen._running_text("initial")
        assert "Initial sync" in str(app.screen.query_one("#sync-hint", Static).render())
        # the report counts owners topped up after the paged reads: the bars follow it
        report = SyncReport("initial", status="ok", api_calls=6,
                            counts={"Opportunity": 35, "Account": 10, "Contact": 30,
                                    "Task": 52, "User": 6})
        app._finish_bars(report)
        app.post_message(SyncFinished(report))
        await settle(app, pilot)
        shown = app.screen.query_one(SyncPanel).events_shown()
        total = sum(int(text.split(" / ")[0].replace(",", "")) for text in shown.values())
        assert total == 133 and "133 records stored" in _status(app)
        assert all(text.endswith("done") for text in shown.values())


# --- 6: before connecting, data screens say so and esc leads back to Connect ----------------

async def test_pipelines_before_connecting_says_so_and_esc_goes_back(empty_services):
    from smvue_tui.tui.screens.not_connected import NOT_CONNECTED

    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "connect"
        await pilot.press("p")
        await settle(app, pilot)
        text = screen_text(app)
        assert "No deals match these filters" not in text and "Map your team" not in text
        assert NOT_CONNECTED[:60] in text.replace("\n", " ")
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.current_mode == "connect"
        await pilot.press("t")
        await settle(app, pilot)
        assert NOT_CONNECTED[:40] in screen_text(app)
        await pilot.press("escape")
        assert app.current_mode == "connect"


async def test_esc_on_pipelines_still_clears_a_search_first(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p", "slash", "x")
        await settle(app, pilot)
        await pilot.press("escape")
        assert app.current_mode == "pipelines"
        assert not app.screen.query_one("#deal-search").display


# --- 11: the smaller things ---------------------------------------------------------------

async def test_wrapped_bullets_hang_under_their_text(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "Your Salesforce edition" in line)
        bullet_text_column = lines[first].index("Your")
        wrapped = lines[first + 1]
        assert wrapped.strip() and wrapped[:bullet_text_column].strip() == "", wrapped
        assert wrapped[bullet_text_column] != " "  # starts right under the bullet's text


def test_org_heading_says_sandbox_once():
    from types import SimpleNamespace

    from smvue_tui.tui.screens.connect_text import org_heading

    report = SimpleNamespace(org_name="Demo Org 1 (Sandbox)", edition="Enterprise Edition",
                             is_sandbox=True)
    assert org_heading(report) == "Demo Org 1 (Sandbox) (Enterprise Edition)"
    report.org_name = "Acme"
    assert org_heading(report) == "Acme (Enterprise Edition, Sandbox)"


def test_remedies_name_keys_that_work_where_they_are_read():
    from smvue_tui.salesforce.errors import ServerUnavailable
    from smvue_tui.tui.widgets.words import plural

    assert "Sync Now" not in ServerUnavailable("x").remedy  # read by the CLI too
    assert "`smvue-tui sync`" in ServerUnavailable("x").remedy
    assert (plural(1, "new user"), plural(4, "new user")) == ("1 new user", "4 new users")


def test_the_currency_column_is_not_sortable_and_sort_never_lands_on_it():
    from smvue_tui.tui.screens.pipeline_view import DEAL_TABLE_COLUMNS

    assert "currency" not in [c.key for c in DEAL_TABLE_COLUMNS if c.sortable]
