"""A yes/no question in a modal: Enter confirms, Esc cancels (buttons for the mouse)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmModal(ModalScreen[bool]):
    AUTO_FOCUS = None  # no button focused: Enter and Esc mean what the footer says
    BINDINGS = [
        Binding("enter", "answer(True)", "Confirm", id="confirm_yes"),
        Binding("escape", "answer(False)", "Cancel", id="confirm_no"),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > #confirm-box { width: 76; height: auto; border: round $warning;
                                  background: $panel; padding: 1 2; }
    ConfirmModal .question { text-style: bold; margin-bottom: 1; }
    ConfirmModal #confirm-buttons { height: auto; margin-top: 1; }
    ConfirmModal Button { margin-right: 2; }
    """

    def __init__(self, question: str, details: str, confirm_label: str) -> None:
        super().__init__()
        self.question = question
        self.details = details
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, classes="question")
            yield Static(self.details)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm_label} (Enter)", variant="error", id="yes")
                yield Button("Cancel (Esc)", id="no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")
