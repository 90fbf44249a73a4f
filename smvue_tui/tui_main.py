"""``smvue-tui`` with no command: the TUI (``--demo``: on two local demo orgs)."""

from __future__ import annotations

import argparse
import contextlib
import logging

from smvue_tui.config import Paths, ensure_dir
from smvue_tui.services import AppServices


def run_tui(args: argparse.Namespace) -> int:
    from smvue_tui.app import SmvueApp
    from smvue_tui.connection import client_factory_for, has_stored_login

    services = AppServices.create()
    services.sync_in_child = True
    log_to_file(services.paths)
    try:
        with contextlib.ExitStack() as stack:
            if getattr(args, "demo", False):
                from smvue_tui.demo_launch import forget_demo_login, running_demo_orgs

                services.demo_targets = stack.enter_context(running_demo_orgs(services.paths))
                forget_demo_login(services.paths)
            if has_stored_login(services.paths):
                services.client_factory = client_factory_for(services.paths)
            SmvueApp(services).run()
    finally:
        services.db.close()
    return 0


def log_to_file(paths: Paths) -> None:
    """Warnings go to the log file (a stream handler would draw over the TUI), tokens redacted."""
    from smvue_tui.salesforce.redaction import install_redaction

    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        ensure_dir(paths.log_dir)
        handler = logging.FileHandler(paths.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    install_redaction()
