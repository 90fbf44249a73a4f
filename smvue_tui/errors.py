"""An exception said to the user in words: one clause, never a repr or a traceback."""

from __future__ import annotations


def reason(exc: BaseException) -> str:
    """``exc`` as the clause a user reads after "cannot …:". An OSError's own words
    (``strerror``: "Permission denied" — no errno, no file name); else its message, the first
    argument when that is text (a KeyError's ``x``, not ``'x'``), else ``str(exc)``; its first
    line only (a server's message can run on for lines); its type's name when it says nothing.
    Not for text that may hold a secret: mask the whole text first (``setting``,
    ``token_calls``)."""
    text = getattr(exc, "strerror", None)
    if not text and isinstance(exc, UnicodeError):  # its first argument is the encoding's name
        text = str(exc)
    if not text:
        first = exc.args[0] if exc.args else ""
        text = first if isinstance(first, str) else str(exc)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(exc).__name__
