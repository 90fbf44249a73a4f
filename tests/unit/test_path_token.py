"""The webhook path token is never empty, short or someone else's (issue 20, item 2)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from smvue_tui.services.automation import path_token
from smvue_tui.services.webhook import WebhookListener

MIN = 32


def _token_file(paths):
    return paths.config_dir / "webhook-token"


def test_a_full_disk_at_creation_leaves_no_empty_token(paths):
    """A write that fails (here: a file-size limit of 0, what a full disk does to a write)
    must not leave a 0-byte token that the next start would listen with."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        from smvue_tui.config import app_paths
        from smvue_tui.services.automation import path_token
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        try:
            path_token(app_paths({{"SMVUE_HOME": {str(paths.config_dir.parent)!r}}}))
        except OSError:
            sys.exit(3)
        sys.exit(0)
    """)
    proc = subprocess.run([sys.executable, "-c", code], check=False, env={**os.environ})
    assert proc.returncode == 3  # the start fails loudly ...
    assert not _token_file(paths).exists()  # ... and leaves nothing behind
    assert not list(paths.config_dir.glob(".webhook-token*"))
    token = path_token(paths)  # the next start makes a whole one
    assert len(token) >= MIN and _token_file(paths).read_text().strip() == token


@pytest.mark.parametrize("content", ["", "\n", "short", "has spaces in it " * 3])
def test_an_empty_or_invalid_token_file_is_replaced(paths, content):
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    _token_file(paths).write_text(content)
    token = path_token(paths)
    assert len(token) >= MIN and token != content.strip()
    assert path_token(paths) == token  # kept from now on
    assert list(paths.config_dir.glob("webhook-token.invalid-*"))  # the bad one kept aside


def test_a_symlinked_token_file_is_never_used(paths, tmp_path):
    secret_elsewhere = tmp_path / "public-file"
    secret_elsewhere.write_text("A" * 40)  # looks like a token: still not ours
    os.chmod(secret_elsewhere, 0o644)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    _token_file(paths).symlink_to(secret_elsewhere)
    token = path_token(paths)
    assert token != "A" * 40 and len(token) >= MIN
    assert not _token_file(paths).is_symlink()
    assert secret_elsewhere.read_text() == "A" * 40
    assert oct(secret_elsewhere.stat().st_mode & 0o777) == oct(0o644)


def test_a_dangling_symlink_does_not_crash_the_start(paths, tmp_path):
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    _token_file(paths).symlink_to(tmp_path / "gone")
    token = path_token(paths)
    assert len(token) >= MIN and not (tmp_path / "gone").exists()


@pytest.mark.parametrize("token", ["", "abc", "x" * 31, "../../etc"])
def test_the_listener_refuses_an_empty_or_short_token(token):
    with pytest.raises(ValueError, match="token"):
        WebhookListener(None, org_id="00D", path_token=token, on_new=lambda r: None)
