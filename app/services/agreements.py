"""``desk.agreements``: Data Sharing Agreements — parties and signatures, exhibits, dates, amendments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.models import (
    Agency,
    AgencyRole,
    AgencyRoleAssignment,
    DataRecipient,
    DataRequest,
    DataSharingAgreement,
    Document,
    DsaAmendment,
    DsaExhibit,
    DsaParty,
    ExhibitKind,
    PartyKind,
    RecipientUser,
    RequestedAgency,
    RequestState,
    request_users,
)

from .audit_chain import record_of
from .base import Checks, Kind, Service, UnitOfWork
from .errors import NotFound, RuleViolation, ValidationFailed

S = RequestState
DRAFTABLE = frozenset({S.BOARD_REVIEW, S.APPROVED})


@dataclass(frozen=True, slots=True)
class PartyInfo:
    id: int
    kind: PartyKind
    agency_id: int | None
    recipient_id: int | None
    label: str  # agency code or recipient name
    signatory: str
    signed_on: date | None


@dataclass(frozen=True, slots=True)
class ExhibitInfo:
    id: int
    kind: ExhibitKind
    title: str
    document_id: int | None


@dataclass(frozen=True, slots=True)
class AmendmentInfo:
    id: int
    number: int
    effective_on: date
    description: str
    new_destroy_by: date | None


@dataclass(frozen=True, slots=True)
class DsaDetail:
    id: int
    number: str
    request_id: int
    request_number: str | None
    effective_on: date | None
    destroy_by: date | None  # after amendments
    executed_on: date | None
    parties: tuple[PartyInfo, ...]
    exhibits: tuple[ExhibitInfo, ...]
    amendments: tuple[AmendmentInfo, ...]
    ndas_needed: int
    ndas_received: int


@dataclass(frozen=True, slots=True)
class DsaRow:
    id: int
    number: str
    request_id: int
    request_number: str | None
    request_title: str
    effective_on: date | None
    destroy_by: date | None
    executed_on: date | None
    signed: int
    parties: int


def mark_executed(uow: UnitOfWork, request_id: int, on: date) -> None:
    """Set the DSA's executed date as the request moves to DSA executed (the life cycle checked the rules)."""
    dsa = uow.session.scalar(select(DataSharingAgreement).where(DataSharingAgreement.request_id == request_id))
    if dsa is None:
        raise RuleViolation("There is no DSA for this request.")
    before = record_of(dsa)
    dsa.executed_on = on
    uow.updated(dsa, before, action="execute")


class AgreementService(Service):

    def draft(self, request_id: int, *, effective_on: date | None = None, destroy_by: date | None = None) -> int:
        """Start the DSA of a request under board review or approved, with every party it needs: each source
        agency, the recipient, the hub and the operating group. Returns the DSA id."""
        with self._write("draft DSAs", [Kind.AGREEMENTS]) as uow:
            req = uow.get(DataRequest, request_id, "request")
            if req.state not in DRAFTABLE:
                raise RuleViolation("A DSA is drafted while the request is under board review or approved.")
            if req.recipient_id is None:
                raise RuleViolation("Name the data recipient before drafting the DSA.")
            if uow.session.scalar(select(DataSharingAgreement.id).where(DataSharingAgreement.request_id == req.id)):
                raise RuleViolation("This request already has a DSA; amend it instead.")
            _check_dates(effective_on, destroy_by)
            dsa = DataSharingAgreement(request_id=req.id, number=f"DSA-{req.number}", effective_on=effective_on,
                                       destroy_by=destroy_by)
            uow.created(dsa)
            for (agency_id,) in uow.session.execute(
                    select(RequestedAgency.agency_id).where(RequestedAgency.request_id == req.id)):
                uow.session.add(DsaParty(dsa_id=dsa.id, kind=PartyKind.AGENCY, agency_id=agency_id))
            uow.session.add(DsaParty(dsa_id=dsa.id, kind=PartyKind.RECIPIENT, recipient_id=req.recipient_id))
            for role, kind in ((AgencyRole.HUB, PartyKind.HUB), (AgencyRole.OPERATING_GROUP, PartyKind.OPERATING_GROUP)):
                agency_id = uow.session.scalar(select(AgencyRoleAssignment.agency_id)
                                               .where(AgencyRoleAssignment.role == role).limit(1))
                if agency_id is not None:
                    uow.session.add(DsaParty(dsa_id=dsa.id, kind=kind, agency_id=agency_id))
            uow.session.flush()
            parties = uow.session.scalars(select(DsaParty).where(DsaParty.dsa_id == dsa.id)).all()
            uow.audit("add_parties", "dsas", dsa.id, None, {"parties": [record_of(p) for p in parties]})
            return dsa.id

    def set_dates(self, dsa_id: int, *, effective_on: date, destroy_by: date) -> None:
        with self._write("edit DSAs", [Kind.AGREEMENTS]) as uow:
            dsa = self._unexecuted(uow, dsa_id)
            _check_dates(effective_on, destroy_by)
            before = record_of(dsa)
            dsa.effective_on, dsa.destroy_by = effective_on, destroy_by
            uow.updated(dsa, before)

    def sign(self, party_id: int, *, signatory: str, signed_on: date) -> None:
        """Record one party's signature."""
        checks = Checks()
        signatory = checks.text("signatory", signatory)
        checks.done()
        with self._write("record signatures", [Kind.AGREEMENTS]) as uow:
            party = uow.get(DsaParty, party_id, "DSA party")
            self._unexecuted(uow, party.dsa_id)
            before = record_of(party)
            party.signatory, party.signed_on = signatory, signed_on
            uow.updated(party, before, action="sign")

    def add_exhibit(self, dsa_id: int, kind: ExhibitKind, title: str, *, document_id: int | None = None) -> int:
        checks = Checks()
        title = checks.text("title", title, max_len=300)
        checks.done()
        with self._write("edit DSAs", [Kind.AGREEMENTS]) as uow:
            dsa = uow.get(DataSharingAgreement, dsa_id, "DSA")
            if document_id is not None and uow.session.get(Document, document_id) is None:
                raise NotFound(f"There is no document with id {document_id}.")
            exhibit = DsaExhibit(dsa_id=dsa.id, kind=ExhibitKind(kind), title=title, document_id=document_id)
            uow.created(exhibit)
            return exhibit.id

    def amend(self, dsa_id: int, *, effective_on: date, description: str, new_destroy_by: date | None = None) -> int:
        """Record an amendment (e.g. staff changes, an extension) to an executed DSA; returns its number."""
        checks = Checks()
        description = checks.text("description", description, max_len=4000)
        checks.done()
        with self._write("amend DSAs", [Kind.AGREEMENTS]) as uow:
            dsa = uow.get(DataSharingAgreement, dsa_id, "DSA")
            if dsa.executed_on is None:
                raise RuleViolation("Only an executed DSA is amended; edit the draft instead.")
            if new_destroy_by is not None and dsa.effective_on and new_destroy_by <= dsa.effective_on:
                raise ValidationFailed({"new_destroy_by": "must be after the DSA's effective date"})
            number = (uow.session.scalar(select(func.max(DsaAmendment.number)).where(DsaAmendment.dsa_id == dsa.id))
                      or 0) + 1
            amendment = DsaAmendment(dsa_id=dsa.id, number=number, effective_on=effective_on,
                                     description=description, new_destroy_by=new_destroy_by)
            uow.created(amendment)
            if new_destroy_by is not None:
                before = record_of(dsa)
                dsa.destroy_by = new_destroy_by
                uow.updated(dsa, before, action="extend")
            return number

    def get(self, dsa_id: int) -> DsaDetail:
        with self._read() as s:
            dsa = s.get(DataSharingAgreement, dsa_id)
            if dsa is None:
                raise NotFound(f"There is no DSA with id {dsa_id}.")
            req = s.get(DataRequest, dsa.request_id)
            codes = dict(s.execute(select(Agency.id, Agency.code)).all())
            names = dict(s.execute(select(DataRecipient.id, DataRecipient.name)).all())
            parties = tuple(PartyInfo(p.id, p.kind, p.agency_id, p.recipient_id,
                                      codes.get(p.agency_id) or names.get(p.recipient_id) or "?",
                                      p.signatory, p.signed_on) for p in dsa.parties)
            needed, received = s.execute(
                select(func.count(), func.count(RecipientUser.nda_received_on))
                .select_from(request_users).join(RecipientUser, RecipientUser.id == request_users.c.user_id)
                .where(request_users.c.request_id == dsa.request_id, RecipientUser.departed_on.is_(None))).one()
            return DsaDetail(
                dsa.id, dsa.number, dsa.request_id, req.number if req else None, dsa.effective_on, dsa.destroy_by,
                dsa.executed_on, parties,
                tuple(ExhibitInfo(e.id, e.kind, e.title, e.document_id) for e in dsa.exhibits),
                tuple(AmendmentInfo(a.id, a.number, a.effective_on, a.description, a.new_destroy_by)
                      for a in dsa.amendments), needed, received)

    def for_request(self, request_id: int) -> DsaDetail | None:
        with self._read() as s:
            dsa_id = s.scalar(select(DataSharingAgreement.id).where(DataSharingAgreement.request_id == request_id))
        return None if dsa_id is None else self.get(dsa_id)

    def list(self) -> list[DsaRow]:
        with self._read() as s:
            signed = (select(DsaParty.dsa_id, func.count(DsaParty.signed_on).label("signed"),
                             func.count().label("parties")).group_by(DsaParty.dsa_id).subquery())
            stmt = (select(DataSharingAgreement.id, DataSharingAgreement.number, DataRequest.id, DataRequest.number,
                           DataRequest.title, DataSharingAgreement.effective_on, DataSharingAgreement.destroy_by,
                           DataSharingAgreement.executed_on, func.coalesce(signed.c.signed, 0),
                           func.coalesce(signed.c.parties, 0))
                    .join(DataRequest, DataRequest.id == DataSharingAgreement.request_id)
                    .outerjoin(signed, signed.c.dsa_id == DataSharingAgreement.id)
                    .order_by(DataSharingAgreement.id.desc()))
            return [DsaRow(*row) for row in s.execute(stmt)]

    @staticmethod
    def _unexecuted(uow: UnitOfWork, dsa_id: int) -> DataSharingAgreement:
        dsa = uow.get(DataSharingAgreement, dsa_id, "DSA")
        if dsa.executed_on is not None:
            raise RuleViolation(f"{dsa.number} is executed; change it with an amendment.")
        return dsa


def _check_dates(effective_on: date | None, destroy_by: date | None) -> None:
    if effective_on and destroy_by and destroy_by <= effective_on:
        raise ValidationFailed({"destroy_by": "must be after the effective date"})
