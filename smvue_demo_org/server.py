"""Build a demo org and serve it: in this event loop, in a background thread, or as a process.

    org = build_org(cache_dir=cache, size="small", seed=1)
    async with serve(org) as base_url: ...          # on the caller's loop (the TUI, async tests)
    with serve_in_thread(org) as base_url: ...      # own loop in a thread (sync clients)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from smvue_demo_org.activity import run_activity
from smvue_demo_org.admin import add_admin_routes
from smvue_demo_org.automation import AutomationRegistry
from smvue_demo_org.bulk_routes import BulkQueryApi
from smvue_demo_org.cdc_admin import add_cdc_admin_routes
from smvue_demo_org.composite import composite, composite_batch
from smvue_demo_org.cost_model import CostModel
from smvue_demo_org.faults import Faults
from smvue_demo_org.http_layer import DataApiView, versions
from smvue_demo_org.limits import ApiUsage
from smvue_demo_org.metadata_api import add_metadata_routes
from smvue_demo_org.oauth import add_oauth_routes
from smvue_demo_org.org import DemoOrg
from smvue_demo_org.outbound_dispatch import add_outbound
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.rest import RestApi
from smvue_demo_org.store import OrgStore, parse_size
from smvue_demo_org.tokens import TokenRegistry


def build_org(*, cache_dir: Path, size: str | int = "small", seed: int = 1,
              profile: OrgProfile | None = None, auto_approve: bool = False,
              progress: Callable[[str, int, int], None] | None = None,
              cost_model: CostModel | None = None) -> DemoOrg:
    """Open (generating once, then from cache) the org for ``size``/``seed``/``profile``.
    ``cost_model``: server time and limits as Salesforce's (cost_model.py); off when None."""
    profile = profile or OrgProfile()
    count = size if isinstance(size, int) else parse_size(size)
    store = OrgStore.open(cache_dir, count, seed, profile, progress=progress)
    user = store.get("User", store.demo_user_id) or {}
    org = DemoOrg(
        profile=profile, catalog=store.catalog, visible=store.catalog.visible(profile),
        org_id=store.org_id, user_id=store.demo_user_id, store=store,
        tokens=TokenRegistry(store.org_id,
                             session_timeout_seconds=profile.session_timeout_seconds,
                             rotation=profile.refresh_token_rotation),
        usage=ApiUsage(profile.daily_api_limit), faults=Faults(), auto_approve=auto_approve,
        cost=cost_model or CostModel(),
    )
    org.user_profile = {
        "user_id": org.user_id, "username": org.username,
        "display_name": str(user.get("Name") or "Demo Manager"),
        "email": str(user.get("Email") or org.username),
        "first_name": str(user.get("FirstName") or "Demo"),
        "last_name": str(user.get("LastName") or "Manager"),
        "timezone": "America/Los_Angeles",
    }
    org.automation = AutomationRegistry()
    return org


def make_app(org: DemoOrg, *, activity_every: float = 0.0, seed: int = 1,
             **outbound: Any) -> web.Application:
    """The aiohttp application serving every protocol of ``org``."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    api = RestApi(org)
    api.router.add("POST", "/composite", lambda req: composite(api, req))
    api.router.add("POST", "/composite/batch", lambda req: composite_batch(api, req))
    bulk = BulkQueryApi(org)
    bulk.add_routes(api.router)
    app.router.add_get("/services/data", versions)
    app.router.add_get("/services/data/", versions)
    data_api = DataApiView(org, api)
    app.router.add_route("*", "/services/data/{version}/{tail:.*}", data_api.handle)
    app.router.add_route("*", "/services/data/{version}", data_api.handle)
    add_oauth_routes(app, org)
    add_metadata_routes(app, org)
    add_outbound(app, org, **outbound)
    rng = random.Random(seed)
    add_admin_routes(app, org, rng)
    add_cdc_admin_routes(app, org)

    async def background_activity(app: web.Application) -> AsyncIterator[None]:
        task = None
        if activity_every > 0:
            task = asyncio.create_task(run_activity(org.store, activity_every, rng))
        yield
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        api.cursors.close_all()
        bulk.jobs.close_all()

    app.cleanup_ctx.append(background_activity)
    return app


@contextlib.asynccontextmanager
async def serve(org: DemoOrg, *, host: str = "127.0.0.1", port: int = 0, pubsub: bool = False,
                pubsub_keepalive: float = 270.0, **app_options: Any) -> AsyncIterator[str]:
    """Serve ``org`` on this loop; yields its base URL and stops it on exit. ``pubsub``: the
    Pub/Sub API (Change Data Capture) too, on its own port (``org.pubsub_endpoint``)."""
    runner = web.AppRunner(make_app(org, **app_options), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    org.base_url = f"http://{host}:{bound}"
    grpc_server = None
    if pubsub:
        from smvue_demo_org.pubsub_server import PubSubServer

        grpc_server = PubSubServer(org, host=host, keepalive=pubsub_keepalive)
        await grpc_server.start()
    try:
        yield org.base_url
    finally:
        if grpc_server is not None:
            await grpc_server.stop()
        await runner.cleanup()


@contextlib.contextmanager
def serve_in_thread(org: DemoOrg, **options: Any) -> Iterator[str]:
    """Serve ``org`` from a background thread with its own loop (for synchronous clients)."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[str] = loop.create_future()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            async with serve(org, **options) as url:
                ready.set_result(url)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True,
                              name="demo-org")
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=60)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()


async def _wait(future: asyncio.Future[str]) -> str:
    return await future
