"""Every login flow against the demo org over loopback, and `smvue-tui login` / `logout`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest

from smvue_tui.salesforce.auth import LoginFlow
from smvue_tui.salesforce.consumer import consumer_for
from smvue_tui.salesforce.device import DeviceFlow
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.errors import AuthorizationError
from tests.integration.cli_support import cli_login, free_port


def _env(running):
    environment = resolve_environment(running.base_url)
    return environment, consumer_for(environment)


def _api_status(running, token: str) -> int:
    return httpx.get(f"{running.base_url}/services/data/v67.0/limits",
                     headers={"Authorization": f"Bearer {token}"}).status_code


async def test_loopback_redirect_login(demo):
    demo.org.auto_approve = True  # a returning user: Salesforce redirects straight back
    environment, consumer = _env(demo)
    async with LoginFlow(environment, consumer, port=free_port()) as flow:
        async with httpx.AsyncClient(follow_redirects=True) as browser:
            page = await browser.get(flow.authorization_url)
        assert page.status_code == 200  # the loopback listener's "you can close this tab"
        creds = await flow.wait_for_redirect()
    assert creds.org_id == demo.org.org_id and creds.refresh_token
    assert _api_status(demo, creds.access_token) == 200


async def test_consent_page_then_paste_back_over_ssh(demo):
    environment, consumer = _env(demo)
    async with LoginFlow(environment, consumer, listen=False) as flow:
        async with httpx.AsyncClient() as browser:  # the browser on the user's laptop
            page = await browser.get(flow.authorization_url)
            assert "Allow" in page.text
            token = re.search(r'name="request_token" value="([^"]+)"', page.text).group(1)
            answer = await browser.post(f"{demo.base_url}/services/oauth2/authorize", data={
                "request_token": token, "username": demo.org.username,
                "password": demo.org.password, "decision": "allow"})
        redirected = answer.headers["location"]
        wrong = re.sub(r"state=[^&]+", "state=someone-else", redirected)
        with pytest.raises(AuthorizationError):
            await flow.complete_with_pasted(wrong)
        creds = await flow.complete_with_pasted(redirected)
    assert _api_status(demo, creds.access_token) == 200


async def test_device_flow_pending_then_approved(demo):
    demo.org.tokens.device_interval = 0  # the test's fake sleep polls at once
    environment, consumer = _env(demo)
    approvals = []

    async def sleep(_seconds: float) -> None:
        if not approvals:  # the user types the code on their phone while we wait
            approvals.append(httpx.post(f"{demo.base_url}/demo/device", json={
                "user_code": flow.codes.user_code, "decision": "allow"}).status_code)

    flow = DeviceFlow(environment, consumer, sleep=sleep)
    codes = await flow.start()
    assert codes.user_code and codes.verification_uri.endswith("/setup/connect")
    creds = await flow.poll()
    assert approvals == [200]
    assert _api_status(demo, creds.access_token) == 200


def test_cli_login_stores_0600_tokens_and_logout_revokes(make_org, smvue_home):
    running = make_org()
    env = {**os.environ, "SMVUE_HOME": str(smvue_home)}
    _url, out, err = cli_login(running, env, "--port", str(free_port()))
    token_file = smvue_home / "data" / "salesforce-token.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    stored = __import__("json").loads(token_file.read_text())
    access = next(v for k, v in _flatten(stored) if k == "access_token")
    assert access not in out + err  # never printed
    assert _api_status(running, access) == 200
    logout = subprocess.run([sys.executable, "-m", "smvue_tui", "logout"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert logout.returncode == 0, logout.stderr
    assert not token_file.exists()
    assert _api_status(running, access) == 401  # revoked at Salesforce too


def _flatten(data, prefix=""):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flatten(value, key)
    else:
        yield prefix, data
