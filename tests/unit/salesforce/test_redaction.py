"""Tokens logged in any way (message, args, exceptions, httpx logs) come out redacted."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest

from smvue_tui.salesforce import redaction
from smvue_tui.salesforce.redaction import (
    REDACTED,
    TokenRedactingFilter,
    install_redaction,
    redact,
    remember_secret,
)
from tests.unit.salesforce.auth_helpers import ACCESS, REFRESH, make_creds

OPAQUE = "opaqueTokenWithoutAnyShape42"  # only the "known token" rule can catch this


@pytest.fixture
def log_stream():
    """A root handler writing to a buffer; root filters/handlers restored afterwards."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    saved = (list(root.filters), [(h, list(h.filters)) for h in root.handlers], root.level)
    saved_known = list(redaction._known)
    redaction._known.clear()  # other tests registered the sample tokens; test the shapes here
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.filters[:] = saved[0]
        for h, filters in saved[1]:
            h.filters[:] = filters
        root.setLevel(saved[2])
        redaction._known.clear()
        redaction._known.extend(saved_known)


def test_every_way_of_logging_a_token_is_redacted(log_stream):
    remember_secret(OPAQUE)
    install_redaction()
    log = logging.getLogger("smvue_tui.test")
    log.info("token in message " + ACCESS)
    log.info("token in args %s and %r", ACCESS, {"refresh_token": REFRESH})
    log.warning("known opaque token %s", OPAQUE)
    log.info("header Authorization: Bearer %s", OPAQUE + "x")
    log.info("form body %s", f"grant_type=refresh_token&refresh_token={REFRESH}&client_id=k")
    log.info("json body %s", json.dumps({"access_token": "abc.def-123456789", "x": 1}))
    log.info("credentials %s", make_creds())
    try:
        raise RuntimeError(f"boom with {ACCESS} and refresh_token={REFRESH}")
    except RuntimeError:
        log.exception("failed while holding %s", OPAQUE)
    log.info("stack", stack_info=True, extra={"note": "n"})
    out = log_stream.getvalue()
    for secret in (ACCESS, REFRESH, OPAQUE, "abc.def-123456789", "AQ4AQFake"):
        assert secret not in out
    assert out.count(REDACTED) >= 9
    assert "00DXX0000001abc![redacted]" in out  # the org id prefix survives for debugging
    assert "Traceback" in out and "RuntimeError" in out
    assert "client_id=k" in out  # non-secret fields untouched


async def test_httpx_debug_logs_are_redacted(log_stream, httpx_mock):
    install_redaction()
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    url = f"https://acme.my.salesforce.com/id/org/user?oauth_token={ACCESS}"
    httpx_mock.add_response(url=url, json={})
    async with httpx.AsyncClient() as client:
        await client.get(url, headers={"Authorization": f"Bearer {ACCESS}"})
    logging.getLogger("httpx").debug("request headers %s", {"Authorization": f"Bearer {ACCESS}"})
    out = log_stream.getvalue()
    assert "HTTP Request: GET" in out
    assert ACCESS not in out and "AQ4AQFake" not in out


def test_filter_never_drops_records_and_survives_bad_format():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bad %d format", ("nope",), None)
    assert TokenRedactingFilter().filter(record) is True
    assert "bad %d format" in record.getMessage()


def test_install_is_idempotent(log_stream):
    root = logging.getLogger()
    first = install_redaction()
    second = install_redaction()
    assert first is second
    assert sum(isinstance(f, TokenRedactingFilter) for f in root.filters) == 1
    for handler in root.handlers:
        assert sum(isinstance(f, TokenRedactingFilter) for f in handler.filters) == 1


@pytest.mark.parametrize(("text", "kept"), [
    ("status code 200 for /services/data", "status code 200"),
    ("errorCode=INVALID_FIELD", "errorCode=INVALID_FIELD"),
    ("short secret ab", "short secret ab"),
])
def test_ordinary_text_is_left_alone(text, kept):
    remember_secret("ab")  # too short to be a token: ignored
    assert kept in redact(text)


def test_redact_patterns():
    assert redact("?code=aPrx%3D%3D&state=s") == f"?code={REDACTED}&state=s"
    assert redact("token=5Aep861abc") == f"token={REDACTED}"
    assert redact("'client_secret': 'shh'") == f"'client_secret': '{REDACTED}'"
    assert redact("OAuth 00DXX0000001abc!AQ.x") == f"OAuth {REDACTED}"
