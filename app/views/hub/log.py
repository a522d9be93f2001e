"""The match log (the manual's fields), destruction due dates, and the Destroy action with its certificate."""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from app.jobs import Job
from app.views.hub.common import Notice, attempt, selected_row
from app.views.request_detail import SimpleTable
from app.views.style import LATE_COLOUR, OK_COLOUR
from app.views.table import Column
from app.views.widgets import heading

LOG_COLUMNS = [
    Column("request", "Request", "request_number", width=75),
    Column("received", "Files received", "files_received_on", width=105),
    Column("agency", "From agency", "sender_agency", width=95),
    Column("sender", "Sender", "sender", width=110),
    Column("receiver", "Received by", "received_by", width=100),
    Column("file", "File", "file_name", width=110),
    Column("fields", "Fields included", "fields_included", width=150),
    Column("matched", "Match date", "matched_on", width=95),
    Column("confirmed", "Stewards confirmed", "stewards_confirmed_at", width=130),
    Column("sent", "ID matrix sent", "id_matrix_sent_on", width=105),
    Column("to", "Sent to", "id_matrix_sent_to", width=110),
    Column("destroyed", "Inputs destroyed", "inputs_destroyed_on", width=115),
]
_STATUS_COLOURS = {"overdue": LATE_COLOUR, "late": LATE_COLOUR, "met": OK_COLOUR}


class _Due:
    __slots__ = ("request_number", "what", "due_at", "status")

    def __init__(self, deadline, now: datetime):  # noqa: ANN001 - lifecycle.Deadline
        self.request_number, self.what, self.due_at = deadline.request_number, deadline.what, deadline.due_at
        self.status = deadline.status(now)


DUE_COLUMNS = [
    Column("request", "Request", "request_number", width=75),
    Column("what", "Obligation", "what", width=260),
    Column("due", "Due (UTC)", "due_at", display=lambda d: f"{d:%Y-%m-%d %H:%M}", width=130),
    Column("status", "Status", "status", width=80, foreground=lambda s: _STATUS_COLOURS.get(s)),
]


class LogTab(QWidget):
    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self.job: Job | None = None
        self.certificate_path = None
        self.log = SimpleTable(LOG_COLUMNS, "The match log is empty.")
        self.due = SimpleTable(DUE_COLUMNS,
                               "No destruction is due: the clock starts when the stewards confirm a match.")
        confirm = QPushButton("Stewards confirmed the selected match")
        confirm.clicked.connect(self.confirm)
        self.understood = QCheckBox()
        self.understood.toggled.connect(lambda on: self.destroy_button.setEnabled(on and not self._busy()))
        self.destroy_button = QPushButton("Destroy input and working files")
        self.destroy_button.setObjectName("danger")
        self.destroy_button.setEnabled(False)
        self.destroy_button.clicked.connect(self.destroy)
        self.open_certificate = QPushButton("Open certificate")
        self.open_certificate.setEnabled(False)
        self.open_certificate.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.certificate_path))))
        self.notice = Notice()
        top = QWidget()
        t = QVBoxLayout(top)
        t.setContentsMargins(0, 0, 0, 0)
        t.addWidget(heading("Match log"))
        t.addWidget(self.log, 1)
        row = QHBoxLayout()
        row.addWidget(confirm)
        row.addStretch(1)
        t.addLayout(row)
        bottom = QWidget()
        b = QVBoxLayout(bottom)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(heading("Destruction due (5 business days after confirmation; 24 hours with CCIC data)"))
        b.addWidget(QLabel("Non-working days come from Settings ▸ Calendar.", objectName="muted"))
        b.addWidget(self.due, 1)
        b.addWidget(self.understood)
        row = QHBoxLayout()
        row.addWidget(self.destroy_button)
        row.addWidget(self.open_certificate)
        row.addStretch(1)
        b.addLayout(row)
        b.addWidget(self.notice)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.addWidget(split)

    def _busy(self) -> bool:
        return self.job is not None and self.job.is_running

    def request_changed(self) -> None:
        self.understood.setChecked(False)
        self.understood.setText(f"I understand that the input and working files of {self.page.request_number()} are "
                                "overwritten and deleted, and cannot be recovered.")
        self.refresh()

    def refresh(self) -> None:
        self.log.set_rows(self.page.context.desk.matchlog.page(limit=5000))
        now = datetime.now(UTC)
        self.due.set_rows([_Due(d, now) for d in self.page.hub.destruction_due()])

    def confirm(self) -> None:
        row = selected_row(self.log)
        if row is None:
            self.notice.error("Select the match log line the stewards confirmed.")
            return
        ok, _ = attempt(self.notice, lambda: self.page.context.desk.matchlog.confirm_match(row.id, datetime.now(UTC)))
        if ok:
            self.notice.ok(f"Recorded the stewards' confirmation for {row.file_name}: the destruction clock runs.")
            self.refresh()

    def destroy(self) -> None:
        rid = self.page.request_id()
        if rid is None or not self.understood.isChecked() or self._busy():
            return
        hub = self.page.hub
        out = self.page.work_root / "certificates" / f"{self.page.request_number()}-hub-destruction-certificate.pdf"

        def work(ctx):  # noqa: ANN001 - JobContext
            done = hub.destroy(rid)
            out.parent.mkdir(parents=True, exist_ok=True)
            hub.certificate_pdf(rid, out)
            return done

        def finished(done: list[str]) -> None:
            self.certificate_path = out
            self.open_certificate.setEnabled(True)
            self.understood.setChecked(False)
            self.notice.ok(f"Destroyed {len(done)} item(s): " + "; ".join(done) + f". Certificate: {out}")
            self.refresh()

        def failed(error: BaseException) -> None:
            self.notice.error(error)
            self.refresh()

        self.destroy_button.setEnabled(False)
        self.job = Job(self, work, title="Destroying input files", cancellable=False)
        self.job.success(finished).failure(failed).run_in_background()
