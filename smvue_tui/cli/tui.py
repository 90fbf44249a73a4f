"""``smvue-tui`` with no command: the TUI (``--demo``: on two local demo orgs)."""

from __future__ import annotations

import argparse
import contextlib
import sys

from smvue_tui.services.app_services import AppServices
from smvue_tui.services.log_file import log_to_file


def run_tui(args: argparse.Namespace) -> int:
    from smvue_tui.config import app_paths
    from smvue_tui.services.connection import client_factory_for, has_stored_login
    from smvue_tui.services.team_mode import TeamModeError, open_team_services
    from smvue_tui.store.org_stores import StoreRefused
    from smvue_tui.tui.app import SmvueApp

    try:  # a team store (team mode: read only), else the stored login's org's (or the last)
        services = open_team_services(app_paths()) or AppServices.create()
    except (StoreRefused, TeamModeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if services.team is not None and getattr(args, "demo", False):
        services.db.close()
        print("error: --demo runs on its own demo orgs, not on a team store: unset "
              "SMVUE_STORE_URL (or [store] url) to try it", file=sys.stderr)
        return 2
    services.sync_in_child = True
    log_to_file(services.paths)
    try:
        with contextlib.ExitStack() as stack:
            if getattr(args, "demo", False):
                from smvue_tui.services.demo_launch import forget_demo_login, running_demo_orgs

                services.demo_targets = stack.enter_context(running_demo_orgs(services.paths))
                forget_demo_login(services.paths)
            if has_stored_login(services.paths) and services.team is None:  # team: serve syncs
                services.client_factory = client_factory_for(services.paths)
            SmvueApp(services).run()
    finally:
        services.db.close()
    return 0
