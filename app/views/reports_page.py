"""Reports screen: pick a report and its parameters, preview the PDF in the app, then save or print it.

Gathering the figures and rendering the PDF run as a background job (``app.jobs.Job``); the preview uses
Qt's own PDF module, so what is shown is exactly the file that is saved or printed.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QBuffer, QByteArray, QDate, QIODevice, QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job, JobContext
from app.reports import render
from app.reports.formatting import fiscal_year_label
from app.services.reporting import ReportChoices, ReportingService
from app.views.widgets import call_service, date_edit

log = logging.getLogger(__name__)


@dataclass
class _Kind:
    key: str
    title: str
    form: QWidget
    build: Callable[[ReportingService], object]  # reads the form on the GUI thread, returns the query to run
    file_name: Callable[[], str]


class ReportsPage(QWidget):
    """The Reports screen. ``desk`` is the services facade; the screen never touches the store itself."""

    watches = frozenset({"requests", "meetings", "finance", "agencies"})
    title = "Reports"

    def __init__(self, desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports = ReportingService(desk)
        self.pdf_bytes: bytes | None = None
        self.job: Job | None = None
        self._buffer: QBuffer | None = None
        self.document = QPdfDocument(self)

        self.picker = QComboBox()
        self.picker.setAccessibleName("Report")
        self.forms = QStackedWidget()
        self.preview_button = QPushButton("Preview")
        self.save_button = QPushButton("Save PDF…")
        self.print_button = QPushButton("Print…")
        for b in (self.save_button, self.print_button):
            b.setEnabled(False)
        self.status = QLabel("Choose a report and press Preview.")
        self.status.setObjectName("reportStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.view = QPdfView()
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)

        title = QLabel("Reports", objectName="pageTitle")
        top = QHBoxLayout()
        top.addWidget(QLabel("Report:"))
        top.addWidget(self.picker, 1)
        top.addWidget(self.preview_button)
        top.addWidget(self.save_button)
        top.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)  # as the other screens
        layout.addWidget(title)
        layout.addLayout(top)
        layout.addWidget(self.forms)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)

        self.kinds: list[_Kind] = []
        self.refresh()
        self.picker.currentIndexChanged.connect(self._kind_changed)
        self.preview_button.clicked.connect(self.preview)
        self.save_button.clicked.connect(self.save)
        self.print_button.clicked.connect(self.print_)

    # ---- building the pickers ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read what the pickers list (called by the main window when watched data changed)."""
        ok, choices = call_service(self, self.reports.choices)
        if not ok:
            return
        current = self.picker.currentIndex()
        while self.forms.count():
            old = self.forms.widget(0)
            self.forms.removeWidget(old)
            old.deleteLater()
        self.picker.blockSignals(True)
        self.picker.clear()
        self.kinds = self._make_kinds(choices)
        for kind in self.kinds:
            self.picker.addItem(kind.title, kind.key)
            self.forms.addWidget(kind.form)
        self.picker.setCurrentIndex(max(0, current))
        self.forms.setCurrentIndex(max(0, current))
        self.picker.blockSignals(False)

    def _make_kinds(self, c: ReportChoices) -> list[_Kind]:
        kinds = []

        year = QSpinBox()
        year.setRange(min(c.fiscal_years), max(c.fiscal_years))
        year.setValue(c.fiscal_years[1] if len(c.fiscal_years) > 1 else c.fiscal_years[0])  # last full year
        year.setAccessibleName("Fiscal year")
        year_label = QLabel()
        year.valueChanged.connect(lambda v: year_label.setText(fiscal_year_label(v)))
        year_label.setText(fiscal_year_label(year.value()))
        kinds.append(_Kind("annual", "Annual report to the legislature",
                           _form(("Fiscal year (the year it ends)", year), ("", year_label)),
                           lambda r: (lambda: r.annual(year.value())),
                           lambda: f"annual-report-FY{year.value()}.pdf"))

        status_pick = _combo([(None, "All open requests"), *c.requests], "Request")
        kinds.append(_Kind("status", "Request status", _form(("Request", status_pick)),
                           lambda r: (lambda rid=status_pick.currentData(): r.request_status(rid)),
                           lambda: "request-status.pdf"))

        kinds.append(_Kind("dsa-register", "Register of data sharing agreements", _form(),
                           lambda r: r.dsa_register, lambda: "dsa-register.pdf"))

        meeting = _combo(c.meetings, "Meeting")
        kinds.append(_Kind("meeting", "Meeting agenda and minutes", _form(("Meeting", meeting)),
                           lambda r: _needs(meeting, "meeting", lambda mid: r.meeting(mid)),
                           lambda: "minutes.pdf"))

        invoice = _combo(c.invoices, "Invoice")
        kinds.append(_Kind("invoice", "Fee invoice", _form(("Invoice", invoice)),
                           lambda r: _needs(invoice, "invoice", lambda iid: r.invoice(iid)),
                           lambda: f"invoice-{invoice.currentText()}.pdf"))

        agency = _combo(c.agencies, "Agency")
        d_from, d_to = _period_edits()
        kinds.append(_Kind("distribution", "Fund-distribution letter",
                           _form(("Agency", agency), ("From", d_from), ("To", d_to)),
                           lambda r: _needs(agency, "agency", lambda aid: r.distribution_letter(
                               aid, _day(d_from), _day(d_to))),
                           lambda: f"fund-distribution-{agency.currentText().split(':')[0]}.pdf"))

        cert = _combo(c.requests, "Request")
        kinds.append(_Kind("destruction-certificate", "Destruction certificate form", _form(("Request", cert)),
                           lambda r: _needs(cert, "request", lambda rid: r.destruction_certificate(rid)),
                           lambda: "destruction-certificate.pdf"))

        a_from, a_to = _period_edits()
        kinds.append(_Kind("audit", "Audit report", _form(("From", a_from), ("To", a_to)),
                           lambda r: (lambda lo=_day(a_from), hi=_day(a_to): r.audit(lo, hi)),
                           lambda: "audit-report.pdf"))
        return kinds

    def _kind_changed(self, index: int) -> None:
        self.forms.setCurrentIndex(index)
        self.status.setText("Press Preview to see this report.")

    def select(self, key: str) -> None:
        """Show report ``key`` (e.g. "annual") in the picker."""
        self.picker.setCurrentIndex(next(i for i, k in enumerate(self.kinds) if k.key == key))

    # ---- preview, save, print ---------------------------------------------------------------------------
    def preview(self) -> None:
        """Gather and render the chosen report in the background, then show it."""
        kind = self.kinds[self.picker.currentIndex()]
        try:
            query = kind.build(self.reports)
        except ValueError as missing:
            self.status.setText(str(missing))
            return

        def work(ctx: JobContext) -> tuple[bytes, int]:
            ctx.progress(0.1, "Gathering the figures…")
            data = query()
            ctx.check()
            ctx.progress(0.5, "Laying out the PDF…")
            out = io.BytesIO()
            pages = render(data, out)
            return out.getvalue(), pages

        self.preview_button.setEnabled(False)
        self.status.setText(f"Preparing the {kind.title.lower()}…")
        self.job = (Job(self, work, title=f"Preparing the {kind.title.lower()}")
                    .success(lambda result: self._show(kind, *result))
                    .failure(self._failed))
        self.job.finished.connect(lambda: self.preview_button.setEnabled(True))
        self.job.run_in_background()

    def _show(self, kind: _Kind, pdf: bytes, pages: int) -> None:
        self.pdf_bytes = pdf
        self._file_name = kind.file_name()
        self.document.close()
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(pdf))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        self.save_button.setEnabled(True)
        self.print_button.setEnabled(True)
        self.status.setText(f"{kind.title}: {pages} page{'s' if pages != 1 else ''}.")

    def _failed(self, error: BaseException) -> None:
        message = getattr(error, "message", None) or "The report could not be prepared. Details are in the log file."
        self.status.setText(message)
        if getattr(error, "message", None) is None:
            log.error("report failed", exc_info=(type(error), error, error.__traceback__))

    def save(self) -> None:
        """Ask where, then write the previewed PDF there (the bytes shown are the bytes saved)."""
        if self.pdf_bytes is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save report", self._file_name, "PDF files (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        try:
            with open(path, "wb") as f:
                f.write(self.pdf_bytes)
        except OSError as exc:
            QMessageBox.warning(self, "Not saved", f"Could not save {path}: {exc.strerror or exc}.")
            return
        self.status.setText(f"Saved {path}.")

    def print_(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self._file_name)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            print_document(self.document, printer)
            self.status.setText("Sent to the printer.")


def print_document(document: QPdfDocument, printer: QPrinter, dpi: int = 300) -> None:
    """Print every page of ``document`` on ``printer``, each scaled to the printable area."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer could not be started")
    try:
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            size = document.pagePointSize(page)
            image: QImage = document.render(page, QSize(int(size.width() * dpi / 72), int(size.height() * dpi / 72)))
            area = painter.viewport()
            scaled = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRect(area.topLeft(), scaled), image)
    finally:
        painter.end()


def _form(*rows: tuple[str, QWidget]) -> QWidget:
    box = QWidget()
    form = QFormLayout(box)
    form.setContentsMargins(0, 0, 0, 0)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    for label, widget in rows:
        form.addRow(label, widget)
    return box


def _combo(items, name: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.setMinimumContentsLength(30)
    for value, label in items:
        combo.addItem(label, value)
    return combo


def _needs(combo: QComboBox, what: str, call: Callable[[int], object]) -> Callable[[], object]:
    """The query for the chosen item; ValueError (shown in the status line) when there is nothing to choose."""
    if combo.currentData() is None:
        raise ValueError(f"There is no {what} to report on yet.")
    chosen = combo.currentData()
    return lambda: call(chosen)


def _period_edits():
    today = date.today()
    start = date(today.year - 1 if today.month < 7 else today.year, 7, 1)  # this fiscal year so far
    return date_edit(start), date_edit(today)


def _day(edit) -> date:
    q: QDate = edit.date()
    return date(q.year(), q.month(), q.day())
