"""Refresh-token rotation as Salesforce does it, with SMVue's processes refreshing at once.

The demo org revokes a whole login when a rotated-away refresh token is presented again (as
Salesforce does). The TUI, a sync child and ``serve`` each hold the login loaded from the token
store; when they all refresh at the same moment, the lock beside the token store lets one
refresh and the others adopt its result — nobody presents a replaced token, nobody is logged
out (issue 12).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from smvue_demo_org.profile import OrgProfile
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore

PROCESSES = ("tui", "sync-child", "serve")


def _status(running, token: str) -> int:
    return httpx.get(f"{running.base_url}/services/data/v67.0/limits",
                     headers={"Authorization": f"Bearer {token}"}).status_code


def test_processes_refreshing_at_once_all_stay_logged_in(make_org, smvue_home, tmp_path):
    running = make_org(profile=OrgProfile(refresh_token_rotation=True))
    TokenStore().save(credentials_from_token(running.web_login(),
                                             environment=resolve_environment(running.base_url),
                                             client_id=running.org.client_id))
    for round_ in range(3):  # three rounds: each starts from the login the last one rotated
        go = tmp_path / f"go-{round_}"
        procs = [subprocess.Popen([sys.executable, "-m", "tests.integration.refresher_child",
                                   str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env={**os.environ, "SMVUE_HOME": str(smvue_home)})
                 for _ in PROCESSES]
        time.sleep(1.0)  # every process has loaded the login and waits for the start
        go.touch()
        results = [p.communicate(timeout=60) for p in procs]
        assert [out.strip() for out, _ in results] == ["OK"] * len(PROCESSES), results
    stored = TokenStore().load()
    assert _status(running, stored.access_token) == 200


def test_a_rotated_refresh_token_presented_again_logs_everyone_out(make_org):
    """What the lock prevents: the demo org, like Salesforce, revokes the family."""
    running = make_org(profile=OrgProfile(refresh_token_rotation=True))
    first = running.web_login()
    url = f"{running.base_url}/services/oauth2/token"

    def refresh(token: str) -> httpx.Response:
        return httpx.post(url, data={"grant_type": "refresh_token", "refresh_token": token,
                                     "client_id": running.org.client_id})

    second = refresh(first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _status(running, second["access_token"]) == 200
    reused = refresh(first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert _status(running, second["access_token"]) == 401
    assert _status(running, first["access_token"]) == 401
    assert refresh(second["refresh_token"]).status_code == 400
