"""Two real encrypted stores — an OPM desktop and the hub — that trust each other, and an OPM request taken
through the real services all the way to an executed DSA."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.models import Agency, Base, Board, Decision, ExhibitKind, MotionKind, RecipientType, RequestState, VoteChoice
from app.services import Desk
from app.services.exchange import ExchangeService
from app.services.setup import initialise_store
from app.store import KdfParams, Store

FAST_KDF = KdfParams(n=2**10, r=8, p=1)
PASSPHRASE = "correct horse battery"


@dataclass
class Site:
    store: Store
    desk: Desk
    exchange: ExchangeService
    path: Path


def make_site(folder: Path, name: str, site: str) -> Site:
    path = folder / f"{name}.p20store"
    store, _ = initialise_store(path, "admin", PASSPHRASE, f"{name} administrator", kdf=FAST_KDF)
    desk = Desk(store, "admin")
    exchange = ExchangeService(desk)
    exchange.create_identity(name.upper(), site)
    return Site(store, desk, exchange, path)


def agency_id(desk: Desk, code: str) -> int:
    with desk.store.read_session() as s:
        return s.scalar(select(Agency.id).where(Agency.code == code))


def executed_request(desk: Desk, codes: tuple[str, ...] = ("SDE", "DOL")) -> str:
    """A request taken through the real life cycle to DSA executed; returns its number."""
    day = date(2026, 1, 5)
    ids = [agency_id(desk, c) for c in codes]
    rid_ = desk.recipients.create("UConn Research", RecipientType.UNIVERSITY, authorized_representative="Dr Ada Rep",
                                  representative_email="ada@example.edu")
    analyst = desk.recipients.add_user(rid_, "Analyst One", nda_needed_on=day)
    desk.recipients.record_nda(analyst, day)
    rid = desk.requests.create("Pathways from high school to work", ids, recipient_id=rid_, received_on=day,
                               purpose="Evaluate programme outcomes", legal_basis="FERPA audit/evaluation")
    desk.requests.move(rid, RequestState.LOGGED, on=day)
    desk.requests.update(rid, fields_to_link="LastName, FirstName, DOB")
    desk.requests.move(rid, RequestState.DRAFTING, on=day)
    for a in ids:
        for field in ("LastName", "FirstName", "DOB"):
            desk.requests.add_element(rid, a, field, "needed to link")
    desk.requests.name_users(rid, [analyst])
    desk.requests.move(rid, RequestState.BOARD_REVIEW, on=day)
    for a in ids:
        desk.approvals.record(rid, a, data=Decision.APPROVED, users=Decision.APPROVED, decided_on=day,
                              decided_by="Steward")
    members = [desk.meetings.add_member(Board.DGB, a, f"Member {a}", date(2025, 1, 1)) for a in ids]
    meeting = desk.meetings.schedule(Board.DGB, datetime(2026, 2, 10, 15, tzinfo=UTC),
                                     notice_posted_on=date(2026, 2, 1)).meeting_id
    desk.meetings.record_attendance(meeting, members)
    motion = desk.meetings.add_motion(meeting, MotionKind.REQUEST_APPROVAL, "Approve the request", request_id=rid)
    desk.meetings.record_votes(motion, {m: VoteChoice.YES for m in members})
    desk.requests.move(rid, RequestState.APPROVED, on=date(2026, 2, 10))
    dsa = desk.agreements.draft(rid, effective_on=date(2026, 3, 1), destroy_by=date(2028, 3, 1))
    for party in desk.agreements.get(dsa).parties:
        desk.agreements.sign(party.id, signatory="Signatory", signed_on=date(2026, 2, 20))
    form = desk.documents.attach(rid, "exhibit-a.pdf", b"%PDF-1.4 approved request form",
                                 media_type="application/pdf")
    desk.agreements.add_exhibit(dsa, ExhibitKind.REQUEST_FORM, "Exhibit A", document_id=form)
    desk.requests.move(rid, RequestState.DSA_EXECUTED, on=date(2026, 3, 1))
    return desk.requests.get(rid).number


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table (and SQLite's sequence table), to prove a refused import changed nothing."""
    with store.read_session() as s:
        out = {t.name: sorted(map(tuple, s.execute(t.select()).all()), key=repr) for t in Base.metadata.sorted_tables}
        out["sqlite_sequence"] = sorted(map(tuple, s.execute(text("SELECT name, seq FROM sqlite_sequence")).all()))
        return out


def trust_each_other(a: Site, b: Site) -> None:
    """Swap identity files and confirm fingerprints as two people would (each reads from the other's screen)."""
    a.exchange.trust(b.exchange.public_identity_file(), b.exchange.identity().fingerprint)
    b.exchange.trust(a.exchange.public_identity_file(), a.exchange.identity().fingerprint)


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    folder = tmp_path / "usb"
    folder.mkdir()
    return folder


@pytest.fixture
def registry_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hub's approved-methods registry lives in the data folder; keep it inside the test's folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("P20WIN_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def pair_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Built once: the OPM and hub store files (closed) and the number of OPM's executed request."""
    folder = tmp_path_factory.mktemp("pair-template")
    opm = make_site(folder, "opm-hartford", "opm")
    hub = make_site(folder, "hub-dol", "hub")
    trust_each_other(opm, hub)
    number = executed_request(opm.desk)
    opm.store.close()
    hub.store.close()
    return folder, number


def open_site(path: Path) -> Site:
    store = Store.open(path, "admin", PASSPHRASE, kdf=FAST_KDF)
    desk = Desk(store, "admin")
    return Site(store, desk, ExchangeService(desk), path)


@pytest.fixture
def pair(tmp_path: Path, registry_home: Path, pair_template: tuple[Path, str]):
    """(opm, hub): fresh copies of two stores whose identities trust each other; OPM has a request at DSA
    executed (``opm.number``). Copying the closed files is much cheaper than building them for every test."""
    template, number = pair_template
    for file in template.iterdir():
        if not file.name.endswith(".lock"):
            shutil.copy2(file, tmp_path / file.name)
    opm, hub = open_site(tmp_path / "opm-hartford.p20store"), open_site(tmp_path / "hub-dol.p20store")
    opm.number = number  # type: ignore[attr-defined]
    yield opm, hub
    opm.store.close()
    hub.store.close()


def hub_matches(hub: Site, number: str, *, matched_on: date = date(2026, 4, 3)) -> None:
    """The hub logs a file from each agency, matches, the stewards confirm, the ID matrix goes out."""
    desk = hub.desk
    rid = desk.requests.page(search=number)[0].id
    for code in ("SDE", "DOL"):
        entry = desk.matchlog.log_files(rid, sender_agency_id=agency_id(desk, code), files_received_on=date(2026, 4, 1),
                                        file_name=f"{code.lower()}_cohort.tsv",
                                        fields_included=["LastName", "FirstName", "DOB"], sender=f"{code} steward",
                                        received_by="Hub officer")
        desk.matchlog.record_match(entry, matched_on)
        desk.matchlog.confirm_match(entry, datetime.combine(matched_on + timedelta(days=1), datetime.min.time(), UTC))
        desk.matchlog.record_id_matrix_sent(entry, matched_on + timedelta(days=2), "Dr Ada Rep")
