"""The Textual app: screens as modes, global keys with ids, and the App-owned sync lane.

Screens read the store in thread workers and refresh on ``StoreChanged`` when shown (screens of
other modes, or under a deal or a dialog, on their next resume, through ``store_generation``);
the sync runs on the App (never on a screen, so leaving a screen never stops it) through one
``SyncCoordinator``.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.signal import Signal

from smvue_tui.services.app_services import AppServices
from smvue_tui.store import models as m
from smvue_tui.store.org_stores import StoreOrgMismatch
from smvue_tui.sync.coordinator import SyncCoordinator
from smvue_tui.sync.progress import final_events
from smvue_tui.tui.commands import SmvueCommands
from smvue_tui.tui.keymap import binding_tables, check_keymap
from smvue_tui.tui.messages import (
    Connected,
    StoreChanged,
    SyncFinished,
    SyncProgress,
    SyncStarted,
)
from smvue_tui.tui.screens.connect import ConnectScreen
from smvue_tui.tui.screens.field_mapping import FieldMappingScreen
from smvue_tui.tui.screens.help import HelpScreen
from smvue_tui.tui.screens.inspection import InspectionScreen
from smvue_tui.tui.screens.integrations import IntegrationsScreen
from smvue_tui.tui.screens.pipelines import PipelinesScreen
from smvue_tui.tui.screens.sync_progress import SyncProgressScreen
from smvue_tui.tui.screens.team_mapping import TeamMappingScreen
from smvue_tui.tui.screens.why_missing import WhyMissingScreen

NARROW_WIDTH = 100
"""Below this many columns, screens stack their side-by-side panes (app.tcss ``-narrow``)."""
WARM_UP_DELAY = 1.0
"""Seconds after start-up before the other screens are built in the background."""
WARM_UP_STEP = 0.1
WARM_UP_MODES = ("pipelines", "team", "sync", "integrations", "inspection")
"""Built hidden after start-up (``SmvueApp._warm_up``); not connect (its flows start as it
is shown) nor fields (it asks Salesforce for the fields: an API call for a screen seldom seen)."""


class SmvueApp(App[None]):
    TITLE = "SMVue"
    SUB_TITLE = "Salesforce pipeline"
    CSS_PATH = "app.tcss"
    MODES = {
        "connect": ConnectScreen,
        "sync": SyncProgressScreen,
        "team": TeamMappingScreen,
        "fields": FieldMappingScreen,
        "pipelines": PipelinesScreen,
        "integrations": IntegrationsScreen,
        "inspection": InspectionScreen,
    }
    COMMANDS = App.COMMANDS | {SmvueCommands}
    BINDINGS = [
        Binding("p", "switch_mode('pipelines')", "Pipelines", id="pipelines"),
        Binding("t", "switch_mode('team')", "Team", id="team"),
        Binding("k", "switch_mode('inspection')", "Inspect", id="inspection", show=False),
        Binding("f", "switch_mode('fields')", "Fields", id="fields"),
        Binding("i", "switch_mode('integrations')", "Integrations", id="integrations"),
        Binding("s", "switch_mode('sync')", "Sync status", id="sync_status"),
        Binding("y", "sync_now", "Sync now", id="sync_now"),
        Binding("w", "why_missing", "Why missing?", id="why_missing"),
        Binding("question_mark", "help", "All keys", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("escape", "back_to_connect", "Back to Connect", show=False,
                id="back_to_connect"),
    ]

    def __init__(self, services: AppServices, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.coordinator = SyncCoordinator(self._run_sync)
        self.last_progress: dict[str, SyncProgress] = {}
        self.last_report: Any = None
        self.last_usage: Any = None  # the last sync's API usage reading (ApiUsage)
        # Every SyncStarted/SyncProgress/SyncFinished, for screens that watch the sync
        # (a signal, so screens that do not subscribe never see them bubble back here).
        self.sync_events: Signal[Any] = Signal(self, "sync_events")
        self.sync_client: Any = None  # the running sync's runner (its usage reading)
        self.live: Any = None  # LiveServices while connected: schedule + notifications
        self.team: Any = None  # TeamView in team mode (a team store that `serve` writes)
        self.store_generation = 0
        """How many ``StoreChanged`` the App has seen: a hidden screen re-reads on resume only
        when it moved since its last read (``screens/resume.py``)."""
        self.config_problems: list[str] = []  # what config.toml asked for and did not get
        self.sync_config: dict[str, Any] | None = None  # config.toml as read at start

    @property
    def connected(self) -> bool:
        return m.Connection.select().where(m.Connection.disconnected_at.is_null()).exists()

    def on_resize(self, event: Any) -> None:
        # One switch for every screen's narrow layout (app.tcss: App.-narrow …): two columns
        # side by side need ~100 cells; an 80-column terminal stacks them.
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    def on_mount(self) -> None:
        self.set_class(self.size.width < NARROW_WIDTH, "-narrow")
        self._apply_config()
        if self.services.team is not None:  # team mode: read only, refreshed by the writer
            from smvue_tui.tui.team_view import TeamView

            self.team = TeamView(self, self.services.team)
        self.show_org()
        self.switch_mode("pipelines" if self.connected or self.team else "connect")
        recovery = getattr(self.services.db, "recovery", None)
        if recovery is not None:  # a damaged store was moved aside at start: say so, at length
            self.notify(recovery.message(), title="Store damaged — your notes were kept",
                        severity="warning", timeout=60)
        if self.team is not None:
            self.team.start()  # listening is not a background job: it is how screens update
        if self.services.background:
            self.call_later(self.start_live)
            self.set_timer(WARM_UP_DELAY, self._warm_up)

    def _apply_config(self) -> None:
        """The user's [keys] (the valid ones), and every config.toml problem said once."""
        config, unreadable = self.services.read_config()  # once: its three readers share it
        keymap, problems = check_keymap(self.services.keymap(config), binding_tables(type(self)))
        if keymap:
            self.set_keymap(keymap)
        for problem in (unreadable, self.services.webhook_problem(config)):
            if problem:
                problems.insert(0, problem)
        if problems:
            self.notify("\n".join(problems), title="config.toml", severity="warning",
                        timeout=30)
        self.config_problems = problems
        self.sync_config = config  # in-process syncs (webhook fetches) reuse it

    def _warm_up(self) -> None:
        """Build the next screen of ``WARM_UP_MODES`` not built yet, hidden, then the one after:
        its first visit then only paints (a screen's first build — widgets, keys, store read,
        table fill — was 100–300 ms of its first visit). One screen a step, so a key pressed
        meanwhile waits for one build at most; started after the first screen is painted."""
        # Textual internals (pinned <9 in pyproject); without them screens build on first visit.
        stacks, init_mode = getattr(self, "_screen_stacks", None), getattr(self, "_init_mode", None)
        if stacks is None or init_mode is None or not self.is_running:
            return
        mode = next((mode for mode in WARM_UP_MODES if mode not in stacks), None)
        if mode is None:
            return
        init_mode(mode)  # what switch_mode does for a new mode, without showing it
        self.set_timer(WARM_UP_STEP, self._warm_up)

    async def start_live(self) -> None:
        """Scheduled resync and reconciliation, and change notifications when configured."""
        from smvue_tui.services.live import LiveServices

        if self.live is not None or self.services.client_factory is None or not self.connected:
            return
        self.live = LiveServices(self.coordinator.request, self.coordinator.cancel,
                                 lambda: self.coordinator.running)
        self.live.start()
        webhook = self.services.webhook()
        connection = m.Connection.get_or_none(m.Connection.disconnected_at.is_null())
        try:
            await self._start_listener(webhook, connection)
        except StoreOrgMismatch as exc:  # the listener refuses another org's store
            self.notify(str(exc), title="Change notifications off", severity="error",
                        timeout=30)

    async def _start_listener(self, webhook: Any, connection: Any) -> None:
        org_id = self.services.paths.org_id or getattr(connection, "org_id", "")
        if connection is not None:  # CDC, then Outbound Messages, then polling (live_choice.py)
            from smvue_tui.services.live_choice import start_best_mode

            choice = await start_best_mode(
                self.live, paths=self.services.paths, config=self.services.config(),
                db=self.services.db, connection=connection,
                public_url=webhook.public_url if webhook else None,
                loopback_ok=connection.environment == "demo",
                client_factory=self.services.client_factory,
                demo_targets=self.services.demo_targets)
            if choice.mode != "outbound":
                return
        if webhook is not None and webhook.public_url and connection is not None:
            await self.live.start_listener(self.services.db, org_id,
                                           webhook.path_token, host=webhook.host,
                                           port=webhook.port)
        elif connection is not None and connection.environment == "demo":
            # A demo org can call us on loopback: point its automation at a local listener so
            # changes made in it reach the screen within seconds, as with a public URL.
            from smvue_tui.services.webhook import new_path_token

            listener = await self.live.start_listener(self.services.db, org_id,
                                                      new_path_token())
            self.run_worker(self._deploy_notifications(connection, listener.local_url),
                            group="automation", exit_on_error=False,
                            description="deploying the demo org's change notifications")

    async def _deploy_notifications(self, connection: Any, endpoint_url: str) -> None:
        from smvue_tui.services import automation as change_notifications

        assert self.services.client_factory is not None
        client = self.services.client_factory()
        try:
            report = await change_notifications.deploy(
                client, connection.org_id, endpoint_url, integration_user=connection.username)
        finally:
            await client.aclose()
        if not report.ok:
            self.notify("Change notifications could not be set up; updates come from the "
                        "scheduled resync", severity="warning")

    # --- which org -------------------------------------------------------------------------

    def format_title(self, title: str, sub_title: str) -> Content:
        """"SMVue · Acme · 00D… · Production": the org at full strength (it is what a user must
        not mistake), and a separator every terminal font draws one cell wide (— was not)."""
        return Content.assemble(title, (" · ", "dim"), sub_title) if sub_title else Content(title)

    def show_org(self) -> None:
        """The header names the org whose store is open (name, id, Production or Sandbox);
        a Sandbox turns the header into a badge (``App.-sandbox`` in app.tcss)."""
        from smvue_tui.services.integration_card import open_org, org_heading

        org = open_org(self.services.paths)
        self.sub_title = org_heading(org) if org else self.SUB_TITLE
        if self.team is not None:  # who keeps this store fresh, and whether it still does
            self.sub_title = f"{self.sub_title} · {self.team.writer_text}"
        self.set_class(bool(org and org.is_sandbox), "-sandbox")

    async def switch_org(self, org_id: str) -> None:
        """Move to ``org_id``'s store (a login to another org): the old org's sync and live
        updates stop first — nothing of theirs may write after the switch — then every screen
        reads again. StoreRefused (the old store stays open) when that file is another org's."""
        from smvue_tui.store.org_stores import paths_for_org

        if paths_for_org(self.services.paths, org_id) == self.services.paths:
            return
        if self.live is not None:
            await self.live.stop()
            self.live = None
        await self.coordinator.stop()
        self.services.use_org(org_id)
        self.last_progress.clear()
        self.last_report = self.last_usage = None
        self.show_org()
        self.post_message(StoreChanged(frozenset()))

    def on_connected(self, _message: Connected) -> None:
        self.show_org()  # preflight has read the org's name and whether it is a sandbox

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):  # someone is at the keyboard: polling speeds up
            activity = getattr(getattr(self.live, "mode", None), "activity", None)
            if activity is not None:
                activity()
        await super().on_event(event)

    async def on_unmount(self) -> None:
        if self.live is not None:
            await self.live.stop()
        if self.team is not None:
            await self.team.stop()

    # --- the sync lane --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back_to_connect":  # only while not connected, from another screen
            return self.team is None and self.current_mode != "connect" and not self.connected
        return True

    def action_back_to_connect(self) -> None:
        self.switch_mode("connect")

    def action_sync_now(self) -> None:
        """The user's y: always answered (the sync runs out of sight on most screens)."""
        if self.team is not None:  # team mode never calls Salesforce: serve syncs
            self.notify(self.team.sync_now_words(), title="Sync now")
            return
        if self.services.client_factory is not None and not isinstance(
                self.screen, SyncProgressScreen):
            if self.coordinator.running:
                self.notify(f"A {self.coordinator.running} sync is running; another follows it "
                            "(s shows progress)", title="Sync now")
            else:
                self.notify("Sync started — s shows its progress", title="Sync now")
        self.start_sync("incremental")

    def start_sync(self, kind: str) -> None:
        """Start (or coalesce into) a sync; it belongs to the App, not to any screen."""
        if self.services.client_factory is None:
            self.notify("Not connected to Salesforce", severity="warning")
            return
        self.run_worker(self.coordinator.request(kind), group="sync", exit_on_error=False,
                        description=f"{kind} sync")

    async def _run_sync(self, kind: str) -> Any:
        runner = self._sync_runner(kind)
        self.sync_client = runner  # its usage reading, for the sync screen
        self.post_message(SyncStarted(kind))
        try:
            report = await runner.run(
                kind, progress=lambda event: self.post_message(SyncProgress(event)))
        finally:
            self.sync_client = None
            if runner.usage.max:
                self.last_usage = runner.usage
        self._finish_bars(report)
        self.post_message(SyncFinished(report))
        return report

    def _finish_bars(self, report: Any) -> None:
        """A run that ended ok: its bars end on the report's counts (they add up to it)."""
        if report.status == "ok":
            last = {name: p.event for name, p in self.last_progress.items()}
            for event in final_events(last, report.counts):
                self.post_message(SyncProgress(event))

    def _sync_runner(self, kind: str) -> Any:
        """A child process for the big runs (the screen keeps its core); notified records,
        a few at a time, on this loop."""
        if self.services.sync_in_child and kind != "webhook":
            from smvue_tui.services.sync_child import ChildSync

            return ChildSync(self.services.paths)
        from smvue_tui.sync.runner import InProcessSync

        assert self.services.client_factory is not None
        return InProcessSync(self.services.client_factory, self.services.db,
                             self.services.paths, config=self.sync_config)

    def on_sync_progress(self, message: SyncProgress) -> None:
        self.last_progress[message.event.sobject] = message
        self.sync_events.publish(message)

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.last_report = message.report
        self.sync_events.publish(message)
        self.post_message(StoreChanged(frozenset(message.report.counts)))

    def on_store_changed(self, message: StoreChanged) -> None:
        self.store_generation += 1
        if "Organization" in message.sobjects or not message.sobjects:
            self.show_org()  # the first sync brings the org's name
        for screen in self.screen_stack:
            screen.post_message(StoreChanged(message.sobjects))

    def on_sync_started(self, message: SyncStarted) -> None:
        self.last_progress.clear()
        self.sync_events.publish(message)

    # --- global actions ---------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_why_missing(self) -> None:
        self.push_screen(WhyMissingScreen())
