"""LatestRead: one read of a kind at a time, one more when asked during it, spaced by a minimum
gap and by a multiple of what the last read cost — on an injected clock (nothing waits)."""

from __future__ import annotations

from smvue_tui.tui.screens.resume import LatestRead


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_read_at_a_time_and_one_more_for_everything_asked_during_it():
    gate = LatestRead()
    assert gate.ask() == 0  # start now
    assert [gate.ask() for _ in range(10)] == [None] * 10  # ten changes during the read
    assert gate.done() == 0  # … make one more read, not ten
    assert gate.done() is None  # nothing asked during that one: done


def test_reads_start_no_sooner_than_the_gap_or_a_multiple_of_their_cost():
    clock = Clock()
    gate = LatestRead(min_gap=2.0, cost_factor=4.0, clock=clock)
    assert gate.ask() == 0
    clock.now += 0.5  # the read took 0.5 s: the next may start 4 × 0.5 = 2 s after it began
    assert gate.done() is None
    assert gate.ask() == 1.5  # asked at 0.5 s: wait 1.5 s (a timer)
    assert gate.ask() is None  # the timer is set: asking again adds nothing
    clock.now += 1.5
    assert gate.timer_fired() == 0  # the change made meanwhile is read now
    clock.now += 3.0  # a slow read: 3 s → 12 s before the next
    assert gate.done() is None
    assert gate.ask() == 9.0


def test_a_change_during_a_spaced_read_is_read_after_the_gap():
    clock = Clock()
    gate = LatestRead(min_gap=5.0, clock=clock)
    assert gate.ask() == 0
    assert gate.ask() is None  # changed during the read
    clock.now += 1.0
    assert gate.done() == 4.0  # one more, 5 s after the last start: a timer, not a read now
    clock.now += 4.0
    assert gate.timer_fired() == 0


def test_a_cancelled_start_leaves_nothing_running_and_is_no_read():
    clock = Clock()
    gate = LatestRead(min_gap=5.0, clock=clock)
    assert gate.ask() == 0
    gate.cancel()  # e.g. no rows to read yet
    assert gate.ask() == 0  # not stuck "running", and not spaced from a read that never ran


def test_a_read_that_only_waited_is_not_counted_as_its_cost():
    clock = Clock()
    gate = LatestRead(min_gap=1.0, cost_factor=4.0, clock=clock)
    assert gate.ask() == 0
    clock.now += 10.0  # the busy timeout, waiting on a held lock
    assert gate.done(counted=False) is None
    clock.now += 1.0
    assert gate.ask() == 0  # the gap only, not 4 × 10 s


def test_an_unspaced_ask_waits_only_for_the_running_read():
    # A key the manager pressed (another period): never held back by the gap, never two at once.
    clock = Clock()
    gate = LatestRead(min_gap=5.0, clock=clock)
    assert gate.ask() == 0
    assert gate.ask(spaced=False) is None  # a read runs: after it …
    clock.now += 1.0
    assert gate.done() == 0  # … at once, not 4 s later
    clock.now += 1.0
    assert gate.done() is None
    assert gate.ask() == 4.0  # a store change: spaced from the last start, as before
    assert gate.ask(spaced=False) == 0  # a key overtakes the waiting timer
    assert gate.timer_fired() is None  # … which then has nothing to do
    assert gate.done() is None


def test_an_unspaced_ask_during_a_spaced_one_is_not_spaced():
    clock = Clock()
    gate = LatestRead(min_gap=5.0, clock=clock)
    assert gate.ask() == 0
    assert gate.ask() is None and gate.ask(spaced=False) is None and gate.ask() is None
    assert gate.done() == 0
