"""Data Sharing Agreements: parties and signatures, exhibits, dates and amendments."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_type


class PartyKind(enum.StrEnum):
    AGENCY = "agency"  # a source agency
    HUB = "hub"
    OPERATING_GROUP = "operating_group"
    RECIPIENT = "recipient"


class ExhibitKind(enum.StrEnum):
    REQUEST_FORM = "request_form"  # Exhibit A, the approved request form
    NDA = "nda"
    DESTRUCTION_CERTIFICATE_FORM = "destruction_certificate_form"
    OTHER = "other"


class DataSharingAgreement(Base):
    __tablename__ = "dsas"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # "DSA-Q0042"
    effective_on: Mapped[date | None]
    destroy_by: Mapped[date | None]
    executed_on: Mapped[date | None]  # set when the last party signs and the request moves to DSA executed
    notes: Mapped[str] = mapped_column(Text, default="")

    parties: Mapped[list[DsaParty]] = relationship(cascade="all, delete-orphan", order_by="DsaParty.id")
    exhibits: Mapped[list[DsaExhibit]] = relationship(cascade="all, delete-orphan", order_by="DsaExhibit.id")
    amendments: Mapped[list[DsaAmendment]] = relationship(
        cascade="all, delete-orphan", order_by="DsaAmendment.number"
    )


class DsaParty(Base):
    __tablename__ = "dsa_parties"
    __table_args__ = (UniqueConstraint("dsa_id", "kind", "agency_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dsa_id: Mapped[int] = mapped_column(ForeignKey("dsas.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PartyKind] = mapped_column(enum_type(PartyKind))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("data_recipients.id"))
    signatory: Mapped[str] = mapped_column(String(200), default="")
    signed_on: Mapped[date | None]


class DsaExhibit(Base):
    __tablename__ = "dsa_exhibits"

    id: Mapped[int] = mapped_column(primary_key=True)
    dsa_id: Mapped[int] = mapped_column(ForeignKey("dsas.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ExhibitKind] = mapped_column(enum_type(ExhibitKind))
    title: Mapped[str] = mapped_column(String(300))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))


class DsaAmendment(Base):
    __tablename__ = "dsa_amendments"
    __table_args__ = (UniqueConstraint("dsa_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dsa_id: Mapped[int] = mapped_column(ForeignKey("dsas.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    effective_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text)
    new_destroy_by: Mapped[date | None]  # an extension moves the DSA's destroy-by date
