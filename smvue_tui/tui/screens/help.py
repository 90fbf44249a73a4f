"""The keys: every binding of the screen below and of the app, with what it does.

The same list the command palette offers (``commands.commands_for``), so the keys the footer
has no room for are here, with the user's remapped keys.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from smvue_tui.tui.commands import commands_for
from smvue_tui.tui.widgets.keys_footer import KeysFooter


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help_close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-box { width: 72; height: auto; max-height: 90%; border: round $primary;
                             background: $panel; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="help-box"):
            yield Static("Keys  (remap them in config.toml under [keys])", classes="title",
                         markup=False)
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Binding id")
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else self.app.screen
        for command in commands_for(below):
            table.add_row(" / ".join(command.keys), command.title, command.binding_id)
