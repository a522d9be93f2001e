"""Deliver: the final synthetic-ID matrix (review decisions applied) with the run record and quality report."""
from __future__ import annotations

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
from app.views.hub.common import Notice, fill_runs
from app.views.widgets import heading


class DeliverTab(QWidget):
    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self.runs = QComboBox()
        self.runs.setAccessibleName("Run to deliver")
        self.runs.currentIndexChanged.connect(lambda _: self._describe())
        self.summary = QLabel(objectName="muted", wordWrap=True)
        self.matrix = QLineEdit(placeholderText="(the run's final matrix, with the review decisions applied)")
        self.matrix.setAccessibleName("ID matrix file")
        self.dest = QLineEdit()
        self.dest.setAccessibleName("Delivery folder")
        self.recipient = QLineEdit()
        self.recipient.setAccessibleName("Delivered to")
        form = QFormLayout()
        form.addRow("Run", self.runs)
        form.addRow("ID matrix", self._with_browse(self.matrix, self._browse_matrix))
        form.addRow("Deliver into folder", self._with_browse(self.dest, self._browse_dest))
        form.addRow("Authorized representative", self.recipient)
        self.deliver_button = QPushButton("Check and deliver")
        self.deliver_button.clicked.connect(self.deliver)
        self.notice = Notice()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Deliver the synthetic-ID matrix"))
        layout.addWidget(QLabel("Before anything is written, every column is checked: a column named or shaped like "
                                "names, dates of birth or SSNs, or holding the names, dates of birth, SSNs or SASIDs "
                                "of the files matched, stops the delivery. The run record (run.json) and the quality "
                                "report go with the matrix; the match log gets the date and recipient.",
                                wordWrap=True))
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.deliver_button)
        layout.addWidget(self.notice)
        layout.addStretch(1)

    @staticmethod
    def _with_browse(edit: QLineEdit, slot) -> QWidget:  # noqa: ANN001
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(slot)
        row.addWidget(button)
        return w

    def _browse_matrix(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "ID matrix", "", "Tab-delimited (*.tsv *.txt);;All files (*)")
        if path:
            self.matrix.setText(path)

    def _browse_dest(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Deliver into folder")
        if path:
            self.dest.setText(path)

    def request_changed(self) -> None:
        rid = self.page.request_id()
        desk = self.page.context.desk
        recipient_id = desk.requests.get(rid).recipient_id if rid is not None else None
        self.recipient.setText(desk.recipients.get(recipient_id).authorized_representative if recipient_id else "")
        self.notice.hide()
        self.refresh()

    def refresh(self) -> None:
        rid = self.page.request_id()
        runs = [r for r in self.page.hub.runs(rid) if r.destroyed_at is None] if rid is not None else []
        fill_runs(self.runs, runs, lambda r: f"Run {r.id} — {r.finished_at:%Y-%m-%d %H:%M} UTC" + (
            f" — delivered {r.delivered_on} to {r.delivered_to}" if r.delivered_on else ""))
        if not self.dest.text():
            self.dest.setText(str(self.page.work_root / "outgoing" / self.page.request_number()))
        self._describe()

    def _describe(self) -> None:
        run_id = self.runs.currentData()
        if run_id is None:
            self.summary.setText("No run to deliver for this request.")
            self.deliver_button.setEnabled(False)
            return
        self.deliver_button.setEnabled(True)
        run = self.page.hub.run(run_id)
        verdicts = self.page.hub.final_decisions(run_id)
        accepted = next((o["rows"] for o in run.record.get("outputs", []) if o.get("file") == "id_matrix.tsv"), None)
        self.summary.setText(f"The engine accepted {accepted if accepted is not None else '?'} pairs; "
                             f"{len(verdicts)} clerical decisions will be applied "
                             f"({sum(v == 'match' for v in verdicts.values())} match, "
                             f"{sum(v == 'non-match' for v in verdicts.values())} non-match)."
                             + (" Two-person review: only decisions both reviewers agree on count."
                                if run.two_person_review else ""))

    def deliver(self) -> None:
        run_id = self.runs.currentData()
        if run_id is None:
            return
        matrix = self.matrix.text().strip() or None
        dest, recipient = self.dest.text().strip(), self.recipient.text()
        hub = self.page.hub

        def finished(written: list) -> None:
            self.deliver_button.setEnabled(True)
            self.notice.ok("Delivered: " + ", ".join(str(p) for p in written) + ". The match log is updated.")
            self.refresh()

        def failed(error: BaseException) -> None:
            self.deliver_button.setEnabled(True)
            self.notice.error(error)

        self.notice.hide()
        self.deliver_button.setEnabled(False)
        # A job: the check reads both input files to compare the matrix with their personal values.
        self.job = Job(self, lambda ctx: hub.deliver(run_id, dest, recipient, matrix=matrix),
                       title="Checking and delivering the ID matrix", cancellable=False)
        self.job.success(finished).failure(failed).run_in_background()
