"""`smvue-tui serve --store postgresql://…` as a real process, for the team-store tests and the
team-mode benchmark: start it, read its lines without blocking forever, kill it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.token_store import TokenStore

ROOT = Path(__file__).resolve().parents[2]


def save_login(running, home: Path) -> None:
    """What `smvue-tui login` leaves on the writer's machine: the org's tokens."""
    creds = credentials_from_token(running.web_login(),
                                   environment=resolve_environment(running.base_url),
                                   client_id=running.org.client_id)
    TokenStore(home / "data" / "salesforce-token.json").save(creds)


class Serve:
    """One `smvue-tui serve --store URL` process with its own SMVUE_HOME."""

    def __init__(self, home: Path, url: str) -> None:
        env = {**os.environ, "SMVUE_HOME": str(home), "PYTHONPATH": str(ROOT)}
        env.pop("SMVUE_STORE_URL", None)  # --store alone names it
        self.proc = subprocess.Popen([sys.executable, "-m", "smvue_tui", "serve", "--store", url],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self._buffer = b""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, marker: str, timeout: float = 120.0) -> str:
        """Read lines until one holds ``marker``; AssertionError with the output otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if marker in line:
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"serve never said {marker!r}:\n{self.text}")
            if not self._read(left):
                raise AssertionError(f"serve ended before {marker!r}:\n{self.text}\n"
                                     f"{self.proc.stderr.read().decode()[-6000:]}")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.proc.stdout], [], [], min(timeout, 1.0))
        if not ready:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self._buffer += chunk
        *done, self._buffer = self._buffer.split(b"\n")
        self.lines += [line.decode() for line in done]
        return True

    def finish(self, timeout: float = 60.0) -> tuple[int, str]:
        """(exit code, stderr) of a serve expected to end by itself."""
        _out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err.decode()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def serves():
    """``serve`` processes a test starts (``Serve``), closed when it ends."""
    started: list[Serve] = []
    yield started
    for serve in started:
        serve.close()
