"""Exchange with the other side of the air gap: this installation's identity, the installations it trusts,
and the log of every package sealed or imported (with the sequence numbers that stop replays)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, enum_type, utcnow


class Site(enum.StrEnum):
    OPM = "opm"  # an Operating Group desktop
    HUB = "hub"  # the air-gapped Data Integration Hub workstation


class PackageDirection(enum.StrEnum):
    SENT = "sent"
    RECEIVED = "received"


class InstallationIdentity(Base):
    """This installation's keys. One row at most; the private keys exist nowhere but this encrypted store."""

    __tablename__ = "installation_identity"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(64))
    site: Mapped[Site] = mapped_column(enum_type(Site))
    signing_private: Mapped[bytes] = mapped_column(LargeBinary(32))  # raw Ed25519 seed
    agreement_private: Mapped[bytes] = mapped_column(LargeBinary(32))  # raw X25519
    fingerprint: Mapped[str] = mapped_column(String(29))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class TrustedPeer(Base):
    """Another installation whose fingerprint a person confirmed; packages from it may be imported."""

    __tablename__ = "trusted_peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    site: Mapped[Site] = mapped_column(enum_type(Site))
    signing_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    agreement_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    fingerprint: Mapped[str] = mapped_column(String(29), unique=True)
    trusted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trusted_by: Mapped[str] = mapped_column(String(64))
    # Withdrawn trust keeps the row (the package log refers to it) but refuses further imports and exports.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    packages: Mapped[list[PackageLogEntry]] = relationship(back_populates="peer")


class PackageLogEntry(Base):
    """One package sealed here or imported here. Sequence numbers count per direction and peer from 1."""

    __tablename__ = "package_log"
    __table_args__ = (
        UniqueConstraint("peer_id", "direction", "sequence"),
        Index("ix_package_log_request", "request_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("trusted_peers.id"), index=True)
    direction: Mapped[PackageDirection] = mapped_column(enum_type(PackageDirection))
    sequence: Mapped[int]
    package_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    request_number: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime)  # when the sender sealed it
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # sealed or imported here
    recorded_by: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    # The checked payload (canonical JSON): the hub's copy of a work order's terms, what a completion reported.
    # Packages never carry person-level data, so keeping it is safe.
    payload: Mapped[str] = mapped_column(Text, default="")
    # Sent packages keep their sealed bytes so a lost file can be saved again with the same sequence number
    # (the receiver waits for it). Ciphertext only: readable by the recipient alone.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    peer: Mapped[TrustedPeer] = relationship(back_populates="packages")
