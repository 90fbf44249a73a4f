"""The token file: Credentials as JSON, readable by its owner only, replaced atomically.

The file is created with mode 0600 (never briefly wider), written to a temporary sibling,
fsynced and ``os.replace``d so a crash leaves the old file or the new one, never half of each.
Its folder is 0700. It is never read through a symbolic link, nor is a link's target chmod-ed
(``safe_files``): a link is refused like a damaged file. An unreadable file is an error the
user sees (``TokenStoreError``); saving over it first moves it aside with a warning, so
nothing is lost silently.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

from smvue_tui.config import app_paths
from smvue_tui.safe_files import (
    fsync_dir,
    move_aside,
    read_private,
    write_private,
)
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.salesforce.redaction import remember_secret

log = logging.getLogger(__name__)

DIR_MODE = 0o700


class TokenStoreError(SalesforceError):
    """The token file exists but cannot be read or understood."""

    user_message = "The stored Salesforce login could not be read"
    remedy = "Run `smvue-tui logout` to remove it, then `smvue-tui login` again."


class TokenStore:
    """``load() -> Credentials | None``, ``save(creds)``, ``clear()`` on one JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or app_paths().token_file

    def load(self) -> Credentials | None:
        """The stored credentials; None when there is no file; TokenStoreError when corrupt."""
        try:
            raw = read_private(self.path)  # no symlinks; a too-wide mode set back to 0600
        except OSError as exc:
            raise TokenStoreError(f"cannot read {self.path}: {exc.strerror}") from None
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            creds = Credentials.from_dict(data)
        except (ValueError, UnicodeDecodeError) as exc:
            # The message names the problem, never the content (it may hold a token).
            raise TokenStoreError(f"{self.path} is damaged: {_reason(exc)}") from None
        remember_secret(creds.access_token, creds.refresh_token)
        return creds

    def save(self, creds: Credentials) -> None:
        """Write ``creds`` atomically with mode 0600 (folder 0700)."""
        remember_secret(creds.access_token, creds.refresh_token)
        self._ensure_dir()
        self._move_aside_if_corrupt()
        payload = json.dumps(creds.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
        write_private(self.path, payload)

    def clear(self) -> bool:
        """Delete the file; True if there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(self.path.parent)
        return True

    def _ensure_dir(self) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if stat.S_IMODE(folder.stat().st_mode) & 0o077:
            os.chmod(folder, DIR_MODE)

    def _move_aside_if_corrupt(self) -> None:
        if not os.path.lexists(self.path):
            return
        try:
            self.load()
        except TokenStoreError:
            aside = move_aside(self.path, "corrupt")
            log.warning("the unreadable token file was kept as %s", aside)


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "not text"
    return str(exc)
