"""Clerical review of a run's review band: one pair at a time, side by side, keyboard first.

Y match, N non-match, S skip, U undo. Each decision is a service call (reviewer and time recorded). In a
two-person review the second round shows nothing of the first.
"""
from __future__ import annotations

import html
from difflib import SequenceMatcher

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.errors import ServiceError
from app.services.hub import RunInfo, load_review, why
from app.views.hub.charts import WeightWaterfall, weight_of
from app.views.hub.common import Notice, attempt, fill_runs
from app.views.widgets import heading

HIGHLIGHT = "#ffd28a"
KEYS = {Qt.Key.Key_Y: "match", Qt.Key.Key_N: "non-match", Qt.Key.Key_S: "skip"}


def highlight_differences(left: str, right: str) -> tuple[str, str]:
    """HTML of both values (escaped) with the characters that differ marked."""
    def mark(text: str) -> str:
        return f'<span style="background:{HIGHLIGHT}; color:#000">{html.escape(text)}</span>' if text else ""
    a, b = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if op == "equal":
            a.append(html.escape(left[i1:i2]))
            b.append(html.escape(right[j1:j2]))
        else:
            a.append(mark(left[i1:i2]))
            b.append(mark(right[j1:j2]))
    return "".join(a), "".join(b)


class PairPanel(QFrame):
    """Takes the keyboard: the review's keys act here, wherever the mouse is."""

    def __init__(self, tab: ReviewTab):
        super().__init__()
        self.tab = tab
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Pair under review (Y match, N non-match, S skip, U undo)")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = Qt.Key(event.key())
        if key in KEYS:
            self.tab.decide(KEYS[key])
        elif key == Qt.Key.Key_U:
            self.tab.undo()
        else:
            super().keyPressEvent(event)


class ReviewTab(QWidget):
    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self.run: RunInfo | None = None
        self.pairs = pd.DataFrame()
        self.decided: dict[tuple[str, str], str] = {}
        self.position = 0
        self._loaded: tuple | None = None
        self.runs, self.round = QComboBox(), QComboBox()
        self.runs.setAccessibleName("Run to review")
        self.round.setAccessibleName("Review round")
        self.runs.currentIndexChanged.connect(lambda _: self.load())
        self.round.currentIndexChanged.connect(lambda _: self.load())
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.runs, 1)
        top.addWidget(QLabel("Round"))
        top.addWidget(self.round)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Review progress")
        self.panel = PairPanel(self)
        self.header = QLabel(wordWrap=True)
        self.comparison = QLabel()
        self.comparison.setTextFormat(Qt.TextFormat.RichText)
        self.comparison.setAccessibleName("Left and right values")
        inner = QVBoxLayout(self.panel)
        inner.addWidget(self.header)
        inner.addWidget(self.comparison)
        inner.addStretch(1)
        buttons = QHBoxLayout()
        for text, slot in (("Match (Y)", lambda: self.decide("match")),
                           ("Non-match (N)", lambda: self.decide("non-match")),
                           ("Skip (S)", lambda: self.decide("skip")), ("Undo (U)", self.undo)):
            button = QPushButton(text)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep the keyboard on the pair
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.notice = Notice()
        self.waterfall = WeightWaterfall()
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.panel, 1)
        left.addLayout(buttons)
        body.addLayout(left, 1)
        right = QVBoxLayout()
        right.addWidget(heading("Why: each field's contribution to the match weight"))
        right.addWidget(self.waterfall, 1)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addLayout(body, 1)
        layout.addWidget(self.notice)

    def request_changed(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        rid = self.page.request_id()
        runs = [r for r in self.page.hub.runs(rid) if r.destroyed_at is None] if rid is not None else []
        fill_runs(self.runs, runs, lambda r: f"Run {r.id} — {r.finished_at:%Y-%m-%d %H:%M} UTC — {r.method}")
        self.load()

    def load(self) -> None:
        run_id = self.runs.currentData()
        self.notice.hide()
        if run_id is None:
            self.run, self.pairs = None, pd.DataFrame()
            self._show()
            return
        self.run = self.page.hub.run(run_id)
        rounds = ["First review"] + (["Second review (blind)"] if self.run.two_person_review else [])
        if [self.round.itemText(i) for i in range(self.round.count())] != rounds:
            self.round.blockSignals(True)
            self.round.clear()
            self.round.addItems(rounds)
            self.round.blockSignals(False)
        if self._loaded != (self.run.id, self.run.destroyed_at):  # review.tsv is read once per run
            try:
                self.pairs = load_review(self.run)
                self._loaded = (self.run.id, self.run.destroyed_at)
            except ServiceError as error:
                self.pairs = pd.DataFrame()
                self.notice.error(error)
        self._reload_decisions()
        self.position = self._next_open(0)
        self._show()
        self.panel.setFocus()

    @property
    def round_number(self) -> int:
        return self.round.currentIndex() + 1

    def _reload_decisions(self) -> None:
        self.decided = {}
        if self.run is not None:
            for d in self.page.hub.decisions(self.run.id, round=self.round_number):
                self.decided[(d.left_id, d.right_id)] = d.decision

    def _pair_key(self, i: int) -> tuple[str, str]:
        row = self.pairs.iloc[i]
        return row["left_id"], row["right_id"]

    def _next_open(self, start: int) -> int:
        for i in range(start, len(self.pairs)):
            if self._pair_key(i) not in self.decided:
                return i
        return len(self.pairs)

    def decide(self, decision: str) -> None:
        if self.run is None or self.position >= len(self.pairs):
            return
        here = self.position
        left, right = self._pair_key(here)
        # The change broadcast may reload this tab during the call (same thread): continue from `here`.
        ok, _ = attempt(self.notice, lambda: self.page.hub.decide(self.run.id, left, right, decision,
                                                                   round=self.round_number))
        if ok:
            self.notice.hide()
            self.decided[(left, right)] = decision
            self.position = self._next_open(here + 1)
            if self.position >= len(self.pairs):
                self.position = self._next_open(0)
            self._show()

    def undo(self) -> None:
        if self.run is None:
            return
        ok, last = attempt(self.notice, lambda: self.page.hub.undo(self.run.id, round=self.round_number))
        if ok and last is not None:
            self._reload_decisions()
            keys = [self._pair_key(i) for i in range(len(self.pairs))]
            self.position = keys.index((last.left_id, last.right_id)) if (last.left_id, last.right_id) in keys else 0
            self.notice.ok(f"Withdrew the decision '{last.decision}' on this pair.")
            self._show()

    def _show(self) -> None:
        total = len(self.pairs)
        done = sum(1 for i in range(total) if self._pair_key(i) in self.decided) if total else 0
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total} pairs decided")
        if self.run is None or total == 0:
            self.header.setText("No run with pairs to review for this request." if self.run is None
                                else "This run has no pairs in the review band.")
            self.comparison.setText("")
            self.waterfall.set_parts([])
            return
        if self.position >= total:
            self.header.setText("Every pair in the review band is decided. U withdraws your last decision.")
            self.comparison.setText("")
            self.waterfall.set_parts([])
            return
        row = self.pairs.iloc[self.position]
        comparisons = [c["name"] for c in self.run.record["parameters"]["comparisons"]]
        lines = []
        for name in comparisons:
            if f"{name}_left" not in row.index:
                continue
            a, b = highlight_differences(str(row[f"{name}_left"]), str(row[f"{name}_right"]))
            lines.append(f"<tr><td><b>{html.escape(name)}</b></td><td>{a or '—'}</td><td>{b or '—'}</td>"
                         f"<td><i>{html.escape(str(row.get(f'{name}_level', '')))}</i></td></tr>")
        self.comparison.setText(
            '<table cellspacing="0" cellpadding="5"><tr><th align="left">Field</th><th align="left">Left '
            f'({html.escape(row["left_id"])})</th><th align="left">Right ({html.escape(row["right_id"])})</th>'
            '<th align="left">Level</th></tr>' + "".join(lines) + "</table>")
        mine = self.decided.get((row["left_id"], row["right_id"]))
        model = "" if self.round_number == 2 else f" · model says: {row['decision']}"
        self.header.setText(f"Pair {self.position + 1} of {total} · weight {float(row['match_weight']):.2f} · "
                            f"probability {float(row['match_probability']):.3f}{model}"
                            + (f" · decided: {mine}" if mine else ""))
        threshold = self.run.record.get("thresholds", {}).get("threshold")
        self.waterfall.set_parts(why(self.run.record, row), weight_of(threshold) if threshold else None)
