"""Connect to Salesforce: choose environment → review permissions → log in → preflight → sync.

Logging in is the web-server flow with PKCE (``LoginFlow``): the URL to open is shown, the
loopback listener waits for the browser, and a pasted redirected URL (or code) finishes it too;
``d`` switches to the device flow. On the demo orgs of ``smvue-tui --demo`` the ``a`` key
approves the consent page as the demo user. Every Salesforce call runs in an async worker; the
steps swap in one ContentSwitcher.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, OptionList, Static
from textual.widgets.option_list import Option

from smvue_tui.errors import reason
from smvue_tui.salesforce.auth import LoginFlow
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.device import DeviceFlow
from smvue_tui.salesforce.errors import AuthorizationError, SalesforceError
from smvue_tui.services import connection as conn
from smvue_tui.store.org_stores import StoreRefused
from smvue_tui.tui.messages import Connected
from smvue_tui.tui.screens import connect_text as text
from smvue_tui.tui.screens.connect_layout import steps
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.big_text import BigText
from smvue_tui.tui.widgets.keys_footer import KeysFooter


class StorageError(SalesforceError):
    user_message = "Could not save the Salesforce login on this computer"
    remedy = "Check that SMVue's data folder is writable and the disk is not full, then retry."


class StoreNotOpened(SalesforceError):
    """``store/org_stores.py`` refused this org's store (another org's data, or in use)."""

    user_message = "This org's store on this computer could not be opened"

    @classmethod
    def from_refusal(cls, refused: StoreRefused) -> StoreNotOpened:
        error = cls(refused.message, code="store_refused")
        error.remedy = f"{refused.remedy}."
        return error


STEPS = ("choose", "review", "login", "device", "preflight", "error")
_PASTE_AGAIN = frozenset({"state_mismatch", "unrecognised_paste"})


class ConnectScreen(Screen[None]):
    DEFAULT_CSS = """
    ConnectScreen .step { padding: 1 2; }
    ConnectScreen .title { padding: 0 0 1 0; }
    ConnectScreen Static { margin-bottom: 1; }
    ConnectScreen .label { margin-bottom: 0; text-style: bold; }
    ConnectScreen #env-list { height: auto; max-height: 8; margin-bottom: 1; }
    ConnectScreen #my-domain { width: 60; }
    ConnectScreen #review-columns { height: auto; }
    ConnectScreen #review-columns > .column { width: 1fr; }
    ConnectScreen .url { color: $accent; text-style: bold; }
    ConnectScreen .callout { color: $success; text-style: bold; }
    ConnectScreen .error { color: $error; }
    ConnectScreen #paste { margin-bottom: 1; }
    ConnectScreen #device-code { color: $accent; margin: 1 0; }
    """
    BINDINGS = [
        Binding("a", "approve", "Approve (demo org)", id="connect_approve"),
        Binding("o", "open_browser", "Open in browser", id="connect_open"),
        Binding("c", "copy_url", "Copy link", id="connect_copy"),
        Binding("d", "device", "Use a device code", id="connect_device"),
        Binding("enter", "next", "Continue", id="connect_next"),
        Binding("r", "retry", "Try again", id="connect_retry"),
        Binding("escape", "back", "Back", id="connect_back"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = "choose"
        self.choice: conn.Choice | None = None
        self.flow: LoginFlow | None = None
        self.preflight: Any = None
        self.notifications_line = ""  # how updates arrive, as the preflight said it
        self.credentials: Credentials | None = None

    # --- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield app_header()
        yield from steps()
        yield KeysFooter()

    def on_mount(self) -> None:
        options = self.query_one("#env-list", OptionList)
        services: Any = self.app.services  # type: ignore[attr-defined]
        self.choices = conn.choices(services.demo_targets)
        for choice in self.choices:
            options.add_option(Option(f"{choice.title} — {choice.hint}", id=choice.key))
        options.highlighted = 0
        self.query_one("#my-domain", Input).display = False
        options.focus()

    def on_screen_resume(self) -> None:
        if self.step in ("preflight", "error") and not self._busy():
            self._go("choose")  # a finished attempt: start over when shown again

    def _busy(self) -> bool:
        return any(w.is_running and w.node is self for w in self.workers)

    # --- steps -----------------------------------------------------------------------------------

    def _go(self, step: str) -> None:
        self.step = step
        self.query_one(ContentSwitcher).current = step
        focus = {"choose": "#env-list", "review": "#review", "preflight": "#preflight",
                 "login": "#paste" if not self._is_demo() else "#login"}.get(step)
        if focus:
            self.query_one(focus).focus()
        self.refresh_bindings()

    def _is_demo(self) -> bool:
        return bool(self.choice and self.choice.demo is not None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = {"approve": self.step == "login" and self._is_demo(),
                   "device": self.step == "login",
                   "open_browser": self.step == "login",
                   "copy_url": self.step == "login",
                   "next": self.step in ("review", "preflight"),
                   "retry": self.step == "error" or (self.step == "preflight"
                                                     and not self._preflight_ok()),
                   "back": self.step != "choose"}
        return allowed.get(action, True)

    def _preflight_ok(self) -> bool:
        return self.preflight is not None and self.preflight.ok

    @on(OptionList.OptionHighlighted, "#env-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        choice = self._choice(event.option.id)
        self.query_one("#my-domain", Input).display = bool(choice and choice.needs_host)

    @on(OptionList.OptionSelected, "#env-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        choice = self._choice(event.option.id)
        if choice is None:
            return
        if choice.needs_host:
            self.query_one("#my-domain", Input).focus()
            return
        self._review(choice)

    @on(Input.Submitted, "#my-domain")
    def _host_typed(self, event: Input.Submitted) -> None:
        choice = self._choice("my-domain")
        if choice is None:
            return
        try:
            conn.login_environment(event.value)
        except ValueError as exc:
            self.query_one("#choose-error", Static).update(escape(str(exc)))
            return
        self.query_one("#choose-error", Static).update("")
        self._review(choice)

    def _choice(self, key: str | None) -> conn.Choice | None:
        return next((c for c in self.choices if c.key == key), None)

    def _review(self, choice: conn.Choice) -> None:
        self.choice = choice
        where = self._where()
        self.query_one("#review-title", Static).update(
            f"Review the permissions SMVue is requesting (read-only) — {escape(where)}")
        self._go("review")

    def _where(self) -> str:
        choice = self.choice
        if choice is None:
            return ""
        if choice.needs_host:
            host = self.query_one("#my-domain", Input).value.strip()
            return f"My Domain ({host})"
        return choice.title + ("" if choice.demo is None else " (demo org)")

    # --- actions ---------------------------------------------------------------------------------

    def action_next(self) -> None:
        if self.step == "review":
            self._start_login()
        elif self.step == "preflight" and self._preflight_ok():
            from smvue_tui.sync.runner import initial_or_incremental

            # An org synced before (its store kept everything) catches up; a new one reads all.
            self.app.start_sync(initial_or_incremental())  # type: ignore[attr-defined]
            self.app.switch_mode("sync")

    def action_back(self) -> None:
        if self.step in ("login", "device"):
            self.workers.cancel_group(self, "connect-login")
            self._go("review")
        elif self.step != "choose":
            self.workers.cancel_group(self, "connect-login")
            self._go("choose")

    def action_retry(self) -> None:
        if self.choice is not None:
            self._start_login()

    def action_approve(self) -> None:
        if self.flow is not None and self.choice is not None and self.choice.demo is not None:
            self._approve_demo(self.flow, self.choice.demo.org)

    def action_open_browser(self) -> None:
        if self.flow is not None:
            self.app.open_url(self.flow.authorization_url)

    def action_copy_url(self) -> None:
        if self.flow is not None:  # OSC 52: works over SSH in most terminals
            self.app.copy_to_clipboard(self.flow.authorization_url)
            self.notify("Login link copied")

    def action_device(self) -> None:
        if self.choice is not None:
            self._device_login(self.choice, self._typed_host())

    def _typed_host(self) -> str:
        return self.query_one("#my-domain", Input).value

    def _start_login(self) -> None:
        assert self.choice is not None
        self.query_one("#paste", Input).value = ""
        self.query_one("#paste-error", Static).update("")
        self._web_login(self.choice, self._typed_host())

    # --- login workers ------------------------------------------------------------------------

    @work(exclusive=True, group="connect-login", exit_on_error=False,
          description="Salesforce login")
    async def _web_login(self, choice: conn.Choice, host: str) -> None:
        try:
            flow = conn.prepare_login(choice, host, self.app.services.paths)  # type: ignore
            if flow.environment.name == "my-domain":  # typed: it must answer
                await conn.check_reachable(flow.environment)
            async with flow:
                self.flow = flow
                self._show_login(flow)
                creds = await flow.wait_for_redirect()
            self.flow = None
            await self._connected(creds)
        except (SalesforceError, ValueError, OSError) as exc:
            self._show_error(exc)
        finally:
            self.flow = None

    def _show_login(self, flow: LoginFlow) -> None:
        where = flow.environment.label()
        self.query_one("#login-title", Static).update(f"Log in to Salesforce — {escape(where)}")
        hint = self.query_one("#demo-hint", Static)
        if self.choice is not None and self.choice.demo is not None:
            org = self.choice.demo.org
            hint.update(f"Demo org: press a to approve as {escape(org.username)} "
                        "(the same as logging in and clicking Allow).")
        hint.display = self._is_demo()
        self.query_one("#login-url", Static).update(escape(flow.authorization_url))
        self.query_one("#login-waiting", Static).update(
            f"Waiting for the browser to come back to {escape(flow.redirect_uri)} …")
        self.query_one("#paste", Input).placeholder = f"{flow.redirect_uri}?code=…"
        self._go("login")

    @work(group="connect-paste", exit_on_error=False, description="pasted login")
    async def _paste(self, flow: LoginFlow, pasted: str) -> None:
        error = self.query_one("#paste-error", Static)
        error.update("Checking…")
        try:
            await flow.complete_with_pasted(pasted)
        except SalesforceError as exc:
            if exc.code == "login_finished":
                return
            again = " Paste again." if exc.code in _PASTE_AGAIN else ""
            error.update(escape(f"That did not work: {exc.detail or exc.user_message}.{again}"))
            return
        error.update("")

    @on(Input.Submitted, "#paste")
    def _pasted(self, event: Input.Submitted) -> None:
        if self.flow is not None and event.value.strip():
            self._paste(self.flow, event.value)

    @work(group="connect-paste", exit_on_error=False, description="demo approval")
    async def _approve_demo(self, flow: LoginFlow, org: Any) -> None:
        try:
            await conn.approve_demo_consent(flow, org)
        except SalesforceError as exc:
            if exc.code != "login_finished":
                self.query_one("#paste-error", Static).update(escape(exc.describe()))

    @work(exclusive=True, group="connect-login", exit_on_error=False,
          description="Salesforce device login")
    async def _device_login(self, choice: conn.Choice, host: str) -> None:
        from smvue_tui.salesforce.consumer import consumer_for
        try:
            environment = conn.login_environment(choice.login or host)
            flow = DeviceFlow(environment, consumer_for(environment))
            codes = await flow.start()
            self.query_one("#device-url", Static).update(escape(codes.verification_uri))
            self.query_one("#device-code", BigText).show(codes.user_code)
            self.query_one("#device-code-plain", Static).update(f"({codes.user_code})")
            self._go("device")
            creds = await flow.poll()
            await self._connected(creds)
        except (SalesforceError, ValueError, OSError) as exc:
            self._show_error(exc)

    # --- after the login ----------------------------------------------------------------------

    async def _connected(self, creds: Credentials) -> None:
        """Save the login, point the app at it, then run preflight and show it."""
        from smvue_tui.salesforce.preflight import run_preflight
        from smvue_tui.services.live_choice import add_cdc_preflight

        app: Any = self.app
        self.credentials = creds
        try:  # this org's store: its own data, never another org's
            await app.switch_org(creds.org_id)
        except StoreRefused as exc:
            raise StoreNotOpened.from_refusal(exc) from None
        paths = app.services.paths
        await asyncio.to_thread(conn.save_login, paths, creds)
        app.services.client_factory = conn.client_factory_for(paths)
        self.preflight = None
        self.query_one("#preflight-title", Static).update(
            f"Logged in as {escape(creds.who())}. Checking what SMVue can read…")
        self.query_one("#preflight-lines", Static).update("")
        self.query_one("#preflight-next", Static).update("")
        self._go("preflight")
        client = conn.client_from_credentials(paths, creds)
        try:
            report = await run_preflight(client)
            await add_cdc_preflight(report, creds, app.services.config(), app.services.demo_targets)
        finally:
            await client.aclose()
        await asyncio.to_thread(_remember_org, paths, creds, report)
        notifications = await self._start_live(creds) if report.ok else ""
        self.preflight = report
        app.post_message(Connected(creds.org_id))
        self.query_one("#preflight-title", Static).update(
            f"Connected to {escape(text.org_heading(report))} as {escape(creds.who())}")
        self.notifications_line = notifications
        self.query_one("#preflight-lines", Static).update(
            text.preflight_text(report, notifications))
        self.query_one("#preflight-next", Static).update(
            "All set. Press Enter to start the initial sync." if report.ok else
            "SMVue cannot sync this org yet. Fix the items marked ✗, then press r to log in "
            "and check again, or Esc to choose another environment.")
        self.refresh_bindings()

    async def _start_live(self, creds: Credentials) -> str:
        """The scheduled resync, and the change-notification automation when a public webhook
        URL is configured (best effort: without it, updates come from the resync)."""
        app: Any = self.app
        if not app.services.background:
            return ""
        await app.start_live()
        # A demo org's automation is deployed by the App in the background: wait for it, so
        # this line and the Integrations card read the same deployment. None with CDC or
        # polling — and an empty list would wait for every worker, this one too: a
        # DeadlockError that ended preflight silently at "Checking what SMVue can read…".
        deploying = [w for w in app.workers if w.group == "automation"]
        if deploying:
            await app.workers.wait_for_complete(deploying)
        return await conn.deploy_notifications(app.services.paths, app.services.webhook(),
                                               creds)

    def _show_error(self, exc: Exception) -> None:
        if isinstance(exc, SalesforceError):
            body = text.error_text(exc)
        elif isinstance(exc, OSError):  # the token file or the store could not be written
            body = text.error_text(StorageError(reason(exc), code="storage"))
        else:  # a host the user typed
            body = text.error_text(AuthorizationError(str(exc), code="bad_login_host"))
        self.query_one("#error-text", Static).update(body)
        self._go("error")


def _remember_org(paths: Any, creds: Credentials, report: Any) -> None:
    if report.is_sandbox is not None:
        conn.mark_sandbox(creds.org_id, report.is_sandbox)
    conn.save_org_info(paths, creds.org_id, report)
