"""An exception said to the user in words: one clause, never a repr or a traceback."""

from __future__ import annotations

LONGEST = 300  # a server's message can run on; the user reads one line


def reason(exc: BaseException) -> str:
    """``exc`` as the clause a user reads after "cannot …:". An OSError's own words
    (``strerror``: "Permission denied" — no errno, no file name); else its message, the first
    argument when that is text (a KeyError's ``x``, not ``'x'``), else ``str(exc)``; its first
    line, at most LONGEST characters; its type's name when it says nothing."""
    text = getattr(exc, "strerror", None)
    if not text:
        first = exc.args[0] if exc.args else ""
        text = first if isinstance(first, str) else str(exc)
    lines = text.strip().splitlines()
    return lines[0][:LONGEST] if lines else type(exc).__name__
