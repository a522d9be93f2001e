"""Run a match: a five-step wizard (files and method, preview and columns, score the pairs, passes and
thresholds, results).

The engine runs in a child process driven from an ``app.jobs.Job``; progress, ETA and Cancel are on the page
itself (no modal dialog), so the rest of the workspace stays usable. Once the pairs are scored the child waits
with them: the passes and thresholds step shows live counts per band (from ``engine.Bands``, counted here in
microseconds; a change of passes is asked of the child) and "Write results" lets it finish.
"""
from __future__ import annotations

import csv
import math
import queue
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
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
from app.matching import Bands, MatchCancelled
from app.matching.standardise import INPUT_COLUMNS
from app.services.hub import (
    RunInfo,
    approved_methods,
    destroy_folder,
    match_files_in_process,
    relay_chooser,
)
from app.views.hub.charts import WeightHistogram
from app.views.hub.common import Notice
from app.views.hub.results import RunResults
from app.views.widgets import heading

IGNORE = "(not used)"
PREVIEW_ROWS = 8
STEPS = ("Files and method", "Preview and columns", "Score the pairs", "Passes and thresholds", "Results")
SCORE, CHOOSE, RESULTS = 2, 3, 4


def _key(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _header(path: str) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        return next(csv.reader(f, delimiter="\t"), [])


def _offer(bands: Bands, allowed: list[str]) -> tuple[Bands, list[str], dict]:
    """What the worker hands the window: the bands, the passes allowed and their weights' histogram (made
    here, off the GUI thread: a million probabilities take tens of milliseconds)."""
    p = np.clip(bands.probabilities, 1e-12, 1 - 1e-12)
    weights = np.log2(p / (1 - p))
    lo = math.floor(weights.min()) if len(weights) else -10
    hi = math.ceil(weights.max()) + 1 if len(weights) else 10
    counts, edges = np.histogram(weights, np.arange(max(lo, -60), min(hi, 60) + 1, 1.0))
    return bands, allowed, {"edges": edges.tolist(), "counts": counts.tolist()}


class MatchTab(QWidget):
    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self.job: Job | None = None
        self.last_run: RunInfo | None = None
        self.bands: Bands | None = None        # what the waiting child offers, shown on the CHOOSE step
        self.allowed: list[str] = []
        self._latest = [0.0, ""]
        self._offer: list = [None]              # written by the worker thread, read by the timer
        self._shown_offer = None
        self._commands: queue.Queue | None = None
        self._started = 0.0
        self._waiting_since = 0.0
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._show_progress)
        self.step_title = heading("")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._files_step())
        self.stack.addWidget(self._preview_step())
        self.stack.addWidget(self._score_step())
        self.stack.addWidget(self._choose_step())
        self.stack.addWidget(self._results_step())
        self.back = QPushButton("◀ &Back")
        self.next = QPushButton("&Next ▶")
        self.back.clicked.connect(lambda: self.go(self.stack.currentIndex() - 1))
        self.next.clicked.connect(lambda: self.go(self.stack.currentIndex() + 1))
        self.notice = Notice()
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Match progress")
        self.eta = QLabel(objectName="muted")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta)
        progress_row.addWidget(self.cancel_button)
        nav = QHBoxLayout()
        nav.addWidget(self.notice, 1)
        nav.addStretch(0)
        nav.addWidget(self.back)
        nav.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addWidget(self.step_title)
        layout.addWidget(self.stack, 1)
        layout.addLayout(progress_row)
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

    def _score_step(self) -> QWidget:
        w = QWidget()
        layout = QVBoxLayout(w)
        layout.addWidget(QLabel(
            "The engine reads both files, learns the method's model from them and scores every candidate pair, "
            "in a separate process. Nothing is written yet: next you choose the passes and thresholds with the "
            "number of pairs each choice puts in every band.", wordWrap=True))
        self.run_button = QPushButton("&Score pairs")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        return w

    def _choose_step(self) -> QWidget:
        w = QWidget()
        grid = QGridLayout(w)
        passes_box = QGroupBox("Deterministic passes (exact keys, before the probabilistic pass)")
        self.pass_layout = QVBoxLayout(passes_box)
        self.pass_boxes: dict[str, QCheckBox] = {}
        cuts = QGroupBox("Thresholds (match probabilities)")
        form = QFormLayout(cuts)
        self.auto_threshold = QCheckBox("Use the model's choice")
        self.auto_threshold.setToolTip("The acceptance threshold with the best expected F1, and a review band "
                                       "of the method's width around it")
        self.auto_threshold.setChecked(True)
        self.lower, self.threshold, self.upper = QDoubleSpinBox(), QDoubleSpinBox(), QDoubleSpinBox()
        for spin, name in ((self.lower, "Lower threshold"), (self.threshold, "Acceptance threshold"),
                           (self.upper, "Upper threshold")):
            spin.setRange(0.0001, 0.9999)
            spin.setDecimals(4)
            spin.setSingleStep(0.01)
            spin.setAccessibleName(name)
            spin.setEnabled(False)
            spin.valueChanged.connect(self._update_counts)
        self.auto_threshold.toggled.connect(self._auto_toggled)
        form.addRow("", self.auto_threshold)
        form.addRow("Review from", self.lower)
        form.addRow("Accept as a match from", self.threshold)
        form.addRow("Review up to", self.upper)
        form.addRow("", QLabel("Pairs from “review from” up to “review up to” go to clerical review; those at or "
                               "above the acceptance threshold count as matches until a reviewer says otherwise.",
                               objectName="muted", wordWrap=True))
        counts = QGroupBox("What these choices give")
        counts_layout = QGridLayout(counts)
        self.count_labels = {}
        for column, (key, title) in enumerate((("matches", "Matches"), ("review", "To review"),
                                               ("below", "Below review"))):
            number = QLabel("–", objectName="bigNumber")
            number.setAccessibleName(title)
            counts_layout.addWidget(QLabel(title, objectName="muted"), 0, column)
            counts_layout.addWidget(number, 1, column)
            self.count_labels[key] = number
        self.count_detail = QLabel(objectName="muted", wordWrap=True)
        self.count_detail.setAccessibleName("Counts per band")
        counts_layout.addWidget(self.count_detail, 2, 0, 1, 3)
        self.choice_histogram = WeightHistogram()
        self.choice_histogram.setAccessibleName("Match weights of the pairs the probabilistic pass decides on")
        self.write_button = QPushButton("&Write results")
        self.write_button.clicked.connect(self.write)
        choices = QVBoxLayout()
        for box in (passes_box, cuts, counts):
            choices.addWidget(box)
        choices.addStretch(1)
        chart = QVBoxLayout()
        chart.addWidget(heading("Match weights of the pairs still undecided, with the thresholds"))
        chart.addWidget(self.choice_histogram, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.write_button)
        chart.addLayout(row)
        grid.addLayout(choices, 0, 0)
        grid.addLayout(chart, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        return w

    def _results_step(self) -> QWidget:
        self.results = RunResults()
        return self.results

    # -- navigation -----------------------------------------------------------------------------------------
    def _can_enter(self, step: int) -> bool:
        if step == CHOOSE:
            return self.waiting
        if step == RESULTS:
            return self.last_run is not None and not self.running
        return True

    def go(self, step: int) -> None:
        step = max(0, min(step, len(STEPS) - 1))
        if step == 1 and not self._check_files():
            return
        if not self._can_enter(step):
            return
        if step == 1:
            self._fill_preview()
        self.stack.setCurrentIndex(step)
        self.step_title.setText(f"Step {step + 1} of {len(STEPS)}: {STEPS[step]}")
        self._update_navigation()

    def _update_navigation(self) -> None:
        step = self.stack.currentIndex()
        self.back.setEnabled(step > 0 and not self.running)
        self.next.setEnabled(step < len(STEPS) - 1 and self._can_enter(step + 1))

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.is_running

    @property
    def waiting(self) -> bool:
        """The pairs are scored and the child waits for the choice of passes and thresholds."""
        return self.running and self.bands is not None

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
        method_path = self.method.currentData()
        two_person = self.two_person.isChecked()
        latest = self._latest = [0.0, "Starting the matching process"]
        offer = self._offer = [None]
        commands = self._commands = queue.Queue()

        def report(fraction: float, message: str) -> None:  # worker thread: only stores, the timer shows it
            latest[:] = [fraction, message]

        def work(ctx):  # noqa: ANN001 - JobContext; runs on a worker thread
            # The chooser runs here while the child waits; the timer shows what it offers.
            choose = relay_chooser(lambda bands, allowed: offer.__setitem__(0, _offer(bands, allowed)), commands,
                                   ctx.cancel_event.is_set)
            record = match_files_in_process(left, right, out_dir, method_path=method_path, column_map=maps,
                                            progress=report, cancel=ctx.cancel_event, choose=choose)
            # Recorded here, not on the GUI thread: the commit's fsync alone can take tens of milliseconds.
            try:
                return hub.record_run(rid, left.id, right.id, out_dir, record, two_person_review=two_person)
            except BaseException:   # outputs the match log does not know of must not stay on disk
                destroy_folder(out_dir)
                raise

        def done(run_id: int) -> None:
            self._set_running(False)
            self.last_run = hub.run(run_id)
            self.show_results(self.last_run)
            self.go(RESULTS)
            self.notice.ok(f"Run {run_id} is written and in the match log. Review its uncertain pairs on the "
                           "Review tab.")

        def failed(error: BaseException) -> None:
            self._set_running(False)
            self.progress.setValue(0)
            if self.stack.currentIndex() == CHOOSE:
                self.go(SCORE)
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

    def busy(self) -> bool:
        """Scoring or writing: an idle lock now would throw the work away (waiting for a choice is not busy)."""
        return self.running and not self.waiting

    def stop_work(self, timeout: float = 120.0) -> None:
        """Cancel a run and wait until its child has removed what it wrote: called before the store closes."""
        if not self.running:
            return
        self.cancel()
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.02)

    def write(self) -> None:
        """Let the waiting child decide with the passes and thresholds on screen and write the outputs."""
        if not self.waiting:
            return
        cuts = self._cutoffs()
        if cuts is None:
            return
        options = {"passes": self._chosen_passes()}
        if not self.auto_threshold.isChecked():
            options.update(zip(("lower", "threshold", "upper"), cuts))
        self._commands.put(("decide", options))
        self._started += time.monotonic() - self._waiting_since   # the ETA counts the work, not the choosing
        self.bands = None
        self._set_choosing(False)
        self._update_navigation()

    def _set_running(self, running: bool) -> None:
        if not running:
            self._poll.stop()
            self.bands, self._shown_offer = None, None
            self._set_choosing(False)
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self._update_navigation()
        if not running:
            self.eta.setText("")

    def _show_progress(self) -> None:
        # Polled by a timer instead of relayed by signals: PySide6 6.12 drops a reference to True on every
        # Python-side emit(), which crashes Python 3.11 after a few thousand progress signals (a long match).
        offer = self._offer[0]
        if offer is not None and offer is not self._shown_offer and self.running:
            self._shown_offer = offer
            self._show_bands(*offer)
        if self.waiting:
            self.progress.setValue(int(0.9 * 1000))
            self.progress.setFormat("Scored: waiting for your choice of passes and thresholds")
            self.eta.setText("")
            return
        fraction, message = self._latest
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.progress.setFormat(f"{message} — %p%" if message else "%p%")
        self.eta.setText(describe_eta(estimate_remaining(fraction, time.monotonic() - self._started)))

    # -- choosing passes and thresholds -----------------------------------------------------------------------
    def _show_bands(self, bands: Bands, allowed: list[str], histogram: dict) -> None:
        first = self.bands is None
        if first:
            self._waiting_since = time.monotonic()
        self.bands, self.allowed = bands, allowed
        if first:
            for box in self.pass_boxes.values():
                box.deleteLater()
            self.pass_boxes = {}
            for name in allowed:
                box = QCheckBox(name)
                box.setChecked(True)
                box.toggled.connect(self._passes_toggled)
                self.pass_layout.addWidget(box)
                self.pass_boxes[name] = box
            if not allowed:
                self.pass_boxes[""] = QCheckBox("This method has no deterministic pass these files allow.")
                self.pass_boxes[""].setEnabled(False)
                self.pass_layout.addWidget(self.pass_boxes[""])
        fixed = {d["name"]: d["matches"] for d in bands.deterministic}
        for name in allowed:
            self.pass_boxes[name].setText(f"{name}: {fixed[name]:,} pairs linked" if name in fixed
                                          else f"{name}: off")
        self._choice_hist = histogram
        self._set_choosing(True)
        if self.auto_threshold.isChecked():
            self._show_model_cutoffs()
        self._update_counts()
        if self.stack.currentIndex() == SCORE:
            self.go(CHOOSE)
        self._update_navigation()

    def _set_choosing(self, on: bool) -> None:
        for box in self.pass_boxes.values():
            box.setEnabled(on and bool(self.allowed))
        self.auto_threshold.setEnabled(on)
        for spin in (self.lower, self.threshold, self.upper):
            spin.setEnabled(on and not self.auto_threshold.isChecked())
        self.write_button.setEnabled(on)

    def _chosen_passes(self) -> list[str]:
        return [name for name in self.allowed if self.pass_boxes[name].isChecked()]

    def _passes_toggled(self) -> None:
        if not self.waiting:
            return
        self.count_detail.setText("Counting with the new passes…")
        self.write_button.setEnabled(False)   # until the counts shown are the ones that will be written
        self._commands.put(("passes", self._chosen_passes()))

    def _auto_toggled(self, on: bool) -> None:
        for spin in (self.lower, self.threshold, self.upper):
            spin.setEnabled(not on and self.waiting)
        if on and self.bands is not None:
            self._show_model_cutoffs()
        self._update_counts()

    def _show_model_cutoffs(self) -> None:
        for spin, value in ((self.lower, self.bands.lower), (self.threshold, self.bands.threshold),
                            (self.upper, self.bands.upper)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def _cutoffs(self) -> tuple[float, float, float] | None:
        """(lower, threshold, upper) as the engine will use them; None (and a message) if out of order."""
        if self.bands is None:
            return None
        if self.auto_threshold.isChecked():   # the model's exact values, not the spin boxes' rounding
            return self.bands.lower, self.bands.threshold, self.bands.upper
        cuts = self.lower.value(), self.threshold.value(), self.upper.value()
        if not cuts[0] <= cuts[1] <= cuts[2]:
            self.notice.error("Thresholds must be in order: review from ≤ accept from ≤ review up to.")
            return None
        self.notice.hide()
        return cuts

    def _update_counts(self) -> None:
        bands = self.bands
        if bands is None:
            return
        cuts = self._cutoffs()
        pending = self._chosen_passes() != [d["name"] for d in bands.deterministic]   # asked, not yet counted
        self.write_button.setEnabled(self.waiting and cuts is not None and not pending)
        if cuts is None:
            for label in self.count_labels.values():
                label.setText("–")
            return
        lower, threshold, upper = cuts
        n = bands.counts(threshold, lower, upper)
        e = bands.estimates(threshold)
        self.count_labels["matches"].setText(f"{n['matches']:,}")
        self.count_labels["review"].setText(f"{n['review']:,}")
        self.count_labels["below"].setText(f"{n['below']:,}")
        self.count_detail.setText(
            f"Matches: {n['deterministic']:,} from the deterministic passes + {n['accepted']:,} accepted by the "
            f"probabilistic pass. Estimated precision {e['precision']:.3f}, recall {e['recall']:.3f}, F1 "
            f"{e['f1']:.3f} (about {e['expected_false_matches']:,.0f} false matches and "
            f"{e['expected_missed_matches']:,.0f} missed).")
        self.choice_histogram.set_run({"weight_histogram": self._choice_hist,
                                       "thresholds": {"lower": lower, "threshold": threshold, "upper": upper}})

    def show_results(self, run: RunInfo) -> None:
        self.progress.setValue(1000)
        self.progress.setFormat("Done")
        self.results.set_run(run, blind=run.two_person_review)   # nobody has reviewed a run just made
