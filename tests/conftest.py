"""Shared test set-up: every test writes under its own SMVUE_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def smvue_home(tmp_path, monkeypatch):
    """Point every file the app writes at a per-test folder."""
    home = tmp_path / "smvue-home"
    monkeypatch.setenv("SMVUE_HOME", str(home))
    monkeypatch.delenv("SMVUE_STORE_URL", raising=False)  # SQLite unless a test asks
    return home


# A real PostgreSQL per session (per xdist worker): postgres_server, pg_url, store_backend.
from tests.integration.team_serve_support import serves  # noqa: E402,F401
from tests.postgres_server import (  # noqa: E402,F401
    backend_db,
    pg_url,
    postgres_server,
    store_backend,
)
