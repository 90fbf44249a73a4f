"""Small modals of the pipeline and deal screens: pick one, fill a form, write a note, confirm.

Each returns its answer through ``dismiss`` (None: cancelled with escape). Validation errors
are shown inside the modal, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

T = TypeVar("T")


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A form's validated value (a modal dismissed with None was cancelled)."""

    value: T


class ChoiceModal(ModalScreen[Any]):
    """Pick one of ``choices`` ((value, label) pairs); enter picks, escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="modal_cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[Any, str]],
                 highlighted: int = 0) -> None:
        super().__init__(classes="pl-modal")
        self.title_text = title
        self.choices = list(choices)
        self.highlighted = highlighted

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(Text(self.title_text), classes="title")
            # Text: names and stages come from Salesforce and are not markup.
            yield OptionList(*[Option(Text(label), id=str(i))
                               for i, (_, label) in enumerate(self.choices)])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = min(self.highlighted, max(len(self.choices) - 1, 0))
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][0])


class FormModal(ModalScreen[Answer[Any] | None]):
    """A few labelled inputs; ``validate(values)`` returns the answer or raises ValueError."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="modal_cancel")]

    def __init__(self, title: str, fields: Sequence[tuple[str, str]],
                 validate: Callable[[list[str]], Any], hint: str = "") -> None:
        super().__init__(classes="pl-modal")
        self.title_text = title
        self.fields = list(fields)
        self.validate = validate
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(Text(self.title_text), classes="title")
            if self.hint:
                yield Static(self.hint, classes="muted")
            for i, (label, initial) in enumerate(self.fields):
                yield Label(label)
                yield Input(initial, id=f"field-{i}")
            yield Static("", id="form-error", classes="error")
            yield Static("enter: save · escape: cancel", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#field-0", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        try:
            value = self.validate([i.value for i in inputs])
        except ValueError as exc:
            self.query_one("#form-error", Static).update(Text(str(exc)))
            return
        self.dismiss(Answer(value))


class NoteModal(ModalScreen[str | None]):
    """Write or edit a note; ctrl+s saves, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="note_save"),
        Binding("escape", "dismiss(None)", "Cancel", id="modal_cancel"),
    ]

    def __init__(self, title: str, body: str = "") -> None:
        super().__init__(classes="pl-modal")
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(Text(self.title_text), classes="title")
            yield TextArea(self.body, id="note-body", show_cursor=True)
            yield Static("", id="form-error", classes="error")
            yield Static("ctrl+s: save · escape: cancel", classes="muted")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.query_one("#form-error", Static).update("A note cannot be empty")
            return
        self.dismiss(text.strip())


class ConfirmModal(ModalScreen[bool]):
    """Yes (y/enter) or no (n/escape)."""

    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "dismiss(False)", "No", id="confirm_no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="pl-modal")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(self.question, classes="title")
            yield Static("y: yes · n: no", classes="muted")


def parse_probability(values: list[str]) -> float | None:
    """A FormModal validator: 0–100 (a trailing % is fine); blank means \"clear\"."""
    text = values[0].strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"a probability is a number from 0 to 100, not {text!r}") from None
    if not 0 <= value <= 100:
        raise ValueError(f"a probability is a percentage from 0 to 100, not {value:g}")
    return value


def parse_range(values: list[str]) -> tuple[date | None, date | None]:
    """A FormModal validator: two optional YYYY-MM-DD dates, in order."""
    bounds: list[date | None] = []
    for text in values:
        try:
            bounds.append(date.fromisoformat(text.strip()) if text.strip() else None)
        except ValueError:
            raise ValueError(f"dates look like 2026-12-31, not {text.strip()!r}") from None
    start, end = bounds
    if start and end and start > end:
        raise ValueError("the period ends before it starts")
    return start, end
