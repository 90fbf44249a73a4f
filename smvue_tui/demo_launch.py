"""``smvue-tui --demo``: start a demo Production and a demo Sandbox org for this app's life.

(The full onboarding walk-through lands with the Connect screen.)
"""

from __future__ import annotations

import contextlib
import sys

from smvue_tui.config import Paths
from smvue_tui.services import DemoTarget

_RUNNING: list[contextlib.AbstractContextManager[str]] = []


def start_demo_targets(paths: Paths) -> list[DemoTarget]:
    from smvue_tui.demo_org.profile import OrgProfile
    from smvue_tui.demo_org.server import build_org, serve_in_thread

    targets = []
    for label, profile in (("Production", OrgProfile()), ("Sandbox", OrgProfile(sandbox=True))):
        print(f"Starting the demo {label} org…", file=sys.stderr)
        org = build_org(size="small", seed=1, profile=profile, cache_dir=paths.demo_org_cache)
        server = serve_in_thread(org)
        targets.append(DemoTarget(label, server.__enter__(), org))
        _RUNNING.append(server)
    return targets
