"""Every report rendered from hand-built edge-case inputs, then read back as a reader's viewer would."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.reports import render
from app.reports.formatting import fiscal_year_label, long_date, money, number
from app.reports.layout import MARGIN
from app.reports.suppression import PRIMARY_MARK

from . import pdfcheck, samples

EVERY_REPORT = {
    "annual": samples.annual,
    "status": samples.request_status,
    "dsa-register": samples.dsa_register,
    "meeting": samples.meeting,
    "invoice": samples.invoice,
    "distribution": samples.distribution_letter,
    "destruction-certificate": samples.destruction_certificate,
    "audit": samples.audit,
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[object, Path, int]]:
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for kind, build in EVERY_REPORT.items():
        data = build()
        path = folder / f"{kind}.pdf"
        out[kind] = (data, path, render(data, path))
    return out


@pytest.mark.parametrize("kind", EVERY_REPORT)
def test_page_count_and_numbering(rendered, kind):
    _, pdf, returned = rendered[kind]
    pages = pdfcheck.pages(pdf)
    assert returned == pages
    numbered = pdfcheck.footer_totals(pdf)
    assert numbered, "no 'Page N of M' footer"
    assert {total for _, total in numbered} == {pages}
    # Cover pages carry no number; every other page does.
    has_cover = kind == "annual"
    assert {n for n, _ in numbered} == set(range(1 + has_cover, pages + 1))


@pytest.mark.parametrize("kind", EVERY_REPORT)
def test_hostile_text_prints_literally_and_nothing_overflows(rendered, kind):
    _, pdf, _ = rendered[kind]
    flat = pdfcheck.squashed(pdf)
    if kind not in ("status",):  # status puts the long word in a title, the others somewhere visible too
        pass
    assert "<b>Bold?</b>&=cmd()<fontname=x>" in flat
    boxes = pdfcheck.word_boxes(pdf)
    assert boxes
    for page, x_min, x_max, width in boxes:
        assert x_min >= MARGIN - 1 and x_max <= width - MARGIN + 1, f"text outside the margins on page {page}"


@pytest.mark.parametrize("kind", ["status", "dsa-register", "meeting", "invoice", "destruction-certificate"])
def test_long_words_are_broken_not_lost(rendered, kind):
    _, pdf, _ = rendered[kind]
    assert samples.LONG_WORD in pdfcheck.squashed(pdf)


@pytest.mark.parametrize("kind", ["status", "dsa-register", "meeting", "destruction-certificate", "audit"])
def test_non_latin_names_print_with_embedded_fonts(rendered, kind):
    _, pdf, _ = rendered[kind]
    flat = pdfcheck.squashed(pdf)
    shown = [n for n in samples.NAMES if n.replace(" ", "") in flat]
    assert shown, "no non-Latin name found in the text"
    used = pdfcheck.fonts(pdf)
    assert used and all(embedded for _, embedded in used), used


def test_metadata_names_title_author_and_subject(rendered):
    data, pdf, _ = rendered["annual"]
    meta = pdfcheck.info(pdf)
    assert meta["Title"] == f"P20 WIN Annual Report to the Legislature, {fiscal_year_label(data.fiscal_year)}"
    assert "Office of Policy and Management" in meta["Author"]
    assert fiscal_year_label(data.fiscal_year) in meta["Subject"]


def test_annual_report_shows_the_figures_it_was_given(rendered):
    data, pdf, _ = rendered["annual"]
    layout = pdfcheck.text(pdf, layout=True)
    t = data.totals
    row = [number(v) for v in (t.received, t.approved, t.denied, t.fulfilled)]
    assert any(line.split()[-4:] == row and line.strip().startswith("All requests") for line in layout.splitlines())
    spent = sum(b.actual_cents for b in data.budget) + data.unbudgeted_actual_cents
    assert money(spent) in layout and money(sum(b.budget_cents for b in data.budget)) in layout
    assert money(sum(a.cents for a in data.distributions)) in layout
    assert long_date(data.publications[0].approved_on) in layout
    for y in data.trend:
        assert fiscal_year_label(y.fiscal_year) in layout
    # People counts under six never print; the suppressed cells are marked.
    assert PRIMARY_MARK in layout
    people = [line for line in layout.splitlines() if line.strip().startswith("University")]
    assert any("<6" in line for line in people)


def test_invoice_total_and_balance(rendered):
    data, pdf, _ = rendered["invoice"]
    layout = pdfcheck.text(pdf, layout=True)
    assert money(sum(i.amount_cents for i in data.items)) in layout
    assert money(data.total_cents - data.paid_cents) in layout


def test_long_tables_repeat_their_header_on_every_page(rendered):
    _, pdf, pages = rendered["audit"]
    assert pages > 2
    heads = pdfcheck.text(pdf).count("Fields changed")
    assert heads >= pages - 1  # the events table starts on page 1 and continues on every later page


@pytest.mark.parametrize("build", [samples.empty_annual,
                                   lambda: samples.request_status(0),
                                   lambda: samples.dsa_register(0),
                                   lambda: samples.distribution_letter(0),
                                   lambda: samples.audit(0)])
def test_empty_periods_say_so(tmp_path, build):
    pdf = tmp_path / "empty.pdf"
    pages = render(build(), pdf)
    assert "No activity in this period" in pdfcheck.text(pdf)
    assert pages == pdfcheck.pages(pdf) <= 2


def test_unknown_input_is_refused(tmp_path):
    with pytest.raises(TypeError):
        render(object(), tmp_path / "x.pdf")


def test_shares_of_withheld_counts_are_withheld_too(tmp_path):
    data = samples.annual()
    pdf = tmp_path / "annual.pdf"
    render(data, pdf)
    lines = pdfcheck.text(pdf, layout=True).splitlines()
    people = data.data_users
    section = lines[next(k for k, ln in enumerate(lines) if ln.strip() == people.title):]
    grand = sum(map(sum, people.counts))
    checked = 0
    for label, counts in zip(people.row_labels, people.counts, strict=True):
        row = next(ln.split() for ln in section if ln.strip().startswith(label))
        total, share = row[-2], row[-1]
        if total in ("<6", "*"):
            assert share == "*"
        else:
            assert total == number(sum(counts)) and share == f"{100 * sum(counts) / grand:.1f}%"
            checked += 1
    assert 0 < checked < len(people.row_labels)  # both branches exercised
