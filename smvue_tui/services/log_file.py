"""The app's log file: warnings and errors of every process (TUI, sync child, serve).

Tokens are redacted; a stream handler would draw over the TUI, so everything goes to the file.
"""

from __future__ import annotations

import logging

from smvue_tui.config import Paths, ensure_dir
from smvue_tui.salesforce.redaction import install_redaction


def log_to_file(paths: Paths) -> None:
    """Warnings go to the log file (a stream handler would draw over the TUI), tokens redacted."""
    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        ensure_dir(paths.log_dir)
        handler = logging.FileHandler(paths.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    install_redaction()
