"""Bar, line and pie charts (reportlab.graphics) in a palette that colour-blind readers and greyscale
printers can both tell apart.

The Okabe–Ito colours are ordered so that neighbouring series differ in lightness, every series is also
labelled directly (values on bars and wedges) and lines differ in dash pattern and marker too, so no chart
depends on colour alone.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth

from .fonts import BODY, BOLD, clean, fit
from .formatting import number
from .layout import FRAME_WIDTH, INK, MUTED, RULE

# Okabe–Ito, ordered for lightness contrast between neighbours (grey values ~87, 162, 213, 106, 151, 158).
# Black comes last: a black wedge or bar outweighs everything else on the page.
PALETTE = [colors.HexColor(c) for c in ("#0072B2", "#E69F00", "#F0E442", "#009E73", "#CC79A7", "#56B4E9",
                                        "#D55E00", "#000000")]
# Lines are thin: no yellow (it vanishes on white paper), and dark/mid/black for greyscale.
LINE_PALETTE = [colors.HexColor(c) for c in ("#0072B2", "#D55E00", "#000000", "#009E73")]
DASHES: list[list[float] | None] = [None, [5, 2.5], [1.2, 2], [6, 2, 1.2, 2]]
MARKERS = ["FilledCircle", "FilledSquare", "FilledTriangle", "FilledDiamond"]
_FONT_SIZE = 7.5


def _legend(d: Drawing, names: Sequence[str], y: float, palette: Sequence[colors.Color], *,
            dashes: Sequence[list[float] | None] | None = None) -> None:
    x = 0.0
    for k, name in enumerate(names):
        if dashes is not None:
            d.add(Line(x, y + 3, x + 18, y + 3, strokeColor=palette[k % len(palette)], strokeWidth=1.6,
                       strokeDashArray=dashes[k % len(dashes)]))
            x += 22
        else:
            d.add(Rect(x, y, 9, 7, fillColor=palette[k % len(palette)], strokeColor=INK, strokeWidth=0.4))
            x += 13
        label = clean(name)
        d.add(String(x, y, label, fontName=BODY, fontSize=_FONT_SIZE, fillColor=INK))
        x += stringWidth(label, BODY, _FONT_SIZE) + 14


def _title(d: Drawing, title: str, height: float) -> None:
    if title:
        d.add(String(0, height - 10, clean(title), fontName=BOLD, fontSize=9, fillColor=INK))


def bar_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str = "",
              horizontal: bool = False, width: float = FRAME_WIDTH, height: float | None = None,
              fmt: Callable[[float], str] = number, palette: Sequence[colors.Color] = PALETTE) -> Drawing:
    """Grouped bars, one group per category, one bar per series, each bar labelled with its value.

    Horizontal charts list categories top to bottom as given and grow with their number; pass ``height`` to
    fix it. ``palette`` gives the series' colours in order.
    """
    n_series = max(len(series), 1)
    if height is None:
        height = (max(len(categories), 1) * (6 * n_series + 5) + 50) if horizontal else 2.6 * inch
    d = Drawing(width, height)
    _title(d, title, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    legend_room = 18 if len(series) > 1 else 0
    # Horizontal category labels sit left of the bars: room for the longest, within reason, cut beyond that.
    label_room = min(150.0, max((stringWidth(clean(c), BODY, _FONT_SIZE) for c in categories), default=0) + 14)
    chart.x = label_room + 4 if horizontal else 30
    chart.y = 14 + legend_room if horizontal else 16 + legend_room
    top = max((v for _, values in series for v in values), default=0)
    # Value labels sit beyond the longest bar (horizontal): leave room for the widest one.
    right_room = stringWidth(fmt(top), BODY, 6.5) + 8 if horizontal else 10
    chart.width = width - chart.x - right_room
    chart.height = height - chart.y - (26 if title else 12)
    data = [list(values) for _, values in series] or [[0] * len(categories)]
    names = [fit(c, BODY, _FONT_SIZE, label_room - 14) if horizontal else clean(c) for c in categories]
    colours = [palette[k % len(palette)] for k in range(len(data))]
    if horizontal:
        # reportlab draws the first category and the first series at the bottom: flip both so the chart
        # reads top-down like the table beside it.
        data = [v[::-1] for v in data[::-1]]
        names = names[::-1]
        colours = colours[::-1]
    chart.data = data
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = BODY
    chart.categoryAxis.labels.fontSize = _FONT_SIZE
    chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.labels.fontName = BODY
    chart.valueAxis.labels.fontSize = _FONT_SIZE
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: fmt(v)
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
    chart.valueAxis.gridStrokeWidth = 0.4
    if top <= 0:
        chart.valueAxis.valueMax = 1
    elif top < 5:
        chart.valueAxis.valueMax = 5
        chart.valueAxis.valueStep = 1
    if horizontal:
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -6
    else:
        chart.categoryAxis.labels.boxAnchor = "n"
    chart.barSpacing = 1
    chart.groupSpacing = 5
    for k in range(len(chart.data)):
        chart.bars[k].fillColor = colours[k]
        chart.bars[k].strokeColor = INK
        chart.bars[k].strokeWidth = 0.3
    chart.barLabelFormat = lambda v: fmt(v)
    chart.barLabels.fontName = BODY
    chart.barLabels.fontSize = 6.5
    chart.barLabels.fillColor = INK
    if horizontal:
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
    else:
        chart.barLabels.boxAnchor = "s"
        chart.barLabels.dy = 2
    d.add(chart)
    if len(series) > 1:
        _legend(d, [name for name, _ in series], 0, palette)
    return d


def line_chart(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
               title: str = "", width: float = FRAME_WIDTH, height: float = 2.5 * inch,
               fmt: Callable[[float], str] = number, palette: Sequence[colors.Color] = LINE_PALETTE,
               dashes: Sequence[list[float] | None] = DASHES) -> Drawing:
    """One line per series across ``x_labels``; series differ in colour, dash pattern and marker."""
    d = Drawing(width, height)
    _title(d, title, height)
    chart = HorizontalLineChart()
    chart.x, chart.y = 34, 40
    chart.width = width - chart.x - 10
    chart.height = height - chart.y - (20 if title else 8)
    chart.data = [list(v) for _, v in series] or [[0] * len(x_labels)]
    chart.categoryAxis.categoryNames = [clean(x) for x in x_labels]
    chart.categoryAxis.labels.fontName = BODY
    chart.categoryAxis.labels.fontSize = _FONT_SIZE
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.labels.fontName = BODY
    chart.valueAxis.labels.fontSize = _FONT_SIZE
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.labelTextFormat = lambda v: fmt(v)
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
    chart.valueAxis.gridStrokeWidth = 0.4
    top = max((v for _, values in series for v in values if v is not None), default=0)
    if top < 5:
        chart.valueAxis.valueMax = 5
        chart.valueAxis.valueStep = 1
    for k in range(len(chart.data)):
        line = chart.lines[k]
        line.strokeColor = palette[k % len(palette)]
        line.strokeWidth = 1.6
        line.strokeDashArray = dashes[k % len(dashes)]
        line.symbol = makeMarker(MARKERS[k % len(MARKERS)], size=4, fillColor=palette[k % len(palette)],
                                 strokeColor=INK, strokeWidth=0.3)
    d.add(chart)
    _legend(d, [name for name, _ in series], 4, palette, dashes=dashes)
    return d


def pie_chart(labels: Sequence[str], values: Sequence[float], *, title: str = "",
              width: float = FRAME_WIDTH, height: float = 2.3 * inch,
              fmt: Callable[[float], str] = number) -> Drawing:
    """A pie with every wedge labelled outside with its name, value and share (no legend needed).

    Zero wedges are left out; an all-zero pie draws a note instead of a circle.
    """
    d = Drawing(width, height)
    _title(d, title, height)
    kept = [(lab, v) for lab, v in zip(labels, values, strict=True) if v > 0]
    total = sum(v for _, v in kept)
    if not kept:
        d.add(String(0, height / 2, "Nothing to show for this period.", fontName=BODY, fontSize=8,
                     fillColor=MUTED))
        return d
    pie = Pie()
    size = min(height - 44, width * 0.45)
    pie.width = pie.height = size
    pie.x = (width - size) / 2
    pie.y = (height - (16 if title else 0) - size) / 2
    pie.data = [v for _, v in kept]
    # Side labels sit beside the pie: cut long names so they stay on the page.
    room = (width - size) / 2 - 30
    pie.labels = [fit(f"{lab}: {fmt(v)} ({100 * v / total:.0f}%)", BODY, _FONT_SIZE, room) for lab, v in kept]
    pie.sideLabels = True
    pie.simpleLabels = False
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 1
    pie.slices.fontName = BODY
    pie.slices.fontSize = _FONT_SIZE
    pie.slices.label_pointer_strokeColor = MUTED
    pie.startAngle = 90
    pie.direction = "clockwise"
    for k in range(len(kept)):
        pie.slices[k].fillColor = PALETTE[k % len(PALETTE)]
    d.add(pie)
    return d

