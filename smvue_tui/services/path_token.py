"""The webhook path token: the secret path segment Salesforce's Outbound Messages are sent to.

It is all that stands between the listener and anyone who knows the (public) org id, so it is
never empty, short or someone else's: a file that is not a plain file of ours (a symlink, even
a dangling one), or whose content is not a token, is moved aside and a new token made. A new
token is written in full and fsynced before it is used, so a full disk fails the start
loudly instead of leaving a 0-byte token that would make the listener answer at
``/sf/outbound/``.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

from smvue_tui.config import ensure_dir
from smvue_tui.safe_files import UnsafeFile, create_private, move_aside, read_private

log = logging.getLogger(__name__)
TOKEN_BYTES = 24  # 192 bits, 32 url-safe characters
MIN_TOKEN_CHARS = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def new_path_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def valid_path_token(token: object) -> bool:
    """A url-safe token of at least 32 characters (192 bits), as ``new_path_token`` makes."""
    return (isinstance(token, str) and len(token) >= MIN_TOKEN_CHARS
            and len(token) <= 200 and bool(_TOKEN.fullmatch(token)))


def stored_path_token(file: Path) -> str:
    """The token kept in ``file``, made (or remade, moving the bad one aside) when needed."""
    ensure_dir(file.parent)  # FolderNotWritable in words (a file where the folder goes)
    for _ in range(3):  # another process may create it between our read and our create
        try:
            raw = read_private(file, max_bytes=4096)
        except UnsafeFile as exc:
            aside = move_aside(file, "refused")
            log.warning("webhook token %s %s: kept as %s, a new token made", file,
                        exc.strerror, aside.name)
            raw = None
        if raw is not None:
            token = raw.decode("ascii", "replace").strip()
            if valid_path_token(token):
                return token
            aside = move_aside(file, "invalid")
            log.warning("webhook token %s was empty or not a token: kept as %s, a new token "
                        "made", file, aside.name)
        token = new_path_token()
        if create_private(file, token.encode() + b"\n"):
            return token
    raise RuntimeError(f"could not create the webhook token at {file}")
