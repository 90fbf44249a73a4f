"""TUI fixtures: an app built on a store synced from a real demo org, or on an empty store."""

from __future__ import annotations

import asyncio

import pytest

from smvue_tui.config import app_paths
from smvue_tui.services.app_services import AppServices
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.sync.engine import SyncEngine
from tests.integration.conftest import make_org, org_cache  # noqa: F401 - fixtures
from tests.integration.sync_support import client_for


@pytest.fixture
def empty_services(tmp_path):
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    services = AppServices(paths=paths, db=open_store(paths.database), background=False)
    yield services
    services.db.close()


@pytest.fixture
def synced_services(request, tmp_path, make_org):  # noqa: F811 - the fixture above
    """Services over a store holding an initial sync of a small demo org (connected); an
    indirect parameter gives the org's options (``{"pubsub": True}``)."""
    running = make_org(**getattr(request, "param", {}))
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    db = open_store(paths.database)

    async def sync() -> None:
        async with client_for(running) as client:
            engine = SyncEngine(client, db)
            try:
                report = await engine.run("initial")
            finally:
                engine.close()
        assert report.status == "ok", report.errors

    asyncio.run(sync())
    m.Connection.create(org_id=running.org.org_id, environment="demo",
                        login_url=running.base_url, instance_url=running.base_url,
                        username=running.org.username, user_id=running.org.user_id)
    services = AppServices(paths=paths, db=db, background=False,
                           client_factory=lambda: client_for(running))
    services.running_org = running  # type: ignore[attr-defined]  # for tests that mutate it
    yield services
    db.close()
