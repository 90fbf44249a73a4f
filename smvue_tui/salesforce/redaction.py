"""Keep OAuth secrets out of logs: a logging filter that masks tokens wherever they appear.

Masked: the tokens this process currently holds (registered with ``remember_secret``), anything
shaped like a Salesforce access token (``00D<org id>!<opaque>``), ``Bearer``/``OAuth``
authorization values, and the values of secret-named form/query/JSON fields
(``refresh_token=...``, ``"access_token": "..."``, ``code=...``, ``client_secret=...``).
The filter rewrites the record's message (args merged in), exception and stack text.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 8  # shorter strings are not tokens; masking them would garble logs
_SECRET_NAMES = ("access_token", "refresh_token", "client_secret", "code_verifier",
                 "device_code", "oauth_token", "id_token", "password", "token", "code",
                 "assertion", "sid")
_NAMES = "|".join(sorted(_SECRET_NAMES, key=len, reverse=True))

_ACCESS_TOKEN = re.compile(r"(00D[A-Za-z0-9]{12,15})![A-Za-z0-9._-]+")
_AUTH_HEADER = re.compile(r"(?i)\b(Bearer|OAuth)(\s+)[^\s\"',;]+")
# name=value in a query string or form body
_FORM_FIELD = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_NAMES})=[^&\s\"',;]+")
# "name": "value" (JSON) and 'name': 'value' (Python repr)
_QUOTED_FIELD = re.compile(rf"""(?i)(["'])({_NAMES})\1(\s*:\s*)(["'])(?:(?!\4).)*\4""")

_known: deque[str] = deque(maxlen=64)


def remember_secret(*values: str | None) -> None:
    """Mask these exact values from now on (the tokens just received or loaded)."""
    for value in values:
        if value and len(value) >= _MIN_SECRET_LENGTH and value not in _known:
            _known.append(value)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every token-like or known secret value replaced by ``[redacted]``."""
    for secret in (*_known, *extra):
        if secret and len(secret) >= _MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    text = _ACCESS_TOKEN.sub(rf"\1!{REDACTED}", text)
    text = _AUTH_HEADER.sub(rf"\1\2{REDACTED}", text)
    text = _FORM_FIELD.sub(rf"\1={REDACTED}", text)
    return _QUOTED_FIELD.sub(rf"\1\2\1\3\4{REDACTED}\4", text)


class TokenRedactingFilter(logging.Filter):
    """Rewrites each record so no handler can format a secret; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: still log something, still masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> TokenRedactingFilter:
    """Add the filter to ``logger`` (root by default) and each of its handlers, once.

    Handler filters see records propagated from every child logger (httpx, authlib, ...), so
    call this after logging is configured; calling again covers handlers added since.
    """
    target = logger or logging.getLogger()
    existing = _find(target.filters)
    flt = existing or TokenRedactingFilter()
    if existing is None:
        target.addFilter(flt)
    for handler in target.handlers:
        if _find(handler.filters) is None:
            handler.addFilter(flt)
    return flt


def _find(filters: Iterable[object]) -> TokenRedactingFilter | None:
    return next((f for f in filters if isinstance(f, TokenRedactingFilter)), None)
