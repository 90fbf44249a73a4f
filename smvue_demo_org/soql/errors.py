"""SOQL errors as Salesforce reports them: an error code plus a message with a caret diagram."""

from __future__ import annotations

_WINDOW = 60  # chars of the query shown each side of the caret, so messages stay short

NO_SUCH_COLUMN = (
    "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom "
    "field, be sure to append the '__c' after the custom field name. Please reference your "
    "WSDL or the describe call for the appropriate names."
)
BAD_RELATIONSHIP = (
    "Didn't understand relationship '{name}' in {where}. If you are attempting to use a "
    "custom relationship, be sure to append the '__r' after the custom relationship name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
BAD_TYPE = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
    "sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
    "call for the appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would reject with HTTP 400 ``[{"errorCode", "message"}]``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def caret(text: str, pos: int) -> str:
    """Salesforce's diagram: the query row, a caret under ``pos``, then 'ERROR at Row:Column'."""
    pos = max(0, min(pos, len(text)))
    row = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)]
    col = pos - start + 1
    lo = max(0, col - 1 - _WINDOW)
    shown = line[lo : col - 1 + _WINDOW]
    return f"\n{shown}\n{' ' * (col - 1 - lo)}^\nERROR at Row:{row}:Column:{col}\n"


def error_at(code: str, text: str, pos: int, message: str) -> SoqlError:
    return SoqlError(code, caret(text, pos) + message)


def malformed(text: str, pos: int, message: str) -> SoqlError:
    return error_at("MALFORMED_QUERY", text, pos, message)


def unexpected(text: str, pos: int, token: str) -> SoqlError:
    shown = "<EOF>" if not token else f"'{token[:40]}'"
    return malformed(text, pos, f"unexpected token: {shown}")
