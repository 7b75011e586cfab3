"""The errors an operation raises: each front end maps them (CLI: exit 2; API: 404/409/400)."""

from __future__ import annotations


class OperationError(Exception):
    """Refused: nothing was written."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the input that was refused, when one is


class NotFound(OperationError):
    """The object named does not exist."""


class Duplicate(OperationError):
    """An object with that identifier exists already."""


class BadInput(OperationError):
    """A value breaks a rule (the message says which and why)."""


class Conflict(OperationError):
    """The object's state refuses the change now (a key rotation too soon, say)."""
