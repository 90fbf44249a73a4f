"""SOQL tokens: names (dotted paths kept whole), literals, operators and punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smvue_demo_org.soql.errors import malformed

MAX_QUERY_LENGTH = 100_000

# Order matters: datetimes before dates before numbers.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w:.-]))
  | (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![\w.]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|[=<>(),:])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'",
            "\\": "\\"}


@dataclass(frozen=True)
class Token:
    kind: str  # name string number date datetime op eof
    text: str  # as written (strings: without the quotes, escapes not yet applied)
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_QUERY_LENGTH:
        raise malformed(text, 0, f"Query string exceeds the maximum length of "
                        f"{MAX_QUERY_LENGTH} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            if ch == "'":
                raise malformed(text, pos, "line 1:0 mismatched character '<EOF>' expecting '''")
            raise malformed(text, pos, f"unexpected token: '{ch}'")
        kind = m.lastgroup or ""
        if kind != "ws":
            value = m.group()
            if kind == "string":
                tokens.append(Token(kind, value[1:-1], pos))
            else:
                tokens.append(Token(kind, value, pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


def unescape(raw: str, text: str, pos: int, *, like: bool = False) -> str:
    """A string literal's value. In LIKE patterns ``\\%``, ``\\_`` and ``\\\\`` stay escaped
    (the SQL pattern uses ESCAPE '\\'); elsewhere they are not allowed, as in Salesforce."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if like and nxt in "%_\\":
            out.append("\\" + nxt)
        elif nxt.lower() in _ESCAPES:
            out.append(_ESCAPES[nxt.lower()] if nxt not in "\"'\\" else nxt)
        else:
            raise malformed(text, pos + 1 + i, "Invalid string literal "
                            f"'{raw[:40]}'. Illegal character sequence '\\{nxt}' in string "
                            "literal.")
        i += 2
    return "".join(out)
