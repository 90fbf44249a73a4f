"""``smvue-tui`` with no command: the TUI (``--demo``: on two local demo orgs)."""

from __future__ import annotations

import argparse

from smvue_tui.app import SmvueApp
from smvue_tui.services import AppServices


def run_tui(args: argparse.Namespace) -> int:
    services = AppServices.create()
    if getattr(args, "demo", False):
        from smvue_tui.demo_launch import start_demo_targets

        services.demo_targets = start_demo_targets(services.paths)
    SmvueApp(services).run()
    return 0
