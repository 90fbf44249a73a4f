"""Connect: choose the demo Production org → review → approve with one key → preflight → sync;
the paste-back path; a pasted URL from another login attempt is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from textual.widgets import Input, Static

from smvue_tui.config import app_paths
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.app_services import AppServices, DemoTarget
from smvue_tui.services.connection import demo_consent_redirect
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.screens.connect import ConnectScreen
from smvue_tui.tui.screens.team_mapping import TeamMappingScreen
from tests.tui.test_pipelines import screen_text


@pytest.fixture
def demo_services(tmp_path, make_org):
    running = make_org(size=40)
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    services = AppServices(paths=paths, db=open_store(paths.database), background=False,
                           demo_targets=[DemoTarget("Production", running.base_url,
                                                    running.org)])
    services.running_org = running  # type: ignore[attr-defined]
    yield services
    services.db.close()


async def settle(pilot, until, tries: int = 300) -> None:
    """Let workers and messages run until ``until()`` holds (bounded, not a timed assert)."""
    for _ in range(tries):
        if until():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never reached the expected state")


def shown(app, selector: str) -> str:
    """The widget's text as drawn (markup strings and Rich tables alike)."""
    widget = app.screen.query_one(selector, Static)
    region = widget.content_region
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    drawn = [line[region.x:region.right].rstrip()
             for line in lines[region.y:region.bottom]]
    return "\n".join(drawn) if widget.display and region.height else str(widget.render())


async def to_login_step(app, pilot) -> ConnectScreen:
    screen = app.screen
    assert isinstance(screen, ConnectScreen)
    await pilot.press("enter")  # choose Production
    assert screen.step == "review"
    assert "Read Opportunity records" in screen_text(app)
    await pilot.press("enter")  # log in
    await settle(pilot, lambda: screen.step == "login" and screen.flow is not None)
    return screen


async def paste(pilot, screen, text: str) -> None:
    box = screen.query_one("#paste", Input)
    box.value = text
    box.focus()
    await pilot.press("enter")


async def test_demo_production_one_key_preflight_sync_team_then_pipelines(demo_services):
    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_login_step(app, pilot)
        assert "127.0.0.1" in shown(app, "#login-url")
        await pilot.press("a")  # approve the consent page with one key
        await settle(pilot, lambda: screen.preflight is not None)
        assert screen.preflight.ok, screen.preflight.lines
        assert "API access" in shown(app, "#preflight-lines")
        creds = TokenStore(demo_services.paths.token_file).load()
        assert creds is not None and creds.org_id == demo_services.running_org.org.org_id
        row = m.Connection.get()
        assert row.disconnected_at is None and row.org_id == creds.org_id
        assert demo_services.client_factory is not None
        await pilot.press("enter")  # start the initial sync
        await settle(pilot, lambda: app.current_mode == "sync")
        await settle(pilot, lambda: app.last_report is not None)
        assert app.last_report.status == "ok", app.last_report.errors
        assert m.Opportunity.select().count() > 0
        # First-time flow: the team screen says which key leads on once a rep is selected.
        await pilot.press("enter")  # continue to team mapping
        team = app.screen
        assert isinstance(team, TeamMappingScreen)
        await settle(pilot, lambda: bool(team.rows))
        next_line = team.query_one("#team-next", Static)
        assert not next_line.display  # no rep selected yet
        await pilot.press("space")
        await settle(pilot, lambda: next_line.display)
        assert "press n to continue" in str(next_line.render())
        await pilot.press("n")
        assert app.current_mode == "pipelines"
        await pilot.press("t")  # the first-time flow is over: no hint any more
        await settle(pilot, lambda: "1 rep selected" in shown(app, "#team-summary"))
        assert not next_line.display


async def test_paste_back_finishes_the_login(demo_services):
    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_login_step(app, pilot)
        org = demo_services.running_org.org
        location = await demo_consent_redirect(screen.flow.authorization_url,
                                               screen.flow.environment.authorize_url, org)
        await paste(pilot, screen, location)
        await settle(pilot, lambda: screen.preflight is not None)
        assert m.Connection.get().org_id == org.org_id


async def test_pasted_url_from_another_login_is_refused(demo_services):
    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_login_step(app, pilot)
        org = demo_services.running_org.org
        location = await demo_consent_redirect(screen.flow.authorization_url,
                                               screen.flow.environment.authorize_url, org)
        parts = urlsplit(location)
        query = dict(parse_qsl(parts.query), state="someone-elses-state")
        await paste(pilot, screen, urlunsplit(parts._replace(query=urlencode(query))))
        await settle(pilot, lambda: "another login attempt" in shown(app, "#paste-error"))
        assert screen.step == "login" and screen.preflight is None
        assert not demo_services.paths.token_file.exists()
        assert m.Connection.select().count() == 0
        await paste(pilot, screen, location)  # the login stayed pending: the real URL works
        await settle(pilot, lambda: screen.preflight is not None)


async def test_errors_show_message_and_remedy(empty_services):
    app = SmvueApp(empty_services)  # no demo orgs, no consumer key configured
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("down", "down", "enter")  # My Domain: type the host
        assert screen.step == "choose"
        await pilot.press(*"http://acme.example.com", "enter")
        assert "https" in shown(app, "#choose-error") and screen.step == "choose"
        await pilot.press("escape")
        screen.query_one("#env-list").focus()
        await pilot.press("up", "up", "enter", "enter")  # Production → review → log in
        await settle(pilot, lambda: screen.step == "error")
        text = shown(app, "#error-text")
        assert "Salesforce login is not configured" in text
        assert "client_id" in text and "Traceback" not in text


async def test_device_code_shown_large_and_cancellable(demo_services):
    from smvue_tui.tui.widgets.big_text import BigText

    app = SmvueApp(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_login_step(app, pilot)
        await pilot.press("d")
        await settle(pilot, lambda: screen.step == "device")
        code = screen.query_one("#device-code", BigText)
        assert code.text and len(code.text) >= 6
        assert str(code.render()).count("\n") == 4  # five rows of block letters
        assert demo_services.running_org.base_url in shown(app, "#device-url")
        await pilot.press("escape")  # back: the polling login is cancelled
        await settle(pilot, lambda: not any(w.is_running and w.node is screen
                                            for w in app.workers))
        assert screen.step == "review"


async def test_demo_sandbox_is_recorded_as_sandbox(tmp_path, make_org):
    from smvue_demo_org.profile import OrgProfile

    production = make_org(size=40)
    sandbox = make_org(size=40, profile=OrgProfile(sandbox=True))
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    services = AppServices(paths=paths, db=open_store(paths.database), background=False,
                           demo_targets=[DemoTarget("Production", production.base_url,
                                                    production.org),
                                         DemoTarget("Sandbox", sandbox.base_url, sandbox.org)])
    app = SmvueApp(services)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await pilot.press("down", "enter", "enter")  # Sandbox → review → log in
            await settle(pilot, lambda: screen.flow is not None)
            await pilot.press("a")
            await settle(pilot, lambda: screen.preflight is not None)
            assert screen.preflight.is_sandbox is True
            assert "Sandbox" in shown(app, "#preflight-title")
            row = m.Connection.get()
            assert row.org_id == sandbox.org.org_id and row.is_sandbox
    finally:
        services.db.close()
