"""``smvue-tui`` with no command: the TUI (``--demo``: on two local demo orgs)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from smvue_tui.services.app_services import AppServices
from smvue_tui.services.log_file import log_to_file

if TYPE_CHECKING:
    from smvue_tui.tui.app import SmvueApp


class DemoOnTeamStore(Exception):
    """--demo asked for while a team store is set: the demo runs on its own orgs."""


def run_tui(args: argparse.Namespace) -> int:
    from smvue_tui.services.team_mode import TeamModeError
    from smvue_tui.store.org_stores import StoreRefused

    try:
        with launched_app(args) as app:
            app.run()
    except (StoreRefused, TeamModeError) as exc:  # another org's store, or a team store refusing
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DemoOnTeamStore:
        print("error: --demo runs on its own demo orgs, not on a team store: unset "
              "SMVUE_STORE_URL (or [store] url) to try it", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def launched_app(args: argparse.Namespace) -> Iterator[SmvueApp]:
    """The app exactly as ``smvue-tui [--demo]`` starts it, ready to run (tests drive it under
    Textual's Pilot); with ``--demo`` the two demo orgs serve until the block ends.
    StoreRefused when the store of the stored login's org (or of the org last used) is
    another org's; on a team store, the app in team mode (read only)."""
    from smvue_tui.config import app_paths
    from smvue_tui.services.connection import client_factory_for, has_stored_login
    from smvue_tui.services.team_mode import open_team_services
    from smvue_tui.tui.app import SmvueApp

    services = open_team_services(app_paths()) or AppServices.create()
    if services.team is not None and getattr(args, "demo", False):
        services.db.close()
        raise DemoOnTeamStore
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
            yield SmvueApp(services)
    finally:
        services.db.close()
