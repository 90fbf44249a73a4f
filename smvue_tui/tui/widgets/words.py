"""Counted nouns as a reader says them: "1 new user", "4 new users" (never "user(s)")."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"
