"""Errors a person can act on. Every one carries `.message`, a sentence the GUI and CLI show as is."""
from __future__ import annotations


class StoreError(Exception):
    """Base of every store error; `.message` says what happened and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StoreNotFound(StoreError):
    pass


class StoreExists(StoreError):
    pass


class NotAStore(StoreError):
    pass


class WrongPassphrase(StoreError):
    pass


class UnknownUser(StoreError):
    pass


class StoreInUse(StoreError):
    pass


class StoreDamaged(StoreError):
    pass


class DiskFull(StoreError):
    pass


class StoreTooNew(StoreError):
    pass


class WeakPassphrase(StoreError):
    pass
