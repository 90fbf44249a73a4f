"""The sync command's output: progress lines, in-place redraw, summary and exit codes."""

from __future__ import annotations

import io

from smvue_tui.cli.sync import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PAUSED,
    ProgressDisplay,
    finish,
    format_event,
    render_summary,
)
from smvue_tui.sync.progress import ProgressEvent


def _event(sobject="Opportunity", done=500, total=2000, phase="running", eta=1.5):
    return ProgressEvent(sobject, done, total, 1234.0, eta, 7, phase)


def _result(status="ok", **extra):
    result = {"kind": "initial", "status": status, "counts": {"Opportunity": 3},
              "removed": {}, "skipped": {}, "errors": [], "api_calls": 12, "seconds": 1.25,
              "resumes_at": None, "records": {"Opportunity": 5}}
    result.update(extra)
    return result


def test_progress_line_has_bar_counts_rate_eta_and_calls():
    line = format_event(_event())
    assert "Opportunity" in line and "[#####---------------]" in line
    assert "500/2,000" in line and "1,234 rec/s" in line
    assert "ETA 0:02" in line and "7 API calls" in line
    done = format_event(_event(done=2000, phase="done", eta=None))
    assert "[####################]" in done and "done" in done
    assert "/?" in format_event(_event(total=None, eta=None))


def test_log_mode_writes_one_line_per_event():
    out = io.StringIO()
    display = ProgressDisplay(out, live=False)
    for done in (100, 200):
        display(_event(done=done))
    assert out.getvalue().count("\n") == 2 and "\x1b[" not in out.getvalue()
    assert display.records() == {"Opportunity": 200}


def test_terminal_mode_redraws_the_block_in_place():
    out = io.StringIO()
    display = ProgressDisplay(out, live=True)
    display(_event("Opportunity", phase="done", done=2000))
    display(_event("Account", phase="done", done=10, total=10))
    text = out.getvalue()
    assert "\x1b[1F" in text  # second draw moves up over the first block of one line
    assert text.count("\x1b[K") == 3  # 1 line, then 2 lines


def test_summary_lists_records_skips_and_warnings():
    text = render_summary(_result(skipped={"Lead": "Lead is not available in this org"},
                                  errors=[{"object": "Task", "message": "hidden",
                                           "remedy": "ask your admin"}]))
    assert text.startswith("initial sync ok: 1 objects, 5 records stored (3 new), 0 removed, "
                           "12 API calls, 1.2 s")
    assert "skipped Lead: Lead is not available" in text
    assert "warning (Task): hidden — ask your admin" in text


def test_exit_codes_and_messages():
    err = io.StringIO()
    assert finish(_result(), err) == EXIT_OK and err.getvalue() == ""
    assert finish(_result("paused", resumes_at="2026-11-27T08:00:00+00:00"), err) == EXIT_PAUSED
    assert "paused: Salesforce API rate limit exceeded — resumes at 2026-11-27" in err.getvalue()
    err = io.StringIO()
    failed = _result("failed", errors=[{"object": "", "code": "INSUFFICIENT_ACCESS",
                                        "message": "Insufficient permissions", "detail": "",
                                        "remedy": "Ask your admin."}])
    assert finish(failed, err) == EXIT_FAILED
    assert "error: Insufficient permissions [INSUFFICIENT_ACCESS]" in err.getvalue()
    assert "what to do: Ask your admin." in err.getvalue()
    assert finish(_result("cancelled"), io.StringIO()) == EXIT_INTERRUPTED


def test_summary_says_what_reconcile_found():
    repaired = render_summary(_result(kind="reconcile", drift={"Contact": 3, "Task": 1}))
    assert "drift repaired: rows missing from the store were read again (Contact 3, Task 1)" \
        in repaired
    clean = render_summary(_result(kind="reconcile", drift={}))
    assert "reconciled: every object's Ids and counts match the org" in clean
    failed = render_summary(_result(kind="reconcile", status="failed", drift={"Contact": 3}))
    assert "drift found, not yet repaired: Contact 3" in failed
    assert "drift" not in render_summary(_result())  # other kinds say nothing about it
