"""Painted charts of a match run: the weight histogram with its thresholds, and a pair's weight waterfall."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.views.style import colours

# Okabe-Ito, as the quality report: blue for agreement, vermillion for disagreement.
AGREE = "#0072B2"
DISAGREE = "#D55E00"
THRESHOLD = "#009E73"


def _canvas(widget: QWidget) -> tuple[QPainter, dict]:
    """A painter on ``widget`` with its background filled, and the scheme's colours."""
    c = colours()
    p = QPainter(widget)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.fillRect(widget.rect(), QColor(c["base"]))
    return p, c


def weight_of(probability: float) -> float:
    """Match weight (log2 odds) of a match probability."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


class WeightHistogram(QWidget):
    """Pairs per match-weight bin (square-root scale, as the quality report) with the review band shaded
    between the lower and upper thresholds and the acceptance threshold drawn solid; bars at or above it are
    dark (matches), below it light."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(360, 160)
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
                      (("lower", "lower"), ("upper", "upper"), ("accept", "threshold")) if key in t]
        self.setAccessibleDescription(
            f"{sum(self.counts):,} pairs in {len(self.counts)} bins; "
            + ", ".join(f"{n} threshold at weight {w:.1f}" for n, w in self.lines))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p, c = _canvas(self)
        if len(self.edges) < 2 or not self.counts:
            p.setPen(QColor(c["muted"]))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No run yet")
            return
        left, right, top, bottom = 48, 12, 40, 34
        area = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        lo, hi = self.edges[0], self.edges[-1]
        for _, w in self.lines:
            lo, hi = min(lo, w), max(hi, w)
        peak = math.sqrt(max(self.counts)) or 1.0

        def x(w: float) -> float:
            return area.left() + (w - lo) / (hi - lo or 1) * area.width()

        cuts = dict(self.lines)
        if "lower" in cuts and "upper" in cuts:
            band = QColor(THRESHOLD)
            band.setAlpha(40)
            p.fillRect(QRectF(x(cuts["lower"]), area.top(), x(cuts["upper"]) - x(cuts["lower"]), area.height()), band)
        accept = cuts.get("accept", cuts.get("upper", 0.0))
        p.setPen(QPen(QColor(c["line"])))
        p.drawLine(area.bottomLeft(), area.bottomRight())
        for n, count in enumerate(self.counts):
            if count <= 0:
                continue
            a, b = self.edges[n], self.edges[n + 1]
            height = math.sqrt(count) / peak * area.height()
            colour = AGREE if (a + b) / 2 >= accept else "#56B4E9"
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
            solid = name == "accept"
            p.setPen(QPen(QColor(THRESHOLD), 2, Qt.PenStyle.SolidLine if solid else Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x(w), area.top() - (16 if solid else 0)), QPointF(x(w), area.bottom()))
            p.setPen(QColor(c["text"]))
            # lower's label ends at its line, upper's starts there, accept's sits on a row of its own: close
            # thresholds do not overprint
            box = (QRectF(x(w) - 124, 4, 120, 16) if name == "lower" else
                   QRectF(x(w) + 4, 20, 120, 16) if solid else QRectF(x(w) + 4, 4, 120, 16))
            align = Qt.AlignmentFlag.AlignRight if name == "lower" else Qt.AlignmentFlag.AlignLeft
            p.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, f"{name} {w:.1f}")


class WeightWaterfall(QWidget):
    """Each contribution to one pair's match weight as a floating bar, running total left to right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(360, 180)  # ten parts at the smallest row height
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Why: contributions to the match weight")
        self.parts: list[tuple[str, float]] = []
        self.threshold: float | None = None

    def set_parts(self, parts: list[tuple[str, float]], threshold: float | None = None) -> None:
        self.parts, self.threshold = list(parts), threshold
        self.setAccessibleDescription("; ".join(f"{label} {w:+.2f}" for label, w in self.parts))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p, c = _canvas(self)
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


# m and u on one log scale: the engine floors both at 1e-6, so six decades hold every level.
LOG_FLOOR = -6
U_COLOUR = "#E69F00"  # Okabe-Ito orange: far lighter than AGREE's blue, so m and u part in greyscale too


class LevelChart(QWidget):
    """m and u of every comparison level as two log-scale bars side by side, with the level's weight.

    One group of rows per comparison. Rows shrink to fit (down to ``MIN_ROW`` px); below that the minimum
    size hint grows, so put the chart in a scroll area. Hovering a row shows its exact figures.
    """

    MIN_ROW = 13
    _TOP, _BOTTOM, _GAP = 20, 18, 5  # column titles, decade labels, space between comparisons

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("m and u per comparison level")
        self.setMouseTracking(True)
        self.groups: list[tuple[str, list[tuple[str, float, float, float]]]] = []
        self._rows: list[tuple[float, float, str]] = []  # painted rows: top, bottom, tooltip

    def set_run(self, record: dict) -> None:
        """Show ``record["parameters"]["comparisons"]`` (a run.json); an empty record shows "No run yet"."""
        self.groups = [(c["name"], [(lv["label"], float(lv["m"]), float(lv["u"]), float(lv["weight"]))
                                    for lv in c.get("levels", [])])
                       for c in (record.get("parameters") or {}).get("comparisons", [])]
        self.setAccessibleDescription("; ".join(
            f"{name}: " + ", ".join(f"{label} m {m:.3g} u {u:.3g} weight {w:+.1f}" for label, m, u, w in levels)
            for name, levels in self.groups))
        self.updateGeometry()
        self.update()

    def _fixed_height(self) -> int:
        return self._TOP + self._BOTTOM + self._GAP * max(0, len(self.groups) - 1)

    def minimumSizeHint(self):  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        rows = sum(len(levels) for _, levels in self.groups)
        hint.setHeight(max(120, self._fixed_height() + rows * self.MIN_ROW))
        hint.setWidth(360)
        return hint

    def sizeHint(self):  # noqa: N802 - Qt override
        hint = self.minimumSizeHint()
        hint.setWidth(460)
        return hint

    def event(self, event) -> bool:  # noqa: ANN001 - Qt override: one tooltip per painted row
        if event.type() == event.Type.ToolTip:
            y = event.pos().y()
            text = next((tip for top, bottom, tip in self._rows if top <= y < bottom), "")
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p, c = _canvas(self)
        self._rows = []
        rows = sum(len(levels) for _, levels in self.groups)
        if not rows:
            p.setPen(QColor(c["muted"]))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No run yet")
            return
        w = self.width()
        row_h = max(float(self.MIN_ROW), min(22.0, (self.height() - self._fixed_height()) / rows))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - (1.5 if row_h < 16 else 1)))
        bold = QFont(small)
        bold.setBold(True)
        name_w, weight_w = min(110, int(w * 0.2)), 44
        label_w = min(190, int(w * 0.3))
        bar_x = name_w + label_w + 12
        bar_w = max(40.0, (w - bar_x - weight_w - 14) / 2)
        columns = ((bar_x, "m (among matches)", "m", AGREE),
                   (bar_x + bar_w + 10, "u (among non-matches)", "u", U_COLOUR))

        def length(v: float) -> float:
            return max(1.5, (max(math.log10(max(v, 1e-12)), LOG_FLOOR) - LOG_FLOOR) / -LOG_FLOOR * bar_w)

        bottom = self._TOP + rows * row_h + self._GAP * (len(self.groups) - 1)
        p.setFont(small)
        metrics = p.fontMetrics()
        labelled = (-6, -4, -2, 0) if bar_w >= 110 else (-6, -3, 0)
        for x0, title, short, _ in columns:  # decade grid and axis labels
            p.setPen(QColor(c["text"]))
            p.drawText(QRectF(x0, 0, bar_w, self._TOP - 2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       title if metrics.horizontalAdvance(title) <= bar_w else short)
            for decade in range(LOG_FLOOR, 1):
                gx = x0 + (decade - LOG_FLOOR) / -LOG_FLOOR * bar_w
                p.setPen(QPen(QColor(c["line"]), 1, Qt.PenStyle.DotLine))
                p.drawLine(QPointF(gx, self._TOP), QPointF(gx, bottom))
                if decade not in labelled:
                    continue
                p.setPen(QColor(c["muted"]))
                box, align = QRectF(gx - 20, bottom + 2, 40, 14), Qt.AlignmentFlag.AlignHCenter
                if decade == LOG_FLOOR:  # the ends are labelled inwards, so neighbouring scales do not collide
                    box, align = QRectF(gx, bottom + 2, 40, 14), Qt.AlignmentFlag.AlignLeft
                elif decade == 0:
                    box, align = QRectF(gx - 40, bottom + 2, 40, 14), Qt.AlignmentFlag.AlignRight
                p.drawText(box, align, "1" if decade == 0 else f"10^{decade}")
        p.setPen(QColor(c["text"]))
        p.drawText(QRectF(w - weight_w - 4, 0, weight_w, self._TOP - 2),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "weight")
        y = float(self._TOP)
        for g, (name, levels) in enumerate(self.groups):
            if g:
                p.setPen(QColor(c["line"]))
                p.drawLine(QPointF(0, y + self._GAP / 2), QPointF(w, y + self._GAP / 2))
                y += self._GAP
            p.setFont(bold)
            p.setPen(QColor(c["text"]))
            p.drawText(QRectF(2, y, name_w - 4, row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, name_w - 4))
            p.setFont(small)
            for label, m, u, weight in levels:
                p.setPen(QColor(c["text"]))
                p.drawText(QRectF(name_w, y, label_w, row_h),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_w))
                bar_h = max(4.0, row_h - 5)
                for (x0, _, _, colour), value in zip(columns, (m, u)):
                    p.fillRect(QRectF(x0, y + (row_h - bar_h) / 2, length(value), bar_h), QColor(colour))
                p.drawText(QRectF(w - weight_w - 4, y, weight_w, row_h),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{weight:+.1f}")
                self._rows.append((y, y + row_h, f"{name}: {label}\nm {m:.6g}   u {u:.6g}   weight {weight:+.2f}"))
                y += row_h
