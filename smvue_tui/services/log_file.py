"""The app's log file: warnings and errors of every process (TUI, sync child, serve).

Tokens are redacted; a stream handler would draw over the TUI, so everything goes to the file.
The file rotates (``LOG_MAX_BYTES``, ``LOG_BACKUPS`` old files kept), so a flood of warnings —
a listener probed all day — can never fill the disk.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from smvue_tui.config import Paths, ensure_dir
from smvue_tui.salesforce.redaction import install_redaction

LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 3


def log_to_file(paths: Paths) -> None:
    """Warnings go to the log file (a stream handler would draw over the TUI), tokens redacted."""
    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        ensure_dir(paths.log_dir)
        # Several processes append to it (TUI, sync child, serve); each rotates when it sees
        # the file full, which at worst rotates early — never loses the size bound.
        handler = RotatingFileHandler(paths.log_file, maxBytes=LOG_MAX_BYTES,
                                      backupCount=LOG_BACKUPS, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    install_redaction()
