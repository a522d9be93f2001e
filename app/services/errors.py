"""Errors the services raise. ``.message`` is a sentence the GUI shows as is (no traceback reaches a user)."""
from __future__ import annotations


class ServiceError(Exception):
    """Base of every service error; ``message`` says what went wrong and, where possible, what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(ServiceError):
    """The acting user's role may not do this."""


class RuleViolation(ServiceError):
    """A business rule forbids this now (e.g. an illegal life-cycle transition); the text says why."""


class NotFound(ServiceError):
    """The thing asked for does not exist (any more)."""


class ValidationFailed(ServiceError):
    """Input is wrong; ``fields`` maps each bad field name to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{name.replace('_', ' ')}: {why}" for name, why in self.fields.items()))
