"""Salesforce-shaped record ids: 3-char key prefix, 12 more chars, and the 3-char case suffix."""

from __future__ import annotations

import hashlib

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def case_suffix(id15: str) -> str:
    """The 3 chars Salesforce appends to a 15-char id: one per 5-char block, a bit per capital."""
    out = []
    for block in range(3):
        bits = 0
        for i, ch in enumerate(id15[block * 5 : block * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def to_18(id15: str) -> str:
    """Expand a 15-char id to its 18-char case-insensitive form (18-char ids pass through)."""
    if len(id15) == 18:
        return id15
    if len(id15) != 15:
        raise ValueError(f"not a Salesforce id: {id15!r}")
    return id15 + case_suffix(id15)


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    if n:
        raise ValueError("id counter overflow")
    return "".join(reversed(chars))


def make_id(prefix: str, counter: int, pod: str = "8W") -> str:
    """The 18-char id number ``counter`` of an object with key ``prefix`` ("006" for Opportunity).

    Ids made with increasing counters sort in creation order, as Salesforce's do.
    """
    return to_18(prefix + pod + "0" + _base62(counter, 9))


def org_id(seed: int, sandbox: bool) -> str:
    """A stable organization id (prefix 00D) for a seed; a sandbox of the same seed differs."""
    digest = hashlib.sha256(f"org:{seed}:{sandbox}".encode()).digest()
    return make_id("00D", int.from_bytes(digest[:5], "big"), pod="5g" if sandbox else "8W")


def is_valid_id(value: str) -> bool:
    """Whether ``value`` is a well-formed 15- or 18-char id (18-char: with its right suffix)."""
    if len(value) not in (15, 18) or not value.isalnum() or not value.isascii():
        return False
    return len(value) == 15 or case_suffix(value[:15]) == value[15:].upper()
