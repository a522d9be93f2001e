"""Every report rendered from a real encrypted demo store; the figures are recomputed here from the rows."""
from __future__ import annotations

import shutil
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from app import cli
from app.models import (
    Agency,
    AuditEvent,
    DataRequest,
    DataSharingAgreement,
    FundDistribution,
    Invoice,
    InvoiceStatus,
    Meeting,
    RecipientType,
    RequestState,
    RequestStateChange,
)
from app.reports import render
from app.reports.formatting import fiscal_year_bounds, fiscal_year_of, money, number
from app.services import Desk
from app.services.errors import PermissionDenied
from app.services.reporting import ReportingService
from app.store import Store
from tests.conftest import TEST_ADMIN, TEST_PASSPHRASE

from . import pdfcheck


@pytest.fixture
def reports(demo_store) -> ReportingService:
    return ReportingService(Desk(demo_store, TEST_ADMIN))


@pytest.fixture
def rows(demo_store):
    with demo_store.read_session() as s:
        requests = [(r.id, r.number, r.received_on, r.state) for r in s.scalars(select(DataRequest))]
        changes = [(c.request_id, c.to_state, c.on) for c in s.scalars(select(RequestStateChange))]
        invoices = [(i.number, i.status, i.issued_on, i.total_cents, sum(li.amount_cents for li in i.lines))
                    for i in s.scalars(select(Invoice))]
        dists = [(d.agency_id, d.distributed_on, d.amount_cents) for d in s.scalars(select(FundDistribution))]
        dsas = [(d.number, d.request_id) for d in s.scalars(select(DataSharingAgreement))]
        codes = dict(s.execute(select(Agency.id, Agency.code)).all())
        meetings = [m.id for m in s.scalars(select(Meeting)) if m.motions]
    return dict(requests=requests, changes=changes, invoices=invoices, dists=dists, dsas=dsas, codes=codes,
                meetings=meetings)


def busiest_year(rows) -> int:
    years = Counter(fiscal_year_of(on) for _, number, on, _ in rows["requests"] if number)
    return years.most_common(1)[0][0]


def test_annual_report_figures_match_the_store(reports, rows, tmp_path):
    fy = busiest_year(rows)
    start, end = fiscal_year_bounds(fy)
    inside = lambda d: d is not None and start <= d <= end  # noqa: E731
    received = sum(1 for _, number, on, _ in rows["requests"] if number and inside(on))

    def moved(state: RequestState) -> int:
        first: dict[int, date] = {}
        for rid, to, on in sorted(rows["changes"], key=lambda c: c[2]):
            if to is state:
                first.setdefault(rid, on)
        return sum(1 for on in first.values() if inside(on))

    expected = [number(v) for v in (received, moved(RequestState.APPROVED), moved(RequestState.DENIED),
                                    moved(RequestState.RELEASED))]
    invoiced = sum(t for _, st, on, t, _ in rows["invoices"]
                   if st in (InvoiceStatus.ISSUED, InvoiceStatus.PAID) and inside(on))
    distributed = sum(c for _, on, c in rows["dists"] if inside(on))

    pdf = tmp_path / "annual.pdf"
    pages = render(reports.annual(fy), pdf)
    lines = pdfcheck.text(pdf, layout=True).splitlines()
    assert any(ln.strip().startswith("All requests") and ln.split()[-4:] == expected for ln in lines), expected
    assert any("Invoiced to data recipients" in ln and ln.split()[-1] == money(invoiced) for ln in lines)
    if distributed:
        assert any(ln.strip().startswith("Total") and ln.split()[-1] == money(distributed) for ln in lines)
    assert pages == pdfcheck.pages(pdf) >= 5
    assert {t for _, t in pdfcheck.footer_totals(pdf)} == {pages}


def test_a_year_before_the_desk_existed_has_no_activity(reports, tmp_path):
    pdf = tmp_path / "empty.pdf"
    assert render(reports.annual(2001), pdf) == 2
    assert "No activity in this period" in pdfcheck.text(pdf)


def test_registers_list_every_agreement_and_open_request(reports, rows, tmp_path):
    pdf = tmp_path / "register.pdf"
    render(reports.dsa_register(), pdf)
    flat = pdfcheck.squashed(pdf)
    assert f"{len(rows['dsas'])}agreementsasof" in flat
    assert all(number in flat for number, _ in rows["dsas"])

    open_count = sum(1 for *_, st in rows["requests"]
                     if st not in (RequestState.CLOSED, RequestState.DENIED, RequestState.WITHDRAWN))
    pdf = tmp_path / "status.pdf"
    render(reports.request_status(), pdf)
    assert f"{open_count} open requests" in pdfcheck.text(pdf)


def test_one_request_status_certificate_and_invoice(reports, rows, tmp_path):
    number_, rid = rows["dsas"][0][0], rows["dsas"][0][1]
    req_number = next(n for i, n, *_ in rows["requests"] if i == rid)
    pdf = tmp_path / "one.pdf"
    render(reports.request_status(reports.request_id(req_number.lower())), pdf)
    assert f"Request status: {req_number}" in pdfcheck.text(pdf)

    pdf = tmp_path / "cert.pdf"
    render(reports.destruction_certificate(rid), pdf)
    assert number_ in pdfcheck.squashed(pdf)

    inv_number, *_, total, line_sum = rows["invoices"][0]
    pdf = tmp_path / "invoice.pdf"
    render(reports.invoice(reports.invoice_id(inv_number)), pdf)
    layout = pdfcheck.text(pdf, layout=True)
    assert money(line_sum) in layout and inv_number in layout


def test_distribution_letter_totals_the_agencys_payments(reports, rows, tmp_path):
    agency_id, on, _ = rows["dists"][0]
    start, end = fiscal_year_bounds(fiscal_year_of(on))
    total = sum(c for a, d, c in rows["dists"] if a == agency_id and start <= d <= end)
    pdf = tmp_path / "letter.pdf"
    render(reports.distribution_letter(reports.agency_id(rows["codes"][agency_id]), start, end), pdf)
    assert any(ln.strip().startswith("Total") and ln.split()[-1] == money(total)
               for ln in pdfcheck.text(pdf, layout=True).splitlines())


def test_minutes_show_each_motions_outcome(reports, demo_store, rows, tmp_path):
    meeting_id = rows["meetings"][0]
    detail = Desk(demo_store, TEST_ADMIN).meetings.get(meeting_id)
    pdf = tmp_path / "minutes.pdf"
    render(reports.meeting(meeting_id), pdf)
    text = pdfcheck.text(pdf)
    assert text.count("NOT PASSED") == sum(not m.outcome.passed for m in detail.motions)
    assert text.count("PASSED") == len(detail.motions)
    assert f"{len(detail.present)} of {len(detail.members)} seated members present" in text


def test_audit_report_verifies_the_chain_and_counts_events(reports, demo_store, tmp_path):
    today = date.today()
    with demo_store.read_session() as s:
        count = len(s.scalars(select(AuditEvent.id)).all())
    pdf = tmp_path / "audit.pdf"
    data = reports.audit(date(2000, 1, 1), today)
    assert len(data.events) == count
    render(data, pdf)
    text = pdfcheck.text(pdf)
    assert "Intact" in text and f"Events in period: {number(count)}" in text


def test_hub_staff_may_not_print_finance_reports(demo_store):
    with pytest.raises(PermissionDenied):
        ReportingService(Desk(demo_store, "hub")).annual(2025)


def test_cli_writes_the_pdf_and_refuses_bad_input(demo_store_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("P20WIN_PASSPHRASE", TEST_PASSPHRASE)
    for part in demo_store_file.parent.glob(demo_store_file.name + "*"):  # a private copy of the closed store
        shutil.copy2(part, tmp_path / part.name)
    store_path = str(tmp_path / demo_store_file.name)
    out = tmp_path / "register.pdf"
    code = cli.main(["report", "dsa-register", "--store", store_path, "--user", TEST_ADMIN, "--out", str(out)])
    assert code == 0, capsys.readouterr()
    assert pdfcheck.pages(out) >= 1
    assert cli.main(["report", "dsa-register", "--store", store_path, "--user", TEST_ADMIN,
                     "--out", str(tmp_path / "missing" / "x.pdf")]) == 2
    assert cli.main(["report", "invoice", "--invoice", "NOPE-1", "--store", store_path, "--user", TEST_ADMIN,
                     "--out", str(tmp_path / "x.pdf")]) == 1
    assert "no invoice numbered" in capsys.readouterr().err
    with Store.open(tmp_path / demo_store_file.name, TEST_ADMIN, TEST_PASSPHRASE) as copy:
        with copy.read_session() as s:
            held = s.scalar(select(Meeting.starts_at).where(Meeting.motions.any()).order_by(Meeting.id))
    minutes = tmp_path / "minutes.pdf"
    assert cli.main(["report", "meeting", "--meeting", held.date().isoformat(), "--store", store_path,
                     "--user", TEST_ADMIN, "--out", str(minutes)]) == 0, capsys.readouterr()
    assert "Meeting of" in pdfcheck.text(minutes)
    assert cli.main(["report", "meeting", "--meeting", "2026-13-40", "--store", store_path, "--user", TEST_ADMIN,
                     "--out", str(minutes)]) == 2
    monkeypatch.setenv("P20WIN_PASSPHRASE", "wrong passphrase entirely")
    assert cli.main(["report", "dsa-register", "--store", store_path, "--user", TEST_ADMIN,
                     "--out", str(tmp_path / "y.pdf")]) == 1
    assert not (tmp_path / "y.pdf").exists()


def test_hostile_and_non_latin_store_text_prints_literally(store, tmp_path):
    desk = Desk(store, TEST_ADMIN)
    codes = {a.code: a.id for a in desk.agencies.list()}
    recipient = desk.recipients.create("東京大学 & Жуков <Lab>", RecipientType.UNIVERSITY,
                                       authorized_representative="Zoë Ñúñez")
    title = "<b>Wages</b> & =cmd() " + "Q" * 250
    rid = desk.requests.create(title, [codes["SDE"], codes["DOL"]], recipient_id=recipient)
    desk.requests.move(rid, RequestState.LOGGED)
    reports = ReportingService(desk)
    pdf = tmp_path / "status.pdf"
    render(reports.request_status(rid), pdf)
    flat = pdfcheck.squashed(pdf)
    assert title.replace(" ", "") in flat
    assert "東京大学&Жуков<Lab>" in flat
    assert all(embedded for _, embedded in pdfcheck.fonts(pdf))
    pdf = tmp_path / "cert.pdf"
    render(reports.destruction_certificate(rid), pdf)
    assert "ZoëÑúñez" in pdfcheck.squashed(pdf)
