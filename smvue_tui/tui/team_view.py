"""The TUI in team mode: it reads a team store that ``smvue-tui serve`` keeps fresh.

No sync, no live mode, no Salesforce call for data: the screens refresh when the writer commits
(``services/team_listen.py`` hears PostgreSQL's NOTIFY and this posts ``StoreChanged``), and the
header says who the writer is and when it last synced — plainly when it is gone or silent
(``services/team_mode.py``). The writer's status is read again on each of its commits and every
``STATUS_SECONDS`` (a dead writer commits nothing, so only a clock can notice it went).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from smvue_tui.services.team_listen import ChangeListener, status_only
from smvue_tui.services.team_status import describe_writer, writer_status
from smvue_tui.tui.messages import StoreChanged

log = logging.getLogger(__name__)
STATUS_SECONDS = 15.0


class TeamView:
    def __init__(self, app: Any, settings: Any) -> None:
        self.app = app
        self.settings = settings
        self.listener: ChangeListener | None = None
        self.writer_text = "team store"
        self.writer_ok = True
        self.heard = 0  # data commits heard (tests and the benchmark wait on it)
        self.heard_at = 0.0  # time.perf_counter() of the last (the benchmark's hear→screen)
        self._warned = False

    def start(self) -> None:
        """Listen for the writer's commits and watch its status (on the app's loop)."""
        self.listener = ChangeListener(self.settings.url, self.settings.schema, self._changed,
                                       on_state=self._listener_state)
        self.listener.start()
        self.app.set_interval(STATUS_SECONDS, self.refresh_status)
        self.app.call_later(self.refresh_status)

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None

    def _changed(self, names: frozenset[str]) -> None:
        self.app.call_later(self.refresh_status)
        if not status_only(names):
            self.heard += 1
            self.heard_at = time.perf_counter()
            self.app.post_message(StoreChanged(names))

    def _listener_state(self, state: str) -> None:
        if state.startswith("lost"):
            self.app.notify(f"Not hearing the team store ({state[6:]}); retrying — the "
                            "screens may lag until it is back", title="Team store",
                            severity="warning", timeout=20)

    async def refresh_status(self) -> None:
        try:
            status = await asyncio.to_thread(writer_status, self.settings.org_id)
        except Exception as exc:  # the server is away: the listener says so too
            log.warning("team store status: %s", exc)
            return
        text, ok = describe_writer(status)
        if (text, ok) == (self.writer_text, self.writer_ok):
            return
        self.writer_text, self.writer_ok = text, ok
        self.app.show_org()
        if not ok and not self._warned:
            self.app.notify(text.removeprefix("team store · "), title="Team store",
                            severity="warning", timeout=30)
        self._warned = not ok

    def sync_now_words(self) -> str:
        return ("This screen reads the team store; `smvue-tui serve` syncs it for everyone "
                f"({self.writer_text.removeprefix('team store · ')})")
