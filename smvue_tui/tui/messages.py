"""Messages that background work posts to the UI (handlers, not workers, change the screen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from smvue_tui.sync.progress import ProgressEvent


@dataclass
class SyncStarted(Message):
    kind: str


@dataclass
class SyncProgress(Message):
    event: ProgressEvent

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgress) and message.event.sobject == self.event.sobject


@dataclass
class SyncFinished(Message):
    report: Any  # smvue_tui.sync.engine.SyncReport


@dataclass
class StoreChanged(Message, bubble=False):
    """Rows changed in the store (a sync, a webhook fetch). The App forwards it to the screens
    on its stacks; each refreshes what it shows."""

    sobjects: frozenset[str]


@dataclass
class Connected(Message):
    org_id: str


@dataclass
class Disconnected(Message):
    org_id: str
