"""The Connect screen's steps as widgets, one container per step in a ContentSwitcher."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Input, OptionList, Static

from smvue_tui.tui.screens import connect_text as text
from smvue_tui.tui.widgets.big_text import BigText


def steps() -> ComposeResult:
    """choose → review → login (or device) → preflight; error when a step fails."""
    with ContentSwitcher(initial="choose", id="connect-steps"):
        with Vertical(id="choose", classes="step"):
            yield Static("Connect to Salesforce", classes="title")
            yield Static(text.INTRO)
            yield Static(text.requirements(), classes="muted")
            yield Static("Choose your Salesforce environment:", classes="label")
            yield OptionList(id="env-list")
            yield Input(placeholder="acme.my.salesforce.com", id="my-domain")
            yield Static("", id="choose-error", classes="error")
            yield Static("↑/↓ choose · Enter continue", classes="muted")
        with VerticalScroll(id="review", classes="step"):  # scrolls on a short terminal
            yield Static("", id="review-title", classes="title")
            yield Static(text.read_only_note())  # first: never below the fold
            left, right = text.permissions_columns()
            with Horizontal(id="review-columns"):
                yield Static(left, classes="column")
                yield Static(right, classes="column")
            yield Static("Enter: log in to Salesforce and click Allow · Esc: back",
                         classes="muted")
        with VerticalScroll(id="login", classes="step"):
            yield Static("", id="login-title", classes="title")
            yield Static("", id="demo-hint", classes="callout")
            yield Static("Open this URL in a browser to log in:")
            yield Static("", id="login-url", classes="url")
            yield Static("", id="login-waiting", classes="muted")
            yield Static("Browser on another machine? Paste the URL it ended on (or just "
                         "its code) and press Enter:")
            yield Input(placeholder="http://localhost:1717/OauthRedirect?code=…",
                        id="paste")
            yield Static("", id="paste-error", classes="error")
            yield Static("o: open in a browser here · c: copy the link · d: use a device "
                         "code instead · Esc: back", classes="muted")
        with Vertical(id="device", classes="step"):
            yield Static("Log in with a code", classes="title")
            yield Static("On any device, open:")
            yield Static("", id="device-url", classes="url")
            yield Static("and enter the code:")
            yield BigText("", id="device-code")
            yield Static("", id="device-code-plain", classes="muted")
            yield Static("Waiting for you to approve… · Esc: back", classes="muted")
        with VerticalScroll(id="preflight", classes="step"):
            yield Static("", id="preflight-title", classes="title")
            yield Static("", id="preflight-lines")
            yield Static("", id="preflight-next", classes="callout")
        with Vertical(id="error", classes="step"):
            yield Static("Could not connect", classes="title")
            yield Static("", id="error-text")
            yield Static("r: try again · Esc: choose another environment", classes="muted")
