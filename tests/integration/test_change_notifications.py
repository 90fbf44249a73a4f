"""Deploy on connect, best-effort removal on disconnect, leftovers cleaned on the next connect."""

from __future__ import annotations

import httpx
import pytest

from smvue_tui.services import automation as cn
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from tests.integration.sync_support import client_for

ENDPOINT = "https://hooks.example.org/sf/outbound/token123"


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


def _deployed(running) -> dict:
    return httpx.get(f"{running.base_url}/demo/automation").json()


async def test_refused_removal_is_a_leftover_that_the_next_connect_cleans(demo, db):
    org_id = demo.org.org_id
    async with client_for(demo) as client:
        report = await cn.deploy(client, org_id, ENDPOINT, integration_user=demo.org.username)
        assert report.ok and set(report.live_objects) == set(cn.LIVE_FIELDS)
        assert len(cn.outstanding(org_id)) == 2 * len(cn.LIVE_FIELDS)
        assert _deployed(demo)  # the org has it
        demo.admin("POST", "/faults", json={"refuse_metadata_deletes": 1})
        removal = await cn.remove(client, org_id)
        assert not removal.ok
        left = cn.leftovers(org_id)
        assert left and all(row.setup_path and row.leftover_reason for row in left)
        demo.admin("POST", "/faults", json={"refuse_metadata_deletes": 0})
        again = await cn.deploy(client, org_id, ENDPOINT, integration_user=demo.org.username)
        assert again.ok and cn.leftovers(org_id) == []
        assert len(cn.outstanding(org_id)) == 2 * len(cn.LIVE_FIELDS)
        final = await cn.remove(client, org_id)
        assert final.ok and cn.outstanding(org_id) == []
    assert m.DeployedAutomation.select().where(
        m.DeployedAutomation.removed_at.is_null()).count() == 0


def test_webhook_settings_need_https_and_keep_one_token(tmp_path):
    from smvue_tui.config import app_paths

    paths = app_paths({"SMVUE_HOME": str(tmp_path)})
    first = cn.webhook_settings(paths, {"webhook": {"public_url": "https://x.example/hook"}})
    second = cn.webhook_settings(paths, {"webhook": {"public_url": "https://x.example/hook"}})
    assert first.endpoint_url == second.endpoint_url and first.path_token
    assert cn.webhook_settings(paths, {}).endpoint_url is None
    assert (paths.config_dir / "webhook-token").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="https"):
        cn.webhook_settings(paths, {"webhook": {"public_url": "http://x.example"}})
