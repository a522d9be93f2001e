"""People who use the desk, and their role (the key slot that lets them open the store is the store's business)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    """What a desk user may do; enforced in the services."""

    COORDINATOR = "coordinator"  # OPM operating group: requests, DSAs, meetings, money
    HUB = "hub"  # DOL data integration hub: match log and destruction
    AUDITOR = "auditor"  # read everything, export the audit trail
    ADMIN = "admin"  # users and key slots (and everything a coordinator does)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
