"""``desk.matchlog``: the hub's match log and destruction certificates (hub staff and coordinators edit)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from app.models import (
    Agency,
    CertificateKind,
    DataRequest,
    DataSharingAgreement,
    DestructionCertificate,
    Document,
    MatchLogEntry,
    RequestedAgency,
)

from .audit_chain import record_of
from .base import HUB_WORK, Checks, Kind, Service, UnitOfWork, view_of
from .errors import NotFound, RuleViolation, ValidationFailed


@dataclass(frozen=True, slots=True)
class MatchLogRow:
    """One line of the manual's match log."""

    id: int
    request_id: int
    request_number: str | None
    sender_agency: str
    sender: str
    received_by: str
    files_received_on: date
    file_name: str
    fields_included: str
    matched_on: date | None
    stewards_confirmed_at: datetime | None
    id_matrix_sent_on: date | None
    id_matrix_sent_to: str
    inputs_destroyed_on: date | None


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    id: int
    request_id: int
    kind: CertificateKind
    destroyed_on: date
    certified_by: str
    received_on: date
    document_id: int | None
    notes: str


class MatchLogService(Service):

    def log_files(self, request_id: int, *, sender_agency_id: int, files_received_on: date, file_name: str,
                  fields_included: list[str] | str, sender: str = "", received_by: str = "") -> int:
        """Log a matching file received at the hub. Refused unless the request's DSA is executed and the
        sender is one of the request's agencies."""
        checks = Checks()
        file_name = checks.text("file_name", file_name, max_len=255)
        fields = fields_included if isinstance(fields_included, str) else ", ".join(f.strip() for f in fields_included)
        checks.that(bool(fields.strip()), "fields_included", "name the fields the file contains")
        checks.done()
        with self._write("log matching files", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            req = uow.get(DataRequest, request_id, "request")
            dsa_executed = uow.session.scalar(select(DataSharingAgreement.executed_on)
                                              .where(DataSharingAgreement.request_id == req.id))
            if dsa_executed is None:
                raise RuleViolation(f"Request {req.number or req.id} has no executed DSA; the hub may not receive its files.")
            if uow.session.get(RequestedAgency, (req.id, sender_agency_id)) is None:
                raise RuleViolation("The sender is not one of the agencies whose data the request uses.")
            entry = MatchLogEntry(request_id=req.id, sender_agency_id=sender_agency_id, files_received_on=files_received_on,
                                  file_name=file_name, fields_included=fields.strip(), sender=sender.strip(),
                                  received_by=received_by.strip())
            uow.created(entry)
            return entry.id

    def record_match(self, entry_id: int, matched_on: date) -> None:
        with self._write("edit the match log", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            entry = uow.get(MatchLogEntry, entry_id, "match log entry")
            _not_before(matched_on, entry.files_received_on, "matched_on", "the files were received")
            self._set(uow, entry, "record_match", matched_on=matched_on)

    def confirm_match(self, entry_id: int, confirmed_at: datetime) -> None:
        """The stewards confirmed the match: the clock to destroy the inputs starts now."""
        if confirmed_at.tzinfo is None:
            raise ValidationFailed({"confirmed_at": "needs a time zone"})
        with self._write("edit the match log", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            entry = uow.get(MatchLogEntry, entry_id, "match log entry")
            if entry.matched_on is None:
                raise RuleViolation("Record the match before the stewards confirm it.")
            _not_before(confirmed_at.date(), entry.matched_on, "confirmed_at", "the match")
            self._set(uow, entry, "confirm_match", stewards_confirmed_at=confirmed_at)

    def record_id_matrix_sent(self, entry_id: int, sent_on: date, sent_to: str) -> None:
        if not sent_to.strip():
            raise ValidationFailed({"sent_to": "is required"})
        with self._write("edit the match log", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            entry = uow.get(MatchLogEntry, entry_id, "match log entry")
            if entry.matched_on is None:
                raise RuleViolation("The ID matrix exists only after the match.")
            _not_before(sent_on, entry.matched_on, "sent_on", "the match")
            self._set(uow, entry, "send_id_matrix", id_matrix_sent_on=sent_on, id_matrix_sent_to=sent_to.strip())

    def record_inputs_destroyed(self, entry_id: int, destroyed_on: date) -> None:
        with self._write("edit the match log", [Kind.MATCHLOG], roles=HUB_WORK) as uow:
            entry = uow.get(MatchLogEntry, entry_id, "match log entry")
            _not_before(destroyed_on, entry.files_received_on, "destroyed_on", "the files were received")
            self._set(uow, entry, "destroy_inputs", inputs_destroyed_on=destroyed_on)

    def certify_destruction(self, request_id: int, kind: CertificateKind, *, destroyed_on: date, certified_by: str,
                            received_on: date, document_id: int | None = None, notes: str = "") -> int:
        """File a destruction certificate (hub inputs, a recipient's ID link, or the recipient's data)."""
        checks = Checks()
        certified_by = checks.text("certified_by", certified_by)
        checks.that(received_on >= destroyed_on, "received_on", "is before the destruction it certifies")
        checks.done()
        with self._write("file destruction certificates", [Kind.MATCHLOG, Kind.REQUESTS], roles=HUB_WORK) as uow:
            uow.get(DataRequest, request_id, "request")
            if document_id is not None and uow.session.get(Document, document_id) is None:
                raise NotFound(f"There is no document with id {document_id}.")
            cert = DestructionCertificate(request_id=request_id, kind=CertificateKind(kind), destroyed_on=destroyed_on,
                                          certified_by=certified_by, received_on=received_on, document_id=document_id,
                                          notes=notes.strip())
            uow.created(cert, action="certify")
            return cert.id

    def page(self, *, offset: int = 0, limit: int = 200, request_id: int | None = None) -> list[MatchLogRow]:
        """The match log, newest files first, in one query."""
        with self._read() as s:
            stmt = self._base(select(
                MatchLogEntry.id, MatchLogEntry.request_id, DataRequest.number, Agency.code, MatchLogEntry.sender,
                MatchLogEntry.received_by, MatchLogEntry.files_received_on, MatchLogEntry.file_name,
                MatchLogEntry.fields_included, MatchLogEntry.matched_on, MatchLogEntry.stewards_confirmed_at,
                MatchLogEntry.id_matrix_sent_on, MatchLogEntry.id_matrix_sent_to, MatchLogEntry.inputs_destroyed_on),
                request_id)
            stmt = stmt.order_by(MatchLogEntry.files_received_on.desc(), MatchLogEntry.id.desc())
            return [MatchLogRow(*row) for row in s.execute(stmt.offset(offset).limit(limit))]

    def count(self, *, request_id: int | None = None) -> int:
        with self._read() as s:
            return s.scalar(self._base(select(func.count(MatchLogEntry.id)), request_id)) or 0

    def certificates(self, request_id: int | None = None) -> list[CertificateInfo]:
        with self._read() as s:
            stmt = select(DestructionCertificate).order_by(DestructionCertificate.destroyed_on)
            if request_id is not None:
                stmt = stmt.where(DestructionCertificate.request_id == request_id)
            return [view_of(CertificateInfo, c) for c in s.scalars(stmt)]

    @staticmethod
    def _base(stmt, request_id):  # noqa: ANN001,ANN205 - SQL statement in and out
        stmt = (stmt.select_from(MatchLogEntry).join(DataRequest, DataRequest.id == MatchLogEntry.request_id)
                .join(Agency, Agency.id == MatchLogEntry.sender_agency_id))
        return stmt if request_id is None else stmt.where(MatchLogEntry.request_id == request_id)

    @staticmethod
    def _set(uow: UnitOfWork, entry: MatchLogEntry, action: str, **values: object) -> None:
        before = record_of(entry)
        for name, value in values.items():
            setattr(entry, name, value)
        uow.updated(entry, before, action=action)


def _not_before(day: date, earliest: date, field: str, what: str) -> None:
    if day < earliest:
        raise ValidationFailed({field: f"is before {what} ({earliest.isoformat()})"})
