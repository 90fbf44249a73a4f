"""Settings > Integrations: the Salesforce card, with Connect, Disconnect and Sync Now.

Disconnect revokes and forgets the login and marks the connection; every synced record, note
and action item stays (the product page: "Existing data in SMVue remains").
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from smvue_tui.services import connection as conn
from smvue_tui.services.integration_card import Card, load_card
from smvue_tui.tui.messages import Disconnected, StoreChanged, SyncFinished
from smvue_tui.tui.screens.resume import KeepStyles, LatestRead, StoreReads, shown
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.confirm import ConfirmModal
from smvue_tui.tui.widgets.keys_footer import KeysFooter

DISCONNECT_DETAILS = (
    "• SMVue stops syncing new data from Salesforce\n"
    "• Existing data in SMVue remains (not deleted)\n"
    "• Your notes and action items are kept\n"
    "• The Salesforce login is revoked and forgotten on this machine\n\n"
    "To reconnect later, press c on this card: all your SMVue data will still be there."
)


class IntegrationsScreen(StoreReads, KeepStyles, Screen[None]):
    BINDINGS = [
        Binding("c", "connect", "Connect / log in again", id="integrations_connect"),
        Binding("x", "disconnect", "Disconnect", id="integrations_disconnect"),
    ]
    DEFAULT_CSS = """
    IntegrationsScreen #card { margin: 1 2; height: auto; border: round $primary;
                               border-title-style: bold; padding: 0 1; }
    IntegrationsScreen .row { margin-bottom: 0; }
    IntegrationsScreen #card-status.-connected { color: $success; text-style: bold; }
    IntegrationsScreen #card-status.-disconnected { color: $warning; text-style: bold; }
    IntegrationsScreen #card-message { margin: 0 2; }
    IntegrationsScreen #card-hint { margin: 1 2; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.card: Card | None = None
        # One read at a time; asked again meanwhile, once more after it: an older read never
        # paints over a newer one (a disconnect's), and the last state asked for is shown.
        self._card_reads = LatestRead()

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static("Settings > Integrations", classes="title")
        with Vertical(id="card"):
            yield Static("", id="card-status")
            yield Static("", id="card-body")
        yield Static("", id="card-message")
        yield Static("Connected the wrong environment (sandbox instead of production)? Press x "
                     "to disconnect, then c to connect and choose the other one — your SMVue "
                     "data stays.", id="card-hint", classes="muted")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#card").border_title = "Salesforce"
        self.app.sync_events.subscribe(self, self._on_sync_event)  # type: ignore[attr-defined]
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def on_store_changed(self, _message: StoreChanged) -> None:
        if shown(self):  # hidden (a dialog on top): on_screen_resume reads
            self.reload()

    def _on_sync_event(self, message: Any) -> None:
        if isinstance(message, SyncFinished):
            self.reload()

    # --- reading the store ----------------------------------------------------------------------

    def reload(self) -> None:
        self.read_latest(self._card_reads, self._read)

    @work(thread=True, group="integrations-load", exit_on_error=False,
          description="read the Salesforce card")
    def _read(self) -> None:
        try:
            card: Card | None = load_card(self.app.services.paths)  # type: ignore[attr-defined]
        except Exception:  # never leave the read "running": the next one could not start
            card = None
            raise
        finally:
            self.app.call_from_thread(self._show_read, card)

    def _show_read(self, card: Card | None) -> None:
        if card is not None:
            self._show(card)
        self.read_done(self._card_reads, self._read)

    def _show(self, card: Card) -> None:
        live = getattr(self.app, "live", None)
        if card.connected and live is not None and not card.next_sync.startswith("paused"):
            upcoming = live.next_runs().get("incremental")
            if upcoming is not None:
                every = f"{live.settings.resync_minutes:g}"
                card.next_sync = (f"scheduled resync every {every} min — next at "
                                  f"{upcoming:%H:%M}")
        if card == self.card:
            return  # what is on screen (shown again, nothing changed): no redraw
        if card.connected and self.card is not None and not self.card.connected:
            self._say("")  # "Disconnected…" belongs to the state that ended
        self.card = card
        status = self.query_one("#card-status", Static)
        if card.connected and card.login_missing:
            status.update("◐ Logged out (the stored login was removed) — your data is kept. "
                          "Press c to log in again.")
        elif card.connected:
            status.update("● Connected")
        elif card.ever_connected:
            status.update(f"○ Disconnected {card.disconnected_at} — your data is kept. "
                          "Press c to reconnect.")
        else:
            status.update("○ Not connected. Press c to connect Salesforce.")
        status.set_class(card.connected, "-connected")
        status.set_class(card.ever_connected and not card.connected, "-disconnected")
        self.query_one("#card-body", Static).update(card_text(card))
        self.refresh_bindings()

    def _say(self, text: str) -> None:
        self.query_one("#card-message", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if getattr(self.app, "team", None) is not None and action in ("connect", "disconnect"):
            return False  # team mode: serve's login is the org's; nothing to connect here
        if self.card is None:
            return True
        if action == "disconnect":
            return self.card.connected
        return True  # connect while connected = log in again (an expired login)

    # --- actions -------------------------------------------------------------------------------

    def action_connect(self) -> None:
        self.app.switch_mode("connect")

    def action_disconnect(self) -> None:
        self.app.push_screen(
            ConfirmModal("Disconnect Salesforce?", DISCONNECT_DETAILS, "Disconnect"),
            self._confirmed)

    def _confirmed(self, answer: bool | None) -> None:
        if answer:
            self._disconnect()

    @work(exclusive=True, group="integrations-disconnect", exit_on_error=False,
          description="disconnect Salesforce")
    async def _disconnect(self) -> None:
        app: Any = self.app
        message = self.query_one("#card-message", Static)
        message.update("Disconnecting…")
        org_id = self.card.org_id if self.card else ""
        app.coordinator.cancel()
        if getattr(app, "live", None) is not None:  # no scheduled resync without a login
            await app.live.stop()
            app.live = None
        result = await conn.disconnect(app.services.paths)
        app.services.client_factory = None
        app.post_message(Disconnected(org_id))
        lines = ["Disconnected. Your SMVue data, notes and action items are kept."]
        if result.removed:
            lines.append(f"Removed the change-notification automation ({result.removed} "
                         "components) from Salesforce.")
        for item in result.left_behind:
            lines.append(f"Left in Salesforce (remove by hand): {escape(item)}")
        if result.logout.error is not None:
            lines.append("Salesforce did not confirm the revoke "
                         f"({escape(result.logout.error.user_message)}); revoke it by hand in "
                         "Salesforce Setup > Connected Apps OAuth Usage if needed.")
        message.update("\n".join(lines))
        self.reload()


def card_text(card: Card) -> str:
    """The card's lines (Rich markup)."""
    if not card.ever_connected:
        return ("Connect SMVue to Salesforce to sync opportunities, accounts, and activities.\n"
                "Production — Most common (login.salesforce.com) · "
                "Sandbox — For testing (test.salesforce.com)")
    org = card.org_name or "(name appears after the connection check)"
    rows = [
        ("Environment", f"{card.environment} ({card.login_host})"),
        ("Org", f"{org} · {card.org_id} · {'SANDBOX' if card.is_sandbox else 'Production'}"
         + (f" · {card.edition}" if card.edition else "")),
        ("User", card.user or "—"),
        ("Connected", card.connected_at),
        ("Last sync", card.last_sync),
    ]
    if card.last_sync_problem:
        rows.append(("Problem", card.last_sync_problem))
    rows += [
        ("Next sync", card.next_sync if card.connected else "— (not connected)"),
        ("Live updates", card.notifications),  # the live mode, its reason and today's count
        ("Automation", automation_text(card)),
        ("API usage", card.api_usage),
        ("Stored", f"{card.records:,} opportunities"),
    ]
    return "\n".join(f"[b]{name:<21}[/b]{escape(value)}" for name, value in rows)


def automation_text(card: Card) -> str:
    if not card.automation:
        return "none deployed in Salesforce"
    lines = []
    for item in card.automation:
        line = f"{item.type} {item.full_name}: {item.state}"
        if item.state == "left behind":
            line += f" ({item.reason}) — remove by hand in {item.setup_path or 'Salesforce Setup'}"
        elif item.state == "deployed" and item.setup_path:
            line += f" ({item.setup_path})"
        lines.append(line)
    return ("\n" + " " * 21).join(lines)
