"""The ``smvue-tui`` command line: the TUI by default, and headless subcommands.

Each subcommand lives in the module that does its job; that module exposes
``configure(parser)`` to declare its arguments and ``run(args) -> int`` to do the work.
Modules are imported only when their command runs, so ``smvue-tui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
from typing import NoReturn

from smvue_tui import __version__
from smvue_tui.config import FolderNotWritable

# command → (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo-org": ("smvue_tui.cli.demo_org", "run a local demo Salesforce org on 127.0.0.1"),
    "doctor": ("smvue_tui.cli.doctor", "check the stored login against the org (preflight)"),
    "forget": ("smvue_tui.cli.orgs", "delete one org's store from this machine"),
    "inspect": ("smvue_tui.cli.inspect", "what changed, forecast, risk flags, figures per rep"),
    "login": ("smvue_tui.cli.login", "log in to Salesforce and store the tokens"),
    "logout": ("smvue_tui.cli.login", "revoke and forget the stored tokens"),
    "orgs": ("smvue_tui.cli.orgs", "list the org stores on this machine"),
    "serve": ("smvue_tui.cli.serve", "keep the store fresh headless: scheduler + listener"),
    "sync": ("smvue_tui.cli.sync", "sync the org into the local store (headless)"),
    "status": ("smvue_tui.cli.sync", "show the store, the last sync and API usage"),
    "store": ("smvue_tui.cli.store", "check, upgrade or grant the store (store check|migrate|"
                                     "grants)"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smvue-tui",
        description="Your team's Salesforce pipeline in the terminal (read-only).",
    )
    parser.add_argument("--version", action="version", version=f"smvue-tui {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="try it on two local demo orgs (Production and Sandbox)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:  # only the command being run pays for its imports
            module = importlib.import_module(module_name)
            module.configure(cmd, name)
            cmd.set_defaults(_run=module.run)
    return parser


EXIT_OUTPUT_LOST = 120  # as Python's own exit when stdout cannot be flushed


def output_lost(exc: BaseException) -> str:
    """The sentence for output that could not be written (a full disk), on stderr."""
    from smvue_tui.errors import reason

    return f"smvue-tui: could not write the output: {reason(exc)}"


def hard_exit(code: int) -> NoReturn:
    """End the process now without freeing its objects one by one — what mypy does after a run
    (its ``--fast-exit``): ``inspect`` after printing 100,000 deals' report (~0.1 s to free),
    when ``args.own_process``. What the process registered to run at exit runs first (the
    store's open marker is removed there: left behind, the next open would take this process
    for one that crashed and check the whole file), then the output is flushed."""
    atexit._run_exitfuncs()  # CPython's own exit path runs these; os._exit alone would not
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left (`| head`): fine, as main() says
            pass
        except Exception as exc:  # the output is lost (a full disk): said, and not a success,
            with contextlib.suppress(Exception):  # as Python's own exit would
                os.write(2, f"{output_lost(exc)}\n".encode())
            code = code or EXIT_OUTPUT_LOST
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    run = getattr(args, "_run", None)
    if run is None:
        from smvue_tui.cli.tui import run_tui

        run = run_tui
    # This process's own command line (not a caller's argv): a command may end the process
    # when it is done (hard_exit).
    args.own_process = argv is None
    try:
        return int(run(args) or 0)
    except FolderNotWritable as exc:  # a read-only SMVUE_HOME: one sentence, no traceback
        print(f"smvue-tui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `smvue-tui status | head`: the reader left; that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # A damaged store that could not be moved aside (in use elsewhere), or one a newer
        # smvue-tui wrote: words, no traceback. Looked up, not imported, so `--help` never
        # loads the store.
        health = sys.modules.get("smvue_tui.store.health")
        if health is None or not isinstance(exc, health.StoreDamaged | health.StoreTooNew):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
