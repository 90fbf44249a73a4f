"""`smvue-tui demo-org` as a user or script runs it: a process that prints how to reach it."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx


def _start(home, *args):
    env = {**os.environ, "SMVUE_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "smvue_tui", "demo-org", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_prints_name_value_lines_and_serves(smvue_home):
    proc = _start(smvue_home, "--size", "60", "--seed", "3", "--auto-approve")
    try:
        info = {}
        while "password" not in info:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            name, _, value = line.strip().partition(": ")
            info[name] = value
        assert set(info) == {"base_url", "org_id", "client_id", "username", "password"}
        token = httpx.post(f"{info['base_url']}/services/oauth2/token", data={
            "grant_type": "password", "client_id": info["client_id"],
            "username": info["username"], "password": info["password"]}).json()
        org = httpx.get(f"{info['base_url']}/services/data/v67.0/query",
                        params={"q": "SELECT Id FROM Organization"},
                        headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        assert org["records"][0]["Id"] == info["org_id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (smvue_home / "cache" / "demo-org").is_dir()  # nothing written outside SMVUE_HOME


def test_bad_arguments_get_a_clear_error(smvue_home):
    for args in (["--size", "huge"], ["--fault", "nonsense"], ["--fault", "error_rate=7"]):
        proc = _start(smvue_home, *args)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 2, err
        assert "smvue-tui demo-org:" in err and "Traceback" not in err
