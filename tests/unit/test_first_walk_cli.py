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
