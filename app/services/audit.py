"""``desk.audit``: read, verify and export the audit trail (see ``audit_chain`` for how it is chained)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.models import AuditEvent, Role

from .audit_chain import ChainVerdict, verify_audit_chain
from .base import Service
from .errors import PermissionDenied

EXPORTERS = frozenset({Role.AUDITOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    before: str | None  # canonical JSON
    after: str | None
    hash: str


_COLUMNS = (AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.entity,
            AuditEvent.entity_id, AuditEvent.before, AuditEvent.after, AuditEvent.hash)


class AuditService(Service):

    def verify(self) -> ChainVerdict:
        """Re-check the whole chain (any role)."""
        with self._read() as s:
            return verify_audit_chain(s)

    def page(self, *, offset: int = 0, limit: int = 200, entity: str | None = None,
             entity_id: int | None = None, actor: str | None = None) -> list[AuditRow]:
        """Newest first, one query; filter by entity (table name), entity id or actor."""
        with self._read() as s:
            stmt = self._filtered(select(*_COLUMNS), entity, entity_id, actor)
            return [AuditRow(*row) for row in s.execute(stmt.order_by(AuditEvent.id.desc()).offset(offset).limit(limit))]

    def count(self, *, entity: str | None = None, entity_id: int | None = None, actor: str | None = None) -> int:
        with self._read() as s:
            return s.scalar(self._filtered(select(func.count(AuditEvent.id)), entity, entity_id, actor)) or 0

    def export(self) -> Iterator[AuditRow]:
        """Every event in chain order, streamed, for an auditor's export (auditor and admin only)."""
        if self.actor.role not in EXPORTERS:
            raise PermissionDenied(f"As {self.actor.role.value} you may not export the audit trail.")
        with self._read() as s:
            for row in s.execute(select(*_COLUMNS).order_by(AuditEvent.id).execution_options(yield_per=5000)):
                yield AuditRow(*row)

    @staticmethod
    def _filtered(stmt, entity, entity_id, actor):  # noqa: ANN001,ANN205 - SQL statement in and out
        if entity is not None:
            stmt = stmt.where(AuditEvent.entity == entity)
        if entity_id is not None:
            stmt = stmt.where(AuditEvent.entity_id == entity_id)
        if actor is not None:
            stmt = stmt.where(AuditEvent.actor == actor)
        return stmt
