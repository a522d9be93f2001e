"""The report toolkit: page layout, type scale, tables and building blocks every P20 WIN report shares.

One plain state style: black text, one dark-blue accent for headings and rules, no decoration. US Letter,
because the legislature prints on it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app import __version__

from .fonts import BODY, BOLD, clean, fit, literal, register_fonts
from .formatting import long_date

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 0.75 * inch
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN

INK = colors.HexColor("#1A1A1A")
ACCENT = colors.HexColor("#1F3A5F")  # dark state blue: headings, rules, header band
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#9A9A9A")
SHADE = colors.HexColor("#EEF1F5")  # table header and zebra rows: light enough to print on any printer

AUTHOR = "Office of Policy and Management, P20 WIN Operating Group"


def _style(name: str, size: float, leading: float, **kw: object) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=kw.pop("fontName", BODY), fontSize=size, leading=leading,
                          textColor=kw.pop("textColor", INK), **kw)


register_fonts()
# One type scale: 24 / 15 / 11.5 / 9.5 / 8.5 / 7.5 pt.
STYLES: dict[str, ParagraphStyle] = {
    "title": _style("title", 24, 29, fontName=BOLD, textColor=ACCENT, spaceAfter=10),
    "subtitle": _style("subtitle", 15, 19, textColor=INK, spaceAfter=6),
    "h1": _style("h1", 15, 19, fontName=BOLD, textColor=ACCENT, spaceBefore=12, spaceAfter=8),
    "h2": _style("h2", 11.5, 14.5, fontName=BOLD, textColor=INK, spaceBefore=10, spaceAfter=5),
    "body": _style("body", 9.5, 13.5, spaceAfter=6),
    "cell": _style("cell", 8.5, 10.5),
    "cell_right": _style("cell_right", 8.5, 10.5, alignment=TA_RIGHT),
    "cell_center": _style("cell_center", 8.5, 10.5, alignment=TA_CENTER),
    "cell_head": _style("cell_head", 8.5, 10.5, fontName=BOLD),
    "cell_head_right": _style("cell_head_right", 8.5, 10.5, fontName=BOLD, alignment=TA_RIGHT),
    "small": _style("small", 7.5, 9.5, textColor=MUTED, spaceBefore=3, spaceAfter=4),
    "figure": _style("figure", 20, 24, fontName=BOLD, textColor=ACCENT, alignment=TA_LEFT),
    "figure_label": _style("figure_label", 8.5, 10.5, textColor=MUTED),
}


@dataclass(frozen=True)
class ReportInfo:
    """What a report is: its title (running header, document metadata), subject, and the date it is as of."""

    title: str
    subject: str
    as_of: date
    author: str = AUTHOR


def text(value: object, style: str = "body") -> Paragraph:
    """A paragraph showing ``value`` literally (store text: never markup, long words broken)."""
    return Paragraph(literal(value), STYLES[style])


def markup(value: str, style: str = "body") -> Paragraph:
    """A paragraph of *our own* markup (bold labels etc.). Never pass store text here: use ``text``."""
    return Paragraph(value, STYLES[style])


def heading(value: object, level: int = 1) -> list[Flowable]:
    """A section heading that is never left alone at the foot of a page: ``story += heading(...)``."""
    return [CondPageBreak(1.4 * inch if level == 1 else 1.0 * inch), text(value, f"h{level}")]


def label_value(label: str, value: object) -> Paragraph:
    """``Label: value`` with a bold label of ours and a literal value from the store."""
    return Paragraph(f"<b>{literal(label)}:</b> {literal(value)}", STYLES["body"])


def facts(pairs: Sequence[tuple[str, object]], label_width: float = 2.1 * inch) -> Table:
    """A compact two-column block of labelled facts (bold label, literal value), e.g. a request's header."""
    t = Table([[Paragraph(f"<b>{literal(label)}</b>", STYLES["cell"]), Paragraph(literal(value), STYLES["cell"])]
               for label, value in pairs], colWidths=[label_width, FRAME_WIDTH - label_width], hAlign="LEFT")
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), BODY), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    return t


@dataclass(frozen=True)
class Column:
    """A table column: heading, share of the frame width, and whether its values are figures."""

    title: str
    width: float
    numeric: bool = False


def table(columns: Sequence[Column], rows: Sequence[Sequence[object]], *,
          total: Sequence[object] | None = None, width: float = FRAME_WIDTH) -> Table:
    """A data table whose header repeats on every page.

    Text cells become literal paragraphs (they wrap, long words break); numeric columns are right-aligned
    and must be pre-formatted strings (``formatting.number``/``money``). ``total`` is a bold closing row.
    """
    head = [Paragraph(literal(c.title), STYLES["cell_head_right" if c.numeric else "cell_head"])
            for c in columns]
    scale = width / sum(c.width for c in columns)
    widths = [c.width * scale for c in columns]
    body = [_row(columns, widths, r) for r in rows]
    data = [head, *body]
    if total is not None:
        data.append([Paragraph(f"<b>{literal(v)}</b>", STYLES["cell_right" if c.numeric else "cell"])
                     for c, v in zip(columns, total, strict=True)])
    t = Table(data, colWidths=widths, repeatRows=1)
    cell = STYLES["cell"]
    style = [
        # Plain-string cells (see _row) draw in the body cell style.
        ("FONTNAME", (0, 0), (-1, -1), BODY),
        ("FONTSIZE", (0, 0), (-1, -1), cell.fontSize),
        ("LEADING", (0, 0), (-1, -1), cell.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEABOVE", (0, 0), (-1, 0), 1, ACCENT),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, ACCENT),
        ("LINEBELOW", (0, -1), (-1, -1), 0.75, ACCENT),
    ]
    if len(body) > 3:
        style.append(("ROWBACKGROUNDS", (0, 1), (-1, len(body)), [colors.white, colors.HexColor("#F7F8FA")]))
    if total is not None:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 0.75, ACCENT))
    style += [("ALIGN", (k, 1), (k, -1), "RIGHT") for k, c in enumerate(columns) if c.numeric]
    t.setStyle(TableStyle(style))
    return t


def _row(columns: Sequence[Column], widths: Sequence[float], values: Sequence[object]) -> list[object]:
    if len(values) != len(columns):
        raise ValueError(f"row has {len(values)} cells for {len(columns)} columns")
    covered = register_fonts()
    size = STYLES["cell"].fontSize
    cells: list[object] = []
    for c, w, v in zip(columns, widths, values, strict=True):
        if isinstance(v, Flowable):
            cells.append(v)
            continue
        plain = clean(v)
        # Short one-line text goes in as a plain string: drawn literally and ~20x faster than a Paragraph
        # (an audit report has thousands of cells). Anything that must wrap or needs the fallback font
        # becomes a Paragraph.
        if ("\n" not in plain and all(ord(ch) in covered for ch in plain)
                and stringWidth(plain, BODY, size) <= w - 9):
            cells.append(plain)
        else:
            cells.append(Paragraph(literal(plain), STYLES["cell_right" if c.numeric else "cell"]))
    return cells


def key_figures(figures: Sequence[tuple[str, str]], per_row: int = 3) -> Table:
    """The executive-summary grid: large figure over a short label, ``per_row`` to a row."""
    cells = [[Paragraph(literal(value), STYLES["figure"]), Spacer(1, 2),
              Paragraph(literal(label), STYLES["figure_label"])] for label, value in figures]
    while len(cells) % per_row:
        cells.append("")
    grid = [cells[k:k + per_row] for k in range(0, len(cells), per_row)]
    t = Table(grid, colWidths=[FRAME_WIDTH / per_row] * per_row)
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), BODY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEABOVE", (0, 0), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return t


def no_activity(what: str, period: str) -> list[Flowable]:
    """The page an empty period gets instead of empty tables or an error."""
    return [Spacer(1, 1.5 * inch), text("No activity in this period", "h1"),
            text(f"There is no {what} to report for {period}.", "body")]


def footnote(value: str) -> Paragraph:
    return text(value, "small")


def signature_block(captions: Sequence[str]) -> Table:
    """Blank signature lines, each captioned (e.g. "Authorized Representative") with a date line beside it."""
    rows: list[list[object]] = []
    for caption in captions:
        rows += [[Spacer(1, 26), "", Spacer(1, 26)], [text(caption, "small"), "", text("Date", "small")]]
    t = Table(rows, colWidths=[FRAME_WIDTH * 0.6, FRAME_WIDTH * 0.08, FRAME_WIDTH * 0.32])
    style = [("FONTNAME", (0, 0), (-1, -1), BODY), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
    for k in range(0, len(rows), 2):
        style += [("LINEBELOW", (0, k), (0, k), 0.75, INK), ("LINEBELOW", (2, k), (2, k), 0.75, INK)]
    t.setStyle(TableStyle(style))
    return t


def cover(info: ReportInfo, subtitle: str, lines: Sequence[str] = ()) -> list[Flowable]:
    """A plain cover page: accent rule, title, subtitle, issuing office and date."""
    out: list[Flowable] = [Spacer(1, 2.2 * inch), _Rule(FRAME_WIDTH, 3), Spacer(1, 14),
                           text(info.title, "title"), text(subtitle, "subtitle"), Spacer(1, 1.6 * inch)]
    out += [text(line, "body") for line in lines]
    out += [text(info.author, "body"), text(f"Issued {long_date(info.as_of)}", "body"),
            NextPageTemplate("body"), PageBreak()]
    return out


class _Rule(Flowable):
    def __init__(self, width: float, thickness: float) -> None:
        super().__init__()
        self.width, self.height, self.thickness = width, thickness, thickness

    def draw(self) -> None:
        self.canv.setStrokeColor(ACCENT)
        self.canv.setLineWidth(self.thickness)
        self.canv.line(0, 0, self.width, 0)


class _NumberedCanvas(Canvas):
    """Defers each page so the footer can say "Page N of M" once M is known; draws header and footer."""

    def __init__(self, *args: object, info: ReportInfo, has_cover: bool, **kwargs: object) -> None:
        # Without this every page also references (unembedded) Helvetica, reportlab's starting font.
        kwargs["initialFontName"] = BODY
        super().__init__(*args, **kwargs)
        self._info = info
        self._has_cover = has_cover
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            if not (self._has_cover and number == 1):
                self._decorate(number, total)
            super().showPage()
        super().save()

    def _decorate(self, number: int, total: int) -> None:
        top = PAGE_HEIGHT - MARGIN + 18
        self.setFont(BOLD, 8)
        self.setFillColor(ACCENT)
        right_text = long_date(self._info.as_of)
        room = FRAME_WIDTH - stringWidth(right_text, BODY, 8) - 24
        self.drawString(MARGIN, top, fit(self._info.title, BOLD, 8, room))
        self.setFont(BODY, 8)
        self.setFillColor(MUTED)
        self.drawRightString(PAGE_WIDTH - MARGIN, top, right_text)
        self.setStrokeColor(ACCENT)
        self.setLineWidth(0.75)
        self.line(MARGIN, top - 5, PAGE_WIDTH - MARGIN, top - 5)
        bottom = MARGIN - 24
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(MARGIN, bottom + 10, PAGE_WIDTH - MARGIN, bottom + 10)
        self.drawString(MARGIN, bottom, f"P20 WIN Desk {__version__}")
        self.drawRightString(PAGE_WIDTH - MARGIN, bottom, f"Page {number} of {total}")


def build_pdf(out: str | Path | BinaryIO, info: ReportInfo, story: list[Flowable], *,
              has_cover: bool = False) -> int:
    """Lay ``story`` out as a PDF at ``out`` (a path or a binary file object); returns the page count.

    With ``has_cover`` the first page gets no running header or page number (start the story with
    ``cover(...)``, which switches to the body template).
    """
    doc = BaseDocTemplate(
        str(out) if isinstance(out, Path) else out,
        pagesize=letter, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=clean(info.title), author=clean(info.author), subject=clean(info.subject),
        creator=f"P20 WIN Desk {__version__}", lang="en-US",
    )
    frame = Frame(MARGIN, MARGIN, FRAME_WIDTH, PAGE_HEIGHT - 2 * MARGIN, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="cover" if has_cover else "body", frames=[frame]),
                          PageTemplate(id="body", frames=[frame])])
    maker: Callable[..., Canvas] = partial(_NumberedCanvas, info=info, has_cover=has_cover)
    doc.build(story, canvasmaker=maker)
    return doc.page


def keep(*flowables: Flowable) -> KeepTogether:
    return KeepTogether(list(flowables))
