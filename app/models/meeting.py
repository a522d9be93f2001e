"""Data Governing Board and Executive Board: seats, meetings, attendance, motions and votes.

Quorum and outcomes are never stored: services/meetings.py computes them from attendance and votes.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_type


class Board(enum.StrEnum):
    DGB = "dgb"  # Data Governing Board: monthly, public, one week's notice
    EXECUTIVE = "executive"  # Executive Board: agency heads, quarterly


class MotionKind(enum.StrEnum):
    REQUEST_APPROVAL = "request_approval"
    OUTPUT_APPROVAL = "output_approval"
    PUBLICATION = "publication"
    AGENCY_ADMISSION = "agency_admission"
    AGENCY_SUSPENSION = "agency_suspension"
    BUDGET_ADVICE = "budget_advice"
    POLICY = "policy"
    OTHER = "other"


class VoteChoice(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class BoardMember(Base):
    """A seat held by a person for an agency over a period; quorum counts the seats filled on the day."""

    __tablename__ = "board_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    board: Mapped[Board] = mapped_column(enum_type(Board), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(200))
    seated_on: Mapped[date]
    left_on: Mapped[date | None]


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    board: Mapped[Board] = mapped_column(enum_type(Board), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    notice_posted_on: Mapped[date | None]
    location: Mapped[str] = mapped_column(String(300), default="")
    cancelled: Mapped[bool] = mapped_column(default=False)
    minutes: Mapped[str] = mapped_column(Text, default="")

    attendance: Mapped[list[Attendance]] = relationship(cascade="all, delete-orphan")
    motions: Mapped[list[Motion]] = relationship(cascade="all, delete-orphan", order_by="Motion.id")


class Attendance(Base):
    __tablename__ = "meeting_attendance"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("board_members.id"), primary_key=True)


class Motion(Base):
    __tablename__ = "motions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MotionKind] = mapped_column(enum_type(MotionKind))
    text: Mapped[str] = mapped_column(Text)
    # Executive Board formal votes must be unanimous; informal ones (advice) pass on a majority.
    formal: Mapped[bool] = mapped_column(default=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("board_members.id"))

    votes: Mapped[list[Vote]] = relationship(cascade="all, delete-orphan")


class Vote(Base):
    __tablename__ = "votes"

    motion_id: Mapped[int] = mapped_column(ForeignKey("motions.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("board_members.id"), primary_key=True)
    choice: Mapped[VoteChoice] = mapped_column(enum_type(VoteChoice))
