"""What every service shares: the acting user, role sets, the unit of work (role check, audit, notify)."""
from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, User

from .audit_chain import append_event, record_of
from .errors import NotFound, PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    from . import Desk

log = logging.getLogger(__name__)


class Kind(enum.StrEnum):
    """Kinds of data a change touches; ``Desk.on_change`` callbacks receive a frozenset of these."""

    AGENCIES = "agencies"
    RECIPIENTS = "recipients"
    REQUESTS = "requests"
    APPROVALS = "approvals"
    MEETINGS = "meetings"
    AGREEMENTS = "agreements"
    DOCUMENTS = "documents"
    COMMUNICATIONS = "communications"
    FINANCE = "finance"
    MATCHLOG = "matchlog"
    USERS = "users"
    CALENDAR = "calendar"
    AUDIT = "audit"  # every change writes an audit event, so every notification includes this


EDITORS = frozenset({Role.COORDINATOR, Role.ADMIN})
HUB_WORK = frozenset({Role.COORDINATOR, Role.ADMIN, Role.HUB})
ADMINS = frozenset({Role.ADMIN})
AUDIT_READERS = frozenset({Role.AUDITOR, Role.ADMIN, Role.COORDINATOR})


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    display_name: str
    role: Role


def describe_roles(roles: Iterable[Role]) -> str:
    names = sorted(r.value for r in roles)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class UnitOfWork:
    """One transaction of one service call: the session plus helpers that write the matching audit events."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def audit(
        self, action: str, entity: str, entity_id: int | None,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
    ) -> None:
        append_event(
            self.session, actor=self.actor.username, action=action, entity=entity, entity_id=entity_id,
            before=before, after=after,
        )

    def created(self, obj: Any, action: str = "create") -> None:
        """Flush a new object (so it has its id) and audit it with its full record as ``after``."""
        self.session.add(obj)
        self.session.flush()
        self.audit(action, obj.__tablename__, _id_of(obj), None, record_of(obj))

    def updated(self, obj: Any, before: dict[str, Any], action: str = "update") -> None:
        """Audit a change to ``obj``; ``before`` is ``record_of(obj)`` taken before the change."""
        self.session.flush()
        after = record_of(obj)
        changed = {k for k in after if after[k] != before.get(k)}
        self.audit(action, obj.__tablename__, _id_of(obj),
                   {k: before.get(k) for k in changed}, {k: after[k] for k in changed})

    def deleted(self, obj: Any, action: str = "delete") -> None:
        before = record_of(obj)
        self.session.delete(obj)
        self.session.flush()
        self.audit(action, obj.__tablename__, _id_of(obj), before, None)

    def get(self, model: type[T], key: Any, what: str) -> T:
        """The row with primary key ``key``, or NotFound naming ``what`` (e.g. "request")."""
        obj = self.session.get(model, key)
        if obj is None:
            raise NotFound(f"There is no {what} with id {key}; it may have been deleted.")
        return obj


T = TypeVar("T")


def _id_of(obj: Any) -> int | None:
    identity = record_of(obj).get("id")
    return identity if isinstance(identity, int) else None


class Batch:
    """Several service calls sharing one transaction (see ``Desk.batch``)."""

    _open = threading.local()

    def __init__(self, session: Session) -> None:
        self.session = session
        self.kinds: set[str] = set()
        self.checked: set[tuple[str, frozenset[Role]]] = set()  # accounts already checked in this batch

    @classmethod
    def current(cls, store: object) -> Batch | None:
        return getattr(cls._open, "by_store", {}).get(id(store))

    @classmethod
    @contextmanager
    def run(cls, store: Any) -> Iterator[Batch | None]:
        """Open a batch on ``store`` for this thread; yields None when one is already open (join it)."""
        if cls.current(store) is not None:
            yield None
            return
        if not hasattr(cls._open, "by_store"):
            cls._open.by_store = {}
        with store.session() as session:
            batch = cls(session)
            cls._open.by_store[id(store)] = batch
            try:
                yield batch
            finally:
                del cls._open.by_store[id(store)]


class Service:
    """Base of the area services reached through ``Desk`` (``desk.requests``, ``desk.finance``...)."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    @property
    def actor(self) -> Actor:
        return self._desk.actor

    @contextmanager
    def _write(self, doing: str, kinds: Iterable[Kind], roles: frozenset[Role] = EDITORS) -> Iterator[UnitOfWork]:
        """A unit of work: check the role (again, in the transaction), yield, commit, then notify listeners.

        ``doing`` completes "Your role may not ..." in the refusal message, e.g. "create a request".
        """
        if self.actor.role not in roles:
            raise PermissionDenied(
                f"As {self.actor.role.value} you may not {doing}; that needs the {describe_roles(roles)} role."
            )
        batch = Batch.current(self._desk.store)
        if batch is not None:  # part of a larger transaction: commit and notification happen at its end
            if (self.actor.username, roles) not in batch.checked:
                self._check_account(batch.session, doing, roles)
                batch.checked.add((self.actor.username, roles))
            yield UnitOfWork(batch.session, self.actor)
            batch.kinds.update(kinds)
            return
        with self._desk.store.session() as session:
            self._check_account(session, doing, roles)
            yield UnitOfWork(session, self.actor)
        self._desk._notify(frozenset(kinds) | {Kind.AUDIT})

    def _check_account(self, session: Session, doing: str, roles: frozenset[Role]) -> None:
        # The account may have been deactivated or demoted since the desk opened.
        current = session.execute(select(User.role, User.active).where(User.username == self.actor.username)).first()
        if current is None or not current.active or current.role not in roles:
            raise PermissionDenied(f"Your account may no longer {doing}; ask an administrator.")

    @contextmanager
    def _read(self) -> Iterator[Session]:
        batch = Batch.current(self._desk.store)
        if batch is not None:  # inside a batch, reads must see its uncommitted changes
            yield batch.session
            return
        # A snapshot that never blocks writers (the store's read_session); nothing is written in it.
        with self._desk.store.read_session() as session:
            yield session


def refuse_unknown_fields(changes: Iterable[str], allowed: Iterable[str]) -> None:
    """Raise ValidationFailed naming every field an update may not change."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationFailed({name: "cannot be changed here" for name in sorted(unknown)})


class Checks:
    """Collects field problems so one ValidationFailed names all of them at once."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}

    def text(self, field: str, value: str | None, *, required: bool = True, max_len: int = 200) -> str:
        cleaned = (value or "").strip()
        if required and not cleaned:
            self.problems[field] = "is required"
        elif len(cleaned) > max_len:
            self.problems[field] = f"is too long ({len(cleaned)} characters; at most {max_len})"
        return cleaned

    def that(self, ok: bool, field: str, why: str) -> None:
        if not ok and field not in self.problems:
            self.problems[field] = why

    def done(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


D = TypeVar("D")


def view_of(cls: type[D], obj: Any, **extra: Any) -> D:
    """Build the frozen read dataclass ``cls`` from same-named attributes of ``obj`` (``extra`` overrides)."""
    values = {f.name: extra[f.name] if f.name in extra else getattr(obj, f.name) for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**values)
