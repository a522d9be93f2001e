"""Why a package or identity file was refused. Every error carries `.message`, a sentence a person can act on."""
from __future__ import annotations


class ExchangeError(Exception):
    """Base of every exchange error; `.message` is shown as is by the GUI and the CLI."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MalformedFile(ExchangeError):
    """Not a package/identity file, a newer format, damaged, or over the size limits."""


class NotForThisInstallation(ExchangeError):
    """The package is sealed to another installation."""


class UnknownSender(ExchangeError):
    """The sender is not (or no longer) a trusted installation."""


class BadSignature(ExchangeError):
    """The signature does not verify: the file was altered or forged."""


class AlreadyImported(ExchangeError):
    """A replay: this package (or another with the same sequence number) was imported before."""


class OutOfOrder(ExchangeError):
    """An earlier package from the same sender has not been imported yet."""


class InvalidContents(ExchangeError):
    """The payload does not match its type's schema."""


class PersonalDataFound(ExchangeError):
    """The exporter found something shaped like person-level data and refused to seal it."""
