"""Small private files (tokens, secrets, state) opened and written without being fooled.

- Never through a symbolic link (``O_NOFOLLOW``): a link planted at the path would make another
  file's contents our secret, or make us chmod or overwrite its target.
- Only a regular file owned by this user is read; its mode is tightened on the open descriptor
  (``fchmod``), never by path.
- Written to a fresh temporary sibling (``O_EXCL``, mode 0600), fsynced, then moved into place
  and the folder fsynced: a crash or a full disk leaves the old file or the new one, never an
  empty or half-written one, and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from pathlib import Path

FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class UnsafeFile(OSError):
    """The path is not a plain file of ours (a symlink, a folder, a device, another user's)."""


def read_private(path: Path, *, max_bytes: int = 1_000_000) -> bytes | None:
    """The file's bytes; None when there is none. ``UnsafeFile`` for a symlink or anything but
    a regular file of this user's; a group/world-readable one is set back to 0600 first."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if os.path.islink(path):  # a dangling link: still a link, still refused
            raise UnsafeFile(errno.ELOOP, "is a symbolic link", str(path)) from None
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(errno.ELOOP, "is a symbolic link", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(errno.EINVAL, "is not a regular file", str(path))
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise UnsafeFile(errno.EPERM, "belongs to another user", str(path))
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
        chunks, size = [], 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise UnsafeFile(errno.EFBIG, f"is over {max_bytes} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    """``data`` in a new 0600 sibling of ``path``, fsynced; removed again if writing fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (mode 0600; a link at ``path`` is replaced,
    its target never touched)."""
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` only if nothing is there (not even a dangling link).
    Returns False when something already was (another process won the race)."""
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path, follow_symlinks=False)  # fails if anything is at path
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


def move_aside(path: Path, label: str) -> Path:
    """Rename ``path`` (the link itself, if it is one) to ``<name>.<label>-<time>``."""
    aside = path.with_name(f"{path.name}.{label}-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while os.path.lexists(aside):
        n += 1
        aside = aside.with_name(f"{aside.name.rsplit('~', 1)[0]}~{n}")
    os.replace(path, aside)
    fsync_dir(path.parent)
    return aside


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
