"""errors.reason: an exception as one clause in words — the one helper that replaced
``exc.strerror or exc``, ``str(exc) or type(exc).__name__`` and ``backend.first_line``."""

from __future__ import annotations

import pytest

from smvue_tui.errors import reason


@pytest.mark.parametrize("exc, words", [
    (PermissionError(13, "Permission denied", "/x/config.toml"), "Permission denied"),
    (OSError("disk on fire"), "disk on fire"),  # an OSError with no errno: its message
    (KeyError("Amount"), "Amount"),  # not "'Amount'" (str of a KeyError is its repr)
    (ValueError("first line\nsecond line"), "first line"),
    (ValueError(""), "ValueError"),
    (RuntimeError(), "RuntimeError"),
    (ValueError(42, "x"), "(42, 'x')"),  # a first argument that is not text: str(exc)
    (RuntimeError("x" * 1000 + "\ndetail"), "x" * 1000),  # a long sentence stays whole
])
def test_one_clause_in_words(exc, words):
    assert reason(exc) == words


def _decode_error() -> UnicodeDecodeError:
    try:
        b"caf\xe9".decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc
    raise AssertionError("decoded")


def test_a_unicode_error_is_its_message_not_its_encodings_name():
    """A UnicodeDecodeError's first argument is the encoding ("utf-8"): "cannot read …: utf-8"
    says nothing. Its message names the byte and what is wrong."""
    said = reason(_decode_error())
    assert said != "utf-8" and "0xe9" in said, said
