"""Embedded fonts and literal text for reportlab.

reportlab's built-in Helvetica draws anything beyond Latin-1 as boxes, so every report uses DejaVu Sans
(Latin, Greek, Cyrillic, ...) with Droid Sans Fallback for the CJK and Hangul letters DejaVu lacks. Both are
embedded (subset) in every PDF.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont

from app.resources import resource_path

BODY = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
FALLBACK = "DroidSansFallback"

_FILES = {
    BODY: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    FALLBACK: "DroidSansFallback.ttf",
}
_lock = threading.Lock()
# C0/C1 control characters (except tab and newline) draw as boxes or break the PDF text layer.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@lru_cache(maxsize=1)
def register_fonts() -> frozenset[int]:
    """Register the embedded fonts with reportlab (idempotent, thread-safe).

    Returns the code points DejaVu Sans can draw; the rest go to the fallback font.
    Raises FileNotFoundError (from ``resource_path``) when the install lacks ``resources/fonts``.
    """
    with _lock:
        for name, file in _FILES.items():
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", file))))
        # So that <b> and <i> inside our own markup pick the right faces.
        addMapping(BODY, 0, 0, BODY)
        addMapping(BODY, 1, 0, BOLD)
        addMapping(BODY, 0, 1, ITALIC)
        addMapping(BODY, 1, 1, BOLD)
        return frozenset(pdfmetrics.getFont(BODY).face.charToGlyph)


def clean(text: object) -> str:
    """Text fit for a canvas string: ``str(text)`` with control characters turned into spaces."""
    return _CONTROL.sub(" ", "" if text is None else str(text))


def literal(text: object) -> str:
    """Paragraph markup that shows ``text`` exactly as typed.

    Escapes ``<``, ``>`` and ``&`` (so ``<b>`` prints as ``<b>``), keeps line breaks, and switches runs
    of letters DejaVu lacks (CJK, Hangul) to the fallback font. Long words are broken by the Paragraph
    itself (``splitLongWords``), so always show store text in a Paragraph, never a bare table string.
    """
    covered = register_fonts()
    out: list[str] = []
    run: list[str] = []
    fallback_run = False
    for ch in clean(text):
        needs_fallback = ord(ch) not in covered and not ch.isspace()
        if needs_fallback != fallback_run and run:
            out.append(_span("".join(run), fallback_run))
            run = []
        fallback_run = needs_fallback
        run.append(ch)
    if run:
        out.append(_span("".join(run), fallback_run))
    return "".join(out)


def _span(chunk: str, fallback: bool) -> str:
    markup = escape(chunk).replace("\n", "<br/>")
    return f'<font name="{FALLBACK}">{markup}</font>' if fallback else markup


def fit(value: object, font: str, size: float, room: float) -> str:
    """``value`` on one line, cut with an ellipsis to fit ``room`` points (running headers, chart labels)."""
    value = clean(value)
    if stringWidth(value, font, size) <= room:
        return value
    while value and stringWidth(value + "…", font, size) > room:
        value = value[:-1]
    return value + "…"
