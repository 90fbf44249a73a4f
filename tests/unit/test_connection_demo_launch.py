"""``smvue-tui --demo``: both demo orgs serve while the block runs and stop after it; a stored
demo login from an earlier run is forgotten (a real one is not)."""

from __future__ import annotations

import io

import httpx
import pytest

from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.services import connection as conn
from smvue_tui.services.demo_launch import forget_demo_login, running_demo_orgs
from smvue_tui.store import models as m
from tests.unit.test_connection import creds


def test_demo_orgs_run_for_the_block_only(paths):
    out = io.StringIO()
    with running_demo_orgs(paths, size=20, out=out) as targets:
        assert [t.label for t in targets] == ["Production", "Sandbox"]
        for target in targets:
            assert target.base_url.startswith("http://127.0.0.1:")
            assert httpx.get(f"{target.base_url}/services/data/").status_code == 200
        assert targets[1].org.profile.sandbox and not targets[0].org.profile.sandbox
    assert "Starting the demo Sandbox org" in out.getvalue()
    assert paths.demo_org_cache.exists()
    for target in targets:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{target.base_url}/services/data/", timeout=2)


def test_forget_demo_login(paths):
    conn.save_login(paths, creds(environment=resolve_environment("http://127.0.0.1:9")))
    forget_demo_login(paths)
    assert not paths.token_file.exists()
    assert m.Connection.get().disconnected_at is not None

    conn.save_login(paths, creds(environment=resolve_environment("production")))
    forget_demo_login(paths)  # a real login is kept
    assert paths.token_file.exists() and m.Connection.get().disconnected_at is None
