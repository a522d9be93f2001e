"""``desk.agencies``: participating agencies, their roles and status, stewards and contacts."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.models import (
    Agency,
    AgencyContact,
    AgencyRole,
    AgencyRoleAssignment,
    AgencyStatus,
    Board,
    ContactKind,
    MotionKind,
)

from .audit_chain import record_of
from .base import Checks, Kind, Service, view_of
from .errors import NotFound, RuleViolation, ValidationFailed
from .meetings import board_decision

MIN_STEWARDS = 2  # the manual asks each agency for at least two data stewards


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    id: int
    code: str
    name: str
    status: AgencyStatus
    roles: frozenset[AgencyRole]
    emou_signed_on: date | None
    short_destruction_window: bool
    stewards: int  # active data stewards
    notes: str

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.status is AgencyStatus.ACTIVE and AgencyRole.PARTICIPATING in self.roles \
                and self.stewards < MIN_STEWARDS:
            return (f"{self.code} has {self.stewards} active data steward(s); at least {MIN_STEWARDS} are expected.",)
        return ()


@dataclass(frozen=True, slots=True)
class ContactInfo:
    id: int
    agency_id: int
    kind: ContactKind
    name: str
    title: str
    email: str
    phone: str
    active: bool


class AgencyService(Service):

    def list(self, *, include_withdrawn: bool = True) -> list[AgencyInfo]:
        """All agencies by code, with their roles and steward counts (three queries in all)."""
        with self._read() as s:
            stewards = (select(AgencyContact.agency_id, func.count().label("n"))
                        .where(AgencyContact.kind == ContactKind.DATA_STEWARD, AgencyContact.active.is_(True))
                        .group_by(AgencyContact.agency_id).subquery())
            stmt = (select(Agency, func.coalesce(stewards.c.n, 0)).outerjoin(stewards, stewards.c.agency_id == Agency.id)
                    .order_by(Agency.code))
            if not include_withdrawn:
                stmt = stmt.where(Agency.status != AgencyStatus.WITHDRAWN)
            return [self._info(a, n) for a, n in s.execute(stmt)]

    def get(self, agency_id: int) -> AgencyInfo:
        return next((a for a in self.list() if a.id == agency_id), None) or _missing(agency_id)

    def by_code(self, code: str) -> AgencyInfo:
        for agency in self.list():
            if agency.code.lower() == code.strip().lower():
                return agency
        raise NotFound(f"No agency has the code {code!r}.")

    def contacts(self, agency_id: int | None = None, *, kind: ContactKind | None = None) -> list[ContactInfo]:
        with self._read() as s:
            stmt = select(AgencyContact).order_by(AgencyContact.agency_id, AgencyContact.kind, AgencyContact.name)
            if agency_id is not None:
                stmt = stmt.where(AgencyContact.agency_id == agency_id)
            if kind is not None:
                stmt = stmt.where(AgencyContact.kind == kind)
            return [view_of(ContactInfo, c) for c in s.scalars(stmt)]

    def create(self, code: str, name: str, *, roles: Iterable[AgencyRole] = (AgencyRole.PARTICIPATING,),
               short_destruction_window: bool = False, notes: str = "") -> int:
        """Add an agency in ONBOARDING: it becomes active after an Executive Board admission vote and the E-MOU."""
        checks = Checks()
        code = checks.text("code", code, max_len=16).upper()
        name = checks.text("name", name)
        roles = set(roles)
        checks.that(bool(roles), "roles", "give at least one role")
        checks.done()
        with self._write("add agencies", [Kind.AGENCIES]) as uow:
            if uow.session.scalar(select(Agency.id).where(func.upper(Agency.code) == code)):
                raise ValidationFailed({"code": f"{code} is already used by another agency"})
            agency = Agency(code=code, name=name, status=AgencyStatus.ONBOARDING,
                            short_destruction_window=short_destruction_window, notes=notes.strip(),
                            roles=[AgencyRoleAssignment(role=r) for r in sorted(roles)])
            uow.created(agency)
            uow.audit("set_roles", "agencies", agency.id, None, {"roles": sorted(r.value for r in roles)})
            return agency.id

    def update(self, agency_id: int, *, name: str | None = None, notes: str | None = None,
               short_destruction_window: bool | None = None, roles: Iterable[AgencyRole] | None = None) -> None:
        checks = Checks()
        if name is not None:
            name = checks.text("name", name)
        checks.done()
        with self._write("edit agencies", [Kind.AGENCIES]) as uow:
            agency = uow.get(Agency, agency_id, "agency")
            before = record_of(agency)
            if name is not None:
                agency.name = name
            if notes is not None:
                agency.notes = notes.strip()
            if short_destruction_window is not None:
                agency.short_destruction_window = short_destruction_window
            uow.updated(agency, before)
            if roles is not None:
                new = sorted(set(roles))
                if not new:
                    raise ValidationFailed({"roles": "give at least one role"})
                old = sorted(r.role for r in agency.roles)
                agency.roles = [r for r in agency.roles if r.role in new] + [
                    AgencyRoleAssignment(agency_id=agency.id, role=r) for r in new if r not in old]
                uow.session.flush()
                uow.audit("set_roles", "agencies", agency.id, {"roles": [r.value for r in old]},
                          {"roles": [r.value for r in new]})

    def record_emou(self, agency_id: int, signed_on: date) -> None:
        with self._write("edit agencies", [Kind.AGENCIES]) as uow:
            agency = uow.get(Agency, agency_id, "agency")
            before = record_of(agency)
            agency.emou_signed_on = signed_on
            uow.updated(agency, before, action="record_emou")

    def set_status(self, agency_id: int, status: AgencyStatus) -> None:
        """Change an agency's status. Admission (to ACTIVE from onboarding) needs a passed Executive Board
        admission vote and a signed E-MOU; suspension needs a passed Executive Board suspension vote."""
        status = AgencyStatus(status)
        with self._write("change agency status", [Kind.AGENCIES]) as uow:
            agency = uow.get(Agency, agency_id, "agency")
            if agency.status is status:
                return
            if status is AgencyStatus.ACTIVE and agency.status is AgencyStatus.ONBOARDING:
                vote = board_decision(uow.session, board=Board.EXECUTIVE, kind=MotionKind.AGENCY_ADMISSION,
                                      agency_id=agency.id)
                if not vote.passed:
                    raise RuleViolation(f"{agency.code} cannot be admitted: {vote.reason}.")
                if agency.emou_signed_on is None:
                    raise RuleViolation(f"{agency.code} cannot be admitted before it signs the E-MOU.")
            if status is AgencyStatus.SUSPENDED:
                vote = board_decision(uow.session, board=Board.EXECUTIVE, kind=MotionKind.AGENCY_SUSPENSION,
                                      agency_id=agency.id)
                if not vote.passed:
                    raise RuleViolation(f"{agency.code} cannot be suspended: {vote.reason}.")
            if status is AgencyStatus.ONBOARDING:
                raise RuleViolation("An agency cannot go back to onboarding.")
            before = record_of(agency)
            agency.status = status
            uow.updated(agency, before, action="set_status")

    def add_contact(self, agency_id: int, kind: ContactKind, name: str, *, title: str = "", email: str = "",
                    phone: str = "") -> int:
        checks = Checks()
        name = checks.text("name", name)
        title = checks.text("title", title, required=False)
        email = checks.text("email", email, required=False, max_len=254)
        checks.that(not email or ("@" in email and " " not in email), "email", "is not an e-mail address")
        phone = checks.text("phone", phone, required=False, max_len=40)
        checks.done()
        with self._write("edit agency contacts", [Kind.AGENCIES]) as uow:
            uow.get(Agency, agency_id, "agency")
            contact = AgencyContact(agency_id=agency_id, kind=ContactKind(kind), name=name, title=title,
                                    email=email, phone=phone)
            uow.created(contact)
            return contact.id

    def deactivate_contact(self, contact_id: int) -> None:
        """Mark a contact as no longer in post (kept for the record)."""
        with self._write("edit agency contacts", [Kind.AGENCIES]) as uow:
            contact = uow.get(AgencyContact, contact_id, "contact")
            before = record_of(contact)
            contact.active = False
            uow.updated(contact, before, action="deactivate")

    @staticmethod
    def _info(a: Agency, stewards: int) -> AgencyInfo:
        return AgencyInfo(a.id, a.code, a.name, a.status, frozenset(r.role for r in a.roles), a.emou_signed_on,
                          a.short_destruction_window, stewards, a.notes)


def _missing(agency_id: int) -> AgencyInfo:
    raise NotFound(f"There is no agency with id {agency_id}.")
