"""``desk.recipients``: data recipients and their data users (NDAs, departures)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.models import Agency, DataRecipient, RecipientType, RecipientUser

from .audit_chain import record_of
from .base import Checks, Kind, Service, refuse_unknown_fields, view_of
from .errors import NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class RecipientInfo:
    id: int
    name: str
    recipient_type: RecipientType
    agency_id: int | None
    address: str
    authorized_representative: str
    representative_email: str
    security_capability: str
    users: int


@dataclass(frozen=True, slots=True)
class DataUserInfo:
    id: int
    recipient_id: int
    name: str
    title: str
    email: str
    nda_needed_on: date | None
    nda_received_on: date | None
    departed_on: date | None
    departure_reported_on: date | None

    @property
    def nda_outstanding(self) -> bool:
        return self.departed_on is None and self.nda_received_on is None


class RecipientService(Service):

    def list(self) -> list[RecipientInfo]:
        with self._read() as s:
            counts = (select(RecipientUser.recipient_id, func.count().label("n"))
                      .group_by(RecipientUser.recipient_id).subquery())
            stmt = (select(DataRecipient, func.coalesce(counts.c.n, 0))
                    .outerjoin(counts, counts.c.recipient_id == DataRecipient.id).order_by(DataRecipient.name))
            return [view_of(RecipientInfo, r, users=n) for r, n in s.execute(stmt)]

    def get(self, recipient_id: int) -> RecipientInfo:
        for r in self.list():
            if r.id == recipient_id:
                return r
        raise NotFound(f"There is no data recipient with id {recipient_id}.")

    def create(self, name: str, recipient_type: RecipientType, *, agency_id: int | None = None, address: str = "",
               authorized_representative: str = "", representative_email: str = "",
               security_capability: str = "") -> int:
        """Add a requesting organisation. ``agency_id`` marks a recipient that is itself a source agency."""
        checks = Checks()
        name = checks.text("name", name)
        authorized_representative = checks.text("authorized_representative", authorized_representative,
                                                 required=False)
        representative_email = checks.text("representative_email", representative_email, required=False, max_len=254)
        checks.that(not representative_email or "@" in representative_email, "representative_email",
                    "is not an e-mail address")
        checks.done()
        with self._write("add data recipients", [Kind.RECIPIENTS]) as uow:
            if uow.session.scalar(select(DataRecipient.id).where(func.lower(DataRecipient.name) == name.lower())):
                raise ValidationFailed({"name": "another recipient already has this name"})
            if agency_id is not None:
                uow.get(Agency, agency_id, "agency")
            recipient = DataRecipient(
                name=name, recipient_type=RecipientType(recipient_type), agency_id=agency_id, address=address.strip(),
                authorized_representative=authorized_representative, representative_email=representative_email,
                security_capability=security_capability.strip())
            uow.created(recipient)
            return recipient.id

    def update(self, recipient_id: int, **changes: object) -> None:
        refuse_unknown_fields(changes, {"name", "recipient_type", "address", "authorized_representative",
                                        "representative_email", "security_capability"})
        with self._write("edit data recipients", [Kind.RECIPIENTS]) as uow:
            recipient = uow.get(DataRecipient, recipient_id, "data recipient")
            before = record_of(recipient)
            for name, value in changes.items():
                setattr(recipient, name, RecipientType(value) if name == "recipient_type" else str(value).strip())
            if not recipient.name:
                raise ValidationFailed({"name": "is required"})
            uow.updated(recipient, before)

    def users(self, recipient_id: int | None = None) -> list[DataUserInfo]:
        with self._read() as s:
            stmt = select(RecipientUser).order_by(RecipientUser.recipient_id, RecipientUser.name)
            if recipient_id is not None:
                stmt = stmt.where(RecipientUser.recipient_id == recipient_id)
            return [view_of(DataUserInfo, u) for u in s.scalars(stmt)]

    def add_user(self, recipient_id: int, name: str, *, title: str = "", email: str = "",
                 nda_needed_on: date | None = None) -> int:
        checks = Checks()
        name = checks.text("name", name)
        email = checks.text("email", email, required=False, max_len=254)
        checks.that(not email or "@" in email, "email", "is not an e-mail address")
        checks.done()
        with self._write("add data users", [Kind.RECIPIENTS]) as uow:
            uow.get(DataRecipient, recipient_id, "data recipient")
            user = RecipientUser(recipient_id=recipient_id, name=name, title=title.strip(), email=email,
                                 nda_needed_on=nda_needed_on)
            uow.created(user)
            return user.id

    def record_nda(self, user_id: int, received_on: date) -> None:
        """Record the signed NDA of a data user (only NDA signers may analyse linked data)."""
        with self._write("record NDAs", [Kind.RECIPIENTS, Kind.REQUESTS]) as uow:
            user = uow.get(RecipientUser, user_id, "data user")
            before = record_of(user)
            user.nda_received_on = received_on
            uow.updated(user, before, action="record_nda")

    def record_departure(self, user_id: int, departed_on: date, reported_on: date) -> None:
        """A data user left: record when, and when the recipient reported it (due within 24 hours)."""
        if reported_on < departed_on:
            raise ValidationFailed({"reported_on": "is before the departure"})
        with self._write("record departures", [Kind.RECIPIENTS, Kind.REQUESTS]) as uow:
            user = uow.get(RecipientUser, user_id, "data user")
            before = record_of(user)
            user.departed_on, user.departure_reported_on = departed_on, reported_on
            uow.updated(user, before, action="record_departure")
