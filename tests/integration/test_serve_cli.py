"""`smvue-tui serve`: the headless mode syncs on start and keeps running until stopped."""

from __future__ import annotations

import os
import subprocess
import sys

from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore
from tests.integration.cli_support import cli_login, free_port


def test_serve_syncs_and_keeps_running(demo, smvue_home):
    creds = credentials_from_token(demo.web_login(),
                                   environment=resolve_environment(demo.base_url),
                                   client_id=demo.org.client_id)
    TokenStore().save(creds)
    proc = subprocess.Popen([sys.executable, "-m", "smvue_tui", "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SMVUE_HOME": str(smvue_home)})
    try:
        lines = []
        while not any("next incremental" in line for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        text = "".join(lines)
        # No Pub/Sub API (this demo org serves none) and no [webhook] public_url: polling.
        assert "live updates: Polling — this org serves no Pub/Sub API; no [webhook] " \
               "public_url for Outbound Messages" in text
        assert "sync: ok" in text
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_without_login_says_so(smvue_home):
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "serve"], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "SMVUE_HOME": str(smvue_home)})
    assert done.returncode == 2 and "smvue-tui login" in done.stderr


def _serve_until(env, marker: str) -> str:
    proc = subprocess.Popen([sys.executable, "-m", "smvue_tui", "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines: list[str] = []
        while not any(marker in line for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines) + proc.stderr.read()
            lines.append(line)
        return "".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _configure_webhook(smvue_home, extra: str = "") -> None:
    config = smvue_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[webhook]\npublic_url = "https://hooks.example.org/smvue"\n'
                      f"port = {free_port()}\n{extra}")


def test_login_then_serve_deploys_the_automation(make_org, smvue_home):
    """Issue 12: `login` writes only the token file; `serve` must still find the org, deploy
    with an integrationUser (the logged-in user) and say so in words."""
    running = make_org()
    env = {**os.environ, "SMVUE_HOME": str(smvue_home)}
    cli_login(running, env, "--port", str(free_port()))
    _configure_webhook(smvue_home)
    text = _serve_until(env, "change-notification automation")
    assert "listening for change notifications" in text
    assert "change-notification automation deployed" in text, text
    token = (smvue_home / "config" / "webhook-token").read_text().strip()
    assert len(token) >= 32 and token not in text  # the listener's secret is never printed
    deployed = running.admin("GET", "/automation").json()
    messages = deployed["WorkflowOutboundMessage"]
    assert {om["fullName"].split(".")[0] for om in messages} == {"Opportunity", "Account",
                                                                 "Contact"}
    assert {u for om in messages for u in om["body"]["integrationUser"]} == {running.org.username}
    assert all(om["body"]["endpointUrl"][0].startswith("https://hooks.example.org/smvue/sf/outbound/")
               for om in messages)


def test_serve_after_a_disconnect_and_a_cli_login_deploys_again(make_org, smvue_home):
    running = make_org()
    env = {**os.environ, "SMVUE_HOME": str(smvue_home)}
    cli_login(running, env, "--port", str(free_port()))
    integration = running.api().get("/query", params={"q": (
        "SELECT Username FROM User WHERE IsActive = true AND Username != "
        f"'{running.org.username}' LIMIT 1")}).json()["records"][0]["Username"]
    _configure_webhook(smvue_home, f'integration_user = "{integration}"\n')
    from smvue_tui.config import app_paths
    from smvue_tui.store import models as m
    from smvue_tui.store.db import open_store

    org_id = TokenStore().load().org_id
    db = open_store(app_paths().for_org(org_id).database)  # the org's own store (issue 17)
    try:  # what the TUI's Disconnect leaves behind
        m.Connection.create(org_id=org_id, environment="demo", login_url=running.base_url,
                            instance_url=running.base_url, username="someone@else.example",
                            disconnected_at="2026-01-01T00:00:00+00:00")
    finally:
        db.close()
    text = _serve_until(env, "change-notification automation")
    assert "change-notification automation deployed" in text, text
    messages = running.admin("GET", "/automation").json()["WorkflowOutboundMessage"]
    assert {u for om in messages for u in om["body"]["integrationUser"]} == {integration}


def test_serve_says_in_words_why_it_did_not_deploy(make_org, smvue_home):
    running = make_org()
    env = {**os.environ, "SMVUE_HOME": str(smvue_home)}
    cli_login(running, env, "--port", str(free_port()))
    _configure_webhook(smvue_home, 'integration_user = "not-an-email"\n')
    text = _serve_until(env, "updates come from the scheduled resync")
    assert "integration_user must be a Salesforce username" in text
    assert "Error(" not in text and "Failure(" not in text
