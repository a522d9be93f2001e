"""The hash-chained audit trail's primitives: appending events and verifying the chain.

Each event's ``hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
``{id, at, actor, action, entity, entity_id, before, after, prev_hash}``; the first event's ``prev_hash`` is
:data:`GENESIS`. Because ids come from an AUTOINCREMENT column and events are never deleted by the desk, a
gap in ids or a ``sqlite_sequence`` ahead of the last id means rows were deleted.
"""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, SessionTransaction

from app.models import AuditEvent, utcnow

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"  # blobs are identified by their sha256 elsewhere, never copied here
    return value


def record_of(obj: Any) -> dict[str, Any]:
    """The column values of an ORM object as JSON-ready data (for an audit event's before/after)."""
    mapper = inspect(obj).mapper
    return {attr.key: _plain(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def canonical_json(data: Any) -> str:
    """Deterministic JSON: the same data always gives the same text, so hashes are reproducible."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def event_hash(
    *, id: int, at: datetime, actor: str, action: str, entity: str, entity_id: int | None,
    before: str | None, after: str | None, prev_hash: str,
) -> str:
    """SHA-256 (hex) of one event's canonical JSON. ``before``/``after`` are the stored JSON texts."""
    payload = {
        "id": id, "at": at.isoformat(), "actor": actor, "action": action, "entity": entity,
        "entity_id": entity_id, "before": before, "after": after, "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def chain_head(session: Session) -> tuple[int, str]:
    """(last id, last hash) of the chain, or (0, GENESIS) when it is empty.

    Remembered in ``session.info`` once read: the store's write sessions hold SQLite's write lock from their
    first statement (BEGIN IMMEDIATE), so nobody else can extend the chain while the session lives.
    """
    head = session.info.get(_HEAD)
    if head is None:
        row = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
        head = (row[0], row[1]) if row else (0, GENESIS)
    return head


_HEAD = "p20win.audit_head"


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    # A rollback (or a savepoint's) may have undone the remembered event; after a commit the lock is gone.
    # Flushes run in inner subtransactions that are neither: keep the head across those.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)


def append_event(
    session: Session, *, actor: str, action: str, entity: str, entity_id: int | None,
    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, at: datetime | None = None,
) -> AuditEvent:
    """Add one chained event to ``session`` (the caller's transaction). Never put secrets in before/after.

    The id is taken explicitly as last id + 1: if another process appended meanwhile, the insert fails on
    the primary key (or SQLite's snapshot check) and the whole unit of work rolls back — the chain never forks.
    """
    last_id, last_hash = chain_head(session)
    event = AuditEvent(
        id=last_id + 1, at=at or utcnow(), actor=actor, action=action, entity=entity, entity_id=entity_id,
        before=None if before is None else canonical_json(before),
        after=None if after is None else canonical_json(after),
        prev_hash=last_hash,
    )
    event.hash = event_hash(
        id=event.id, at=event.at, actor=actor, action=action, entity=entity, entity_id=entity_id,
        before=event.before, after=event.after, prev_hash=last_hash,
    )
    session.add(event)
    session.info[_HEAD] = (event.id, event.hash)
    return event


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """Result of :func:`verify_audit_chain`: ``ok``, how many events were checked, and the first problem."""

    ok: bool
    checked: int
    event_id: int | None = None
    reason: str = "the audit chain is intact"


def _stored_sequence(session: Session) -> int | None:
    try:
        return session.execute(
            text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'")
        ).scalar_one_or_none()
    except Exception:  # no AUTOINCREMENT table yet: nothing was ever written
        return None


def verify_audit_chain(session: Session) -> ChainVerdict:
    """Re-hash every audit event in order; return OK or the first broken event and why.

    Detects an edited event (its hash no longer matches its content), a deleted event (a gap in ids, a
    ``prev_hash`` that does not match, or the tail missing against ``sqlite_sequence``) and reordered or
    swapped events (``prev_hash`` mismatch). Streams the table, so it works on very long trails.
    """
    expected_prev, expected_id, checked = GENESIS, 1, 0
    stmt = select(
        AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.entity,
        AuditEvent.entity_id, AuditEvent.before, AuditEvent.after, AuditEvent.prev_hash, AuditEvent.hash,
    ).order_by(AuditEvent.id).execution_options(yield_per=5000)
    for row in session.execute(stmt):
        (eid, at, actor, action, entity, entity_id, before, after, prev_hash, stored) = row
        if eid != expected_id:
            missing = f"#{expected_id}" if eid == expected_id + 1 else f"#{expected_id}–#{eid - 1}"
            return ChainVerdict(False, checked, eid, f"audit event {missing} is missing (deleted) before #{eid}")
        if prev_hash != expected_prev:
            return ChainVerdict(
                False, checked, eid,
                f"audit event #{eid} does not follow #{eid - 1}: the chain was reordered or an event replaced",
            )
        actual = event_hash(
            id=eid, at=at, actor=actor, action=action, entity=entity, entity_id=entity_id,
            before=before, after=after, prev_hash=prev_hash,
        )
        if actual != stored:
            return ChainVerdict(False, checked, eid, f"audit event #{eid} was edited: its content no longer matches its hash")
        expected_prev, expected_id, checked = stored, eid + 1, checked + 1
    sequence = _stored_sequence(session)
    if sequence is not None and sequence > expected_id - 1:
        last = expected_id - 1
        return ChainVerdict(
            False, checked, last + 1,
            f"audit events #{last + 1}–#{sequence} after the last remaining event #{last} were deleted",
        )
    return ChainVerdict(True, checked)
