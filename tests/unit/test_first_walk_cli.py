"""Issue 19, the command line as a new user finds it: each bad input is one clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smvue_tui.config import FolderNotWritable, ensure_dir

ROOT = Path(__file__).resolve().parents[2]


def smvue(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "SMVUE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "smvue_tui", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def unwritable_home(tmp_path: Path) -> Path:
    """A home that cannot be created even by root: its parent is a file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    return blocker / "home"


# --- 1: a read-only (or otherwise unusable) SMVUE_HOME ------------------------------------

def test_ensure_dir_says_which_folder_and_what_to_do(tmp_path):
    with pytest.raises(FolderNotWritable) as raised:
        ensure_dir(unwritable_home(tmp_path) / "data")
    message = str(raised.value)
    assert "cannot create the folder" in message and "not-a-folder/home/data" in message
    assert "not a directory" in message and "Set SMVUE_HOME" in message


@pytest.mark.parametrize("args", [(), ("--demo",), ("demo-org", "--size", "small")])
def test_unusable_home_is_one_sentence_not_a_traceback(tmp_path, args):
    done = smvue(unwritable_home(tmp_path), *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "port" not in done.stderr
    assert done.stderr.startswith("smvue-tui: cannot create the folder "), done.stderr
    assert "Set SMVUE_HOME to a folder you can write to." in done.stderr


# --- 8: a login environment that is surely wrong, or does not answer --------------------------

def test_a_bare_word_is_not_an_environment(tmp_path):
    done = smvue(tmp_path / "home", "login", "--env", "staging", "--no-browser")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "https://staging/" not in done.stdout + done.stderr
    assert done.stderr.startswith("error: 'staging' is not a Salesforce environment: use "
                                  "production, sandbox, or your My Domain URL")


def test_a_url_nobody_answers_on_fails_within_seconds(tmp_path):
    import socket

    with socket.socket() as probe:  # a free port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = smvue(tmp_path / "home", "login", "--env", f"http://127.0.0.1:{port}",
                 "--no-browser", timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (f"error: cannot reach http://127.0.0.1:{port} (connection refused): "
                           "check the URL and your network\n")
    assert "Open this URL" not in done.stdout


async def test_check_reachable_times_out_on_a_host_that_never_answers():
    from smvue_tui.salesforce.environments import Environment
    from smvue_tui.services.connection import check_reachable

    # 192.0.2.0/24 is TEST-NET-1: never routed, so the connect hangs until the timeout
    with pytest.raises(ValueError, match=r"cannot reach https://192\.0\.2\.1 \(.+\): check"):
        await check_reachable(Environment("my-domain", "https://192.0.2.1"), timeout=0.3)
