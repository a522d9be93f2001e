"""Participating agencies, their roles in P20 WIN, and the people the desk deals with there."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_type


class AgencyRole(enum.StrEnum):
    PARTICIPATING = "participating"
    OPERATING_GROUP = "operating_group"  # OPM
    HUB = "hub"  # DOL, also participating


class AgencyStatus(enum.StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


class ContactKind(enum.StrEnum):
    DATA_STEWARD = "data_steward"  # the manual asks for at least two per agency
    DGB_MEMBER = "dgb_member"
    EXECUTIVE_BOARD_MEMBER = "executive_board_member"
    LEGAL = "legal"
    SECURITY = "security"
    OTHER = "other"


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # e.g. "SDE", "JB-CSSD"
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[AgencyStatus] = mapped_column(enum_type(AgencyStatus), default=AgencyStatus.ACTIVE)
    emou_signed_on: Mapped[date | None]
    # Independent colleges' data must be destroyed within 24 hours of the match instead of 5 business days.
    short_destruction_window: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    roles: Mapped[list[AgencyRoleAssignment]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", lazy="selectin"
    )
    contacts: Mapped[list[AgencyContact]] = relationship(back_populates="agency", cascade="all, delete-orphan")


class AgencyRoleAssignment(Base):
    __tablename__ = "agency_roles"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[AgencyRole] = mapped_column(enum_type(AgencyRole), primary_key=True)

    agency: Mapped[Agency] = relationship(back_populates="roles")


class AgencyContact(Base):
    __tablename__ = "agency_contacts"
    __table_args__ = (UniqueConstraint("agency_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ContactKind] = mapped_column(enum_type(ContactKind))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="contacts")
