"""``smvue-tui login`` / ``logout``: output, exit codes, stored tokens (flows faked)."""

from __future__ import annotations

import asyncio
import os
import stat
import sys

import pytest

from smvue_tui.cli import login as login_cli
from smvue_tui.cli import main as cli
from smvue_tui.config import app_paths
from smvue_tui.salesforce.auth import LoginFlow
from smvue_tui.salesforce.device import DeviceCode
from smvue_tui.salesforce.errors import AuthorizationError, LoginDenied
from smvue_tui.salesforce.token_store import TokenStore
from tests.unit.salesforce.auth_helpers import (
    ACCESS,
    CONSUMER,
    IDENTITY_URL,
    ORG_ID,
    REFRESH,
    REVOKE_URL,
    TOKEN_URL,
    identity_body,
    make_creds,
    oauth_error,
    token_body,
)

AUTH_URL = "https://login.salesforce.com/services/oauth2/authorize?client_id=k&state=s"


class FakeFlow:
    """Stands in for LoginFlow: ``redirect`` is what wait_for_redirect does."""

    instances: list[FakeFlow] = []
    redirect: object = None  # Credentials, an exception, or None (= never comes back)
    paste_results: list[object] = []

    def __init__(self, environment, consumer, *, port):
        self.environment, self.consumer, self.port = environment, consumer, port
        self.authorization_url = AUTH_URL
        self.redirect_uri = f"http://localhost:{port}/OauthRedirect"
        self.pasted: list[str] = []
        self.closed = False
        FakeFlow.instances.append(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.closed = True

    async def wait_for_redirect(self):
        if self.redirect is None:
            await asyncio.Event().wait()
        if isinstance(self.redirect, Exception):
            raise self.redirect
        return self.redirect

    async def complete_with_pasted(self, text):
        self.pasted.append(text)
        result = self.paste_results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


@pytest.fixture
def fake_flow(monkeypatch):
    monkeypatch.setenv("SMVUE_SF_CLIENT_ID", CONSUMER.client_id)
    monkeypatch.setattr(login_cli, "LoginFlow", FakeFlow)
    FakeFlow.instances = []
    FakeFlow.redirect = None
    FakeFlow.paste_results = []
    lines: list[str] = []

    async def fake_lines():
        for line in lines:
            yield line

    monkeypatch.setattr(login_cli, "stdin_lines", fake_lines)
    return lines


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert ACCESS not in text and REFRESH not in text


def test_login_via_loopback_redirect(fake_flow, capsys):
    FakeFlow.redirect = make_creds()
    assert cli.main(["login", "--no-browser"]) == 0
    out, err = capsys.readouterr()
    assert f"Open this URL to log in: {AUTH_URL}" in out
    assert "paste the URL" in out
    assert "Logged in as Jane Doe <jane@acme.com>" in out
    assert ORG_ID in out and "Production (login.salesforce.com)" in out
    assert_no_secret(out, err)
    path = app_paths().token_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TokenStore().load() == make_creds()
    flow = FakeFlow.instances[0]
    assert flow.port == 1717 and flow.closed and flow.consumer.client_id == CONSUMER.client_id


def test_login_via_pasted_url_after_a_wrong_paste(fake_flow, capsys):
    fake_flow.extend(["", "http://localhost:1717/OauthRedirect?code=x&state=old",
                      "http://localhost:1717/OauthRedirect?code=x&state=new"])
    FakeFlow.paste_results = [
        AuthorizationError("the pasted URL belongs to another login attempt",
                           code="state_mismatch"), make_creds()]
    assert cli.main(["login", "--env", "sandbox", "--port", "1818", "--no-browser"]) == 0
    out, err = capsys.readouterr()
    assert "That did not work: the pasted URL belongs to another login attempt" in err
    assert "Logged in as" in out and "Sandbox (test.salesforce.com)" in out
    flow = FakeFlow.instances[0]
    assert flow.pasted == fake_flow[1:] and flow.port == 1818
    assert flow.environment.name == "sandbox"


def test_end_of_stdin_still_waits_for_the_browser(fake_flow, capsys, monkeypatch):
    fake_flow.append("")  # stdin ends; the redirect arrives afterwards

    async def late(self):
        await asyncio.sleep(0.01)
        return make_creds()

    monkeypatch.setattr(FakeFlow, "wait_for_redirect", late)
    assert cli.main(["login"]) == 0
    assert "Logged in as" in capsys.readouterr().out


def test_denied_login_exits_non_zero_with_message_and_remedy(fake_flow, capsys):
    FakeFlow.redirect = LoginDenied("end-user denied authorization", code="access_denied")
    assert cli.main(["login", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "Salesforce login was cancelled or denied" in err
    assert "end-user denied authorization [access_denied]" in err
    assert "choose Allow" in err
    assert not app_paths().token_file.exists()


def test_terminal_paste_error_ends_the_login(fake_flow, capsys):
    fake_flow.append("c0de")
    FakeFlow.paste_results = [AuthorizationError("invalid authorization code",
                                                 code="invalid_grant")]
    assert cli.main(["login"]) == 1
    assert "Unable to authorize Salesforce connection" in capsys.readouterr().err


def test_timeout_without_any_answer(fake_flow, capsys, monkeypatch):
    monkeypatch.setattr(login_cli, "LOGIN_TIMEOUT", 0.01)
    assert cli.main(["login"]) == 1
    assert "took too long" in capsys.readouterr().err


def test_bad_environment_and_missing_consumer_key(fake_flow, capsys, monkeypatch):
    assert cli.main(["login", "--env", "http://evil.example.com"]) == 2
    assert "https" in capsys.readouterr().err
    monkeypatch.delenv("SMVUE_SF_CLIENT_ID")
    assert cli.main(["login"]) == 1
    err = capsys.readouterr().err
    assert "not configured" in err and "SMVUE_SF_CLIENT_ID" in err
    assert FakeFlow.instances == []


def test_device_login_prints_code_and_url(fake_flow, capsys, monkeypatch):
    class FakeDevice:
        def __init__(self, environment, consumer):
            self.environment = environment

        async def start(self):
            return DeviceCode("08T3AY9D", "https://login.salesforce.com/setup/connect", 5.0,
                              device_code="secret-device-code")

        async def poll(self):
            return make_creds()

    monkeypatch.setattr(login_cli, "DeviceFlow", FakeDevice)
    assert cli.main(["login", "--device"]) == 0
    out, err = capsys.readouterr()
    assert "    https://login.salesforce.com/setup/connect\n" in out
    assert "    08T3AY9D\n" in out
    assert "secret-device-code" not in out + err
    assert "Logged in as" in out
    assert TokenStore().load() is not None


def test_real_flow_through_the_cli_with_a_pasted_url(monkeypatch, capsys, httpx_mock):
    """The real LoginFlow (listener on a free port) finished by a pasted redirect URL."""
    monkeypatch.setenv("SMVUE_SF_CLIENT_ID", CONSUMER.client_id)
    flows: list[LoginFlow] = []

    class Recording(LoginFlow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            flows.append(self)

    async def pasted():
        yield f"http://localhost/OauthRedirect?code=c0de&state={flows[0].state}"

    monkeypatch.setattr(login_cli, "LoginFlow", Recording)
    monkeypatch.setattr(login_cli, "stdin_lines", pasted)
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, json=identity_body())
    assert cli.main(["login", "--port", "0", "--no-browser"]) == 0
    out, err = capsys.readouterr()
    assert "Logged in as Jane Doe <jane@acme.com>" in out
    assert_no_secret(out, err)
    assert TokenStore().load().access_token == ACCESS


def test_logout_paths(capsys, httpx_mock):
    assert cli.main(["logout"]) == 0
    assert "Not logged in" in capsys.readouterr().out

    TokenStore().save(make_creds())
    httpx_mock.add_response(url=REVOKE_URL, method="POST")
    assert cli.main(["logout"]) == 0
    assert "forgotten and revoked" in capsys.readouterr().out
    assert TokenStore().load() is None

    TokenStore().save(make_creds())
    httpx_mock.add_response(url=REVOKE_URL, method="POST", is_reusable=True,
                            **oauth_error("invalid_token", "invalid token"))
    assert cli.main(["logout"]) == 0
    out, err = capsys.readouterr()
    assert "did not confirm the revoke" in err and "forgotten." in out
    assert_no_secret(out, err)
    assert TokenStore().load() is None


async def test_stdin_lines_from_a_pipe_and_from_a_file(monkeypatch, tmp_path):
    read_fd, write_fd = os.pipe()
    with open(read_fd, "rb", buffering=0) as reader:
        monkeypatch.setattr(sys, "stdin", reader)
        os.write(write_fd, b"first\nsecond")
        os.close(write_fd)
        assert [line async for line in login_cli.stdin_lines()] == ["first", "second"]
    path = tmp_path / "pasted.txt"
    path.write_bytes(b"http://localhost:1717/OauthRedirect?code=c&state=s\n")
    with open(path, "rb") as reader:
        monkeypatch.setattr(sys, "stdin", reader)
        lines = [line async for line in login_cli.stdin_lines()]
    assert lines == ["http://localhost:1717/OauthRedirect?code=c&state=s"]


def test_a_config_toml_that_cannot_be_read_is_not_said_as_salesforces_words(capsys):
    """A config.toml that is not TOML stops the login before Salesforce is asked: the file's
    own sentence and how to mend it — not "Salesforce said:", not the client_id remedy."""
    path = app_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[salesforce\n")
    assert cli.main(["login", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "error: config.toml could not be read" in err and "is not valid TOML" in err
    assert "Salesforce said" not in err and "Mend config.toml" in err
