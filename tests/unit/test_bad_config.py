"""A config.toml that cannot be used, through every entry point that reads it: one reader
(``config.read_config``), one sentence naming the file and the problem, never a traceback or a
Python repr. Commands (``sync``, ``serve``, ``inspect``) say it on stderr and exit non-zero
before touching Salesforce or a store; the TUI refuses to start when the file cannot be read
(which store to open is not known) and says a section of the wrong type in a notification."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smvue_tui.cli.main import main
from smvue_tui.config import ConfigError, app_paths, read_config
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.store.db import open_store
from tests.unit.salesforce.auth_helpers import make_creds


def _folder(path: Path) -> None:  # unreadable as a file, even for root (no chmod needed)
    path.mkdir(parents=True)


def _not_utf8(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'[keys]\nsync_now = "ctrl+r"\nquit = "\xff\xfe"\n')


def _not_toml(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[keys\nquit = 'x'\n")


# case → (how the file is spoiled, what the one sentence says about it)
BAD = {
    "unreadable": (_folder, "cannot be read (is a directory)"),
    "not UTF-8": (_not_utf8, "is not UTF-8 text (byte 0xff on line 3: save it as UTF-8)"),
    "not TOML": (_not_toml, "is not valid TOML (expected ']' at the end of a table "
                            "declaration, at line 1, column 6)"),
}


@pytest.fixture(params=sorted(BAD))
def bad(request) -> str:
    """config.toml spoiled one way; the sentence expected, with the file's path."""
    spoil, words = BAD[request.param]
    path = app_paths().config_file
    spoil(path)
    return f"{path} {words}"


def _said_once_in_words(err: str, sentence: str) -> None:
    assert sentence in err, err
    assert "Traceback" not in err and "codec" not in err and "Error" not in err, err


def test_the_reader_names_the_file_and_the_problem(bad):
    with pytest.raises(ConfigError) as raised:
        read_config(app_paths().config_file)
    assert str(raised.value) == bad


def test_a_missing_file_is_an_empty_config():
    assert read_config(app_paths().config_file) == {}


def test_sync_says_it_and_fails_before_anything(bad, capsys):
    TokenStore(app_paths().token_file).save(make_creds())
    assert main(["sync"]) == 1
    _said_once_in_words(capsys.readouterr().err, bad)
    assert not app_paths().orgs_dir.exists()  # no store made


def test_inspect_says_it_and_fails(bad, capsys):
    open_store(app_paths().database).close()  # a store to report on
    assert main(["inspect"]) == 1
    _said_once_in_words(capsys.readouterr().err, bad)


def test_status_says_it(bad, capsys):
    assert main(["status"]) == 0  # status reports; it refuses nothing
    out = capsys.readouterr().out
    assert f"Store: refused — {bad}" in out and "Traceback" not in out


def test_serve_says_it_and_exits(bad, smvue_home):
    TokenStore(app_paths().token_file).save(make_creds())
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "serve"], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "SMVUE_HOME": str(smvue_home)})
    assert done.returncode == 1
    _said_once_in_words(done.stderr, bad)
    assert "serving org" not in done.stdout


def test_the_tui_refuses_to_start_in_words(bad, capsys, monkeypatch):
    from smvue_tui.tui.app import SmvueApp

    def started(app):  # a regression fails here instead of taking over the terminal
        raise AssertionError("the app started")

    monkeypatch.setattr(SmvueApp, "run", started)
    assert main([]) == 1
    err = capsys.readouterr().err
    _said_once_in_words(err, bad)
    assert "Mend config.toml, or move it aside" in err  # the next step, as the commands say it


def test_a_sync_child_keeps_its_defaults_when_the_app_said_it_already(bad, caplog):
    """The TUI's sync child reads config.toml for its tuning knobs: the app said what is
    wrong, so the run goes on with the defaults (logged in the same words)."""
    from smvue_tui.sync.runner import run_config

    assert run_config(app_paths()) == {}
    assert any(bad in r.getMessage() for r in caplog.records)


# --- a section of the wrong type -------------------------------------------------------------

def _write(text: str) -> Path:
    path = app_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_store_section_that_is_not_a_table_is_refused_by_every_command(capsys):
    path = _write("store = 5\n")
    TokenStore(app_paths().token_file).save(make_creds())
    assert main(["sync"]) == 1
    err = capsys.readouterr().err
    assert f"[store] in {path} must be a table of settings, not a number" in err, err
    open_store(app_paths().database).close()
    assert main(["inspect"]) == 1
    assert "[store] in" in capsys.readouterr().err


def test_a_team_section_that_is_not_a_table_is_said_in_team_mode(monkeypatch):
    from smvue_tui.services.team_mode import TeamModeError, team_settings

    monkeypatch.setenv("SMVUE_STORE_URL", "postgresql://ann@db.example.com/smvue")
    path = _write('team = "ann@acme.example"\n')
    with pytest.raises(TeamModeError) as raised:
        team_settings(app_paths())
    assert str(raised.value) == (f"[team] in {path} must be a table of settings, not text, so "
                                 "this team store's [team] settings are not known")


def test_the_card_reads_a_webhook_section_of_the_wrong_type_as_none():
    from smvue_tui.services.integration_card import public_webhook_url

    _write("webhook = 3\n")
    assert public_webhook_url(app_paths()) == ""  # the app said it at start (a notification)
    _write('[webhook]\npublic_url = "https://hooks.example.org/x"\n')
    assert public_webhook_url(app_paths()) == "https://hooks.example.org/x"


def test_on_a_team_store_named_in_the_environment_the_tui_still_refuses(bad, monkeypatch):
    """SMVUE_STORE_URL names the store, but who this manager is ([team]) is not known."""
    from smvue_tui.services.team_mode import TeamModeError, team_settings

    monkeypatch.setenv("SMVUE_STORE_URL", "postgresql://ann@db.example.com/smvue")
    with pytest.raises(TeamModeError) as raised:
        team_settings(app_paths())
    assert str(raised.value) == f"{bad}, so this team store's [team] settings are not known"


# --- review-cfg: sections of the wrong type that the sync reads -------------------------------

def test_a_sync_section_that_is_not_a_table_keeps_the_bulk_defaults(caplog):
    """``sync = 3`` (no ``[sync]`` table): the sync's tuning knobs at their defaults, said in
    the log — not an AttributeError out of ``BulkPolicy.from_config`` (sync, serve and the
    app's syncs all build their policy there)."""
    from smvue_tui.sync.bulk_read import BulkPolicy, policy_from

    for value in (3, "fast", [1], True):
        assert policy_from({"sync": value}) == BulkPolicy()
    assert any("[sync]" in r.getMessage() for r in caplog.records)


def test_orgs_refuses_in_words_on_stderr_and_fails(bad, capsys):
    """README → Configuration: every command refuses a config.toml it cannot use (exit 1).
    ``orgs`` printed the sentence on stdout as if it were the list and exited 0 — ``orgs
    --json`` then hands a script a line that is not JSON, with success (backend.shared_store_note
    returns the refusal as a note)."""
    code = main(["orgs", "--json"])
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""  # nothing a script would read as the list
    _said_once_in_words(captured.err, bad)


def test_a_file_where_the_config_folder_would_be_is_said_not_a_traceback():
    """read_config takes a file where config.toml's folder would be for "no config.toml"
    (NotADirectoryError → {}), leaving it to the folders' creation to say. The app's start
    does not: ``_apply_config`` → ``webhook_problem`` → ``path_token.stored_path_token``'s own
    ``mkdir`` raised FileExistsError, a traceback on the terminal (`smvue-tui` with
    $SMVUE_HOME/config a file). Expected: the problem in words (or None)."""
    from smvue_tui.services.app_services import AppServices

    paths = app_paths()
    paths.config_dir.parent.mkdir(parents=True, exist_ok=True)
    paths.config_dir.write_text("")  # a file, not the folder
    services = AppServices.create(paths)
    try:
        problem = services.webhook_problem()  # FileExistsError before a fix
    finally:
        services.db.close()
    assert problem is None or str(paths.config_dir) in problem
