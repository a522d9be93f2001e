"""The hub workspace's own records: matching files registered in place, match runs, clerical decisions.

Files stay where the steward's transfer put them; only their path and SHA-256 are kept, so the store never
holds a copy of a matching file. Decisions name pairs by the agencies' one-time synthetic IDs.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class HubFile(Base):
    """A received matching file, registered against its match log line."""

    __tablename__ = "hub_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_log_id: Mapped[int] = mapped_column(ForeignKey("match_log.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # p20win | wage
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HubRun(Base):
    """One match of two registered files; its outputs live in ``out_dir`` (working files, destroyed later)."""

    __tablename__ = "hub_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True)
    left_file_id: Mapped[int] = mapped_column(ForeignKey("hub_files.id"))
    right_file_id: Mapped[int] = mapped_column(ForeignKey("hub_files.id"))
    method: Mapped[str] = mapped_column(String(200))  # id version (sha256 prefix)
    out_dir: Mapped[str] = mapped_column(Text)
    run_record: Mapped[str] = mapped_column(Text)  # run.json: aggregates only, no personal values
    two_person_review: Mapped[bool] = mapped_column(default=False)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_on: Mapped[date | None]
    delivered_to: Mapped[str] = mapped_column(String(200), default="")
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewDecision(Base):
    """A reviewer's decision on one review-band pair (round 1, or round 2 of a two-person review)."""

    __tablename__ = "hub_review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("hub_runs.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    left_id: Mapped[str] = mapped_column(String(100))
    right_id: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(10))  # match | non-match | skip
    reviewer: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
