"""`smvue-tui login` run as a user would: open the URL it prints, approve, come back."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_login(running, env: dict[str, str], *args: str) -> tuple[str, str, str]:
    """Run `smvue-tui login --env <org> --no-browser *args`, "open" the URL it prints (the
    demo org auto-approves), and wait for it to finish. Returns (url, stdout, stderr); asserts
    it exited 0."""
    running.org.auto_approve = True
    proc = subprocess.Popen(
        [sys.executable, "-m", "smvue_tui", "login", "--env", running.base_url,
         "--no-browser", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = ""
        while "Open this URL to log in:" not in line:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
        url = line.split("Open this URL to log in:", 1)[1].strip()
        httpx.get(url, follow_redirects=True)  # the browser: approve, back to the callback
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    return url, out, err
