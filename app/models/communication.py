"""The communications log: who said what to whom, about which request."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, enum_type


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"


class Channel(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    MEETING = "meeting"
    LETTER = "letter"
    SECURE_FILE_TRANSFER = "secure_file_transfer"


class Communication(Base):
    __tablename__ = "communications"
    __table_args__ = (Index("ix_communications_occurred_at", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("data_recipients.id"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    counterpart: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    logged_by: Mapped[str] = mapped_column(String(64))
