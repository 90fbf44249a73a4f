"""Sync progress: bars follow SyncProgress messages; the sync is the App's, so leaving the
screen and coming back finds it still running (and then finished)."""

from __future__ import annotations

import asyncio

import httpx
from textual.widgets import ProgressBar, Static

from smvue_tui.sync.engine import SyncReport
from smvue_tui.sync.progress import ProgressEvent
from smvue_tui.tui.app import SmvueApp
from smvue_tui.tui.messages import SyncFinished, SyncProgress, SyncStarted
from smvue_tui.tui.screens.sync_progress import SyncProgressScreen
from smvue_tui.tui.widgets.sync_panel import SyncPanel, describe_event
from tests.integration.sync_support import client_for
from tests.tui.test_connect import settle


def status(app) -> str:
    return str(app.screen.query_one("#sync-status", Static).render())


def event(sobject: str, done: int, total: int | None, phase: str = "running") -> ProgressEvent:
    return ProgressEvent(sobject, done, total, records_per_s=250.0, eta_s=12.0, api_calls=7,
                         phase=phase)


async def test_bars_follow_progress_messages(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, SyncProgressScreen)
        app.post_message(SyncStarted("initial"))
        app.post_message(SyncProgress(event("Account", 50, 200)))
        app.post_message(SyncProgress(event("Opportunity", 10, 100)))
        await pilot.pause()
        panel = screen.query_one(SyncPanel)
        await settle(pilot, lambda: len(panel.events_shown()) == 2)
        bar = screen.query_one("#obj-Account ProgressBar", ProgressBar)
        assert (bar.progress, bar.total) == (50, 200)
        assert panel.events_shown()["Opportunity"] == "10 / 100  250 rec/s  ETA 0:12"
        assert "0 of 2 objects finished" in status(app)
        assert "API calls used by this sync: 7" in screen.api_text

        app.post_message(SyncProgress(event("Account", 200, 200, phase="done")))
        await settle(pilot, lambda: panel.events_shown()["Account"] == "200 / 200  done")
        assert "1 of 2 objects finished" in status(app)

        report = SyncReport("initial", status="paused", counts={"Account": 200},
                            api_calls=9, resumes_at="2026-11-27T08:00:00+00:00")
        report.errors.append({"object": "Opportunity", "code": "REQUEST_LIMIT_EXCEEDED",
                              "message": "Salesforce API rate limit exceeded",
                              "detail": "", "remedy": "Syncing resumes when the limit resets."})
        app.post_message(SyncFinished(report))
        await settle(pilot, lambda: "paused: API limit" in status(app))
        assert "paused: API limit — resumes at 2026-11-27 08:00" in status(app)
        assert "Syncing resumes when the limit resets" in screen.errors_text


class Gate(httpx.AsyncBaseTransport):
    """Lets the first ``allow`` requests through, then holds the rest until opened."""

    def __init__(self, allow: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.allow = allow
        self.seen = 0
        self.open = asyncio.Event()
        self.held = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen > self.allow:
            self.held.set()
            await self.open.wait()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_leaving_the_screen_does_not_stop_the_sync(synced_services):
    running = synced_services.running_org
    gate = Gate(allow=1)
    synced_services.client_factory = lambda: client_for(running, transport=gate)
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "y")  # Sync now, watched from the sync screen
        await settle(pilot, lambda: gate.held.is_set())
        assert app.coordinator.running == "incremental"
        await pilot.press("p")  # leave…
        assert app.current_mode == "pipelines"
        await pilot.pause()
        assert app.coordinator.running == "incremental"  # …the sync goes on
        gate.open.set()
        await settle(pilot, lambda: app.last_report is not None)
        assert app.last_report.status == "ok", app.last_report.errors
        await pilot.press("s")  # …and coming back shows how it ended
        assert isinstance(app.screen, SyncProgressScreen)
        await pilot.pause()
        assert "Incremental sync finished" in status(app)


def test_describe_event_phases():
    assert describe_event(event("Task", 5, None)) == "5 / ?  250 rec/s  ETA 0:12"
    assert describe_event(event("Task", 5, None, phase="done")) == "5 / 5  done"
    assert describe_event(event("Lead", 0, 0, phase="skipped")) == "0 / 0  skipped"


async def test_a_sync_in_a_child_process_fills_the_screens(empty_services, make_org):
    """As `smvue-tui` runs it: login from the token store, the sync in a child process, its
    progress on the sync screen, its rows in the pipelines."""
    from smvue_tui.salesforce.credentials import credentials_from_token
    from smvue_tui.salesforce.environments import resolve_environment
    from smvue_tui.salesforce.token_store import TokenStore
    from smvue_tui.services.connection import client_factory_for
    from smvue_tui.store import models as m

    running = make_org()
    paths = empty_services.paths
    TokenStore(paths.token_file).save(credentials_from_token(
        running.web_login(), environment=resolve_environment(running.base_url),
        client_id=running.org.client_id))
    m.Connection.create(org_id=running.org.org_id, environment="demo",
                        login_url=running.base_url, instance_url=running.base_url)
    empty_services.client_factory = client_factory_for(paths)
    empty_services.sync_in_child = True
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "y")
        await settle(pilot, lambda: app.last_report is not None, tries=1200)
        assert app.last_report.status == "ok", app.last_report.errors
        assert "Incremental sync finished" in status(app)
        panel = app.screen.query_one(SyncPanel)
        assert panel.events_shown()["Opportunity"].endswith("done")
        assert app.sync_client is None  # the child is gone with its run
        await settle(pilot, lambda: "Org API usage:" in app.screen.api_text)  # the child's
    assert m.Opportunity.select().count() == app.last_report.counts["Opportunity"] > 0


async def test_api_usage_saved_by_an_earlier_session_is_shown(empty_services):
    from smvue_tui.salesforce.usage import ApiUsage
    from smvue_tui.sync.status import save_usage

    save_usage(empty_services.paths, ApiUsage(used=1200, max=15000))
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        app.post_message(SyncFinished(SyncReport("incremental", status="ok", api_calls=4)))
        await settle(pilot, lambda: "Org API usage" in app.screen.api_text)
        assert "Org API usage: 1,200 of 15,000 calls today (8%), read 20" in app.screen.api_text
        assert "API calls used by this sync: 4" in app.screen.api_text


async def test_rows_keep_a_readers_order_whatever_order_objects_start_in(empty_services):
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        panel = app.screen.query_one(SyncPanel)
        for name in ("OpportunityHistory", "Task", "Opportunity", "Lead", "Account"):
            app.post_message(SyncProgress(event(name, 1, 10)))
        await settle(pilot, lambda: len(panel.children) == 5)
        assert [row.sobject for row in panel.children] == [
            "Opportunity", "Account", "OpportunityHistory", "Task", "Lead"]


async def test_a_live_fetch_does_not_take_the_first_runs_enter_away(empty_services):
    """CDC events fetched right after the initial sync (the demo org changes every few
    seconds) left the screen saying "Webhook sync finished" with no Enter to team mapping."""
    app = SmvueApp(empty_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        app.post_message(SyncStarted("initial"))
        app.post_message(SyncFinished(SyncReport("initial", status="ok",
                                                 counts={"Opportunity": 3}, api_calls=5)))
        await settle(pilot, lambda: "Press Enter to map your team" in status(app))
        app.post_message(SyncStarted("webhook"))
        app.post_message(SyncFinished(SyncReport("webhook", status="ok",
                                                 counts={"Opportunity": 2}, api_calls=1)))
        for _ in range(5):
            await pilot.pause()
        assert "Initial sync finished" in status(app), status(app)
        await pilot.press("enter")
        await settle(pilot, lambda: app.current_mode == "team")


async def test_in_process_syncs_use_the_config_the_app_read_at_start(synced_services,
                                                                     monkeypatch):
    from smvue_tui.config import read_config
    from smvue_tui.sync import runner

    synced_services.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    synced_services.paths.config_file.write_text("[sync]\nbulk = false\nbulk_threshold = 7\n")
    reads = []
    monkeypatch.setattr(runner, "run_config", lambda paths: reads.append(paths) or {})
    policies = []
    real_engine = runner.SyncEngine

    def engine(*args, **kw):
        policies.append(kw["bulk"])
        return real_engine(*args, **kw)

    monkeypatch.setattr(runner, "SyncEngine", engine)
    app = SmvueApp(synced_services)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):
            app.last_report = None
            await pilot.press("s", "y")
            await settle(pilot, lambda: app.last_report is not None)
            assert app.last_report.status == "ok", app.last_report.errors
            await pilot.press("p")
    assert reads == []  # config.toml not read again by each run...
    assert [(p.enabled, p.threshold) for p in policies] == [(False, 7)] * 2  # ...but applied
    assert read_config(synced_services.paths.config_file)["sync"]["bulk_threshold"] == 7
