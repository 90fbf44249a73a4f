"""``smvue-tui --demo``: a demo Production and a demo Sandbox org on loopback, for the app's life.

``running_demo_orgs(paths)`` is a context manager: the orgs are generated once into
``paths.demo_org_cache`` (under SMVUE_HOME when set; nothing is written anywhere else), served
from background threads on 127.0.0.1 (ephemeral ports; the Pub/Sub API too) and stopped when
the block ends. A demo
login cannot outlive its org (the next run has other ports), so a stored demo login is forgotten
and its connection marked disconnected; the synced data stays, and Connect offers both orgs.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

from smvue_tui.config import Paths
from smvue_tui.services.app_services import DemoTarget

DEMO_SIZE = "small"


DEMO_ACTIVITY_SECONDS = 30.0


@contextlib.contextmanager
def running_demo_orgs(paths: Paths, *, size: str | int = DEMO_SIZE,
                      out: TextIO | None = None,
                      multi_currency: bool = False) -> Iterator[list[DemoTarget]]:
    from smvue_demo_org.profile import OrgProfile
    from smvue_demo_org.server import build_org, serve_in_thread

    out = out or sys.stderr
    with contextlib.ExitStack() as stack:
        targets = []
        # multi_currency: deals in USD, EUR, GBP and JPY (the screenshots show amounts with
        # their currency; a single-currency org's REST API names no currency at all)
        for label, profile in (("Production", OrgProfile(multi_currency=multi_currency)),
                               ("Sandbox", OrgProfile(sandbox=True))):
            print(f"Starting the demo {label} org…", file=out, flush=True)
            org = build_org(size=size, seed=1, profile=profile, cache_dir=paths.demo_org_cache)
            stack.callback(org.store.close)
            # Simulated users keep changing the org, so the live updates have something to show;
            # its Pub/Sub API (a threaded gRPC server: an aio one on this background loop left
            # the app's aio client waiting forever) lets the demo run on CDC as a real org would.
            url = stack.enter_context(serve_in_thread(org, activity_every=DEMO_ACTIVITY_SECONDS,
                                                      pubsub=True))
            targets.append(DemoTarget(label, url, org))
        yield targets


def forget_demo_login(paths: Paths) -> None:
    """Forget a stored login to a demo org from an earlier run (its server is gone)."""
    from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError
    from smvue_tui.services.connection import mark_disconnected
    from smvue_tui.store import models as m

    store = TokenStore(paths.token_file)
    try:
        creds = store.load()
    except TokenStoreError:
        creds = None
    if creds is not None and creds.environment.is_demo:
        store.clear()
    if m.Connection.select().where(m.Connection.environment == "demo",
                                   m.Connection.disconnected_at.is_null()).exists():
        mark_disconnected()
