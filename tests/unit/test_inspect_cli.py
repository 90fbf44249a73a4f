"""`smvue-tui inspect` on bad input: a clear message and exit 1, never a traceback."""

from __future__ import annotations

import pytest

from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.store.db import open_store


@pytest.fixture
def store():
    db = open_store(app_paths().database)
    yield db
    db.close()


def test_no_store_yet(capsys):
    assert main(["inspect"]) == 2
    assert "no local store yet" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "--since must be a span like 7d"),
    (["--since", "2999-01-01"], "is in the future"),
    (["--period", "this-decade"], "--period must be one of"),
    (["--rep", "Nobody At All"], "no deal owner is called 'Nobody At All'"),
])
def test_bad_arguments(store, capsys, args, message):
    assert main(["inspect", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize("config, message", [
    ("[inspection]\npushed_times = 'three'\n", "[inspection] pushed_times must be a number"),
    ("[inspection]\npushd_times = 3\n", "[inspection] has unknown setting(s): pushd_times"),
    ("[inspection\n", "is not valid TOML"),
    # TOML has nan and inf: neither is a threshold (nan made every comparison false).
    ("[inspection]\nstage_age_factor = nan\n", "stage_age_factor must be a number of 0 or more"),
    ("[inspection]\npushed_times = inf\n", "pushed_times must be a number of 0 or more"),
])
def test_bad_config(store, capsys, config, message):
    path = app_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config)
    assert main(["inspect", "--json"]) == 1
    assert message in capsys.readouterr().err


def test_an_empty_store_inspects_to_nothing(store, capsys):
    assert main(["inspect"]) == 0
    out = capsys.readouterr().out
    assert "Pipeline inspection, last 7d" in out and "At risk: 0 open deals flagged" in out


@pytest.mark.parametrize("command", [["inspect"], ["inspect", "--json"], ["status"]])
def test_a_store_a_newer_version_wrote_is_said_in_words(store, capsys, command):
    """After a downgrade: the store's schema is newer than this code's. One sentence and
    status 1, never a traceback."""
    from smvue_tui.store.db import SCHEMA_VERSION

    store.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "written by a newer smvue-tui" in err and "upgrade smvue-tui" in err
    assert "Traceback" not in err
