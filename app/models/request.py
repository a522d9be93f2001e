"""Data requests: the life-cycle record at the heart of the desk (its rules live in services/lifecycle.py)."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_type, utcnow


class RequestState(enum.StrEnum):
    """The twelve stages of DOMAIN.md (board review ends in APPROVED or DENIED) plus the side exits."""

    INQUIRY = "inquiry"
    LOGGED = "logged"
    DRAFTING = "drafting"
    BOARD_REVIEW = "board_review"
    APPROVED = "approved"
    DSA_EXECUTED = "dsa_executed"
    EXTRACTS_PREPARED = "extracts_prepared"
    MATCHED = "matched"
    INPUTS_DESTROYED = "inputs_destroyed"
    RELEASED = "released"
    ANALYSIS = "analysis"
    PUBLICATION_REVIEW = "publication_review"
    CLOSED = "closed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    ON_HOLD = "on_hold"


class SubmissionType(enum.StrEnum):
    INITIAL = "initial"
    CONTINUATION = "continuation"
    REPEAT = "repeat"
    MODIFICATION = "modification"


# Data users named on a request; each agency approves them along with its data.
request_users = Table(
    "request_users",
    Base.metadata,
    Column("request_id", ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("recipient_users.id", ondelete="CASCADE"), primary_key=True),
)


class DataRequest(Base):
    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_state", "state"),
                      Index("ix_data_requests_received_on", "received_on", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # Allocated by the service when the inquiry is logged ("Q0042"); an inquiry has none yet.
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("data_recipients.id"), index=True)
    submission_type: Mapped[SubmissionType] = mapped_column(
        enum_type(SubmissionType), default=SubmissionType.INITIAL
    )
    # Continuations, repeats and modifications point at the request they follow.
    follows_request_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id"))
    state: Mapped[RequestState] = mapped_column(enum_type(RequestState), default=RequestState.INQUIRY)
    # The stage an ON_HOLD request resumes to.
    held_from: Mapped[RequestState | None] = mapped_column(enum_type(RequestState))
    purpose: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    learning_agenda_fit: Mapped[str] = mapped_column(Text, default="")
    fields_to_link: Mapped[str] = mapped_column(Text, default="")
    applicable_laws: Mapped[str] = mapped_column(Text, default="")
    analysis_plan: Mapped[str] = mapped_column(Text, default="")
    received_on: Mapped[date]
    decision_on: Mapped[date | None]
    disclosure_reviewed_on: Mapped[date | None]
    disclosure_reviewer: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agencies: Mapped[list[RequestedAgency]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestedAgency.agency_id"
    )
    elements: Mapped[list[DataElement]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="DataElement.id"
    )
    state_changes: Mapped[list[RequestStateChange]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestStateChange.id"
    )


class RequestedAgency(Base):
    """An agency whose data the request needs, with that agency's limits on publication."""

    __tablename__ = "requested_agencies"

    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True, index=True)
    publication_limits: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[DataRequest] = relationship(back_populates="agencies")


class DataElement(Base):
    """One requested data element from one agency; unjustified elements are struck, not deleted."""

    __tablename__ = "data_elements"
    __table_args__ = (UniqueConstraint("request_id", "agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(200))
    justification: Mapped[str] = mapped_column(Text, default="")
    struck: Mapped[bool] = mapped_column(default=False)
    struck_reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[DataRequest] = relationship(back_populates="elements")


class RequestStateChange(Base):
    """The request's own history of stages (the audit trail has it too, but this is what reports read)."""

    __tablename__ = "request_state_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[RequestState] = mapped_column(enum_type(RequestState))
    to_state: Mapped[RequestState] = mapped_column(enum_type(RequestState))
    on: Mapped[date]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[DataRequest] = relationship(back_populates="state_changes")
