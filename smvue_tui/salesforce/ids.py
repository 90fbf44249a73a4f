"""Salesforce record ids, checked where they enter the app.

An id is 15 case-sensitive characters, or those 15 plus a 3-character suffix that makes it unique
ignoring case (Salesforce's "18-character id"). Each suffix character encodes, for one 5-character
block of the 15, which positions hold an upper-case letter: bit i set for position i, read as an
index into A–Z then 0–5. The first three characters are the object's key prefix (006 Opportunity).

The demo org makes its ids with its own code (``smvue_demo_org.ids``); the two are kept apart on
purpose so that one checks the other.
"""

from __future__ import annotations

import re
import string

_ID_SHAPE = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"


# One character per id character: "1" for an upper-case letter, "0" otherwise.
_CASE_BITS = str.maketrans({c: "1" if c.isupper() else "0"
                            for c in string.ascii_letters + string.digits})
# For each suffix character's index: the positions (0–4) in its block that are upper-case.
_UPPER_POSITIONS = [tuple(pos for pos in range(5) if index & (1 << pos)) for index in range(32)]


def _suffix(id15: str) -> str:
    # Reversed, each block reads as its binary index, most significant (last position) first.
    bits = id15.translate(_CASE_BITS)[::-1]
    return (_SUFFIX_ALPHABET[int(bits[10:15], 2)] + _SUFFIX_ALPHABET[int(bits[5:10], 2)]
            + _SUFFIX_ALPHABET[int(bits[0:5], 2)])


def _restore_case(id15: str, suffix: str) -> str | None:
    """The 15 characters with the case the suffix records, or None where it cannot be so."""
    chars = list(id15.lower())
    for block, code in enumerate(suffix.upper()):
        index = _SUFFIX_ALPHABET.find(code)
        if index < 0:
            return None
        for pos in _UPPER_POSITIONS[index]:
            ch = chars[block * 5 + pos]
            if not ch.isalpha():
                return None
            chars[block * 5 + pos] = ch.upper()
    return "".join(chars)


def id_shaped(value: object, prefix: str | None = None) -> bool:
    """15 or 18 letters and digits (of key ``prefix`` if given), the suffix not checked: for
    ids only ever compared, never sent back (an outbound notification's own id)."""
    return (isinstance(value, str) and bool(_ID_SHAPE.fullmatch(value))
            and (prefix is None or value[:3] == prefix))


def normalize_id(value: object, prefix: str | None = None) -> str | None:
    """The canonical 18-character form of a well-formed id (of key ``prefix`` if given), else None.

    A 15-character id gains its suffix. An 18-character one is case-insensitive, as in Salesforce:
    its suffix restores the case of the first 15, so a lower-cased paste still names its record.
    """
    if not isinstance(value, str) or not _ID_SHAPE.fullmatch(value):
        return None
    if len(value) == 18:
        head, suffix = value[:15], value[15:].upper()
        if _suffix(head) != suffix:  # not as Salesforce sends it: restore the suffix's case
            restored = _restore_case(head, suffix)
            if restored is None:
                return None
            head = restored
        if prefix is not None and head[:3] != prefix:
            return None
        return head + suffix
    if prefix is not None and value[:3] != prefix:
        return None
    return value + _suffix(value)


# Salesforce's key prefixes (the first three characters of every id) of the objects the app
# reads or is sent. Standard objects have the same prefix in every org; an id of one object
# posing as another's is refused where it enters.
KEY_PREFIXES: dict[str, str] = {
    "Organization": "00D",
    "User": "005",
    "RecordType": "012",
    "OpportunityStage": "01J",
    "Opportunity": "006",
    "Account": "001",
    "Contact": "003",
    "OpportunityContactRole": "00K",
    "OpportunityHistory": "008",
    "OpportunityTeamMember": "00q",
    "AccountTeamMember": "01M",
    "Lead": "00Q",
    "LeadHistory": "017",
    "Task": "00T",
    "Event": "00U",
    "EmailMessage": "02s",
}
NOTIFICATION_PREFIX = "04l"  # an Outbound Message notification
OUTBOUND_MESSAGE_PREFIX = "04k"  # the Outbound Message definition (ActionId)


_KNOWN = frozenset(KEY_PREFIXES.values())


def record_id(sobject: str, value: object) -> str | None:
    """``value`` as the canonical id of a record of ``sobject``, or None when it cannot be one:
    malformed, or another object's key prefix. An object whose prefix varies by org (custom
    objects) may have any prefix but those of the objects above."""
    prefix = KEY_PREFIXES.get(sobject)
    if prefix is not None:
        return normalize_id(value, prefix)
    canonical = normalize_id(value)
    return canonical if canonical is not None and canonical[:3] not in _KNOWN else None
