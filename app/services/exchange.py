"""``desk.exchange``: this installation's identity, trusted installations, and sealed packages across the gap.

Export builds a payload from the store, checks it carries no person-level data, seals it to the chosen peer
with the next sequence number and records it in the package log — one unit of work. Import runs every check
(structure, recipient, trusted sender, signature, hashes, schema, sequence) and then applies the contents
through the same audited unit of work; anything refused or failing rolls the whole import back. ``preview``
runs the very same import and rolls it back, so what it shows is exactly what importing would do.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from app.exchange.errors import AlreadyImported, ExchangeError, OutOfOrder, UnknownSender
from app.exchange.identity import (
    IDENTITY_SUFFIX,
    Identity,
    PublicIdentity,
    identity_file_bytes,
    normalise_fingerprint,
    parse_identity_file,
    read_limited,
)
from app.exchange.jsonio import canonical_json
from app.exchange.package import (
    MAX_PACKAGE_BYTES,
    PACKAGE_SUFFIX,
    Manifest,
    check_addressed_to,
    open_envelope,
    read_envelope,
    read_payload,
    seal,
)
from app.exchange.payloads import KIND_TITLES, SENT_BY, to_json, validate
from app.exchange.privacy import refuse_personal_data
from app.models import (
    Agency,
    CertificateKind,
    DataRecipient,
    DataRequest,
    DataSharingAgreement,
    DestructionCertificate,
    DsaAmendment,
    DsaParty,
    MatchLogEntry,
    PartyKind,
    RecipientType,
    RequestedAgency,
    RequestState,
    SubmissionType,
    utcnow,
)
from app.models.exchange import InstallationIdentity, PackageDirection, PackageLogEntry, Site, TrustedPeer
from app.models.hub import HubRun
from app.store.keyslots import write_atomically

from . import lifecycle
from .audit_chain import record_of
from .base import ADMINS, HUB_WORK, Checks, Kind, Service, UnitOfWork
from .errors import NotFound, RuleViolation, ServiceError, ValidationFailed

# The change kind carried to ``Desk.on_change`` listeners when identity, peers or the package log change.
EXCHANGE = "exchange"
S = RequestState
MATCHING_FIELDS = ("LastName", "MiddleName", "FirstName", "DOB", "Gender", "HighSchoolCode", "HighSchoolName",
                   "SASID", "SSN", "SyntheticID")


class PackageRefused(ServiceError):
    """A package or identity file failed a check; nothing was changed. ``.message`` says which and why."""


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    name: str
    site: Site
    fingerprint: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PeerInfo:
    id: int
    name: str
    site: Site
    fingerprint: str
    trusted_at: datetime
    trusted_by: str
    revoked_at: datetime | None
    last_sent: int  # sequence number of the last package sealed to it (0: none)
    last_received: int  # sequence number of the last package imported from it (0: none)


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """One line of the package log (also the request history's "packages sent and received")."""

    id: int
    direction: PackageDirection
    peer_name: str
    sequence: int
    package_id: str
    kind: str
    kind_title: str
    request_number: str | None
    summary: str
    created: datetime
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    package: PackageInfo


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did (or, from ``preview``, would do). ``changes`` are sentences for a person."""

    kind: str
    kind_title: str
    sender: str
    sequence: int
    request_number: str | None
    already_imported: bool
    changes: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """The clear manifest of a package file, readable without any key (``inspect``)."""

    kind: str
    kind_title: str
    package_id: str
    sender_name: str
    sender_site: str
    sender_fingerprint: str
    recipient_name: str
    recipient_fingerprint: str
    sequence: int
    created: datetime
    contents: tuple[tuple[str, int, str], ...]  # (name, size, sha256)
    file_sha256: str


def _refused(exc: ExchangeError) -> PackageRefused:
    return PackageRefused(exc.message)


class _Rollback(Exception):
    """Raised inside a preview's transaction so the store throws the import away."""


def read_package_file(path: Path) -> bytes:
    """The bytes of a package file, refusing huge files before reading them. Raises PackageRefused."""
    try:
        return read_limited(Path(path), MAX_PACKAGE_BYTES, "package")
    except ExchangeError as exc:
        raise _refused(exc) from None


def summarise(data: bytes) -> PackageSummary:
    """Parse a package's clear manifest (no key needed, nothing verified yet). Raises PackageRefused."""
    try:
        env = read_envelope(data)
    except ExchangeError as exc:
        raise _refused(exc) from None
    m = env.manifest
    return PackageSummary(
        kind=m.kind, kind_title=KIND_TITLES[m.kind], package_id=m.package_id, sender_name=m.sender_name,
        sender_site=m.sender_site, sender_fingerprint=m.sender_fingerprint, recipient_name=m.recipient_name,
        recipient_fingerprint=m.recipient_fingerprint, sequence=m.sequence, created=m.created,
        contents=tuple((c.name, c.size, c.sha256) for c in m.contents), file_sha256=env.sha256)


class ExchangeService(Service):
    """Identity and trust (admin), sealing and importing packages (coordinator, admin or hub)."""

    # ---- identity and trust ----------------------------------------------------------------------------

    def identity(self) -> IdentityInfo | None:
        """This installation's identity, or None before one is created."""
        with self._read() as s:
            row = s.get(InstallationIdentity, 1)
            return None if row is None else IdentityInfo(row.name, row.site, row.fingerprint, row.created_at)

    def create_identity(self, name: str, site: Site | str) -> IdentityInfo:
        """Make this installation's keys (once). ``site`` is "opm" or "hub". Admins only."""
        try:
            identity = Identity.generate(name, Site(site).value)
        except ValueError as exc:
            raise ValidationFailed({"name": str(exc)}) from None
        with self._write("create the exchange identity", [EXCHANGE], roles=ADMINS) as uow:
            if uow.session.get(InstallationIdentity, 1) is not None:
                raise RuleViolation("This installation already has an exchange identity; its keys are never replaced "
                                    "silently (trusted installations would stop accepting its packages).")
            row = InstallationIdentity(
                id=1, name=identity.name, site=Site(identity.site), signing_private=identity.signing_private,
                agreement_private=identity.agreement_private, fingerprint=identity.fingerprint,
                created_at=utcnow(), created_by=self.actor.username)
            uow.session.add(row)
            uow.session.flush()
            # Public parts only: private keys never enter the audit trail.
            uow.audit("create_identity", "installation_identity", 1, None,
                      {"name": row.name, "site": row.site.value, "fingerprint": row.fingerprint})
            return IdentityInfo(row.name, row.site, row.fingerprint, row.created_at)

    def public_identity_file(self) -> bytes:
        """The public identity file to hand to the other installation (no secrets in it)."""
        with self._read() as s:
            row = self._identity_row(s)
            return identity_file_bytes(_identity_of(row), row.created_at)

    def save_public_identity(self, folder: Path) -> Path:
        """Write the public identity file into ``folder`` (e.g. a USB drive); returns its path."""
        data = self.public_identity_file()
        name = self.identity().name  # type: ignore[union-attr] - public_identity_file raised if absent
        path = Path(folder) / f"{_safe_file_part(name)}{IDENTITY_SUFFIX}"
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise ServiceError(f"Could not write {path}: {exc.strerror or exc}.") from None
        return path

    @staticmethod
    def read_identity(data: bytes) -> PublicIdentity:
        """Parse another installation's identity file for the trust dialog. Raises PackageRefused."""
        try:
            return parse_identity_file(data)
        except ExchangeError as exc:
            raise _refused(exc) from None

    def trust(self, identity_file: bytes, confirmed_fingerprint: str) -> PeerInfo:
        """Trust another installation. ``confirmed_fingerprint`` is what the person read back from the other
        side; it must equal the file's fingerprint. Admins only; one trusted installation per fingerprint."""
        pub = self.read_identity(identity_file)
        typed = normalise_fingerprint(confirmed_fingerprint)
        if typed != pub.fingerprint:
            raise ValidationFailed({"fingerprint": (
                "does not match the identity file. Compare it digit by digit with the other installation, "
                "reading it from their screen or by phone, never from the file itself")})
        with self._write("trust another installation", [EXCHANGE], roles=ADMINS) as uow:
            me = self._identity_row(uow.session)
            if pub.fingerprint == me.fingerprint:
                raise RuleViolation("That is this installation's own identity file.")
            if pub.site == me.site.value:
                raise RuleViolation(f"{pub.name} is also an {pub.site.upper()} installation; packages go only "
                                    "between OPM desktops and the hub.")
            existing = uow.session.scalar(select(TrustedPeer).where(TrustedPeer.fingerprint == pub.fingerprint))
            if existing is not None and existing.revoked_at is None:
                raise RuleViolation(f"{existing.name} is already trusted.")
            if existing is not None:
                before = record_of(existing)
                existing.revoked_at, existing.trusted_by, existing.trusted_at = None, self.actor.username, utcnow()
                uow.updated(existing, before, action="trust_again")
                peer = existing
            else:
                peer = TrustedPeer(name=pub.name, site=Site(pub.site), signing_public=pub.signing_public,
                                   agreement_public=pub.agreement_public, fingerprint=pub.fingerprint,
                                   trusted_at=utcnow(), trusted_by=self.actor.username)
                uow.created(peer, action="trust")
            return self._peer_info(uow.session, peer)

    def revoke(self, peer_id: int) -> None:
        """Stop trusting an installation (its packages are refused from now on; the log is kept)."""
        with self._write("withdraw trust", [EXCHANGE], roles=ADMINS) as uow:
            peer = uow.get(TrustedPeer, peer_id, "trusted installation")
            if peer.revoked_at is None:
                before = record_of(peer)
                peer.revoked_at = utcnow()
                uow.updated(peer, before, action="revoke_trust")

    def peers(self) -> list[PeerInfo]:
        with self._read() as s:
            return [self._peer_info(s, p) for p in s.scalars(select(TrustedPeer).order_by(TrustedPeer.name))]

    # ---- the package log -------------------------------------------------------------------------------

    def log(self, *, request_number: str | None = None, limit: int = 500) -> list[PackageInfo]:
        """Packages sent and received, newest first; only those about ``request_number`` when given."""
        with self._read() as s:
            # The sealed bytes and payloads can be large: a listing never loads them.
            stmt = (select(PackageLogEntry, TrustedPeer.name).join(TrustedPeer)
                    .options(defer(PackageLogEntry.sealed), defer(PackageLogEntry.payload)))
            if request_number is not None:
                stmt = stmt.where(PackageLogEntry.request_number == request_number)
            stmt = stmt.order_by(PackageLogEntry.recorded_at.desc(), PackageLogEntry.id.desc()).limit(limit)
            return [_package_info(e, name) for e, name in s.execute(stmt).all()]

    def contents_of(self, package_id: str) -> dict[str, Any]:
        """The checked payload of a logged package (e.g. the terms, method and matching-file expectations of a
        work order the hub received). Never person-level data: it passed the exporter's and importer's check."""
        with self._read() as s:
            payload = s.scalar(select(PackageLogEntry.payload).where(PackageLogEntry.package_id == package_id))
        if payload is None:
            raise NotFound("No package with that id is in the package log.")
        return json.loads(payload)

    def save_again(self, package_id: str, folder: Path) -> Path:
        """Write a sent package's file again (the same bytes, the same sequence number), e.g. when the USB
        drive was lost: the receiver is still waiting for exactly that package."""
        with self._read() as s:
            entry = s.scalar(select(PackageLogEntry).where(PackageLogEntry.package_id == package_id,
                                                           PackageLogEntry.direction == PackageDirection.SENT))
            if entry is None or entry.sealed is None:
                raise NotFound("No package with that id was sent from this installation.")
            path = Path(folder) / _package_file_name(entry.kind, entry.request_number, entry.sequence)
            data = entry.sealed
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise ServiceError(f"Could not write {path}: {exc.strerror or exc}.") from None
        return path

    # ---- building payloads -----------------------------------------------------------------------------

    def work_order(self, request_number: str) -> dict[str, Any]:
        """The work order for a request (OPM -> hub): its DSA terms and dates, parties, the method the hub is to
        use (the newest one whose approval was sent to the hub), and what matching files to expect."""
        with self._read() as s:
            req = _request_by_number(s, request_number)
            dsa = s.scalar(select(DataSharingAgreement).where(DataSharingAgreement.request_id == req.id))
            if dsa is None or dsa.executed_on is None:
                raise RuleViolation(f"Request {request_number} has no executed DSA yet; the hub matches only under "
                                    "an executed DSA.")
            agencies = list(s.execute(
                select(Agency).join(RequestedAgency, RequestedAgency.agency_id == Agency.id)
                .where(RequestedAgency.request_id == req.id).order_by(Agency.code)).scalars())
            recipient = s.get(DataRecipient, req.recipient_id) if req.recipient_id else None
            codes = dict(s.execute(select(Agency.id, Agency.code)).all())
            parties = []
            for p in dsa.parties:
                # Agencies (the hub and the operating group are agencies too) travel by code, the recipient by name.
                if p.kind is PartyKind.RECIPIENT:
                    name = recipient.name if recipient else "data recipient"
                else:
                    name = codes.get(p.agency_id, p.kind.value.replace("_", " "))
                parties.append({"kind": p.kind.value, "name": name, "signatory": p.signatory, "signed_on": p.signed_on})
            elements = {(e.agency_id, _field_key(e.name)) for e in req.elements if not e.struck}
            linked = {_field_key(part) for part in req.fields_to_link.replace(";", ",").replace("\n", ",").split(",")}
            matching_files = []
            for a in agencies:
                fields = [f for f in MATCHING_FIELDS if (a.id, _field_key(f)) in elements or _field_key(f) in linked]
                matching_files.append({"agency": a.code, "fields": fields, "expected_rows": None})
            return {
                "request": {"number": req.number, "title": req.title, "submission_type": req.submission_type.value,
                            "state": req.state.value, "received_on": req.received_on, "purpose": req.purpose,
                            "legal_basis": req.legal_basis, "fields_to_link": req.fields_to_link},
                "recipient": None if recipient is None else {
                    "name": recipient.name, "recipient_type": recipient.recipient_type.value,
                    "authorized_representative": recipient.authorized_representative,
                    "representative_email": recipient.representative_email},
                "agencies": [{"code": a.code, "name": a.name, "short_destruction_window": a.short_destruction_window}
                             for a in agencies],
                "dsa": {"number": dsa.number, "effective_on": dsa.effective_on, "executed_on": dsa.executed_on,
                        "destroy_by": dsa.destroy_by,  # as amendments left it
                        "parties": parties,
                        "amendments": [{"number": a.number, "effective_on": a.effective_on,
                                        "description": a.description, "new_destroy_by": a.new_destroy_by}
                                       for a in dsa.amendments]},
                "method": self._latest_method_sent(s),
                "matching_files": matching_files,
                "input_destruction": "24 hours" if any(a.short_destruction_window for a in agencies)
                else "5 business days",
            }

    def completion(self, request_number: str, *, counts: dict[str, int] | None = None,
                   run: dict[str, Any] | None = None, delivered_on: date | None = None,
                   delivered_to: str | None = None) -> dict[str, Any]:
        """The completion report for a request (hub -> OPM) from the hub's match log: files, match date,
        delivery of the ID matrix. ``run`` defaults to the run record of the hub workspace's latest recorded
        run for the request, ``counts`` to the figures of that record (input rows, matched, for review); both
        are checked for person-level data on sealing."""
        with self._read() as s:
            req = _request_by_number(s, request_number)
            if run is None:
                record = s.scalar(select(HubRun.run_record).where(HubRun.request_id == req.id)
                                  .order_by(HubRun.id.desc()).limit(1))
                run = json.loads(record) if record else None
            if counts is None:
                counts = _counts_of(run) if run else {}
            entries = _match_entries(s, req.id)
            if not entries:
                raise RuleViolation(f"The match log has no files for request {request_number}.")
            unmatched = [e.file_name for e, _ in entries if e.matched_on is None]
            if unmatched:
                raise RuleViolation(f"{len(unmatched)} file(s) of request {request_number} have no match date in the "
                                    f"match log ({', '.join(unmatched[:3])}).")
            sent = [e for e, _ in entries if e.id_matrix_sent_on is not None]
            return {
                "request_number": req.number,
                "received_by": next((e.received_by for e, _ in entries if e.received_by), self.actor.display_name),
                "files": [{"agency": code, "file_name": e.file_name, "received_on": e.files_received_on,
                           "fields": [f.strip() for f in e.fields_included.split(",") if f.strip()], "rows": None,
                           "sender": e.sender, "stewards_confirmed_at": e.stewards_confirmed_at}
                          for e, code in entries],
                "matched_on": max(e.matched_on for e, _ in entries),
                "counts": dict(counts),
                "delivered_on": delivered_on or (max(e.id_matrix_sent_on for e in sent) if sent else None),
                "delivered_to": delivered_to if delivered_to is not None
                else next((e.id_matrix_sent_to for e in sent if e.id_matrix_sent_to), ""),
                "run": run,
            }

    def destruction_certificate(self, request_number: str, *, certified_by: str | None = None,
                                statement: str | None = None, attachment: str | None = None) -> dict[str, Any]:
        """The hub's certificate that a request's input files were destroyed (hub -> OPM), from the match log.
        ``certified_by`` and ``statement`` default to the hub's own recorded certificate (the hub workspace files
        one when it destroys the inputs, naming each file's SHA-256). ``attachment`` names a file passed to
        ``send`` (e.g. a signed scan, ``certificate.pdf``). Raises ValidationFailed when neither is known."""
        with self._read() as s:
            req = _request_by_number(s, request_number)
            entries = _match_entries(s, req.id)
            kept = [e.file_name for e, _ in entries if e.inputs_destroyed_on is None]
            if not entries or kept:
                raise RuleViolation(f"Record the destruction of every input file of request {request_number} in the "
                                    f"match log first ({len(kept)} not yet destroyed).")
            recorded = s.scalar(select(DestructionCertificate).where(
                DestructionCertificate.request_id == req.id, DestructionCertificate.kind == CertificateKind.HUB_INPUTS)
                .order_by(DestructionCertificate.id.desc()).limit(1))
            checks = Checks()
            certified_by = checks.text("certified_by", certified_by or (recorded.certified_by if recorded else ""))
            statement = checks.text("statement", statement or (recorded.notes if recorded else ""), max_len=4000)
            checks.done()
            return {
                "request_number": req.number,
                "destroyed_on": max(e.inputs_destroyed_on for e, _ in entries),
                "certified_by": certified_by,
                "files": [{"agency": code, "file_name": e.file_name} for e, code in entries],
                "statement": statement,
                "attachment": attachment,
            }

    @staticmethod
    def method_approval(document: dict[str, Any], *, approved_on: date, approved_by: str = "Data Governing Board",
                        motion: str = "") -> dict[str, Any]:
        """The Board's approval of a method version (OPM -> hub), carrying the method document itself so the
        hub can register exactly what was approved. Raises ValidationFailed for a document that is not a method."""
        from app.matching.method import MethodError, parse_method  # app.matching loads pandas: only when needed

        try:
            method = parse_method(document)
        except MethodError as exc:
            raise ValidationFailed({"method": str(exc)}) from None
        return {"method": {"id": method.id, "version": method.version, "sha256": method.sha256},
                "approved_on": approved_on, "approved_by": approved_by, "motion": motion, "document": document}

    # ---- sending ---------------------------------------------------------------------------------------

    def send(self, kind: str, payload: dict[str, Any], folder: Path, *, peer_id: int | None = None,
             attachments: dict[str, bytes] | None = None) -> ExportResult:
        """Seal ``payload`` (from one of the builders above) to the peer and write ``<folder>/<name>.p20pkg``.

        The peer defaults to the one trusted installation on the other side. Refuses (PackageRefused) anything
        shaped like person-level data and contents that do not fit the type's schema.
        The file is written before the log entry commits and removed again if the commit fails.
        """
        if kind not in KIND_TITLES:
            raise ValidationFailed({"kind": f"must be one of {', '.join(KIND_TITLES)}"})
        wire = to_json(payload)
        try:
            refuse_personal_data(wire, KIND_TITLES[kind])
            checked = validate(kind, wire)
        except ExchangeError as exc:
            raise _refused(exc) from None
        folder = Path(folder)
        if not folder.is_dir():
            raise ValidationFailed({"folder": f"{folder} is not a folder (is the drive plugged in?)"})
        written: Path | None = None
        try:
            with self._write(f"send a {KIND_TITLES[kind]}", [EXCHANGE], roles=HUB_WORK) as uow:
                me_row = self._identity_row(uow.session)
                if SENT_BY[kind] != me_row.site.value:
                    raise RuleViolation(f"A {KIND_TITLES[kind]} is sent by the {SENT_BY[kind].upper()} side; this "
                                        f"installation is the {me_row.site.value.upper()} side.")
                peer = self._choose_peer(uow.session, me_row, peer_id)
                sequence = 1 + (uow.session.scalar(
                    select(func.max(PackageLogEntry.sequence)).where(
                        PackageLogEntry.peer_id == peer.id, PackageLogEntry.direction == PackageDirection.SENT)) or 0)
                try:
                    manifest, data = seal(kind, wire, sender=_identity_of(me_row), recipient=_public_of(peer),
                                          sequence=sequence, attachments=attachments)
                except ValueError as exc:  # over a size limit, or a bad attachment name
                    raise PackageRefused(f"The {KIND_TITLES[kind]} was not sealed: {exc}.") from None
                number = _request_number_of(kind, checked)
                entry = self._log(uow, manifest, PackageDirection.SENT, peer, number, _summary(kind, checked),
                                  hashlib.sha256(data).hexdigest(), wire, sealed=data)
                path = folder / _package_file_name(kind, number, sequence)
                if path.exists():
                    raise RuleViolation(f"{path.name} already exists in {folder}; choose another folder.")
                write_atomically(path, data)
                written = path
                result = ExportResult(path, _package_info(entry, peer.name))
        except BaseException as exc:
            if written is not None:  # the log entry did not commit: a file nobody expects must not remain
                written.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise ServiceError(f"Could not write the package to {folder}: {exc.strerror or exc}.") from None
            raise
        return result

    # ---- importing -------------------------------------------------------------------------------------

    def preview(self, data: bytes) -> ImportResult:
        """What importing ``data`` would change, without changing anything (the import runs and is rolled
        back). Raises PackageRefused with the reason when the package would be refused."""
        outcome: list[ImportResult] = []
        try:
            with self._desk.batch():
                outcome.append(self._import(data, dry_run=True))
                raise _Rollback
        except _Rollback:
            pass
        return outcome[0]

    def import_package(self, data: bytes) -> ImportResult:
        """Verify and apply a package in one transaction. A second import of the same package changes nothing
        and says so (``already_imported``). Raises PackageRefused (nothing changed) when any check fails,
        and the services' own errors when the contents break a rule of this store."""
        with self._desk.batch():
            return self._import(data, dry_run=False)

    def _import(self, data: bytes, *, dry_run: bool) -> ImportResult:
        """Every check, then the changes, in one batch (``Desk.batch``): the services called to apply the
        contents join its transaction. ``dry_run`` (preview) also keeps the change away from anything outside
        the store (the method registry file)."""
        with self._write("import packages", [EXCHANGE, Kind.REQUESTS, Kind.AGREEMENTS, Kind.MATCHLOG,
                                             Kind.RECIPIENTS, Kind.DOCUMENTS], roles=HUB_WORK) as uow:
            return self._verify_and_apply(uow, data, dry_run)

    def _verify_and_apply(self, uow: UnitOfWork, data: bytes, dry_run: bool) -> ImportResult:
        s = uow.session
        try:
            env = read_envelope(data)
            me_row = self._identity_row(s)
            me = _identity_of(me_row)
            check_addressed_to(env, me)
            m = env.manifest
            peer = s.scalar(select(TrustedPeer).where(TrustedPeer.fingerprint == m.sender_fingerprint))
            if peer is None:
                raise UnknownSender(
                    f"Package {m.sequence} claims to come from {m.sender_name} (fingerprint {m.sender_fingerprint}), "
                    "which this installation does not trust. Import that installation's identity file and confirm "
                    "its fingerprint first.")
            if peer.revoked_at is not None:
                raise UnknownSender(f"Trust in {peer.name} was withdrawn on {peer.revoked_at:%Y-%m-%d}; its packages "
                                    "are refused.")
            contents = open_envelope(env, sender=_public_of(peer), me=me)
            if SENT_BY[m.kind] != peer.site.value:
                raise UnknownSender(f"{peer.name} is an {peer.site.value.upper()} installation and may not send a "
                                    f"{KIND_TITLES[m.kind]}.")
            before = s.scalar(select(PackageLogEntry).where(PackageLogEntry.package_id == m.package_id,
                                                            PackageLogEntry.direction == PackageDirection.RECEIVED))
            if before is not None:
                return ImportResult(
                    m.kind, KIND_TITLES[m.kind], peer.name, m.sequence, before.request_number, True, (),
                    f"Package {m.sequence} from {peer.name} was already imported on "
                    f"{before.recorded_at:%Y-%m-%d %H:%M} UTC; nothing was changed.")
            self._check_sequence(s, peer, m)
            wire = read_payload(contents, m)
            refuse_personal_data(wire, KIND_TITLES[m.kind])
            checked = validate(m.kind, wire)
        except ExchangeError as exc:
            raise _refused(exc) from None
        apply = _APPLY.get((m.kind, me_row.site))
        if apply is None:
            raise PackageRefused(f"A {KIND_TITLES[m.kind]} cannot be imported on the {me_row.site.value.upper()} side.")
        changes = apply(self, uow, checked, contents, dry_run)
        number = _request_number_of(m.kind, checked)
        self._log(uow, m, PackageDirection.RECEIVED, peer, number, _summary(m.kind, checked), env.sha256, wire)
        return ImportResult(m.kind, KIND_TITLES[m.kind], peer.name, m.sequence, number, False, tuple(changes),
                            f"Imported {KIND_TITLES[m.kind]} {m.sequence} from {peer.name}.")

    @staticmethod
    def _check_sequence(s: Session, peer: TrustedPeer, m: Manifest) -> None:
        same = s.scalar(select(PackageLogEntry).where(
            PackageLogEntry.peer_id == peer.id, PackageLogEntry.direction == PackageDirection.RECEIVED,
            PackageLogEntry.sequence == m.sequence))
        if same is not None:
            raise AlreadyImported(
                f"Package {m.sequence} from {peer.name} was already imported on {same.recorded_at:%Y-%m-%d %H:%M} UTC "
                "(a different file with the same number: a replay or a re-sealed copy). It was refused.")
        last = s.scalar(select(func.max(PackageLogEntry.sequence)).where(
            PackageLogEntry.peer_id == peer.id, PackageLogEntry.direction == PackageDirection.RECEIVED)) or 0
        if m.sequence != last + 1:
            raise OutOfOrder(f"Expected package {last + 1} from {peer.name}, got {m.sequence}. Import package "
                             f"{last + 1} first (ask {peer.name} to save it again if it was lost).")

    # ---- applying, per type and side ---------------------------------------------------------------------

    def _apply_work_order(self, uow: UnitOfWork, wo: dict[str, Any], contents: dict[str, bytes],
                          dry_run: bool) -> list[str]:
        """Hub side: create or update the request as a work order, with its agencies, recipient and DSA."""
        s, changes = uow.session, []
        r = wo["request"]
        try:
            state = RequestState(r["state"])
            submission = SubmissionType(r["submission_type"])
            recipient_type = RecipientType(wo["recipient"]["recipient_type"]) if wo["recipient"] else None
            party_kinds = [PartyKind(p["kind"]) for p in (wo["dsa"] or {"parties": []})["parties"]]
        except ValueError as exc:
            raise PackageRefused(f"The work order holds a value this desk does not know ({exc}).") from None
        agencies = {}
        for a in wo["agencies"]:
            agency = s.scalar(select(Agency).where(Agency.code == a["code"]))
            if agency is None:
                raise PackageRefused(f"The work order names agency {a['code']}, which is not in this hub's agency "
                                     "list. Add it first, then import the package again.")
            agencies[a["code"]] = agency

        recipient_id = None
        if wo["recipient"]:
            rec = s.scalar(select(DataRecipient).where(
                func.lower(DataRecipient.name) == wo["recipient"]["name"].lower()))
            values = {"recipient_type": recipient_type,
                      "authorized_representative": wo["recipient"]["authorized_representative"],
                      "representative_email": wo["recipient"]["representative_email"]}
            if rec is None:
                rec = DataRecipient(name=wo["recipient"]["name"], **values)
                uow.created(rec)
                changes.append(f"add data recipient {rec.name}")
            elif _assign(uow, rec, values):
                changes.append(f"update data recipient {rec.name}")
            recipient_id = rec.id

        req = s.scalar(select(DataRequest).where(DataRequest.number == r["number"]))
        values = {"title": r["title"], "submission_type": submission, "state": state, "received_on": r["received_on"],
                  "purpose": r["purpose"], "legal_basis": r["legal_basis"], "fields_to_link": r["fields_to_link"],
                  "recipient_id": recipient_id}
        if req is not None and _behind(state, req.state):
            del values["state"]  # a later work order (e.g. an amendment) never undoes the hub's own stages
        if req is None:
            req = DataRequest(number=r["number"], **values)
            uow.created(req, action="work_order")
            changes.append(f"create work order {r['number']} “{r['title']}” ({lifecycle.LABELS[state]})")
        elif _assign(uow, req, values, action="work_order"):
            changes.append(f"update work order {r['number']}")
        have = {ra.agency_id for ra in req.agencies}
        want = {agency.id for agency in agencies.values()}
        if have != want:
            req.agencies = [ra for ra in req.agencies if ra.agency_id in want] + [
                RequestedAgency(request_id=req.id, agency_id=a) for a in sorted(want - have)]
            s.flush()
            uow.audit("set_agencies", "data_requests", req.id, {"agency_ids": sorted(have)},
                      {"agency_ids": sorted(want)})
            changes.append(f"agencies of {r['number']}: {', '.join(sorted(agencies))}")

        if wo["dsa"]:
            d = wo["dsa"]
            dsa = s.scalar(select(DataSharingAgreement).where(DataSharingAgreement.request_id == req.id))
            values = {"number": d["number"], "effective_on": d["effective_on"], "executed_on": d["executed_on"],
                      "destroy_by": d["destroy_by"]}
            if dsa is None:
                dsa = DataSharingAgreement(request_id=req.id, **values)
                uow.created(dsa)
                changes.append(f"record {d['number']}: effective {d['effective_on']}, destroy by {d['destroy_by']}")
            elif _assign(uow, dsa, values):
                changes.append(f"update {d['number']}: effective {d['effective_on']}, destroy by {d['destroy_by']}")
            wanted_parties = []
            for p, kind in zip(d["parties"], party_kinds, strict=True):
                agency = None
                if kind is not PartyKind.RECIPIENT:
                    agency = s.scalar(select(Agency).where(Agency.code == p["name"]))
                    if agency is None and kind is PartyKind.AGENCY:
                        raise PackageRefused(f"The DSA names party {p['name']}, which is not in this hub's agency list.")
                wanted_parties.append((kind, agency.id if agency else None,
                                       recipient_id if kind is PartyKind.RECIPIENT else None,
                                       p["signatory"], p["signed_on"]))
            current = [(p.kind, p.agency_id, p.recipient_id, p.signatory, p.signed_on) for p in dsa.parties]
            if sorted(current, key=repr) != sorted(wanted_parties, key=repr):
                dsa.parties = [DsaParty(dsa_id=dsa.id, kind=k, agency_id=a, recipient_id=rc, signatory=sig,
                                        signed_on=on) for k, a, rc, sig, on in wanted_parties]
                s.flush()
                uow.audit("set_parties", "dsas", dsa.id, {"parties": [repr(p) for p in current]},
                          {"parties": [repr(p) for p in wanted_parties]})
                changes.append(f"DSA parties: {len(wanted_parties)}")
            known = {a.number for a in dsa.amendments}
            for a in d["amendments"]:
                if a["number"] not in known:
                    uow.created(DsaAmendment(dsa_id=dsa.id, **a))
                    changes.append(f"DSA amendment {a['number']} of {a['effective_on']}: {a['description']}")
        if wo["method"]:
            m = wo["method"]
            changes.append(f"match with method {m['id']} v{m['version']} (sha256 {m['sha256'][:12]}…)")
        changes.append(f"destroy input files within {wo['input_destruction']} of the stewards' confirmation")
        return changes

    def _apply_completion(self, uow: UnitOfWork, c: dict[str, Any], contents: dict[str, bytes],
                          dry_run: bool) -> list[str]:
        """OPM side, through the match log and request services: log the hub's files and their match,
        confirmation and ID-matrix delivery, then move the request forward."""
        s, changes, matchlog = uow.session, [], self._desk.matchlog
        req = _request_for_package(s, c["request_number"])
        for f in c["files"]:
            agency = _agency_by_code(s, f["agency"])
            entry = _match_entry(s, req.id, agency.id, f["file_name"])
            if entry is None:
                entry = s.get(MatchLogEntry, matchlog.log_files(
                    req.id, sender_agency_id=agency.id, files_received_on=f["received_on"], file_name=f["file_name"],
                    fields_included=f["fields"], sender=f["sender"], received_by=c["received_by"]))
                changes.append(f"match log: {agency.code} file {f['file_name']} received {f['received_on']}")
            if entry.matched_on != c["matched_on"]:
                matchlog.record_match(entry.id, c["matched_on"])
                changes.append(f"match log: {agency.code} file {f['file_name']} matched {c['matched_on']}")
            confirmed = f["stewards_confirmed_at"]
            if confirmed is not None and entry.stewards_confirmed_at != confirmed:
                matchlog.confirm_match(entry.id, confirmed)
                changes.append(f"match log: stewards confirmed the match of {f['file_name']} {confirmed:%Y-%m-%d %H:%M} "
                               "UTC")
            to = c["delivered_to"] or "the data recipient"
            if c["delivered_on"] and (entry.id_matrix_sent_on, entry.id_matrix_sent_to) != (c["delivered_on"], to):
                matchlog.record_id_matrix_sent(entry.id, c["delivered_on"], to)
                changes.append(f"match log: ID matrix for {f['file_name']} delivered {c['delivered_on']} to {to}")
        counts = ", ".join(f"{k} {v:,}" for k, v in c["counts"].items())
        if counts:
            changes.append(f"counts: {counts}")
        changes += self._advance(req, (S.EXTRACTS_PREPARED, S.MATCHED), c["matched_on"],
                                 "completion report from the hub")
        return changes

    def _apply_destruction(self, uow: UnitOfWork, d: dict[str, Any], contents: dict[str, bytes],
                           dry_run: bool) -> list[str]:
        """OPM side, through the match log, document and request services: mark the input files destroyed,
        file the certificate (and its scan), move the request forward."""
        s, changes, matchlog = uow.session, [], self._desk.matchlog
        req = _request_for_package(s, d["request_number"])
        for f in d["files"]:
            agency = _agency_by_code(s, f["agency"])
            entry = _match_entry(s, req.id, agency.id, f["file_name"])
            if entry is None:
                raise PackageRefused(f"The certificate names {agency.code} file {f['file_name']}, which is not in the "
                                     f"match log of request {req.number}. Import the hub's completion report first.")
            if entry.inputs_destroyed_on != d["destroyed_on"]:
                matchlog.record_inputs_destroyed(entry.id, d["destroyed_on"])
                changes.append(f"match log: {agency.code} file {f['file_name']} destroyed {d['destroyed_on']}")
        document_id = None
        if d["attachment"]:
            blob = contents.get(d["attachment"])
            if blob is None:
                raise PackageRefused(f"The certificate refers to the file {d['attachment']}, which the package lacks.")
            document_id = self._desk.documents.attach(req.id, d["attachment"], blob,
                                                      media_type=_media_type(d["attachment"]))
            changes.append(f"attach {d['attachment']} ({len(blob):,} bytes)")
        matchlog.certify_destruction(req.id, CertificateKind.HUB_INPUTS, destroyed_on=d["destroyed_on"],
                                     certified_by=d["certified_by"], received_on=max(date.today(), d["destroyed_on"]),
                                     document_id=document_id, notes=d["statement"])
        changes.append(f"file the hub's destruction certificate (destroyed {d['destroyed_on']}, certified by "
                       f"{d['certified_by']})")
        changes += self._advance(req, (S.INPUTS_DESTROYED,), d["destroyed_on"], "hub's destruction certificate")
        return changes

    def _apply_method_approval(self, uow: UnitOfWork, a: dict[str, Any], contents: dict[str, bytes],
                               dry_run: bool) -> list[str]:
        """Hub side: record the Board's approval of a method version in the matching engine's approved-methods
        registry (a file beside the store, see ``app.matching.registry``).

        The registry file is written last, just before the store commits. Should the commit then fail, the
        approval is already registered and importing the package again finds it there and completes the log.
        """
        from app.matching.method import MethodError, parse_method  # app.matching loads pandas: only when needed
        from app.matching.registry import Registry, RegistryError

        try:
            method = parse_method(a["document"])
        except MethodError as exc:
            raise PackageRefused(f"The approved method is not a valid method document: {exc}") from None
        ref = a["method"]
        if (method.id, method.version, method.sha256) != (ref["id"], ref["version"], ref["sha256"]):
            raise PackageRefused("The method document does not match the approved id, version and hash.")
        registry = Registry.default()
        try:
            known = registry.find(method)
            if known is None and not dry_run:
                note = f"DGB decision of {a['approved_on']}" + (f", {a['motion']}" if a["motion"] else "")
                registry.approve(method, a["approved_by"], f"{note}; received by package from OPM")
        except RegistryError as exc:
            raise PackageRefused(exc.message) from None
        uow.audit("method_approval", "methods", None, None, {
            "id": method.id, "version": method.version, "sha256": method.sha256,
            "approved_on": a["approved_on"].isoformat(), "approved_by": a["approved_by"], "motion": a["motion"]})
        if known is not None:
            return [f"method {method.label} is already in the approved-methods registry"]
        return [f"register method {method.label} (sha256 {method.sha256[:12]}…) as approved by "
                f"{a['approved_by']} on {a['approved_on']}"]

    def _advance(self, req: DataRequest, targets: tuple[RequestState, ...], on: date, why: str) -> list[str]:
        """Move the request through ``targets`` in order, through ``desk.requests.move`` (in the open batch), as
        far as the life-cycle rules allow; say where it stopped and why rather than refusing the package."""
        moved = []
        for target in targets:
            if req.state is target or _behind(target, req.state):
                continue
            blocked = lifecycle.blocked_reasons(self._desk.requests.facts(req.id), target)
            if blocked:
                moved.append(f"request {req.number} stays {lifecycle.LABELS[req.state]}: " + "; ".join(blocked))
                break
            self._desk.requests.move(req.id, target, on=on, note=why)
            moved.append(f"request {req.number} moves to {lifecycle.LABELS[target]}")
        return moved

    # ---- helpers ---------------------------------------------------------------------------------------

    def _log(self, uow: UnitOfWork, m: Manifest, direction: PackageDirection, peer: TrustedPeer,
             request_number: str | None, summary: str, file_sha256: str, wire: Any,
             sealed: bytes | None = None) -> PackageLogEntry:
        entry = PackageLogEntry(
            peer_id=peer.id, direction=direction, sequence=m.sequence, package_id=m.package_id, kind=m.kind,
            request_number=request_number, summary=summary, created=m.created, recorded_at=utcnow(),
            recorded_by=self.actor.username, file_sha256=file_sha256, payload=canonical_json(wire).decode("utf-8"),
            sealed=sealed)
        uow.created(entry, action=f"package_{direction.value}")
        if request_number:
            req_id = uow.session.scalar(select(DataRequest.id).where(DataRequest.number == request_number))
            if req_id is not None:  # so the request's own history shows the package
                uow.audit(f"package_{direction.value}", "data_requests", req_id, None,
                          {"package": m.package_id, "kind": m.kind, "sequence": m.sequence, "peer": peer.name})
        return entry

    @staticmethod
    def _identity_row(s: Session) -> InstallationIdentity:
        row = s.get(InstallationIdentity, 1)
        if row is None:
            raise RuleViolation("This installation has no exchange identity yet. An administrator creates it "
                                "(Exchange ▸ Identity…, or `p20win package identity --create`).")
        return row

    @staticmethod
    def _choose_peer(s: Session, me: InstallationIdentity, peer_id: int | None) -> TrustedPeer:
        if peer_id is not None:
            peer = s.get(TrustedPeer, peer_id)
            if peer is None or peer.revoked_at is not None:
                raise NotFound("That installation is not trusted (any more).")
            return peer
        other = Site.HUB if me.site is Site.OPM else Site.OPM
        peers = list(s.scalars(select(TrustedPeer).where(TrustedPeer.site == other, TrustedPeer.revoked_at.is_(None))))
        if not peers:
            raise RuleViolation(f"No {other.value.upper()} installation is trusted yet: exchange identity files and "
                                "confirm fingerprints first.")
        if len(peers) > 1:
            raise ValidationFailed({"peer": f"several {other.value.upper()} installations are trusted; choose one"})
        return peers[0]

    @staticmethod
    def _latest_method_sent(s: Session) -> dict[str, Any] | None:
        payload = s.scalar(select(PackageLogEntry.payload).where(
            PackageLogEntry.kind == "method_approval", PackageLogEntry.direction == PackageDirection.SENT)
            .order_by(PackageLogEntry.id.desc()).limit(1))
        return json.loads(payload)["method"] if payload else None

    @staticmethod
    def _peer_info(s: Session, peer: TrustedPeer) -> PeerInfo:
        def last(direction: PackageDirection) -> int:
            return s.scalar(select(func.max(PackageLogEntry.sequence)).where(
                PackageLogEntry.peer_id == peer.id, PackageLogEntry.direction == direction)) or 0

        return PeerInfo(peer.id, peer.name, peer.site, peer.fingerprint, peer.trusted_at, peer.trusted_by,
                        peer.revoked_at, last(PackageDirection.SENT), last(PackageDirection.RECEIVED))


_APPLY: dict[tuple[str, Site], Callable[..., list[str]]] = {
    ("work_order", Site.HUB): ExchangeService._apply_work_order,
    ("method_approval", Site.HUB): ExchangeService._apply_method_approval,
    ("completion", Site.OPM): ExchangeService._apply_completion,
    ("destruction_certificate", Site.OPM): ExchangeService._apply_destruction,
}


def _behind(state: RequestState, current: RequestState) -> bool:
    """Whether ``state`` comes before ``current`` on the life cycle's main line."""
    main = lifecycle.MAIN_LINE
    return state in main and current in main and main.index(state) < main.index(current)


def _assign(uow: UnitOfWork, obj: Any, values: dict[str, Any], action: str = "update") -> bool:
    """Set attributes that differ and audit them; False when nothing changed."""
    changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
    if not changed:
        return False
    before = record_of(obj)
    for k, v in changed.items():
        setattr(obj, k, v)
    uow.updated(obj, before, action=action)
    return True


def _identity_of(row: InstallationIdentity) -> Identity:
    return Identity(row.name, row.site.value, row.signing_private, row.agreement_private)


def _public_of(peer: TrustedPeer) -> PublicIdentity:
    return PublicIdentity(peer.name, peer.site.value, peer.signing_public, peer.agreement_public)


def _request_by_number(s: Session, number: str) -> DataRequest:
    req = s.scalar(select(DataRequest).where(DataRequest.number == number.strip().upper()))
    if req is None:
        raise NotFound(f"There is no request {number}.")
    return req


def _request_for_package(s: Session, number: str) -> DataRequest:
    req = s.scalar(select(DataRequest).where(DataRequest.number == number))
    if req is None:
        raise PackageRefused(f"The package is about request {number}, which this installation does not have.")
    return req


def _agency_by_code(s: Session, code: str) -> Agency:
    agency = s.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise PackageRefused(f"The package names agency {code}, which is not in this installation's agency list.")
    return agency


def _counts_of(run: dict[str, Any]) -> dict[str, int]:
    """Input rows, matched and for-review counts from a run record (run.json); figures it lacks are left out."""
    counts = {f"{i['role']}_rows": i["rows"] for i in run.get("inputs", [])
              if isinstance(i, dict) and isinstance(i.get("role"), str) and isinstance(i.get("rows"), int)}
    passes = [p for p in run.get("passes", []) if isinstance(p, dict)]
    for key, name in (("matches", "matched"), ("review", "for_review")):
        values = [p[key] for p in passes if isinstance(p.get(key), int)]
        if values:
            counts[name] = sum(values)
    return counts


def _match_entry(s: Session, request_id: int, agency_id: int, file_name: str) -> MatchLogEntry | None:
    return s.scalar(select(MatchLogEntry).where(MatchLogEntry.request_id == request_id,
                                                MatchLogEntry.sender_agency_id == agency_id,
                                                MatchLogEntry.file_name == file_name))


def _match_entries(s: Session, request_id: int) -> list[tuple[MatchLogEntry, str]]:
    return list(s.execute(select(MatchLogEntry, Agency.code).join(Agency, Agency.id == MatchLogEntry.sender_agency_id)
                          .where(MatchLogEntry.request_id == request_id).order_by(MatchLogEntry.id)).all())


def _field_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _request_number_of(kind: str, checked: dict[str, Any]) -> str | None:
    if kind == "work_order":
        return checked["request"]["number"]
    return checked.get("request_number")


def _summary(kind: str, checked: dict[str, Any]) -> str:
    if kind == "work_order":
        r = checked["request"]
        return f"{r['number']} {r['title']}"
    if kind == "completion":
        return f"{checked['request_number']}: {len(checked['files'])} file(s) matched {checked['matched_on']}"
    if kind == "destruction_certificate":
        return f"{checked['request_number']}: inputs destroyed {checked['destroyed_on']}"
    m = checked["method"]
    return f"method {m['id']} v{m['version']} approved {checked['approved_on']}"


def _package_file_name(kind: str, request_number: str | None, sequence: int) -> str:
    about = f"-{request_number}" if request_number else ""
    return f"{kind.replace('_', '-')}{about}-{sequence:04d}{PACKAGE_SUFFIX}"


def _safe_file_part(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)


def _media_type(name: str) -> str:
    return {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
            "txt": "text/plain"}.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def _package_info(e: PackageLogEntry, peer_name: str) -> PackageInfo:
    return PackageInfo(e.id, e.direction, peer_name, e.sequence, e.package_id, e.kind, KIND_TITLES[e.kind],
                       e.request_number, e.summary, e.created, e.recorded_at, e.recorded_by)

