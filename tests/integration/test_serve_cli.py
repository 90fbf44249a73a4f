"""`smvue-tui serve`: the headless mode syncs on start and keeps running until stopped."""

from __future__ import annotations

import os
import subprocess
import sys

from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore


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
        assert "updates come from the scheduled resync" in text  # no [webhook] public_url
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
