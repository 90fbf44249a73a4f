"""``smvue-tui demo-org``: run one demo org on 127.0.0.1 until interrupted.

It prints ``name: value`` lines (base_url, org_id, client_id, username, password, then
pubsub_endpoint: its Pub/Sub API for Change Data Capture) so scripts and other clients can find it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from smvue_demo_org.cost_model import CostModel
from smvue_demo_org.faults import Faults
from smvue_demo_org.profile import load_profile
from smvue_demo_org.store import parse_size


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--size", default="small",
                        help="small (≈500 deals), medium (≈5,000), large (≈20,000), or a count "
                             "up to 200,000")
    parser.add_argument("--seed", type=int, default=1, help="data seed (same seed, same org)")
    parser.add_argument("--sandbox", action="store_true", help="a sandbox org")
    parser.add_argument("--profile", type=Path, help="TOML file of org toggles (edition, …)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE",
                        help="inject a fault (repeatable); see smvue_demo_org/faults.py")
    parser.add_argument("--cost-model", choices=("off", "default"), default="off",
                        help="server time per page and job and Salesforce's concurrency limits "
                             "(default: published or calibrated figures; see "
                             "smvue_demo_org/cost_model.py)")
    parser.add_argument("--cost", action="append", default=[], metavar="NAME=VALUE",
                        help="change one cost-model setting (repeatable; turns the model on), "
                             "e.g. --cost field_us=40 --cost max_long_running=5")
    parser.add_argument("--auto-approve", action="store_true",
                        help="skip the consent page, as for a user who approved before")
    parser.add_argument("--activity-every", type=float, default=0.0, metavar="SECONDS",
                        help="make realistic changes every SECONDS")
    parser.add_argument("--outbound-time-scale", type=float, default=1.0,
                        help="simulated seconds per real second for outbound retries")


def run(args: argparse.Namespace, cache_dir: Path) -> int:
    """Serve one org until interrupted; ``cache_dir`` keeps generated orgs between runs."""
    try:
        size = parse_size(str(args.size))
        profile = load_profile(args.profile, sandbox=True if args.sandbox else None)
        faults = Faults(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms)
        faults.set_from_specs(args.fault)
        cost = cost_model_from_args(args)
    except (OSError, ValueError) as exc:
        print(f"smvue-tui demo-org: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args, size, profile, faults, cost, cache_dir))
    except OSError as exc:
        print(f"smvue-tui demo-org: cannot listen on port {args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def _progress(stage: str, done: int, total: int) -> None:
    print(f"\rgenerating the demo org: {stage} {done:,}/{total:,}   ", end="", file=sys.stderr,
          flush=True)


def cost_model_from_args(args: argparse.Namespace) -> CostModel:
    """The cost model ``--cost-model``/``--cost`` ask for (off unless either is given)."""
    cost = CostModel(enabled=args.cost_model == "default" or bool(args.cost))
    cost.set_from_specs(args.cost)
    return cost


async def _serve(args: argparse.Namespace, size: int, profile: object, faults: Faults,
                 cost: CostModel, cache_dir: Path) -> None:
    from smvue_demo_org.server import build_org, serve

    org = await asyncio.to_thread(build_org, size=size, seed=args.seed, profile=profile,
                                  auto_approve=args.auto_approve, progress=_progress,
                                  cache_dir=cache_dir, cost_model=cost)
    org.faults = faults
    print("", file=sys.stderr)
    async with serve(org, port=args.port, activity_every=args.activity_every, seed=args.seed,
                     time_scale=args.outbound_time_scale, pubsub=True) as base_url:
        for name, value in (("base_url", base_url), ("org_id", org.org_id),
                            ("client_id", org.client_id), ("username", org.username),
                            ("password", org.password), ("pubsub_endpoint", org.pubsub_endpoint)):
            print(f"{name}: {value}", flush=True)
        await asyncio.Event().wait()
