"""``desk.communications``: the log of calls, e-mails, letters and meetings with recipients and agencies."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from app.models import Agency, Channel, Communication, DataRecipient, DataRequest, Direction

from .base import Checks, Kind, Service


@dataclass(frozen=True, slots=True)
class CommunicationRow:
    id: int
    occurred_at: datetime
    request_id: int | None
    request_number: str | None
    agency_code: str | None
    recipient: str | None
    direction: Direction
    channel: Channel
    counterpart: str
    subject: str
    summary: str
    logged_by: str


class CommunicationService(Service):

    def log(self, *, occurred_at: datetime, direction: Direction, channel: Channel, subject: str,
            summary: str = "", counterpart: str = "", request_id: int | None = None, agency_id: int | None = None,
            recipient_id: int | None = None) -> int:
        """Log one communication; ``occurred_at`` must be timezone-aware."""
        checks = Checks()
        subject = checks.text("subject", subject, max_len=300)
        summary = checks.text("summary", summary, required=False, max_len=20000)
        counterpart = checks.text("counterpart", counterpart, required=False)
        checks.that(occurred_at.tzinfo is not None, "occurred_at", "needs a time zone")
        checks.done()
        with self._write("log communications", [Kind.COMMUNICATIONS]) as uow:
            if request_id is not None:
                uow.get(DataRequest, request_id, "request")
            if agency_id is not None:
                uow.get(Agency, agency_id, "agency")
            if recipient_id is not None:
                uow.get(DataRecipient, recipient_id, "data recipient")
            entry = Communication(
                occurred_at=occurred_at, direction=Direction(direction), channel=Channel(channel), subject=subject,
                summary=summary, counterpart=counterpart, request_id=request_id, agency_id=agency_id,
                recipient_id=recipient_id, logged_by=self.actor.username)
            uow.created(entry)
            return entry.id

    def page(self, *, offset: int = 0, limit: int = 200, request_id: int | None = None,
             search: str = "") -> list[CommunicationRow]:
        """Newest first. Pages over the ``occurred_at`` index first and joins only the rows returned, so a
        deep page of 100k rows costs about what the first does."""
        with self._read() as s:
            ids = (self._matching(select(Communication.id), request_id, search)
                   .order_by(Communication.occurred_at.desc(), Communication.id.desc())
                   .offset(offset).limit(limit).scalar_subquery())
            stmt = (select(
                Communication.id, Communication.occurred_at, Communication.request_id, DataRequest.number,
                Agency.code, DataRecipient.name, Communication.direction, Communication.channel,
                Communication.counterpart, Communication.subject, Communication.summary, Communication.logged_by)
                .outerjoin(DataRequest, DataRequest.id == Communication.request_id)
                .outerjoin(Agency, Agency.id == Communication.agency_id)
                .outerjoin(DataRecipient, DataRecipient.id == Communication.recipient_id)
                .where(Communication.id.in_(ids))
                .order_by(Communication.occurred_at.desc(), Communication.id.desc()))
            return [CommunicationRow(*row) for row in s.execute(stmt)]

    def count(self, *, request_id: int | None = None, search: str = "") -> int:
        with self._read() as s:
            return s.scalar(self._matching(select(func.count(Communication.id)), request_id, search)) or 0

    @staticmethod
    def _matching(stmt, request_id, search):  # noqa: ANN001,ANN205 - SQL statement in and out
        stmt = stmt.select_from(Communication)
        if request_id is not None:
            stmt = stmt.where(Communication.request_id == request_id)
        if search.strip():
            like = f"%{search.strip()}%"
            numbers = select(DataRequest.id).where(DataRequest.number.ilike(like))
            stmt = stmt.where(or_(Communication.subject.ilike(like), Communication.counterpart.ilike(like),
                                  Communication.request_id.in_(numbers)))
        return stmt
