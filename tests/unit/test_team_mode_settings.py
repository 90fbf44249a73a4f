"""Team mode's settings and its refusals, in words: which org, which manager, a bad setting, a
server that cannot be reached — and no team mode at all without a team store."""

from __future__ import annotations

import pytest

from smvue_tui.cli.main import main
from smvue_tui.config import app_paths
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.team_mode import TeamModeError, open_team_services, team_settings
from tests.unit.salesforce.auth_helpers import ORG_ID, make_creds

URL = "postgresql://ann@db.example.com/smvue"


@pytest.fixture
def paths(smvue_home, monkeypatch):
    monkeypatch.delenv("SMVUE_STORE_URL", raising=False)
    return app_paths()


def _config(paths, text: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(text)


def test_no_team_store_means_no_team_mode(paths):
    assert team_settings(paths) is None
    _config(paths, '[team]\nmanager = "ann@acme.example"\n')
    assert team_settings(paths) is None


def test_the_manager_and_org_from_config(paths):
    _config(paths, f'[store]\nurl = "{URL}"\n[team]\nmanager = " ann@acme.example "\n'
                   'org = "00D000000000001"\n')
    settings = team_settings(paths)
    assert (settings.url, settings.manager, settings.manager_source) == (
        URL, "ann@acme.example", "config")
    assert settings.org_id == "00D000000000001EAA" and settings.schema == \
        "smvue_00d000000000001eaa"


def test_the_login_says_who_and_which_org(paths, monkeypatch):
    monkeypatch.setenv("SMVUE_STORE_URL", URL)
    TokenStore(paths.token_file).save(make_creds())
    _config(paths, '[team]\nmanager = "someone-else@acme.example"\n')
    settings = team_settings(paths)
    assert (settings.manager, settings.manager_source, settings.org_id) == (
        "jane@acme.com", "login", ORG_ID)


def test_without_a_manager_team_mode_says_how_to_say_who_you_are(paths, monkeypatch):
    monkeypatch.setenv("SMVUE_STORE_URL", URL)
    with pytest.raises(TeamModeError) as refused:
        team_settings(paths)
    assert 'set manager = "you@yourcompany.com" under [team]' in str(refused.value)
    assert str(paths.config_file) in str(refused.value)


def test_a_bad_org_or_url_is_said_in_words(paths, monkeypatch):
    _config(paths, f'[store]\nurl = "{URL}"\n[team]\nmanager = "a@b.example"\norg = "acme"\n')
    with pytest.raises(TeamModeError, match="is not a Salesforce org id"):
        team_settings(paths)
    monkeypatch.setenv("SMVUE_STORE_URL", "mysql://db/x")
    with pytest.raises(TeamModeError, match="is not a PostgreSQL URL"):
        team_settings(paths)


def test_an_unreachable_server_is_said_without_the_password(paths, monkeypatch):
    monkeypatch.setenv("SMVUE_STORE_URL", "postgresql://ann:s3cret@127.0.0.1:1/smvue")
    _config(paths, '[team]\nmanager = "ann@acme.example"\norg = "00D000000000001EAA"\n')
    with pytest.raises(TeamModeError) as refused:
        open_team_services(paths)
    text = str(refused.value)
    assert text.startswith("cannot read the team store at postgresql://ann:***@127.0.0.1:1/")
    assert "s3cret" not in text


def test_the_tui_refuses_in_words_and_opens_nothing(paths, monkeypatch, capsys):
    monkeypatch.setenv("SMVUE_STORE_URL", URL)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the store is a team store") and "Traceback" not in err
    assert not paths.data_dir.exists() or not any(paths.data_dir.rglob("*.sqlite3"))


def test_the_store_password_is_not_in_a_crash_reports_locals():
    """Textual's crash report prints every frame's locals (rich, show_locals=True): the app's
    services hold the team settings, serve holds its writer lock — neither may show the
    store URL's password, as the Salesforce tokens never show (credentials.py)."""
    import io

    from rich.console import Console
    from rich.traceback import Traceback

    from smvue_tui.services.team_mode import TeamSettings
    from smvue_tui.services.team_writer import WriterLock

    def crash(settings: TeamSettings, lock: WriterLock) -> str:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            out = io.StringIO()
            Console(file=out, width=200).print(Traceback(show_locals=True))
            return out.getvalue()

    url = "postgresql://ann:s3cret@db.example/smvue"
    report = crash(TeamSettings(url, ORG_ID, "ann@acme.example", "config"),
                   WriterLock(url, ORG_ID))
    shown = report.split("in crash", 1)[1]  # the frame holding only the two objects
    assert "TeamSettings" in shown and "WriterLock" in shown and ORG_ID in shown
    assert "s3cret" not in shown


@pytest.mark.parametrize("url", ["postgresql://ann:s3cret@db.example.com/smvue",
                                 "postgresql://ann@db.example.com/smvue?password=s3cret",
                                 "postgresql://ann@db.example.com/smvue?sslpassword=s3cret"])
@pytest.mark.parametrize("command", [["serve"], ["store", "check"], ["store", "migrate"],
                                     ["store", "grants", "smvue_managers"]])
def test_a_password_on_the_command_line_is_refused_in_words(paths, capsys, url, command):
    """Arguments show in every user's `ps` for as long as serve runs: a --store holding a
    password is refused before anything is opened, saying where the password goes instead."""
    assert main([*command, "--store", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --store holds a password") and "s3cret" not in err
    assert "~/.pgpass" in err and "PGPASSWORD" in err and "SMVUE_STORE_URL" in err
    assert "Traceback" not in err


def test_the_same_url_in_the_environment_is_not_refused(paths, monkeypatch, capsys):
    monkeypatch.setenv("SMVUE_STORE_URL", "postgresql://ann:s3cret@127.0.0.1:1/smvue")
    assert main(["serve"]) == 2  # no login here: said, not the password
    err = capsys.readouterr().err
    assert "smvue-tui login" in err and "holds a password" not in err
    assert main(["serve", "--store", "postgresql://ann@127.0.0.1:1/smvue"]) == 2
    assert "holds a password" not in capsys.readouterr().err
