"""The waterfall's bars float (each step from the running total before it to the total after
it; Start and End on zero) and each carries its amount; the Reps tab's headers name the time
each figure covers; period labels in words."""

from __future__ import annotations

from smvue_tui.tui.screens.inspection_charts import waterfall_bars
from smvue_tui.tui.screens.inspection_view import (
    kinds_text,
    owner_change,
    owner_labels,
    period_words,
    rep_columns,
)

FALL = {"start": 10_000.0, "new": 2_500.0, "moved_in": 500.0, "moved_out": -4_000.0,
        "won": -1_500.0, "lost": 0.0, "changed": 1_000.0, "end": 8_500.0}


def test_the_steps_float_between_running_totals_and_the_ends_stand_on_zero():
    bars = waterfall_bars(FALL)
    assert [b.label for b in bars] == ["Start", "New", "In", "Out", "Won", "Lost", "Chg", "End"]
    assert [(b.low, b.high) for b in bars] == [
        (0, 10_000), (10_000, 12_500), (12_500, 13_000), (9_000, 13_000), (7_500, 9_000),
        (7_500, 7_500), (7_500, 8_500), (0, 8_500)]
    assert [b.kind for b in bars] == ["total", "up", "up", "down", "down", "total", "up",
                                      "total"]
    assert [b.amount for b in bars] == ["10k", "+2.5k", "+500", "−4k", "−1.5k", "0", "+1k",
                                        "8.5k"]
    # the last step lands on the end: the bridge closes
    assert bars[-2].high == bars[-1].high


def test_the_reps_headers_name_the_period_of_won_and_lost_and_the_time_of_the_others():
    headers = rep_columns(period_words("last 7d"))
    assert "Won\n7 days" in headers and "Lost\n7 days" in headers
    assert "Win %\n12 mo" in headers and "Acts\n14 days" in headers
    assert "Won\nthis qtr" in rep_columns(period_words("this quarter"))
    assert "Lost\nsince 11-01" in rep_columns(period_words("since 2026-11-01"))


def test_a_typed_start_time_keeps_its_time_in_the_reps_headers():
    # "since 11-01" for a start at 09:00 would say a day the figures do not cover.
    # Narrow, the time takes a third line: "Won since" over "11-01 09:00" is 11 columns, and
    # two of them push the last columns off an 80-column screen.
    for label in ("since 2026-11-01T09:00", "since 2026-11-01 09:00",
                  "since 2026-11-01T09:00:00Z"):
        for narrow in (False, True):
            headers = rep_columns(period_words(label), narrow)
            if narrow:
                assert "Won\n≥11-01\n09:00" in headers and "Lost\n≥11-01\n09:00" in headers
            else:
                assert "Won since\n11-01 09:00" in headers
                assert "Lost since\n11-01 09:00" in headers
            # no wider than a date-only header: every column still fits at 80
            assert max(len(line) for h in headers for line in h.split("\n")) <= \
                max(len(line) for h in rep_columns("since 2026-11-01", narrow)
                    for line in h.split("\n"))


def test_narrow_reps_headers_give_the_period_six_columns():
    # Every column of the Reps tab at 80 with a scrollbar: the figure columns are six wide
    # ("123.4k"), so the period is too — a typed date, spans, and week/month/quarter to date.
    cases = {"last 7d": "7 days", "last 14d": "14 d", "last 24h": "24 h", "last 2w": "2 wk",
             "today": "today", "this week": "WTD", "this month": "MTD", "this quarter": "QTD",
             "since 2026-12-01": "≥12-01"}
    for label, short in cases.items():
        headers = rep_columns(period_words(label), narrow=True)
        assert f"Won\n{short}" in headers and f"Lost\n{short}" in headers
        assert max(len(line) for h in headers[1:] for line in h.split("\n")) <= 6
    assert "Won\nsince 12-01" in rep_columns(period_words("since 2026-12-01"))  # wide: words


def test_period_words():
    assert period_words("last 7d") == "last 7 days"
    assert period_words("last 1w") == "last 1 week"
    assert period_words("last 24h") == "last 24 hours"
    assert period_words("this quarter") == "this quarter"


def test_a_deals_changes_and_a_reassignment_take_more_lines_not_more_columns():
    kinds = ["moved_out", "pushed", "amount_down", "stage_back", "owner_changed"]
    assert kinds_text(kinds).plain == "moved out, pushed, amount ▼, stage ▼, new owner"
    assert kinds_text(kinds, 18).plain == "moved out, pushed\namount ▼, stage ▼\nnew owner"
    assert kinds_text(kinds, 9).plain == "moved out\npushed\namount ▼\nstage ▼\nnew owner"
    assert kinds_text(["amount_up", "stage_forward"], 17).plain == "amount ▲, stage ▲"
    assert owner_change("Bo", "Cy Park", 14) == "Bo → Cy Park"
    assert owner_change("Bartholomew", "Alexandrina M.", 14) == "Bartholomew →\nAlexandrina M."
    assert owner_change("Maximilianus", "Cy P.", 9) == "Maximi… →\nCy P."  # 9 a line


def test_short_owner_names_never_make_two_reps_look_like_one():
    """At 80 columns owners are "Harper W."; the demo org itself has a Lucas Martin and a
    Lucas Moreau, who were both "Lucas M." on the Reps tab."""
    labels = owner_labels(["Lucas Martin", "Lucas Moreau", "Harper Wilson", "Raj", "Bo X",
                           "Bo Xu"], 14, short=True)
    assert labels["Harper Wilson"] == "Harper W." and labels["Raj"] == "Raj"
    assert (labels["Lucas Martin"], labels["Lucas Moreau"]) == ("Lucas Ma.", "Lucas Mo.")
    assert len(set(labels.values())) == len(labels)


def test_owner_labels_stay_apart_once_cut_to_the_column():
    """Cut to 10 cells, "Maximiliana Rep00" and "…Rep01" would both read "Maximilia…"; whole
    names that fit stay whole on a wide screen."""
    names = [f"Maximiliana Rep{i:02d}" for i in range(24)]
    narrow = owner_labels(names, 10, short=True)
    assert len(set(narrow.values())) == 24 and narrow["Maximiliana Rep07"] == "M. Rep07"
    wide = owner_labels([*names, "Ana Park"], 18, short=False)
    assert wide["Maximiliana Rep07"] == "Maximiliana Rep07" and wide["Ana Park"] == "Ana Park"
