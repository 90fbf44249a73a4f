"""Save one screenshot per screen (SVG, then PNG with rsvg-convert) into ``screenshots/``.

The demo orgs of ``smvue-tui --demo`` are started on loopback under a temporary SMVUE_HOME and
the app is walked through onboarding as a new user would (Production, permissions, one-key
approval, preflight, initial sync); then each screen is opened and saved with
``App.save_screenshot``.

    python scripts/screenshots.py [--out screenshots] [--size 120x36]
    python scripts/screenshots.py --walk /tmp/walk   # 80x24 and 120x40, SVG + text, to compare

Needs ``rsvg-convert`` for PNGs (``apt-get install -y librsvg2-bin``); without it only SVGs.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def wait_until(pilot: Any, condition: Callable[[], bool], tries: int = 600) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.1)
    raise TimeoutError("the app never got there")


def screen_text(app: Any) -> str:
    """The screen as plain text (what a reader of the terminal sees), for diffs between runs."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system="truecolor", legacy_windows=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


async def shoot(app: Any, pilot: Any, out: Path, name: str,
                steps: Callable[[], Awaitable[None]], text: bool = False) -> bool:
    try:
        await steps()
        await pilot.pause(0.5)
        await pilot.wait_for_scheduled_animations()
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
        if text:
            (out / f"{name}.txt").write_text(screen_text(app), encoding="utf-8")
    except Exception as exc:  # one unfinished screen must not stop the others
        print(f"  {name}: FAILED ({type(exc).__name__}: {exc})", file=sys.stderr)
        return False
    print(f"  {name}.svg")
    return True


async def take_all(out: Path, size: tuple[int, int], home: Path, text: bool = False) -> list[str]:
    os.environ["SMVUE_HOME"] = str(home)
    from smvue_tui.services.app_services import AppServices
    from smvue_tui.services.demo_launch import running_demo_orgs
    from smvue_tui.tui.app import SmvueApp

    services = AppServices.create()
    services.background = False
    saved: list[str] = []
    with running_demo_orgs(services.paths, multi_currency=True) as targets:
        services.demo_targets = targets
        app = SmvueApp(services)
        async with app.run_test(size=size) as pilot:
            async def connect() -> None:
                await pilot.pause(0.3)

            async def permissions() -> None:
                await pilot.press("enter")

            async def login() -> None:
                await pilot.press("enter")
                await wait_until(pilot, lambda: getattr(app.screen, "flow", None) is not None)

            async def preflight() -> None:
                await pilot.press("a")
                await wait_until(pilot, lambda: getattr(app.screen, "preflight", None)
                                 is not None)

            async def sync() -> None:
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.last_report is not None)

            async def mode(name: str) -> None:
                app.switch_mode(name)
                await pilot.pause(1.0)

            async def deal_detail() -> None:
                from smvue_tui.store import models as m
                from smvue_tui.tui.screens.deal_detail import DealDetailScreen

                app.switch_mode("pipelines")
                await pilot.pause(1.0)
                deal = (m.Opportunity.select().where(m.Opportunity.is_closed == False)  # noqa: E712
                        .order_by(m.Opportunity.amount.desc()).first())
                app.push_screen(DealDetailScreen(deal.id))
                await pilot.pause(1.0)

            async def integrations() -> None:
                # The live mode as `smvue-tui --demo` starts it (background is off above for
                # steady screens): the card's "Live updates" row names it.
                await app.start_live()
                await wait_until(pilot, lambda: app.live is not None
                                 and app.live.mode is not None
                                 and app.live.mode.streaming.is_set())
                await wait_until(pilot, lambda: app.coordinator.running is None)
                await mode("integrations")

            async def pop_then(action: Callable[[], Awaitable[None]]) -> None:
                while len(app.screen_stack) > 1:
                    app.pop_screen()
                await pilot.pause(0.3)
                await action()

            async def keys(*names: str) -> None:
                await pilot.press(*names)
                await pilot.pause(0.5)

            async def mode_then_key(name: str, key: str) -> None:
                await mode(name)
                await keys(key)

            async def pipelines() -> None:  # with the risk column read
                await mode("pipelines")
                await wait_until(pilot, lambda: getattr(app.screen, "risk", None) is not None
                                 and app.screen.risk.counts is not None)

            async def rep_view() -> None:  # R on the pipelines' first deal: its owner's view
                from smvue_tui.tui.screens.inspection import InspectionScreen

                await pipelines()
                await keys("R")
                await wait_until(pilot, lambda: isinstance(app.screen, InspectionScreen)
                                 and (app.screen.report or {}).get("rep") is not None)

            plan: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("connect", connect),
                ("connect-permissions", permissions),
                ("connect-login", login),
                ("connect-preflight", preflight),
                ("sync-progress", sync),
                ("team-mapping", lambda: mode("team")),
                ("field-mapping", lambda: mode("fields")),
                ("pipelines", pipelines),
                ("deal-detail", deal_detail),
                ("integrations", lambda: pop_then(integrations)),
                ("help", lambda: keys("question_mark")),
                ("why-missing", lambda: pop_then(lambda: mode_then_key("pipelines", "w"))),
                ("inspection", lambda: pop_then(lambda: mode("inspection"))),
                ("inspection-risk", lambda: keys("2")),
                ("inspection-charts", lambda: keys("4")),
                ("inspection-reps", lambda: keys("3")),
                ("inspection-rep-view", lambda: pop_then(rep_view)),
            ]
            for name, steps in plan:
                if await shoot(app, pilot, out, name, steps, text):
                    saved.append(name)
    services.db.close()
    return saved


SHOTS = 17  # screens in take_all's plan


def to_png(out: Path, names: list[str]) -> None:
    converter = shutil.which("rsvg-convert")
    if converter is None:
        print("rsvg-convert not found (apt-get install -y librsvg2-bin): SVGs only",
              file=sys.stderr)
        return
    for name in names:
        subprocess.run([converter, "-o", str(out / f"{name}.png"), str(out / f"{name}.svg")],
                       check=True)
        print(f"  {name}.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--size", default="120x36", help="terminal COLSxROWS")
    parser.add_argument("--walk", metavar="DIR",
                        help="the repeatable walk: every screen at 80x24 and 120x40, SVG and "
                             "text, into DIR/80x24 and DIR/120x40 (no PNGs); diff two walks")
    args = parser.parse_args()
    if args.walk:
        runs = [(Path(args.walk) / size, size, True) for size in ("80x24", "120x40")]
    else:
        runs = [(Path(args.out), args.size, False)]
    complete = True
    for out, size, text in runs:
        cols, rows = (int(n) for n in size.lower().split("x"))
        out.mkdir(parents=True, exist_ok=True)
        print(f"{size} → {out}")
        with tempfile.TemporaryDirectory(prefix="smvue-shots-") as home:
            names = asyncio.run(take_all(out, (cols, rows), Path(home), text))
        if not text:
            to_png(out, names)
        print(f"{len(names)} screenshots in {out}")
        complete = complete and len(names) == SHOTS
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
