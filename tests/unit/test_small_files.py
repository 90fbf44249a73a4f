"""Small files that must not grow or litter (issue 20, item 7): the log rotates, and a full
disk while saving the API-usage reading leaves the old reading and no temporary file."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap

from smvue_tui.services import log_file
from smvue_tui.services.log_file import LOG_BACKUPS, log_to_file
from smvue_tui.sync.status import load_usage, save_usage, usage_path


def test_the_log_file_rotates(paths, monkeypatch):
    monkeypatch.setattr(log_file, "LOG_MAX_BYTES", 20_000)  # the bound, small enough to test
    root = logging.getLogger()
    saved_level, saved = root.level, [h for h in root.handlers
                                      if isinstance(h, logging.FileHandler)]
    for handler in saved:
        root.removeHandler(handler)
    try:
        log_to_file(paths)
        noisy = logging.getLogger("smvue_tui.test.noisy")
        line = "outbound message rejected: not found " + "x" * 1000
        for _ in range((LOG_BACKUPS + 2) * 20):
            noisy.warning(line)
        files = sorted(paths.log_dir.glob("smvue-tui.log*"))
        assert len(files) == LOG_BACKUPS + 1
        assert all(f.stat().st_size <= 20_000 for f in files)
    finally:
        for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(saved_level)


def test_a_full_disk_leaves_the_old_usage_reading_and_no_temporary_file(paths):
    from types import SimpleNamespace

    save_usage(paths, SimpleNamespace(used=10, max=15000, updated_at=None))
    code = textwrap.dedent(f"""
        import resource, signal
        from types import SimpleNamespace
        from smvue_tui.config import app_paths
        from smvue_tui.sync.status import save_usage
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # every write fails, as on a full disk
        save_usage(app_paths({{"SMVUE_HOME": {str(paths.data_dir.parent)!r}}}),
                   SimpleNamespace(used=99, max=15000, updated_at=None))
    """)
    proc = subprocess.run([sys.executable, "-c", code], check=False, env={**os.environ},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # never what fails a sync
    assert "Traceback" not in proc.stderr
    assert load_usage(paths)["used"] == 10
    assert json.loads(usage_path(paths).read_text())["used"] == 10
    assert [p.name for p in paths.data_dir.iterdir() if p.name.endswith(".tmp")] == []
