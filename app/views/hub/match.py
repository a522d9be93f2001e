"""Run a match: a four-step wizard (files and method, preview and columns, thresholds, run and results).

The engine runs in an ``app.jobs.Job``; progress, ETA and Cancel are on the page itself (no modal dialog),
so the rest of the workspace stays usable and the GUI thread only ever handles progress signals.
"""
from __future__ import annotations

import csv
import time
from datetime import UTC, datetime

import pandas as pd
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job, describe_eta, estimate_remaining
from app.matching import MatchCancelled
from app.matching.standardise import INPUT_COLUMNS
from app.services.hub import RunInfo, approved_methods, match_files_in_process
from app.views.hub.charts import WeightHistogram
from app.views.hub.common import Notice
from app.views.request_detail import SimpleTable
from app.views.table import Column
from app.views.widgets import heading

IGNORE = "(not used)"
PREVIEW_ROWS = 8
PASS_COLUMNS = [
    Column("name", "Pass", "name", width=120), Column("kind", "Kind", "kind", width=95),
    Column("pairs", "Pairs", "pairs", width=90), Column("matches", "Matches", "matches", width=70),
    Column("review", "To review", "review", width=90),
]
MU_COLUMNS = [
    Column("comparison", "Compared", "comparison", width=100), Column("level", "Level", "label", width=160),
    Column("m", "m", "m", display=lambda v: f"{v:.4f}", width=65,
           tooltip=lambda r: "share of true matches at this level"),
    Column("u", "u", "u", display=lambda v: f"{v:.6f}", width=80,
           tooltip=lambda r: "share of non-matches at this level"),
    Column("weight", "Weight", "weight", display=lambda v: f"{v:+.2f}", width=60),
]
STEPS = ("Files and method", "Preview and columns", "Thresholds", "Run and results")


def _key(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _header(path: str) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        return next(csv.reader(f, delimiter="\t"), [])


class _Level:  # a row of the m/u table
    __slots__ = ("comparison", "label", "m", "u", "weight")

    def __init__(self, comparison: str, level: dict):
        self.comparison, self.label = comparison, level["label"]
        self.m, self.u, self.weight = float(level["m"]), float(level["u"]), float(level["weight"])


class _Pass:
    __slots__ = ("name", "kind", "pairs", "matches", "review")

    def __init__(self, p: dict):
        self.name, self.kind = p.get("name", ""), p.get("kind", "")
        self.pairs, self.matches, self.review = p.get("pairs"), p.get("matches"), p.get("review")


class MatchTab(QWidget):
    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self.job: Job | None = None
        self.last_run: RunInfo | None = None
        self._latest = [0.0, ""]
        self._started = 0.0
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._show_progress)
        self.step_title = heading("")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._files_step())
        self.stack.addWidget(self._preview_step())
        self.stack.addWidget(self._threshold_step())
        self.stack.addWidget(self._run_step())
        self.back = QPushButton("◀ Back")
        self.next = QPushButton("Next ▶")
        self.back.clicked.connect(lambda: self.go(self.stack.currentIndex() - 1))
        self.next.clicked.connect(lambda: self.go(self.stack.currentIndex() + 1))
        self.notice = Notice()
        nav = QHBoxLayout()
        nav.addWidget(self.notice, 1)
        nav.addWidget(self.back)
        nav.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addWidget(self.step_title)
        layout.addWidget(self.stack, 1)
        layout.addLayout(nav)
        self.go(0)

    # -- steps ----------------------------------------------------------------------------------------------
    def _files_step(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.left, self.right, self.method = QComboBox(), QComboBox(), QComboBox()
        for combo, name in ((self.left, "Left file"), (self.right, "Right file"), (self.method, "Method")):
            combo.setAccessibleName(name)
            combo.setMinimumWidth(420)
        self.two_person = QCheckBox("Two-person clerical review (a second reviewer decides blind to the first)")
        form.addRow("Left file", self.left)
        form.addRow("Right file", self.right)
        form.addRow("Approved method", self.method)
        form.addRow("", self.two_person)
        self.methods_note = QLabel(objectName="muted", wordWrap=True)
        form.addRow("", self.methods_note)
        return w

    def _preview_step(self) -> QWidget:
        w = QWidget()
        grid = QGridLayout(w)
        self.previews, self.mappings = [], []
        for col, side in enumerate(("Left", "Right")):
            preview, mapping = QTableWidget(), QTableWidget()
            preview.setAccessibleName(f"{side} file preview")
            mapping.setAccessibleName(f"{side} file columns")
            mapping.setColumnCount(2)
            mapping.setHorizontalHeaderLabels(["Column in the file", "Matching field"])
            mapping.horizontalHeader().setStretchLastSection(True)
            mapping.verticalHeader().hide()
            grid.addWidget(QLabel(f"{side} file: first {PREVIEW_ROWS} rows"), 0, col)
            grid.addWidget(preview, 1, col)
            grid.addWidget(QLabel(f"{side} file: columns (P20 WIN headers are mapped automatically)"), 2, col)
            grid.addWidget(mapping, 3, col)
            self.previews.append(preview)
            self.mappings.append(mapping)
        return w

    def _threshold_step(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.auto_threshold = QCheckBox(
            "Let the model choose (the cut with the best expected F1, review band ±3 bits)")
        self.auto_threshold.setChecked(True)
        self.lower, self.upper = QDoubleSpinBox(), QDoubleSpinBox()
        for spin, name, value in ((self.lower, "Lower threshold", 0.5), (self.upper, "Upper threshold", 0.99)):
            spin.setRange(0.0001, 0.9999)
            spin.setDecimals(4)
            spin.setSingleStep(0.01)
            spin.setValue(value)
            spin.setAccessibleName(name)
            spin.setEnabled(False)
        self.auto_threshold.toggled.connect(lambda on: (self.lower.setEnabled(not on), self.upper.setEnabled(not on)))
        form.addRow("", self.auto_threshold)
        form.addRow("Below this probability: non-match", self.lower)
        form.addRow("At or above this probability: match", self.upper)
        form.addRow("", QLabel("Pairs between the two go to clerical review.", objectName="muted"))
        return w

    def _run_step(self) -> QWidget:
        w = QWidget()
        layout = QVBoxLayout(w)
        row = QHBoxLayout()
        self.run_button = QPushButton("Run match")
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Match progress")
        self.eta = QLabel(objectName="muted")
        row.addWidget(self.run_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.eta)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.estimates = QLabel(objectName="muted", wordWrap=True)
        layout.addWidget(self.estimates)
        results = QGridLayout()
        self.passes = SimpleTable(PASS_COLUMNS, "No run yet.")
        self.histogram = WeightHistogram()
        self.levels = SimpleTable(MU_COLUMNS, "No run yet.")
        self.passes.set_rows([])
        self.levels.set_rows([])
        results.addWidget(heading("Passes"), 0, 0)
        results.addWidget(self.passes, 1, 0)
        results.addWidget(heading("Match weights and thresholds"), 0, 1)
        results.addWidget(self.histogram, 1, 1, 3, 1)
        results.addWidget(heading("Comparison levels (m / u)"), 2, 0)
        results.addWidget(self.levels, 3, 0)
        results.setColumnStretch(0, 1)
        results.setColumnStretch(1, 1)
        layout.addLayout(results, 1)
        return w

    # -- navigation -----------------------------------------------------------------------------------------
    def go(self, step: int) -> None:
        step = max(0, min(step, len(STEPS) - 1))
        if step == 1 and not self._check_files():
            return
        if step == 1:
            self._fill_preview()
        self.stack.setCurrentIndex(step)
        self.step_title.setText(f"Step {step + 1} of {len(STEPS)}: {STEPS[step]}")
        self.back.setEnabled(step > 0 and not self.running)
        self.next.setEnabled(step < len(STEPS) - 1)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_running

    def request_changed(self) -> None:
        if not self.running:
            self.go(0)
        self.refresh()

    def refresh(self) -> None:
        rid = self.page.request_id()
        files = [f for f in self.page.hub.files(rid) if f.destroyed_at is None] if rid is not None else []
        for combo, default in ((self.left, 0), (self.right, 1)):
            current = combo.currentData()
            combo.clear()
            for f in files:
                combo.addItem(f"{f.agency}: {f.file_name} ({f.rows:,} rows, {f.kind})", f.id)
            index = combo.findData(current)
            combo.setCurrentIndex(index if index >= 0 else min(default, combo.count() - 1))
        if self.method.count() == 0:
            for m in approved_methods():
                self.method.addItem(m.label, m.path)
            self.methods_note.setText("Only methods whose exact content the DGB approved are offered."
                                      if self.method.count() else "No approved method is available: import the "
                                      "DGB's method approval from OPM first.")

    def _check_files(self) -> bool:
        left, right = self.left.currentData(), self.right.currentData()
        if left is None or right is None:
            self.notice.error("Register two files for this request on the Intake tab first.")
            return False
        if left == right:
            self.notice.error("Choose two different files.")
            return False
        if self.method.currentData() is None:
            self.notice.error("There is no approved method to match with.")
            return False
        self.notice.hide()
        return True

    def _fill_preview(self) -> None:
        for side, (preview, mapping) in enumerate(zip(self.previews, self.mappings)):
            f = self.page.hub.file((self.left if side == 0 else self.right).currentData())
            try:
                head = pd.read_csv(f.path, sep="\t", dtype=str, keep_default_na=False, nrows=PREVIEW_ROWS,
                                   quoting=csv.QUOTE_NONE, encoding_errors="replace")
            except (OSError, ValueError) as exc:
                head = pd.DataFrame({"": [f"The file cannot be previewed here ({exc.__class__.__name__})."]})
            preview.setColumnCount(len(head.columns))
            preview.setRowCount(len(head))
            preview.setHorizontalHeaderLabels([str(c) for c in head.columns])
            for r, values in enumerate(head.itertuples(index=False)):
                for c, value in enumerate(values):
                    preview.setItem(r, c, QTableWidgetItem(str(value)))
            header = _header(f.path) if f.path.lower().endswith((".tsv", ".txt")) else [str(c) for c in head.columns]
            mapping.setRowCount(len(header))
            known = {_key(c): c for c in INPUT_COLUMNS}
            for r, name in enumerate(header):
                mapping.setItem(r, 0, QTableWidgetItem(name))
                combo = QComboBox()
                combo.addItems([IGNORE, *INPUT_COLUMNS])
                combo.setCurrentText(known.get(_key(name), IGNORE))
                combo.setAccessibleName(f"Field for column {name}")
                mapping.setCellWidget(r, 1, combo)

    def column_maps(self) -> list[dict[str, str] | None]:
        """Per file, the columns whose chosen field differs from what the header says (None: headers as is)."""
        out = []
        known = {_key(c): c for c in INPUT_COLUMNS}
        for mapping in self.mappings:
            chosen = {}
            for r in range(mapping.rowCount()):
                name = mapping.item(r, 0).text()
                field = mapping.cellWidget(r, 1).currentText()
                if field != IGNORE and known.get(_key(name)) != field:
                    chosen[name] = field
            out.append(chosen or None)
        return out

    # -- running --------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.running or not self._check_files():
            return
        rid = self.page.request_id()
        hub = self.page.hub
        left, right = hub.file(self.left.currentData()), hub.file(self.right.currentData())
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out_dir = self.page.work_root / f"{self.page.request_number()}-run-{stamp}"
        maps = self.column_maps() if self.mappings[0].rowCount() else None
        thresholds = ({} if self.auto_threshold.isChecked()
                      else {"lower": self.lower.value(), "upper": self.upper.value()})
        if thresholds and thresholds["lower"] >= thresholds["upper"]:
            self.notice.error("The lower threshold must be below the upper one.")
            return
        method_path = self.method.currentData()
        two_person = self.two_person.isChecked()
        started = time.monotonic()

        latest = self._latest = [0.0, "Starting the matching process"]

        def report(fraction: float, message: str) -> None:  # worker thread: only stores, the timer shows it
            latest[:] = [fraction, message]

        def work(ctx):  # noqa: ANN001 - JobContext; runs on a worker thread
            record = match_files_in_process(left, right, out_dir, method_path=method_path, column_map=maps,
                                            progress=report, cancel=ctx.cancel_event, **thresholds)
            # Recorded here, not on the GUI thread: the commit's fsync alone can take tens of milliseconds.
            return hub.record_run(rid, left.id, right.id, out_dir, record, two_person_review=two_person)

        def done(run_id: int) -> None:
            self._set_running(False)
            self.last_run = hub.run(run_id)
            self.show_results(self.last_run)
            self.notice.ok(f"Run {run_id} finished in {time.monotonic() - started:.0f} s and is in the match "
                           "log. Review its uncertain pairs on the Review tab.")

        def failed(error: BaseException) -> None:
            self._set_running(False)
            self.progress.setValue(0)
            if isinstance(error, MatchCancelled):
                self.notice.error("Cancelled. Nothing of this run was kept.")
            else:
                self.notice.error(error)

        self.notice.hide()
        self._set_running(True)
        self._started = time.monotonic()
        self.job = Job(self, work)
        self.job.success(done).failure(failed).run_in_background()
        self._poll.start()

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self.eta.setText("Cancelling…")

    def _set_running(self, running: bool) -> None:
        if not running:
            self._poll.stop()
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.back.setEnabled(not running)
        if not running:
            self.eta.setText("")

    def _show_progress(self) -> None:
        # Polled by a timer instead of relayed by signals: PySide6 6.12 drops a reference to True on every
        # Python-side emit(), which crashes Python 3.11 after a few thousand progress signals (a long match).
        fraction, message = self._latest
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.progress.setFormat(f"{message} — %p%" if message else "%p%")
        self.eta.setText(describe_eta(estimate_remaining(fraction, time.monotonic() - self._started)))

    def show_results(self, run: RunInfo) -> None:
        record = run.record
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        self.passes.set_rows([_Pass(p) for p in record.get("passes", [])])
        self.levels.set_rows([_Level(c["name"], lv) for c in record.get("parameters", {}).get("comparisons", [])
                              for lv in c["levels"]])
        self.histogram.set_run(record)
        e, t = record.get("estimates", {}), record.get("thresholds", {})
        self.estimates.setText(
            f"Estimated precision {e.get('precision', float('nan')):.3f}, recall {e.get('recall', float('nan')):.3f}, "
            f"F1 {e.get('f1', float('nan')):.3f}; expected false matches {e.get('expected_false_matches', 0):.0f}, "
            f"missed {e.get('expected_missed_matches', 0):.0f}. Thresholds: review band "
            f"{t.get('lower', 0):.4f}–{t.get('upper', 0):.4f}, accepted from {t.get('threshold', 0):.4f}. "
            f"Method {run.method}.")

