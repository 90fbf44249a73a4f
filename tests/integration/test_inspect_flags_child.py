"""The flags child of `inspect --json` (``cli/inspect_flags``) at its edges: a child that never
reads what the parent sends, a store whose facts a sync left to recompute, output that cannot
be written."""

from __future__ import annotations

import subprocess
import sys
import threading

from smvue_tui.cli import inspect_flags
from smvue_tui.cli.inspect_flags import Child
from smvue_tui.inspection.flags import Flag


def test_a_child_that_reads_nothing_cannot_hold_the_report(monkeypatch):
    """The last two rules' flags are more than a pipe holds (64 KiB here, 4 KiB on Windows):
    handing them over must not wait for a child that is stuck, or busy with its own rules."""
    monkeypatch.setattr(inspect_flags, "WAIT_S", 0.5)
    stuck = Child(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    try:
        stuck.go()
        recent = {f"0068W{i:013d}": [Flag("amount_dropped", "amount dropped 50% " * 5)]
                  for i in range(20_000)}  # ~2.5 MB
        sent = threading.Thread(target=stuck.send_recent, args=(recent,), daemon=True)
        sent.start()
        sent.join(10)
        assert not sent.is_alive(), "send_recent waited for the child to read"
        assert stuck.collect() is None  # then given up after WAIT_S: the parent makes it
        assert stuck.proc.returncode is not None
    finally:
        stuck.stop()
