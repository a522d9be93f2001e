"""Read and validate matching files: P20 WIN tab-delimited files, the labor wage layout, CSV and XLSX.

Everything is read as text so leading zeros survive. Problems are reported, never guessed away: a file the
engine cannot use raises `MatchInputError` (with a message a person can act on); a row it cannot use is
left out and listed in `ReadResult.rejections`; a value it cannot use (an SSN the SSA never issues, an
impossible date) becomes missing and is listed in `ReadResult.issues`. Neither list ever holds a personal
value: only line numbers, record ids, field names and reasons.
"""
from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime as dt
import hashlib
import io
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from app.export import FORMULA_STARTS, PLAIN_NUMBER
from app.matching import parallel
from app.matching.standardise import (INPUT_COLUMNS, MATCHED_COLUMNS, WAGE_COLUMNS, check_dates, check_genders,
                                      check_hs_codes, check_ssns, raw_text, standardise_coded,
                                      with_coded_columns)

REPORT_COLUMNS = ("row_number", "record_id", "field", "reason")
_IDENTIFYING = ("LastName", "FirstName", "MiddleName", "DOB", "SSN", "SASID", "FirstInitial")
_WAGE_ONLY = frozenset(WAGE_COLUMNS) - {"SSN", "LastName", "SyntheticID"}
_BLOCK = 8 << 20
_MAX_HEADER = 1 << 20
_LISTED = 10  # how many line numbers or examples a message names before saying "and N more"
PARALLEL_BYTES = 4 << 20   # files this large together (~0.3 s to read) are read two at a time


class MatchInputError(Exception):
    """A matching file the engine cannot use. ``.message`` says what is wrong and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ReadResult:
    """A read matching file.

    ``frame``: the usable rows, raw text (str, "" for empty cells), columns renamed to canonical names
    (see `app.matching.standardise.INPUT_COLUMNS`), RangeIndex. ``row_numbers``: the file line (or Excel row)
    of each frame row; the header is line 1. ``rejections``: rows left out (`REPORT_COLUMNS`), one per row,
    so ``len(rejections)`` is the rejected count. ``issues``: rows kept with a value set to missing or a
    warning (same columns plus ``action``: "set to missing" or "kept"). ``warnings``: sentences for the
    person running the match. ``kind``: "p20win" or "wage". ``sha256``: of the file's bytes.
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    rejections: pd.DataFrame
    issues: pd.DataFrame
    warnings: list[str]
    kind: str
    file_format: str
    encoding: str | None
    sha256: str
    rows_in_file: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=dict)   # the validation's column checks, for standardise_coded


def _key(name: str) -> str:
    return re.sub(r"[\s_\-\"'.]", "", str(name)).lower()


_CANONICAL = {_key(c): c for c in INPUT_COLUMNS}
# Names agencies use for the same fields. Only suggested, never applied: a column map is the user's call.
_LIKELY = {_key(k): v for k, v in {
    "Surname": "LastName", "Family Name": "LastName", "Last": "LastName", "LName": "LastName",
    "Given Name": "FirstName", "First": "FirstName", "FName": "FirstName", "Middle": "MiddleName",
    "Middle Initial": "MiddleName", "MI": "MiddleName", "Date of Birth": "DOB", "Birth Date": "DOB",
    "Birthdate": "DOB", "BirthDt": "DOB", "Sex": "Gender", "Social Security Number": "SSN", "SocSec": "SSN",
    "CEEB": "HighSchoolCode", "CEEB Code": "HighSchoolCode", "School Code": "HighSchoolCode",
    "School Name": "HighSchoolName", "State Student ID": "SASID", "Student ID": "SASID",
    "Synthetic Key": "SyntheticID", "Record ID": "SyntheticID", "Study ID": "SyntheticID",
}.items()}


def _suggest(names: list[str]) -> str:
    """' Maybe: "Date of Birth=DOB", ...' for ignored columns whose names agencies often use for a field."""
    pairs = [f"{n}={_LIKELY[_key(n)]}" for n in names if _key(n) in _LIKELY]
    return f" If {'they hold' if len(pairs) > 1 else 'it holds'} a matching field, use a column map: " \
           f"--column-map \"{','.join(pairs)}\"." if pairs else ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _some(numbers, limit: int = _LISTED) -> str:
    numbers = list(numbers)
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit:,} more" if len(numbers) > limit else "")


# --- encodings --------------------------------------------------------------------------------------------

_errors = threading.local()


def _record_decode_error(exc: UnicodeError) -> tuple[str, int]:
    if isinstance(exc, UnicodeDecodeError):
        _errors.found.append((exc.start, exc.object[exc.start:exc.end]))
        return "", exc.end
    raise exc


codecs.register_error("p20win_record", _record_decode_error)


def _codec(encoding: str | None) -> str:
    name = encoding or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise MatchInputError(f"Unknown encoding {name!r}. Use utf-8, cp1252 (Windows) or latin-1.") from None


def _hint(bad: bytes) -> str:
    try:
        return f" (in cp1252 that would be {bad.decode('cp1252')!r})"
    except UnicodeDecodeError:
        return ""


# --- text files -------------------------------------------------------------------------------------------

@dataclass
class _Scan:
    lines: int = 0             # physical lines, header included
    ragged: list = field(default_factory=list)   # (line, fields)
    blank: list = field(default_factory=list)
    decode_errors: list = field(default_factory=list)  # (line, bytes)
    decode_error_lines: int = 0
    has_quote: bool = False
    crlf: bool = False
    lone_cr: bool = False      # a CR that does not end a line
    expected: int = 0


def _scan(source: BinaryIO, codec: str, delimiter: str, expected: int, sha) -> _Scan:
    """One streaming pass: fields per line (counted with numpy), blank lines, undecodable bytes; feeds
    ``sha`` (a hashlib object, or None) with the bytes read."""
    scan = _Scan(expected=expected)
    delim = ord(delimiter)
    carry = b""
    line_base = 0  # lines completed before the current block
    decoder = codecs.getincrementaldecoder(codec)(errors="p20win_record")
    _errors.found = []
    while True:
        chunk = source.read(_BLOCK)
        if sha is not None:
            sha.update(chunk)
        final = not chunk
        block = carry + chunk
        if not final:
            cut = block.rfind(b"\n") + 1
            block, carry = block[:cut], block[cut:]
            if not block:
                continue
        elif block and not block.endswith(b"\n"):
            block += b"\n"
        if not block:
            break
        arr = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(arr == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
        scan.crlf |= bool(cr.any())
        scan.lone_cr |= int(np.count_nonzero(arr == 13)) != int(np.count_nonzero(cr))
        length = ends - starts - cr
        fields = np.diff(np.searchsorted(np.flatnonzero(arr == delim), np.concatenate(([-1], ends)))) + 1
        numbers = line_base + 1 + np.arange(len(ends))
        blank = length == 0
        scan.blank.extend(numbers[blank].tolist())
        wrong = (fields != expected) & ~blank
        scan.ragged.extend(zip(numbers[wrong].tolist(), fields[wrong].tolist()))
        scan.has_quote |= bool((arr == 34).any())
        _errors.found = []
        decoder.decode(block, final=final)
        if _errors.found:
            offsets = np.array([o for o, _ in _errors.found])
            lines = line_base + 1 + np.searchsorted(ends, offsets)
            scan.decode_error_lines += len(np.unique(lines))
            room = _LISTED - len(scan.decode_errors)
            scan.decode_errors.extend(zip(lines.tolist()[:room], [b for _, b in _errors.found][:room]))
        line_base += len(ends)
        if final:
            break
    scan.lines = line_base
    # Blank lines at the very end are an editor's habit, not missing records.
    while scan.blank and scan.blank[-1] == scan.lines:
        scan.blank.pop()
        scan.lines -= 1
    return scan


def _encoding_error(name: str, codec: str, scan: _Scan) -> MatchInputError:
    where = "; ".join(f"line {line}: bytes {bad.hex(' ').upper()}{_hint(bad)}" for line, bad in scan.decode_errors)
    if codec == "utf-8":
        advice = ("It was probably saved by Excel or an older system in a Windows code page: save it as "
                  "UTF-8, or run again saying what it is, e.g. --encoding cp1252 (or latin-1).")
    else:
        advice = "Check how the file was saved and name its encoding with --encoding (e.g. utf-8 or latin-1)."
    return MatchInputError(
        f"{name} is not valid {codec} text: {_plural(scan.decode_error_lines, 'line')} contain bytes that "
        f"cannot be decoded ({where}). Nothing was read. {advice}")


def _looks_like_data(cells: list[str]) -> bool:
    return any(re.search(r"\d{4}", c) for c in cells)


def _map_columns(name: str, header: list[str],
                 column_map: Mapping[str, str] | None) -> tuple[dict[int, str], list[str]]:
    """Header position -> canonical name; also the ignored header names."""
    wanted = {}
    for theirs, ours in (column_map or {}).items():
        canonical = _CANONICAL.get(_key(ours))
        if canonical is None:
            raise MatchInputError(f"The column map sends {theirs!r} to {ours!r}, which is not a matching field. "
                                  f"Use one of: {', '.join(INPUT_COLUMNS)}.")
        wanted[_key(theirs)] = canonical
    keys = [_key(h) for h in header]
    missing = [theirs for theirs in (column_map or {}) if _key(theirs) not in keys]
    if missing:
        raise MatchInputError(f"The column map names {', '.join(map(repr, missing))}, but {name} has no such "
                              "column.")
    positions: dict[int, str] = {}
    ignored = []
    for i, k in enumerate(keys):
        canonical = wanted.get(k)
        if canonical is None and _CANONICAL.get(k) not in wanted.values():  # a mapped column beats a namesake
            canonical = _CANONICAL.get(k)
        if canonical is None:
            if header[i].strip():
                ignored.append(header[i].strip())
            continue
        if canonical in positions.values():
            raise MatchInputError(f"{name} has two columns for {canonical} (columns "
                                  f"{list(positions.values()).index(canonical) + 1} and {i + 1}); keep one or "
                                  "map one of them elsewhere with a column map.")
        positions[i] = canonical
    if "SyntheticID" not in positions.values():
        if _looks_like_data(header):
            raise MatchInputError(f"The first line of {name} looks like data, not a header. A matching file "
                                  f"starts with a header line naming its columns: {', '.join(INPUT_COLUMNS)}.")
        found = ", ".join(repr(h[:40]) for h in header[:20])
        if not positions:
            raise MatchInputError(f"None of the names in the first line of {name} is a matching field ({found}), "
                                  "so it does not look like a matching file. Its first line must name the "
                                  f"columns ({', '.join(INPUT_COLUMNS)}); for other names give a column map."
                                  + _suggest(header))
        raise MatchInputError(f"{name} has no SyntheticID column (found {found}). Every row needs the agency's "
                              "synthetic ID; if the file calls it something else, give a column map, e.g. "
                              '{"RecordKey": "SyntheticID"}.' + _suggest(header))
    if not set(positions.values()) & set(_IDENTIFYING):
        raise MatchInputError(f"{name} has no identifying columns (names, DOB, SSN or SASID), so nothing can be "
                              "matched. Check the header or give a column map.")
    return positions, ignored


def _open_text(path: Path, codec: str):
    """``(binary stream, codec, notes, sha)`` for the file's text. UTF-16 files (Excel "Unicode Text") are
    re-encoded to UTF-8 in memory and hashed here; otherwise ``sha`` holds what was skipped (a BOM) and the
    scan hashes the rest."""
    notes = []
    with open(path, "rb") as handle:
        head = handle.read(4)
    if codec.startswith(("utf-16", "utf-32")) and head[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise MatchInputError(f"{path.name} was named {codec} but has no byte-order mark; save it as UTF-8 "
                              "(or as Excel \"Unicode Text\", which writes the mark).")
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        data = path.read_bytes()
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise MatchInputError(f"{path.name} starts like UTF-16 text but byte {exc.start:,} cannot be decoded; "
                                  "save it again as UTF-8 or tab-delimited text.") from None
        notes.append(f"{path.name} is UTF-16 text (Excel's \"Unicode Text\"); read as such.")
        return io.BytesIO(text.encode("utf-8")), "utf-8", notes, None
    if head[:3] == codecs.BOM_UTF8:
        if codec != "utf-8":
            notes.append(f"{path.name} starts with a UTF-8 byte-order mark, so it was read as UTF-8, not {codec}.")
        source = open(path, "rb")
        source.read(3)
        return source, "utf-8", notes, hashlib.sha256(codecs.BOM_UTF8)
    return open(path, "rb"), codec, notes, hashlib.sha256()


def _read_text(path: Path, codec: str, column_map, warnings: list[str], only: frozenset[str] | None = None):
    source, codec, notes, sha = _open_text(path, codec)
    warnings.extend(notes)
    whole_file_sha = None
    if sha is None:
        whole_file_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with source:
        start = source.tell()
        head = source.read(_MAX_HEADER)
        if b"\x00" in head[:65536]:
            raise MatchInputError(f"{path.name} is not a text table (it contains binary data). Use a "
                                  "tab-delimited text, CSV or .xlsx file.")
        if b"\n" not in head and len(head) == _MAX_HEADER:
            raise MatchInputError(f"{path.name} has no line break in its first megabyte: it is not a table.")
        first = head.split(b"\n", 1)[0].rstrip(b"\r")
        if b"\r" in first:
            raise MatchInputError(f"{path.name} uses old Mac line endings (CR only); save it with Windows or "
                                  "Unix line endings.")
        try:
            header_text = first.decode(codec)
        except UnicodeDecodeError as exc:
            raise MatchInputError(f"The header line of {path.name} is not valid {codec}: bytes "
                                  f"{first[exc.start:exc.end].hex(' ').upper()}. Save the file as UTF-8 or name "
                                  "its encoding with --encoding.") from None
        if not header_text.strip():
            raise MatchInputError(f"{path.name} is empty or its first line is blank; a matching file starts "
                                  "with a header line.")
        delimiter = _delimiter(header_text, path.name)
        quoted = delimiter != "\t"
        header = next(csv.reader([header_text], delimiter=delimiter)) if quoted else header_text.split("\t")
        positions, ignored = _map_columns(path.name, header, column_map)

        source.seek(start)
        scan = _scan(source, codec, delimiter, len(header), sha)
        if scan.decode_errors:
            raise _encoding_error(path.name, codec, scan)
        if scan.lines <= 1:
            raise MatchInputError(f"{path.name} has a header but no data rows.")
        quoted = quoted and scan.has_quote
        if not quoted and len(scan.ragged) > (scan.lines - 1) / 2:
            common = collections.Counter(n for _, n in scan.ragged).most_common(1)[0][0]
            shown = "tab" if delimiter == "\t" else repr(delimiter)
            raise MatchInputError(f"Most rows of {path.name} have {common} fields but its header has {len(header)} "
                                  f"(split on {shown}). Check that the header and the rows use the same "
                                  "delimiter and that no column is missing.")
        source.seek(start)
        # Columns nobody reads are not turned into 100k strings each (a wage file's Wages, IndustryCode, ...).
        parsed = {i: c for i, c in positions.items() if only is None or c in only}
        if quoted:
            frame, row_numbers, rejected = _read_quoted(source, codec, delimiter, len(header), parsed)
            rows_in_file = len(row_numbers) + len(rejected)
        else:
            frame, row_numbers, rejected = _read_plain(source, codec, delimiter, scan, parsed)
            rows_in_file = scan.lines - 1
    file_format = "tsv" if delimiter == "\t" else "csv"
    digest = whole_file_sha or sha.hexdigest()
    return _Raw(frame, row_numbers, rejected, rows_in_file, ignored, _id_header(header, positions), digest,
                codec, file_format, set(positions.values()))


def _delimiter(header: str, name: str) -> str:
    if "\t" in header:
        return "\t"
    counts = {d: header.count(d) for d in ",;|"}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise MatchInputError(f"The first line of {name} has no tab, comma, semicolon or bar between column "
                              "names, so it is not a table. A P20 WIN matching file is tab-delimited with a "
                              "header line.")
    return best


def _ragged_reason(fields: int, expected: int) -> str:
    if fields > expected:
        return (f"row has {fields} fields, the header has {expected}: a value probably contains the delimiter "
                "(e.g. a tab); row left out")
    return f"row has {fields} fields, the header has {expected}: fields are missing; row left out"


def _read_plain(source: BinaryIO, codec: str, delimiter: str, scan: _Scan, positions: dict[int, str]):
    """Unquoted text: the pandas C parser, skipping the lines the scan found ragged or blank."""
    bad = {line: _ragged_reason(n, scan.expected) for line, n in scan.ragged}
    bad.update((line, "blank line; left out") for line in scan.blank)
    keep = np.ones(scan.lines + 1, dtype=bool)
    keep[:2] = False
    keep[list(bad)] = False
    row_numbers = np.flatnonzero(keep)
    usecols = sorted(positions)
    if not len(row_numbers):
        return pd.DataFrame({positions[i]: pd.Series(dtype=object) for i in usecols}), row_numbers, bad
    # The parser ends lines at CR too; where a stray CR sits inside a line, only LF may end one (the scan
    # counts LF), and the CR of CRLF endings then stays on the last field.
    frame = pd.read_csv(source, sep=delimiter, header=None, skiprows={0} | {line - 1 for line in bad},
                        nrows=len(row_numbers), usecols=usecols, dtype=str, na_filter=False,
                        quoting=csv.QUOTE_NONE, lineterminator="\n" if scan.lone_cr else None, engine="c",
                        skip_blank_lines=False, encoding=codec)
    frame = frame.rename(columns=positions)
    if scan.lone_cr and scan.crlf and usecols[-1] == scan.expected - 1:
        last = positions[usecols[-1]]
        frame[last] = frame[last].str.rstrip("\r")
    if len(row_numbers) != len(frame):
        raise MatchInputError("Internal error: the parser and the line scan disagree on the number of rows; "
                              "please report this with the file's line count (no data).")
    return frame, row_numbers, bad


def _read_quoted(source: BinaryIO, codec: str, delimiter: str, expected: int, positions: dict[int, str]):
    """CSV with quoted fields: the csv module, which knows a quoted delimiter or line break is data."""
    text = io.TextIOWrapper(source, encoding=codec, newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    usecols = sorted(positions)
    columns: list[list[str]] = [[] for _ in usecols]
    numbers = []
    bad: dict[int, str] = {}
    trailing_blank: list[int] = []
    previous_end = 0
    for row in reader:
        line = previous_end + 1
        previous_end = reader.line_num
        if line == 1:
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            trailing_blank.append(line)
            continue
        for blank in trailing_blank:
            bad[blank] = "blank line; left out"
        trailing_blank = []
        if len(row) != expected:
            bad[line] = _ragged_reason(len(row), expected)
            continue
        numbers.append(line)
        for values, i in zip(columns, usecols):
            values.append(row[i])
    text.detach()
    frame = pd.DataFrame({positions[i]: pd.array(values, dtype=object) for i, values in zip(usecols, columns)})
    return frame, np.array(numbers, dtype=np.int64), bad


@dataclass
class _Raw:
    """What a format reader hands to validation."""
    frame: pd.DataFrame
    row_numbers: np.ndarray
    bad: dict[int, str]
    rows_in_file: int
    ignored: list[str]
    id_header: str
    sha256: str
    encoding: str | None
    file_format: str
    columns: set[str]   # the canonical columns the file has (``frame`` may hold fewer)


def _id_header(header: list[str], positions: dict[int, str]) -> str:
    return next(header[i].strip() for i, c in positions.items() if c == "SyntheticID")


# --- XLSX -------------------------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 60 is Excel's phantom 1900-02-29; real DOBs are far later
_PAD = {"SSN": 9, "SASID": 10, "HighSchoolCode": 6}


def _cell_text(value, canonical: str, counts: dict[str, int]) -> str:
    """An Excel cell as the text a tab-delimited export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if canonical == "DOB" and 0 < value < 10_000_000:  # a date typed as an Excel day number
            counts["DOB"] = counts.get("DOB", 0) + 1
            return (_EXCEL_EPOCH + dt.timedelta(days=value)).strftime("%Y%m%d")
        text = str(value)
        width = _PAD.get(canonical)
        if width and len(text) < width:  # a number cell has lost its leading zeros; the width is the rule
            counts[canonical] = counts.get(canonical, 0) + 1
            return text.zfill(width)
        return text
    return str(value)


def _read_xlsx(path: Path, column_map, warnings: list[str]):
    import openpyxl  # only XLSX users pay for the import
    from openpyxl.utils.exceptions import InvalidFileException
    from zipfile import BadZipFile

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise MatchInputError(f"{path.name} cannot be opened as an Excel .xlsx workbook ({type(exc).__name__}). "
                              "Save it again from Excel as .xlsx, or as tab-delimited text.") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong used range; read to the real end
        if len(book.worksheets) > 1:
            warnings.append(f"{path.name} has {len(book.worksheets)} sheets; only the first, "
                            f"{sheet.title!r}, was read.")
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None or all(v is None or str(v).strip() == "" for v in header_row):
            raise MatchInputError(f"The first sheet of {path.name} is empty or its first row is blank; a matching "
                                  "file starts with a header row.")
        header = [("" if v is None else str(v)) for v in header_row]
        while header and not header[-1].strip():
            header.pop()
        positions, ignored = _map_columns(path.name, header, column_map)
        usecols = sorted(positions)
        columns: list[list[str]] = [[] for _ in usecols]
        numbers = []
        bad: dict[int, str] = {}
        blank_run: list[int] = []
        counts: dict[str, int] = {}
        width = len(header)
        last = 1
        for last, row in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                blank_run.append(last)
                continue
            bad.update((b, "blank row; left out") for b in blank_run)
            blank_run = []
            if any(v is not None and str(v).strip() for v in row[width:]):
                bad[last] = f"row has values beyond the header's {width} columns; row left out"
                continue
            numbers.append(last)
            for values, i in zip(columns, usecols):
                values.append(_cell_text(row[i] if i < len(row) else None, positions[i], counts))
    finally:
        book.close()
    if counts.get("DOB"):
        warnings.append(f"DOB held Excel day numbers on {_plural(counts['DOB'], 'row')}; converted to dates.")
    for name in ("SSN", "SASID", "HighSchoolCode"):
        if counts.get(name):
            warnings.append(f"{name} was stored as a number on {_plural(counts[name], 'row')}, which drops leading "
                            f"zeros; padded back to {_PAD[name]} digits.")
    frame = pd.DataFrame({positions[i]: pd.array(values, dtype=object) for i, values in zip(usecols, columns)})
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_BLOCK):
            digest.update(chunk)
    rows_in_file = last - 1 - len(blank_run)
    return _Raw(frame, np.array(numbers, dtype=np.int64), bad, rows_in_file, ignored, _id_header(header, positions),
                digest.hexdigest(), None, "xlsx", set(positions.values()))


# --- validation -------------------------------------------------------------------------------------------

def _report(rows: np.ndarray, ids, fields, reasons) -> pd.DataFrame:
    return pd.DataFrame({"row_number": np.asarray(rows, dtype=np.int64), "record_id": ids, "field": fields,
                         "reason": reasons}, columns=list(REPORT_COLUMNS))


def _check_column(frame: pd.DataFrame, column: str, check: Callable):
    """Run a standardise check once per distinct value: ``(bad row positions, their reasons, clean values
    per row, what standardise can reuse)`` (the clean values per row for SSN, else the column's factorize
    codes and the clean value per distinct value)."""
    if column == "SSN":  # vectorised per row; SSNs hardly repeat
        cleaned, reasons = check(raw_text(frame, column))
        rows = np.flatnonzero(reasons.astype(bool))
        return rows, reasons[rows], pd.Series(cleaned, dtype=object), cleaned
    codes, uniques = pd.factorize(frame[column])
    cleaned, reasons = check(np.array([str(u).strip() for u in uniques], dtype=object))
    bad_codes = np.flatnonzero(reasons.astype(bool))
    rows = np.flatnonzero(np.isin(codes, bad_codes))
    return rows, reasons[codes[rows]], pd.Series(np.append(cleaned, None)[codes], dtype=object), (codes, cleaned)


def _all_blank(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Rows where every one of ``columns`` is empty or whitespace; each column is only looked at where the
    previous ones were all empty."""
    rows = np.arange(len(frame))
    for column in columns:
        values = raw_text(frame, column)[rows]
        # Empty, or whitespace only: ~6 ms over 100k names.
        rows = rows[~values.astype(bool) | np.fromiter(map(str.isspace, values), bool, len(values))]
    blank = np.zeros(len(frame), dtype=bool)
    blank[rows] = True
    return blank


# Whitespace (re's \s is str.isspace), and whitespace next to a value's start or end in values joined by NULs.
_SPACE = re.compile(r"\s")
_PADDED = re.compile(r"(?:^|\x00)\s|\s(?:\x00|$)")


def _any_padded(values) -> bool:
    """Whether some string starts or ends with whitespace, without a Python call per value (1.7 million
    IDs): most columns hold no whitespace at all, which one scan of the joined text finds (~8 ms at 100k)."""
    joined = "\x00".join(values)
    return _SPACE.search(joined) is not None and _PADDED.search(joined) is not None


def _shared_ssns(ssn: pd.Series) -> np.ndarray:
    """Rows whose (valid, cleaned) SSN is on another row too; sorted as integers, which is much faster than
    hashing 1.7 million strings."""
    values = ssn.to_numpy(dtype=object)
    present = np.flatnonzero(values.astype(bool))
    digits = np.array(values[present], dtype="U9").view(np.uint32).reshape(-1, 9).astype(np.int64) - 48
    numbers = digits @ 10 ** np.arange(8, -1, -1, dtype=np.int64)
    order = np.argsort(numbers, kind="stable")
    same = numbers[order][1:] == numbers[order][:-1]
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    shared = np.zeros(len(values), dtype=bool)
    shared[present[order]] = repeated
    return shared


def _same_identity(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Rows that agree with another row on every one of ``columns`` (ignoring case and surrounding
    spaces): ``(positions, group)``. Column by column, only rows still tied are looked at, so the costly
    near-unique columns (SSN, SASID) are read for a handful of rows; no Python call per row."""
    rows = np.arange(len(frame))
    key = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(frame[column].to_numpy(dtype=object)[rows])
        canon_codes = pd.factorize(np.array([str(u).strip().upper() for u in uniques] + [""], dtype=object))[0]
        codes = canon_codes[codes]  # -1 (missing) picks the trailing "" like an empty cell
        key = pd.factorize(key * (canon_codes.max() + 1) + codes)[0].astype(np.int64)
        tied = np.bincount(key)[key] > 1
        rows, key = rows[tied], pd.factorize(key[tied])[0].astype(np.int64)
        if not len(rows):
            break
    return rows, key


def _validate(frame: pd.DataFrame, row_numbers: np.ndarray, bad: dict[int, str], kind: str,
              today: dt.date | None, warnings: list[str], id_header: str):
    codes, uniques = pd.factorize(frame["SyntheticID"])
    uniques = np.asarray(uniques, dtype=object)
    id_codes = codes
    if _any_padded(uniques):  # " S1" and "S1" are one ID
        stripped = np.array([u.strip() for u in uniques], dtype=object)
        frame["SyntheticID"] = stripped[codes]
        id_codes = pd.factorize(stripped)[0][codes]
    ids = frame["SyntheticID"]
    rejected_rows = [np.array(sorted(bad), dtype=np.int64)]
    rejected_ids = [np.full(len(bad), "", dtype=object)]
    rejected_fields = [np.full(len(bad), "", dtype=object)]
    rejected_reasons = [np.array([bad[k] for k in sorted(bad)], dtype=object)]

    empty = (ids == "").to_numpy()
    # A second header line (files pasted together) would otherwise be a "person" called LastName.
    repeated_header = (ids == id_header).to_numpy()
    if repeated_header.any():
        n = int(repeated_header.sum())
        rejected_rows.append(row_numbers[repeated_header])
        rejected_ids.append(np.full(n, "", dtype=object))
        rejected_fields.append(np.full(n, "", dtype=object))
        rejected_reasons.append(np.full(n, "row repeats the header line (files joined together?); row left out",
                                        dtype=object))
    dup = (np.bincount(id_codes, minlength=1)[id_codes] > 1) & ~empty & ~repeated_header
    if empty.any():
        rejected_rows.append(row_numbers[empty])
        rejected_ids.append(np.full(int(empty.sum()), "", dtype=object))
        rejected_fields.append(np.full(int(empty.sum()), "SyntheticID", dtype=object))
        rejected_reasons.append(np.full(int(empty.sum()), "SyntheticID is empty; row left out", dtype=object))
    if dup.any():
        positions = np.flatnonzero(dup)
        groups = pd.Series(row_numbers[positions]).groupby(ids.to_numpy()[positions]).agg(list)
        reason_by_id = {k: f"SyntheticID is used on {len(v)} rows ({_some(v, 5)}); all left out"
                        for k, v in groups.items()}
        dup_ids = ids.to_numpy()[positions]
        rejected_rows.append(row_numbers[positions])
        rejected_ids.append(dup_ids)
        rejected_fields.append(np.full(len(positions), "SyntheticID", dtype=object))
        rejected_reasons.append(np.array([reason_by_id[i] for i in dup_ids], dtype=object))
        warnings.append(f"{_plural(len(groups), 'SyntheticID')} appear on more than one row; those "
                        f"{_plural(len(positions), 'row')} were left out, since an ID must name one person.")
    rejections = _report(np.concatenate(rejected_rows), np.concatenate(rejected_ids),
                         np.concatenate(rejected_fields), np.concatenate(rejected_reasons))
    rejections = rejections.sort_values("row_number", kind="stable", ignore_index=True)
    keep = ~(empty | dup | repeated_header)
    if not keep.all():
        frame = frame.loc[keep].reset_index(drop=True)
        row_numbers = row_numbers[keep]

    issues = []

    def add(positions: np.ndarray, column: str, reasons, action: str) -> None:
        if len(positions):
            part = _report(row_numbers[positions], frame["SyntheticID"].to_numpy()[positions], column, reasons)
            part["action"] = action
            issues.append(part)

    checks = {"SSN": check_ssns, "DOB": lambda u: check_dates(u, today), "Gender": check_genders,
              "HighSchoolCode": check_hs_codes}
    clean_ssn = None
    checked = {}
    for column, check in checks.items():
        if column in frame.columns:
            positions, reasons, cleaned, checked[column] = _check_column(frame, column, check)
            if column == "SSN":
                clean_ssn = cleaned
            add(positions, column, reasons, "set to missing")
            if len(positions):
                warnings.append(f"{column} is unusable on {_plural(len(positions), 'row')} and is treated as "
                                "missing there (see the rejection report for rows and reasons).")

    if clean_ssn is not None:
        ssn = clean_ssn
        shared = _shared_ssns(ssn)
        if shared.any() and kind == "wage":
            n_ssn = ssn[shared].nunique()
            warnings.append(f"{_plural(n_ssn, 'SSN')} appear on more than one row (several employers or "
                            "quarters); expected in a wage file.")
        elif shared.any():
            positions = np.flatnonzero(shared)
            first_row = pd.Series(row_numbers[positions]).groupby(ssn.to_numpy()[positions]).transform("min")
            add(positions, "SSN", [f"the same SSN is on row {r}" if r != own else "the same SSN is on later rows"
                                   for r, own in zip(first_row, row_numbers[positions])], "kept")
            warnings.append(f"{_plural(len(positions), 'row')} share an SSN with another row; a matching file "
                            "should hold one row per person. Kept; see the rejection report.")

    identity = [c for c in _IDENTIFYING if c in frame.columns]
    nothing = _all_blank(frame, identity)
    add(np.flatnonzero(nothing), "", "row has no identifying values, so it cannot match", "kept")
    if kind != "wage":
        positions, group = _same_identity(frame, identity)
        real = ~nothing[positions]  # rows with nothing to compare are reported above
        positions, group = positions[real], group[real]
        if len(positions):
            first = np.full(group.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first, group, row_numbers[positions])
            first_row = first[group]
            add(positions, "", [f"same identifying values as row {r}" if r != own else
                                "same identifying values as later rows"
                                for r, own in zip(first_row, row_numbers[positions])], "kept")
            warnings.append(f"{_plural(len(positions), 'row')} repeat another row's identifying values under a "
                            "different SyntheticID; the same person may be listed twice. Kept.")
    if issues:
        issue_frame = pd.concat(issues, ignore_index=True).sort_values("row_number", kind="stable",
                                                                        ignore_index=True)
    else:
        issue_frame = pd.DataFrame(columns=[*REPORT_COLUMNS, "action"])
    return frame, row_numbers, rejections, issue_frame, checked


# --- public API -------------------------------------------------------------------------------------------

def read_matching_file(path: str | Path, *, column_map: Mapping[str, str] | None = None,
                       encoding: str | None = None, today: dt.date | None = None,
                       only: frozenset[str] | None = None) -> ReadResult:
    """Read, check and validate one matching file (tab-delimited, CSV or .xlsx) without configuration.

    Header names match the canonical ones ignoring case, spaces and underscores; ``column_map``
    (``{"their name": "CanonicalName"}``) renames others; unknown columns are dropped with a warning.
    Text must be UTF-8 (a BOM is fine; UTF-16 with a BOM is read) unless ``encoding`` names another codec;
    undecodable bytes raise `MatchInputError` naming the lines and bytes. Rows that are ragged, blank, or
    have an empty or repeated SyntheticID are left out and listed in ``rejections``; bad SSN/DOB/gender/CEEB
    values are listed in ``issues`` (standardise turns them into missing). ``today`` fixes the date checks.
    Raises `MatchInputError` for a missing, empty, binary or header-less file, a missing SyntheticID column,
    or a file with no usable rows. ``only``: canonical columns to keep in ``frame`` (text files; the others
    are still checked in the header and counted in each line), e.g. `standardise.MATCHED_COLUMNS`.
    """
    path = Path(path)
    if not path.is_file():
        raise MatchInputError(f"{path} does not exist or is not a file.")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise MatchInputError(f"{path.name} could not be opened: {exc.strerror or exc}.") from None
    if not magic:
        raise MatchInputError(f"{path.name} is empty (0 bytes).")
    warnings: list[str] = []
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise MatchInputError(f"{path.name} is an old Excel .xls workbook; save it as .xlsx or as tab-delimited "
                              "text.")
    try:
        if magic.startswith(b"PK\x03\x04"):
            result = _read_xlsx(path, column_map, warnings)
        else:
            result = _read_text(path, _codec(encoding), column_map, warnings, only)
    except OSError as exc:  # unreadable, vanished or on a lost network share mid-read
        raise MatchInputError(f"{path.name} could not be read: {exc.strerror or exc}.") from None
    frame, row_numbers, bad, rows_in_file, ignored = (result.frame, result.row_numbers, result.bad,
                                                      result.rows_in_file, result.ignored)
    if ignored:
        warnings.append(f"Columns not used for matching were ignored: {', '.join(i[:40] for i in ignored)}."
                        + _suggest(ignored))
    if rows_in_file <= 0:
        raise MatchInputError(f"{path.name} has a header but no data rows.")
    kind = "wage" if result.columns & _WAGE_ONLY else "p20win"
    frame, row_numbers, rejections, issues, checked = _validate(frame, row_numbers, bad, kind, today, warnings,
                                                       result.id_header)
    if frame.empty:
        reasons = rejections["reason"].str.replace(r" \(.*\)", "", regex=True).value_counts()
        summary = "; ".join(f"{n:,} × {reason}" for reason, n in reasons.head(5).items())
        raise MatchInputError(f"{path.name} has no usable rows: all {rows_in_file:,} were rejected ({summary}).")
    if len(rejections):
        warnings.insert(0, f"{_plural(len(rejections), 'row')} of {rows_in_file:,} left out (see the rejection "
                           "report).")
    return ReadResult(frame=frame, row_numbers=row_numbers, rejections=rejections, issues=issues,
                      warnings=warnings, kind=kind, file_format=result.file_format, encoding=result.encoding,
                      sha256=result.sha256, rows_in_file=rows_in_file, ignored_columns=ignored, checked=checked)


_CONTROL_NOT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_RISKY_LINE_START = re.compile(r"^[=+\-@]", re.MULTILINE)


def read_and_standardise(paths: list[str | Path], column_maps: list[Mapping[str, str] | None], *,
                         encoding: str | None = None, after: Callable[[int, int], None] | None = None,
                         ) -> list[tuple[ReadResult, pd.DataFrame, float, float, dict]]:
    """`read_matching_file` and `standardise_coded` for each file, two at a time when the files are large.

    Returns per file (its ReadResult with ``frame`` emptied, since the raw text is not needed again; the
    standardised frame; seconds reading; seconds standardising; the frame's value codes). The second file
    is read by a forked helper process where `app.matching.parallel` allows; the results and errors are the
    same either way (the first file's error comes first). ``after(done, count)`` is called as files finish
    (a cancel point: an exception from it stops the work).
    """
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += Path(path).stat().st_size
    shared = parallel.worth_it(size, PARALLEL_BYTES)

    def one(i: int) -> tuple[ReadResult, pd.DataFrame, float, float, dict]:
        started = time.perf_counter()
        today = dt.date.today()   # one date for both the validation's date checks and standardise's
        result = read_matching_file(paths[i], column_map=column_maps[i], encoding=encoding, today=today,
                                    only=MATCHED_COLUMNS)
        read = time.perf_counter()
        std, value_codes = standardise_coded(result.frame, today=today, checked=result.checked)
        result.frame, result.checked = result.frame.iloc[:0], {}
        if i and shared:
            # The helper's result crosses pickled: the coded text columns travel as their codes, which
            # roughly halves the pickling (the wage file's frame 0.14 -> 0.06 s, on the critical path).
            std = std.drop(columns=list(value_codes))
        return result, std, read - started, time.perf_counter() - read, value_codes

    done = parallel.map_tasks(one, len(paths), parallel=shared, after=after)
    return [(d[0], with_coded_columns(d[1], d[4]), *d[2:]) if i and shared else d for i, d in enumerate(done)]


def excel_safe(values: pd.Series) -> pd.Series:
    """Text safe to open in a spreadsheet: control characters become spaces and a leading = + - @ gets a
    quote, so an ID like ``=cmd()`` is shown, never run; plain numbers (-12.50) are left alone. The
    vectorised form of app.export.neutralise_cell, for whole columns. Use on any free text written to a
    .tsv."""
    return pd.Series(excel_safe_cells(values), index=values.index, dtype="string")


def excel_safe_cells(values: pd.Series) -> list[str]:
    """`excel_safe` as a list of str (missing values ""), for writing a file without a Series between."""
    cells = values.tolist()
    if set(map(type, cells)) - {str}:
        cells = ["" if c is None or c is pd.NA or c != c else str(c) for c in cells]
    joined = "\n".join(cells)
    # Fast path, one regex pass over the joined column: nearly every column (IDs, names) is clean.
    if (joined.count("\n") == max(len(cells) - 1, 0) and not _CONTROL_NOT_NEWLINE.search(joined)
            and not _RISKY_LINE_START.search(joined)):
        return cells
    text = pd.Series(cells, dtype="string").str.replace(r"[\x00-\x1f\x7f]", " ", regex=True)
    risky = text.str.startswith(FORMULA_STARTS) & ~text.str.fullmatch(PLAIN_NUMBER)
    return text.where(~risky, "'" + text).tolist()


def problem_rows(result: ReadResult) -> pd.DataFrame:
    """``row_number, record_id, field, action, reason`` by row: rejected rows ("row left out") and kept rows
    with a value set to missing or a warning. It never holds a personal value, only the record id."""
    left_out = result.rejections.assign(action="row left out")
    report = pd.concat([left_out, result.issues], ignore_index=True) if len(result.issues) else left_out
    report = report.sort_values("row_number", kind="stable", ignore_index=True)
    return report[["row_number", "record_id", "field", "action", "reason"]].copy()


def rejection_report(result: ReadResult) -> pd.DataFrame:
    """`problem_rows` as the rejection report's text ("" where empty; record ids spreadsheet-safe)."""
    report = problem_rows(result)
    report["record_id"] = excel_safe(report["record_id"])
    return pd.DataFrame({c: ["" if pd.isna(v) else str(v) for v in report[c].tolist()] for c in report.columns},
                        dtype=object)


def write_rejections(result: ReadResult, path: str | Path) -> int:
    """Write `rejection_report` as TSV; returns the number of lines written (without header)."""
    report = rejection_report(result)
    report.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONE, escapechar=None, lineterminator="\n")
    return len(report)
