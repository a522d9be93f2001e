"""Intake: check a received matching file in place (SHA-256 and validation in a job), then register it."""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job
from app.services.hub import FileCheck, check_file
from app.views.hub.common import Notice, attempt
from app.views.request_detail import SimpleTable
from app.views.table import Column
from app.views.widgets import date_edit, heading

PROBLEM_COLUMNS = [
    Column("row", "Line", "row_number", width=60),
    Column("id", "Synthetic ID", "record_id", width=130),
    Column("field", "Field", "field", width=110),
    Column("action", "Action", "action", width=120),
    Column("reason", "Reason", "reason", width=420),
]
FILE_COLUMNS = [
    Column("agency", "From", "agency", width=60),
    Column("file", "File", "file_name", width=160),
    Column("rows", "Rows", "rows", width=70),
    Column("rejected", "Rejected", "rejected", width=80),
    Column("kind", "Kind", "kind", width=60),
    Column("sha", "SHA-256", lambda f: f.sha256[:16] + "…", tooltip=lambda f: f.sha256, width=150),
    Column("received", "Received", "received_on", width=90),
    Column("path", "Where it is", "path", width=260),
    Column("destroyed", "Destroyed", "destroyed_at", width=130),
]


class IntakeTab(QWidget):
    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self.checked: FileCheck | None = None
        self.job: Job | None = None
        self.path = QLineEdit(placeholderText="Path of the received matching file (it stays where it is)")
        self.path.setAccessibleName("Matching file path")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.check_button = QPushButton("Check file")
        self.check_button.clicked.connect(self.check)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        row.addWidget(self.check_button)
        self.summary = QLabel("Choose a file and check it: its SHA-256 is computed and every row validated.",
                              objectName="muted", wordWrap=True)
        self.problems = SimpleTable(PROBLEM_COLUMNS, "No problems found in the file.")
        self.sender = QComboBox()
        self.sender.setAccessibleName("Sending agency")
        self.steward = QLineEdit(placeholderText="Data steward who sent it")
        self.steward.setAccessibleName("Sender")
        self.received = date_edit(datetime.now(UTC).date())
        self.received.setAccessibleName("Date received")
        form = QFormLayout()
        form.addRow("Sending agency", self.sender)
        form.addRow("Sent by", self.steward)
        form.addRow("Received on", self.received)
        self.register_button = QPushButton("Register file")
        self.register_button.setEnabled(False)
        self.register_button.clicked.connect(self.register)
        self.notice = Notice()
        self.files = SimpleTable(FILE_COLUMNS, "No files registered for this request yet.")
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Check a received file"))
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems, 2)
        layout.addLayout(form)
        layout.addWidget(self.register_button)
        layout.addWidget(self.notice)
        layout.addWidget(heading("Files registered for this request"))
        layout.addWidget(self.files, 2)

    def request_changed(self) -> None:
        self.sender.clear()
        rid = self.page.request_id()
        if rid is not None:
            for a in self.page.context.desk.requests.get(rid).agencies:
                self.sender.addItem(f"{a.code} — {a.name}", a.agency_id)
        self.notice.hide()
        self.refresh()

    def refresh(self) -> None:
        rid = self.page.request_id()
        self.files.set_rows(self.page.hub.files(rid) if rid is not None else [])

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Matching file", "",
                                              "Matching files (*.txt *.tsv *.csv *.xlsx);;All files (*)")
        if path:
            self.path.setText(path)

    def check(self) -> None:
        path = self.path.text().strip()
        if not path:
            self.notice.error("Choose the file to check first.")
            return
        self.checked = None
        self.register_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.notice.hide()
        self.summary.setText("Checking… (hashing and validating every row)")
        self.job = Job(self, lambda ctx: check_file(path), title="Checking the matching file")
        self.job.success(self._checked).failure(self._failed).run_in_background()

    def _checked(self, check: FileCheck) -> None:
        self.check_button.setEnabled(True)
        self.checked = check
        warnings = "".join(f"\n⚠ {w}" for w in check.warnings)
        self.summary.setText(
            f"{check.kind.upper()} file, {check.rows:,} rows, {check.rejected:,} left out, "
            f"{len(check.problems):,} problems listed below. Fields: {', '.join(check.fields)}.\n"
            f"SHA-256 {check.sha256}{warnings}")
        self.problems.set_rows(list(check.problems.itertuples(index=False)))
        self.register_button.setEnabled(True)

    def _failed(self, error: BaseException) -> None:
        self.check_button.setEnabled(True)
        self.summary.setText("The file could not be checked.")
        self.notice.error(error)

    def register(self) -> None:
        rid = self.page.request_id()
        if self.checked is None or rid is None or self.sender.currentData() is None:
            self.notice.error("Check a file and choose the request and sending agency first.")
            return
        ok, file_id = attempt(self.notice, lambda: self.page.hub.register_file(
            rid, self.checked, sender_agency_id=self.sender.currentData(),
            received_on=self.received.date().toPython(), sender=self.steward.text()))
        if ok:
            self.notice.ok(f"Registered {self.page.hub.file(file_id).file_name} in the match log.")
            self.register_button.setEnabled(False)
            self.refresh()
