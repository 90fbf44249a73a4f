"""docs/real-org.md followed against the demo org, as a new user would (issue 12).

An admin registers an app with the documented callback (the demo org registers consumer keys
like an External Client App: exact callback URLs, no secret), the user puts the consumer key in
config.toml, logs in with `smvue-tui login`, runs `smvue-tui doctor`, then `smvue-tui sync`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.integration.cli_support import cli_login, free_port

GUIDE = Path(__file__).parents[2] / "docs" / "real-org.md"


def _cli(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smvue_tui", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_following_the_guide_logs_in_preflights_and_syncs(make_org, smvue_home):
    guide = GUIDE.read_text()
    assert "http://localhost:1717/OauthRedirect" in guide  # what step 2 says to register
    running = make_org()
    port = free_port()
    callback = f"http://localhost:{port}/OauthRedirect"
    app = running.admin("POST", "/apps", json={"callback_urls": [callback]})
    assert app.status_code == 201
    client_id = app.json()["client_id"]
    assert client_id != running.org.client_id  # a fresh consumer key, not the built-in one

    config = smvue_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[salesforce]\nclient_id = "{client_id}"\nredirect_port = {port}\n')
    env = {**os.environ, "SMVUE_HOME": str(smvue_home)}

    url, _out, _err = cli_login(running, env)  # the port comes from config.toml
    assert f"client_id={client_id}" in url

    doctor = _cli(env, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"Callback URL your connected app must list: {callback}" in doctor.stdout
    assert "SMVue can sync this org." in doctor.stdout

    sync = _cli(env, "sync", timeout=300)
    assert sync.returncode == 0, sync.stderr


def test_an_app_registered_with_another_callback_path_is_refused(make_org):
    """Salesforce matches the callback exactly: /OAuthRedirect is not /OauthRedirect."""
    running = make_org()
    app = running.admin("POST", "/apps",
                        json={"callback_urls": ["http://localhost:1717/OAuthRedirect"]}).json()
    answer = httpx.get(f"{running.base_url}/services/oauth2/authorize", params={
        "response_type": "code", "client_id": app["client_id"],
        "redirect_uri": "http://localhost:1717/OauthRedirect", "code_challenge": "x" * 43})
    assert answer.status_code == 400 and "redirect_uri_mismatch" in answer.text
