"""``outcome_of``: a store read's outcome is always delivered — a value, the words of an
exception the screen says, "busy" for a sync's write lock, or a fault's words (the fault raised
too, for the worker's error handler) — since the outcome ends the read's LatestRead turn."""

from __future__ import annotations

import sqlite3

import pytest

from smvue_tui.tui.screens.resume import ReadOutcome, outcome_of
from smvue_tui.tui.widgets.busy import BUSY_WORDS


def _run(read, **kwargs) -> list[ReadOutcome]:
    got: list[ReadOutcome] = []
    outcome_of(read, got.append, **kwargs)
    return got


def _raise(exc: BaseException):
    def read():
        raise exc
    return read


def test_a_value_a_said_error_and_a_held_lock_are_each_delivered_and_none_raised():
    assert _run(lambda: {"a": 1}) == [ReadOutcome({"a": 1})]
    assert _run(_raise(ValueError("pushed_times must be a number")), said=(ValueError,)) \
        == [ReadOutcome(None, "pushed_times must be a number")]
    # The lock is busy even where every exception is said (the Risk column's reads).
    assert _run(_raise(sqlite3.OperationalError("database is locked"))) \
        == [ReadOutcome(None, BUSY_WORDS, busy=True)]


@pytest.mark.parametrize("fault, words", [("", "disk image is malformed"),
                                          ("the flags could not be read",
                                           "the flags could not be read")])
def test_a_fault_is_delivered_in_words_then_raised(fault, words):
    got: list[ReadOutcome] = []
    with pytest.raises(sqlite3.DatabaseError):
        outcome_of(_raise(sqlite3.DatabaseError("disk image is malformed")), got.append,
                   said=(ValueError,), fault=fault)
    assert got == [ReadOutcome(None, words)]


def test_a_read_that_never_finishes_still_ends_its_turn():
    got: list[ReadOutcome] = []
    with pytest.raises(KeyboardInterrupt):
        outcome_of(_raise(KeyboardInterrupt()), got.append)
    assert got == [ReadOutcome(None, "the store could not be read")]
