"""The hub's match log (DOMAIN.md's fields) and destruction certificates."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, enum_type


class MatchLogEntry(Base):
    """One matching file received at the hub for a request, and what became of it."""

    __tablename__ = "match_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True)
    sender_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    sender: Mapped[str] = mapped_column(String(200), default="")  # the steward who sent the file
    received_by: Mapped[str] = mapped_column(String(200), default="")  # who received it at the hub
    files_received_on: Mapped[date]
    file_name: Mapped[str] = mapped_column(String(255))
    fields_included: Mapped[str] = mapped_column(Text, default="")  # comma-separated field names
    matched_on: Mapped[date | None]
    # The destruction clock starts when the stewards confirm the match (5 business days, 24 h for CCIC).
    stewards_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id_matrix_sent_on: Mapped[date | None]
    id_matrix_sent_to: Mapped[str] = mapped_column(String(200), default="")
    inputs_destroyed_on: Mapped[date | None]


class CertificateKind(enum.StrEnum):
    HUB_INPUTS = "hub_inputs"  # the hub destroyed the matching files
    RECIPIENT_ID_LINK = "recipient_id_link"  # a recipient that is a source agency destroyed its ID link
    RECIPIENT_DATA = "recipient_data"  # the recipient destroyed the data by the DSA's date


class DestructionCertificate(Base):
    __tablename__ = "destruction_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True)
    kind: Mapped[CertificateKind] = mapped_column(enum_type(CertificateKind))
    destroyed_on: Mapped[date]
    certified_by: Mapped[str] = mapped_column(String(200))
    received_on: Mapped[date]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
