"""Painted charts of a match run: the weight histogram with its thresholds, and a pair's weight waterfall."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.views.style import colours

# Okabe-Ito, as the quality report: blue for agreement, vermillion for disagreement.
AGREE = "#0072B2"
DISAGREE = "#D55E00"
THRESHOLD = "#009E73"


def weight_of(probability: float) -> float:
    """Match weight (log2 odds) of a match probability."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


class WeightHistogram(QWidget):
    """Pairs per match-weight bin (square-root scale, as the quality report) with lower/upper thresholds."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(360, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Match weight histogram")
        self.edges: list[float] = []
        self.counts: list[int] = []
        self.lines: list[tuple[str, float]] = []

    def set_run(self, record: dict) -> None:
        hist = record.get("weight_histogram") or {}
        self.edges = [float(e) for e in hist.get("edges", [])]
        self.counts = [int(c) for c in hist.get("counts", [])]
        t = record.get("thresholds") or {}
        self.lines = [(name, weight_of(float(t[key]))) for name, key in
                      (("lower", "lower"), ("upper", "upper")) if key in t]
        self.setAccessibleDescription(
            f"{sum(self.counts):,} pairs in {len(self.counts)} bins; "
            + ", ".join(f"{n} threshold at weight {w:.1f}" for n, w in self.lines))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        c = colours()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(c["base"]))
        if len(self.edges) < 2 or not self.counts:
            p.setPen(QColor(c["muted"]))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No run yet")
            return
        left, right, top, bottom = 48, 12, 24, 34
        area = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        lo, hi = self.edges[0], self.edges[-1]
        for _, w in self.lines:
            lo, hi = min(lo, w), max(hi, w)
        peak = math.sqrt(max(self.counts)) or 1.0

        def x(w: float) -> float:
            return area.left() + (w - lo) / (hi - lo or 1) * area.width()

        p.setPen(QPen(QColor(c["line"])))
        p.drawLine(area.bottomLeft(), area.bottomRight())
        for n, count in enumerate(self.counts):
            if count <= 0:
                continue
            a, b = self.edges[n], self.edges[n + 1]
            height = math.sqrt(count) / peak * area.height()
            colour = AGREE if (a + b) / 2 >= (self.lines[-1][1] if self.lines else 0) else "#56B4E9"
            p.fillRect(QRectF(x(a), area.bottom() - height, max(1.0, x(b) - x(a) - 1), height), QColor(colour))
        p.setPen(QColor(c["muted"]))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        p.setFont(small)
        step = max(1, int((hi - lo) / 8) or 1)
        tick = math.ceil(lo)
        while tick <= hi:
            if (tick - math.ceil(lo)) % step == 0:
                p.drawText(QRectF(x(tick) - 20, area.bottom() + 2, 40, 14), Qt.AlignmentFlag.AlignCenter, str(tick))
            tick += 1
        p.drawText(QRectF(area.left(), self.height() - 16, area.width(), 14), Qt.AlignmentFlag.AlignCenter,
                   "match weight (log2 odds); bar height: √pairs")
        p.drawText(QRectF(0, top - 2, left - 6, 14), Qt.AlignmentFlag.AlignRight, f"{max(self.counts):,}")
        for name, w in self.lines:
            pen = QPen(QColor(THRESHOLD), 2, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x(w), area.top()), QPointF(x(w), area.bottom()))
            p.setPen(QColor(c["text"]))
            # lower's label ends at its line, upper's starts there, so close thresholds do not overprint
            box = QRectF(x(w) - 124, 4, 120, 16) if name == "lower" else QRectF(x(w) + 4, 4, 120, 16)
            align = Qt.AlignmentFlag.AlignRight if name == "lower" else Qt.AlignmentFlag.AlignLeft
            p.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, f"{name} {w:.1f}")


class WeightWaterfall(QWidget):
    """Each contribution to one pair's match weight as a floating bar, running total left to right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(360, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Why: contributions to the match weight")
        self.parts: list[tuple[str, float]] = []
        self.threshold: float | None = None

    def set_parts(self, parts: list[tuple[str, float]], threshold: float | None = None) -> None:
        self.parts, self.threshold = list(parts), threshold
        self.setAccessibleDescription("; ".join(f"{label} {w:+.2f}" for label, w in self.parts))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        c = colours()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(c["base"]))
        if not self.parts:
            p.setPen(QColor(c["muted"]))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Select a pair to see why it scored as it did")
            return
        label_w, right = min(260, self.width() // 2), 56
        row_h = max(14, min(24, (self.height() - 30) // (len(self.parts) + 1)))
        totals, run = [], 0.0
        for _, w in self.parts:
            totals.append((run, run + w))
            run += w
        values = [v for pair in totals for v in pair] + [0.0] + ([self.threshold] if self.threshold is not None else [])
        lo, hi = min(values), max(values)
        span = hi - lo or 1.0
        x0, width = label_w + 8 + right, self.width() - label_w - 8 - 2 * right  # room for labels both sides

        def x(v: float) -> float:
            return x0 + (v - lo) / span * width

        p.setPen(QColor(c["line"]))
        p.drawLine(QPointF(x(0), 4), QPointF(x(0), 8 + row_h * (len(self.parts) + 1)))
        metrics = p.fontMetrics()
        for n, ((label, w), (a, b)) in enumerate(zip(self.parts, totals)):
            y = 6 + n * row_h
            p.setPen(QColor(c["text"]))
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_w)
            p.drawText(QRectF(0, y, label_w, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            bar = QRectF(x(min(a, b)), y + 3, max(1.5, abs(x(b) - x(a))), row_h - 6)
            p.fillRect(bar, QColor(AGREE if w >= 0 else DISAGREE))
            if w >= 0:
                p.drawText(QRectF(bar.right() + 4, y, right, row_h), Qt.AlignmentFlag.AlignVCenter, f"{w:+.1f}")
            else:  # a falling bar is labelled on its left, away from the running total's next bar
                p.drawText(QRectF(bar.left() - right - 4, y, right, row_h),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{w:+.1f}")
        y = 6 + len(self.parts) * row_h
        p.setPen(QColor(c["text"]))
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(QRectF(0, y, label_w, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   "match weight")
        p.fillRect(QRectF(x(min(0, run)), y + 3, max(1.5, abs(x(run) - x(0))), row_h - 6), QColor(c["text"]))
        p.drawText(QRectF(x(max(0, run)) + 4, y, right + 40, row_h), Qt.AlignmentFlag.AlignVCenter, f"{run:.1f}")
        if self.threshold is not None:
            p.setPen(QPen(QColor(THRESHOLD), 2, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x(self.threshold), 4), QPointF(x(self.threshold), y + row_h))
