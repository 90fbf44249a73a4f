"""Shared test set-up: every test writes under its own SMVUE_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def smvue_home(tmp_path, monkeypatch):
    """Point every file the app writes at a per-test folder."""
    home = tmp_path / "smvue-home"
    monkeypatch.setenv("SMVUE_HOME", str(home))
    return home
