"""Each involved agency's decision on its data and on the named data users."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_type


class Decision(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class AgencyApproval(Base):
    __tablename__ = "agency_approvals"

    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    data_decision: Mapped[Decision] = mapped_column(enum_type(Decision), default=Decision.PENDING)
    users_decision: Mapped[Decision] = mapped_column(enum_type(Decision), default=Decision.PENDING)
    decided_on: Mapped[date | None]
    decided_by: Mapped[str] = mapped_column(String(200), default="")  # the agency's signatory, not a desk user
    note: Mapped[str] = mapped_column(Text, default="")
