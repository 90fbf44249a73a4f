"""What a screen redoes when it is shown again (a mode switch back to it): only what changed.

``shown(screen)``: whether the manager sees the screen — the top of the screen stack. A screen
reads the store on ``StoreChanged`` only when shown, and on resume when it missed a change.

``StoreReads``: the App counts every ``StoreChanged`` in ``store_generation`` and forwards the
message to the screens of the current mode only; a screen of another mode notes the generation
as each read starts and, on resume, reads again only if it moved.

``LatestRead`` (used through ``StoreReads.read_latest``): one read of a kind at a time, however
often it is asked for. A change during a read asks for one more after it, so the newest state is
always shown in the end and an older read never paints over a newer one (results arrive in the
order the reads started); reads may also be spaced (a minimum gap, and a gap in proportion to
what the last read cost), so live updates every second cannot keep a core busy re-reading. A
key the manager pressed asks unspaced: it waits only for a running read.

``StoreReads.retry_when_free``: a read that met a sync's write lock (said in words by the screen,
``widgets.busy``) is made again a few seconds later, one retry pending per kind of read.

``outcome_of`` (in the read's worker thread) and ``StoreReads.show_outcome`` (as it arrives): a
read's value, its failure in words, or "busy" — always delivered, so its ``LatestRead`` turn
ends whatever befell it — then shown, a busy one retried, and the next read let start.

``KeepStyles``: Textual restyles every widget of a resumed screen. Nothing a screen's styles
depend on changes while it is hidden — a new theme or stylesheet is applied by ``switch_mode``
itself (``refresh_css`` when the screen's CSS is out of date) — but the restyle makes a
``DataTable`` drop every line it drew and render each cell again (tens of ms per switch).

A new screen counts as styled as it is made: Textual styles its widgets as they are registered,
with the stylesheet of the moment (as for a pushed screen). Otherwise the first switch to a
mode re-parses every stylesheet source and restyles every installed screen, twice (Textual's
``switch_mode`` sees a screen that never had a ``refresh_css``) — 60–130 ms of a screen's
first visit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from textual import events
from textual.app import ScreenStackError

from smvue_tui.tui.widgets.busy import busy_words, error_words

T = TypeVar("T")


def shown(screen: Any) -> bool:
    """``screen`` is the one the manager sees: the top of the screen stack. Not Textual's
    ``Screen.is_current``, also true for the screen right under the top one (under a deal
    screen or a dialog, ``App._background_screens``): reading there is work nobody sees, and
    a sync posts StoreChanged every second. A screen that skips a read while hidden makes it
    on resume (``StoreReads.changed_since_read``)."""
    try:
        return bool(screen.app.screen is screen)
    except ScreenStackError:  # no screen yet (start-up) or none left (shut-down)
        return False


class LatestRead:
    """When to start a read of one kind: never two at once; asked during a read → once more
    after it; never sooner than ``min_gap`` seconds, nor ``cost_factor`` × the last read's
    duration, after the last read started. Pure bookkeeping (the clock is injectable); the
    screen starts the reads and the timers (``StoreReads.read_latest``)."""

    def __init__(self, min_gap: float = 0.0, cost_factor: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.min_gap, self.cost_factor, self.clock = min_gap, cost_factor, clock
        self.running = False
        self.wanted = False  # asked for while a read ran or a timer waited
        self.urgent = False  # … and one of those asks was unspaced
        self.timer: Any = None  # the timer StoreReads set for a spaced read
        self.timer_set = False
        self.started_at: float | None = None
        self._before: float | None = None  # the start before it (a cancelled start goes back)
        self.last_cost = 0.0

    def ask(self, spaced: bool = True) -> float | None:
        """0: start a read now (it counts as running); > 0: ask again after that many seconds
        (set a timer); None: nothing to do now — a running read or a set timer will see to it.
        ``spaced=False`` (a key the manager pressed): never waits for the gap — still never
        two at once — and overtakes a waiting timer (``timer`` is then stopped)."""
        if self.running or (self.timer_set and spaced):
            self.wanted = True
            self.urgent = self.urgent or not spaced
            return None
        if spaced and self.started_at is not None:
            wait = self.started_at + max(self.min_gap, self.cost_factor * self.last_cost) \
                - self.clock()
            if wait > 0:
                self.timer_set = True
                return wait
        self.running, self.wanted, self.urgent, self.timer_set = True, False, False, False
        self._before, self.started_at = self.started_at, self.clock()
        return 0.0

    def timer_fired(self) -> float | None:
        if not self.timer_set:  # overtaken by an unspaced ask: that read saw to it
            return None
        self.timer_set = False
        return self.ask()

    def cancel(self) -> None:
        """The read ``ask`` allowed was not started after all (nor is one more owed): the next
        is spaced from the last read that ran."""
        self.running = self.wanted = self.urgent = False
        self.started_at = self._before

    def done(self, counted: bool = True) -> float | None:
        """A read's result has arrived: what ``ask`` says when one more was asked for, else
        None. ``counted=False``: its time was spent waiting (a held lock), not working — it
        does not space the next read."""
        self.running = False
        if counted and self.started_at is not None:
            self.last_cost = max(0.0, self.clock() - self.started_at)
        if self.wanted:
            spaced = not self.urgent
            self.wanted = self.urgent = False
            return self.ask(spaced)
        return None


@dataclass
class ReadOutcome(Generic[T]):
    """What a store read came to: its ``value``, or why there is none in words (``error``);
    ``busy``: a sync held the store's write lock (``error`` says so) — what is shown stays."""

    value: T | None = None
    error: str = ""
    busy: bool = False


def outcome_of(read: Callable[[], T], deliver: Callable[[ReadOutcome[T]], None], *,
               said: tuple[type[Exception], ...] = (Exception,), fault: str = "") -> None:
    """In a read's worker thread: ``read()``, and ``deliver`` what came of it — always, even
    for a fault, since the outcome ends the read's ``LatestRead`` turn (else no other read could
    start). A sync's write lock: busy. An exception of ``said`` (bad settings, a deal gone) is
    the answer, in its words. Any other is a fault: delivered as ``fault`` (when "", in its own
    words), then raised for the worker's error handler to tell."""
    outcome: ReadOutcome[T] = ReadOutcome(error=fault or "the store could not be read")
    try:
        outcome = ReadOutcome(read())
    except Exception as exc:
        if busy := busy_words(exc):
            outcome = ReadOutcome(error=busy, busy=True)
        else:
            outcome = ReadOutcome(error=fault if fault and not isinstance(exc, said)
                                  else error_words(exc))
            if not isinstance(exc, said):
                raise
    finally:
        deliver(outcome)


class StoreReads:
    """Mixin for a Screen: ``note_read()`` as a store read starts, ``changed_since_read()``
    on resume; ``read_latest``/``read_done`` run a kind of read through its ``LatestRead``;
    ``retry_when_free`` reads again a while after a sync's write lock stopped a read;
    ``show_outcome`` shows an ``outcome_of`` and ends its read's turn."""

    BUSY_RETRY = 5.0  # seconds before reading again when a sync held the store's write lock

    _read_generation: int | None = None

    app: Any
    set_timer: Callable[..., Any]

    def note_read(self) -> None:
        self._read_generation = self.app.store_generation

    def forget_read(self) -> None:
        """The read owed was not made (the screen was hidden): read on the next resume."""
        self._read_generation = None

    def changed_since_read(self) -> bool:
        return self._read_generation != self.app.store_generation

    def read_latest(self, gate: LatestRead, start: Callable[[], None],
                    spaced: bool = True) -> None:
        """Ask ``gate`` for a read: ``start()`` now, after the running one, or after the gap
        (``spaced=False``: never the gap — a key the manager pressed)."""
        self._follow(gate, gate.ask(spaced), start)

    def read_done(self, gate: LatestRead, start: Callable[[], None],
                  counted: bool = True) -> None:
        """Call as a read's result is shown: starts the next one if it was asked for.
        ``counted=False`` for a read that met a sync's write lock (it waited, not worked)."""
        self._follow(gate, gate.done(counted), start)

    def _follow(self, gate: LatestRead, step: float | None, start: Callable[[], None]) -> None:
        if step == 0:
            if gate.timer is not None:  # an unspaced read overtook the timer
                gate.timer.stop()
                gate.timer = None
            start()
        elif step is not None:
            gate.timer = self.set_timer(step, lambda: self._fired(gate, start),
                                        name="latest-read")

    def _fired(self, gate: LatestRead, start: Callable[[], None]) -> None:
        gate.timer = None
        self._follow(gate, gate.timer_fired(), start)

    def retry_when_free(self, kind: str, again: Callable[[], None]) -> None:
        """A read of ``kind`` met a sync's write lock (``widgets.busy``; the screen says so in
        its words): ``again()`` in ``BUSY_RETRY`` seconds. One retry pending per kind, however
        many reads met the lock — a sync's pages each post StoreChanged and each may read
        again: else each would start its own chain of retries."""
        retries: dict[str, Any] | None = getattr(self, "_busy_retries", None)
        if retries is None:
            retries = self._busy_retries = {}
        pending = retries.pop(kind, None)
        if pending is not None:
            pending.stop()
        retries[kind] = self.set_timer(self.BUSY_RETRY, again, name=f"{kind}-busy-retry")

    def show_outcome(self, outcome: ReadOutcome[Any], gate: LatestRead,
                     start: Callable[[], None], show: Callable[[], None],
                     retry: tuple[str, Callable[[], None]]) -> None:
        """A read's outcome (``outcome_of``) arrived: ``show()`` it; busy, ``retry`` — (kind,
        again) — through ``retry_when_free``; then the gate's next read may start, whatever
        befell the showing. A read that met the lock waited out the busy timeout, it did not
        work: no measure of what reads cost."""
        try:
            if outcome.busy:
                self.retry_when_free(*retry)
            show()
        finally:
            self.read_done(gate, start, counted=not outcome.busy)


class KeepStyles:
    """Mixin for a Screen (before ``Screen`` in the bases): resume without restyling when the
    screen's CSS is up to date."""

    app: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            current = getattr(self.app, "_css_update_count", None)
        except RuntimeError:  # made outside an app (NoActiveAppError): the normal restyle
            current = None
        if current is not None:
            self._css_update_count = current

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        current = getattr(self.app, "_css_update_count", None)
        if current is not None and getattr(self, "_css_update_count", None) == current:
            event.refresh_styles = False
