"""The service layer: every use case of the desk, reached through the ``Desk`` facade.

    desk = Desk(store, "alice")             # resolves the acting user and role once
    rid = desk.requests.create("Early childhood to workforce", [sde_id, dol_id])
    desk.requests.move(rid, RequestState.LOGGED)
    desk.on_change(lambda kinds: ...)       # called after every commit with the kinds of data changed

Each method is one unit of work: it checks the role, validates, changes, writes the audit event in the same
transaction and commits, then notifies. Reads return frozen dataclasses, never live ORM objects. Errors are
``app.services.errors.ServiceError`` subclasses whose ``.message`` the GUI shows as is.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import select

from app.models import User

from .agencies import AgencyService
from .agreements import AgreementService
from .approvals import ApprovalService
from .audit import AuditService
from .base import Actor, Batch, Kind
from .calendar import CalendarService
from .communications import CommunicationService
from .documents import DocumentService
from .errors import NotFound, PermissionDenied, RuleViolation, ServiceError, ValidationFailed
from .finance import FinanceService
from .matchlog import MatchLogService
from .meetings import MeetingService
from .recipients import RecipientService
from .requests import RequestService
from .users import UserService

log = logging.getLogger(__name__)

ChangeCallback = Callable[[frozenset[str]], None]


class SessionSource(Protocol):
    """What the services need from ``app.store.Store``."""

    def session(self): ...  # noqa: ANN201,D102 - a context manager yielding a Session that commits on exit
    def read_session(self): ...  # noqa: ANN201,D102


class Desk:
    """One user's handle on a store: ``desk.agencies``, ``desk.requests``, ``desk.finance`` ...

    Raises PermissionDenied when ``username`` is not an active desk user of the store.
    """

    def __init__(self, store: SessionSource, username: str) -> None:
        self.store = store
        with store.read_session() as s:
            user = s.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None or not user.active:
                raise PermissionDenied(f"{username!r} is not an active user of this store; ask an administrator.")
            self.actor = Actor(user.username, user.display_name, user.role)
        self._listeners: list[ChangeCallback] = []
        self.agencies = AgencyService(self)
        self.recipients = RecipientService(self)
        self.requests = RequestService(self)
        self.approvals = ApprovalService(self)
        self.meetings = MeetingService(self)
        self.agreements = AgreementService(self)
        self.documents = DocumentService(self)
        self.communications = CommunicationService(self)
        self.finance = FinanceService(self)
        self.matchlog = MatchLogService(self)
        self.users = UserService(self)
        self.audit = AuditService(self)
        self.calendar = CalendarService(self)

    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call ``callback(kinds)`` after every committed change; returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run several service calls as ONE transaction: all are committed together at the end, or none if
        anything raises. Each call still checks roles and writes its own audit event; listeners are notified
        once, after the commit. Every Desk on the same store in this thread joins the open batch (so a
        coordinator's and a hub user's calls can share it); a nested ``batch()`` simply joins."""
        with Batch.run(self.store) as batch:
            yield
        if batch is not None and batch.kinds:
            self._notify(frozenset(batch.kinds) | {Kind.AUDIT})

    def _notify(self, kinds: frozenset[str]) -> None:
        for callback in list(self._listeners):
            try:
                callback(kinds)
            except Exception:  # one broken view must not hide a committed change from the others
                log.exception("a change listener failed")


__all__ = ["Desk", "Kind", "NotFound", "PermissionDenied", "RuleViolation", "ServiceError", "ValidationFailed"]
