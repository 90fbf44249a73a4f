"""``smvue-tui demo-org``: the demo org's own command, with its cache under SMVUE_HOME.

The demo org (``smvue_demo_org``) imports nothing of the app; this wrapper gives it the one thing
it takes from the app: where generated orgs are cached.
"""

from __future__ import annotations

import argparse

from smvue_demo_org import cli as demo_cli
from smvue_tui.config import app_paths, ensure_dir


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    demo_cli.configure(parser, command)


def run(args: argparse.Namespace) -> int:
    # made here so a read-only SMVUE_HOME is said as such (the demo org would blame the port)
    return demo_cli.run(args, ensure_dir(app_paths().demo_org_cache))
