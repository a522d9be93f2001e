"""Data recipients (requesting organisations) and their data users with NDA status."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_type


class RecipientType(enum.StrEnum):
    STATE_AGENCY = "state_agency"
    UNIVERSITY = "university"
    NONPROFIT = "nonprofit"
    FEDERAL_AGENCY = "federal_agency"
    MUNICIPALITY = "municipality"
    RESEARCH_FIRM = "research_firm"
    OTHER = "other"


class DataRecipient(Base):
    __tablename__ = "data_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_type: Mapped[RecipientType] = mapped_column(enum_type(RecipientType))
    # Set when the recipient is itself a source agency: it must attest it destroyed its own ID link first.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    address: Mapped[str] = mapped_column(Text, default="")
    authorized_representative: Mapped[str] = mapped_column(String(200), default="")
    representative_email: Mapped[str] = mapped_column(String(254), default="")
    security_capability: Mapped[str] = mapped_column(Text, default="")

    users: Mapped[list[RecipientUser]] = relationship(back_populates="recipient", cascade="all, delete-orphan")


class RecipientUser(Base):
    """A person at a recipient who may see linked data: only NDA signers may analyse it."""

    __tablename__ = "recipient_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("data_recipients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    nda_needed_on: Mapped[date | None]
    nda_received_on: Mapped[date | None]
    departed_on: Mapped[date | None]
    # Departures must be reported within 24 hours; the gap is a compliance fact worth keeping.
    departure_reported_on: Mapped[date | None]

    recipient: Mapped[DataRecipient] = relationship(back_populates="users")
