"""The Reports screen driven as a user would: pick, preview (in a background job), save, print."""
from __future__ import annotations

import pytest
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QDateEdit, QFileDialog

from app.services import Desk
from app.views.reports_page import ReportsPage, print_document
from tests.conftest import TEST_ADMIN

from . import pdfcheck


@pytest.fixture
def page(qtbot, demo_store):
    widget = ReportsPage(Desk(demo_store, TEST_ADMIN), None)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    return widget


def preview(qtbot, page, key: str) -> None:
    page.select(key)
    page.preview_button.click()
    qtbot.waitUntil(lambda: page.job is not None and not page.job.is_running, timeout=60_000)


def test_preview_then_save_writes_the_previewed_pdf(qtbot, page, tmp_path, monkeypatch):
    preview(qtbot, page, "dsa-register")
    assert page.save_button.isEnabled() and page.print_button.isEnabled()
    assert f"{page.document.pageCount()} page" in page.status.text()
    target = tmp_path / "register"  # no extension: the screen adds .pdf
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF files (*.pdf)"))
    page.save_button.click()
    saved = tmp_path / "register.pdf"
    assert saved.read_bytes() == page.pdf_bytes
    assert page.document.pageCount() == pdfcheck.pages(saved)
    assert "Register of data sharing agreements" in pdfcheck.text(saved)
    assert page.status.text() == f"Saved {saved}."


def test_annual_report_previews_and_prints_every_page(qtbot, page, tmp_path):
    preview(qtbot, page, "annual")
    pages = page.document.pageCount()
    assert pages >= 2
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    print_document(page.document, printer, dpi=40)
    assert pdfcheck.pages(tmp_path / "printed.pdf") == pages


def test_a_report_that_cannot_be_made_says_why(qtbot, page):
    page.select("distribution")
    form = page.forms.currentWidget()
    start, end = form.findChildren(QDateEdit)
    start.setDate(end.date().addDays(10))  # a period that ends before it starts
    page.preview_button.click()
    qtbot.waitUntil(lambda: page.job is not None and not page.job.is_running, timeout=30_000)
    assert "must not be before" in page.status.text()
    assert page.pdf_bytes is None



def test_refresh_keeps_the_chosen_report(qtbot, page):
    page.select("invoice")
    page.refresh()
    assert page.kinds[page.picker.currentIndex()].key == "invoice"
    assert page.forms.count() == len(page.kinds) == page.picker.count()


def test_a_new_store_offers_reports_and_says_what_is_missing(qtbot, store):
    fresh = ReportsPage(Desk(store, TEST_ADMIN), None)
    qtbot.addWidget(fresh)
    fresh.select("invoice")
    fresh.preview_button.click()
    assert fresh.status.text() == "There is no invoice to report on yet."
    preview(qtbot, fresh, "dsa-register")
    assert fresh.document.pageCount() == 1
    assert fresh.status.text().endswith("1 page.")
