"""Domain errors. Each carries the exit code the CLI uses for it (documented in README)."""

from __future__ import annotations

# How much of a value an error message quotes: enough to recognise it, and short
# enough that a megabyte cell of a file still makes a one-line message.
QUOTE_LIMIT = 60


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as an error message quotes it: as ``repr`` writes it (so control
    characters show as ``\\x1b``), only its first ``limit`` characters and its length
    when it is longer."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(value)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def shortened(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as text in an error message, unquoted (a number, a reference), cut as
    ``quoted`` cuts it."""
    text = str(value)
    return text if len(text) <= limit and text.isprintable() else quoted(text, limit)


class CrmError(Exception):
    """Base of every error a user can cause; the message is shown as it is.

    ``field`` names the input at fault when there is one, so a form can show the
    message beside it and keep what the user typed.
    """

    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Invalid(CrmError):
    """A value breaks a rule (bad email, unknown stage, empty name, ...)."""

    exit_code = 3


class NotFound(CrmError):
    """No record has that reference."""

    exit_code = 4


class Conflict(CrmError):
    """The record changed since it was read; the edit was not applied."""

    exit_code = 5


class Duplicate(CrmError):
    """The new record looks like one that exists; pass force to add it anyway."""

    exit_code = 6


class Forbidden(CrmError):
    """The acting user may not do this."""

    exit_code = 7


class DatabaseProblem(CrmError):
    """The database cannot be opened, created or used by this version of crm."""

    exit_code = 8
