"""Write a table to CSV or XLSX, with every cell neutralised against formula injection.

No Qt here: the desk's lists, the ``p20win export`` command line and the matching engine's reports all use
it, so it sits below every layer that writes files a person may open in a spreadsheet.
"""
from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"[-+]?\d[\d,]*(\.\d+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def neutralise_cell(value: object) -> str:
    """The cell's text, prefixed with ``'`` when a spreadsheet would otherwise run it as a formula
    (``=cmd()``, ``+1+1``, ``@SUM``...). Plain numbers such as ``-12.50`` are left as they are."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]], *,
                sheet_title: str = "Export") -> None:
    """Write ``headers`` and ``rows`` to ``path`` (.xlsx for Excel, anything else CSV in UTF-8 with BOM so
    Excel reads accents). Written to a temporary file first, so a failure (or an exception raised by the
    ``rows`` iterator, e.g. a cancel) never leaves half a file. Raises OSError when it cannot be written."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=path.suffix)
    os.close(handle)
    try:
        if path.suffix.lower() == ".xlsx":
            _write_xlsx(Path(temporary), headers, rows, sheet_title)
        else:
            with open(temporary, "w", encoding="utf-8-sig", newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow([neutralise_cell(h) for h in headers])
                writer.writerows([neutralise_cell(c) for c in row] for row in rows)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]], title: str) -> None:
    from openpyxl import Workbook  # imported here: only exports pay its start-up cost
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_name(title))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=neutralise_cell(text))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([neutralise_cell(c) for c in row])
    workbook.save(path)


def _sheet_name(title: str) -> str:
    # Excel sheet names: at most 31 characters, none of []:*?/\
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in title).strip() or "Export"
    return cleaned[:31]
