"""Unit-test fixtures shared across modules."""

from __future__ import annotations

import pytest

from smvue_tui.config import app_paths
from smvue_tui.store.db import open_store


@pytest.fixture
def paths(tmp_path):
    """The app's paths under a temporary SMVUE_HOME, with its store open."""
    paths = app_paths({"SMVUE_HOME": str(tmp_path / "home")})
    db = open_store(paths.database)
    yield paths
    db.close()
