"""Standardise a matching file's raw text columns into the clean fields the comparisons use.

Work is done once per *distinct* value (names, dates and codes repeat a lot) and mapped back with the
factorize codes, so a 1.7M-row file costs what its distinct values cost. The field rules are documented in
docs/architecture.md ("Matching input").
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from app.matching import names

# Canonical input columns (io.read_matching_file renames a file's headers to these).
P20WIN_COLUMNS = ("LastName", "MiddleName", "FirstName", "DOB", "Gender", "HighSchoolCode", "HighSchoolName",
                  "SASID", "SSN", "SyntheticID")
WAGE_COLUMNS = ("SSN", "LastName", "FirstInitial", "Year", "Quarter", "Wages", "IndustryCode", "SyntheticID")
INPUT_COLUMNS = tuple(dict.fromkeys(P20WIN_COLUMNS + WAGE_COLUMNS))
# The input columns standardise and the validation read (not the school's name, nor the wage record's).
MATCHED_COLUMNS = frozenset({"LastName", "MiddleName", "FirstName", "FirstInitial", "DOB", "Gender", "HighSchoolCode",
                             "SASID", "SSN", "SyntheticID"})

STANDARD_COLUMNS = ("record_id", "first_name", "middle_name", "last_name", "last_name_first", "last_name_last",
                    "first_name_canonical", "suffix", "first_initial", "dob", "dob_year", "dob_month",
                    "dob_day", "gender", "ssn", "sasid", "hs_code")

# Published or notorious numbers that appear in files as placeholders (SSA's 1938 Woolworth wallet card,
# the 1940s SSA pamphlet number, a number printed in advertising).
DUMMY_SSNS = frozenset({"123456789", "078051120", "219099999", "457555462", "012345678", "987654321"})
_DUMMY_NUMBERS = np.array(sorted(int(s) for s in DUMMY_SSNS), dtype=np.int64)
_SSN_REASONS = np.array([None, "SSN is a well-known dummy number", "SSN repeats one digit",
                         "SSN serial number 0000 is never issued", "SSN group number 00 is never issued",
                         "SSN area number (000, 666 or 9xx) is never issued"], dtype=object)

_MALE = frozenset({"M", "MALE", "1", "MAN", "BOY"})
_FEMALE = frozenset({"F", "FEMALE", "2", "WOMAN", "GIRL"})
_UNKNOWN_GENDER = frozenset({"U", "UNKNOWN", "X", "N", "0", "9", "O", "NB", "NONBINARY", "OTHER", "NA", "NULL"})


def _distinct(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, values)``: factorize codes per row (-1 = missing) and the distinct values, stripped.

    A column the frame lacks gives all -1. Every later step works on ``values`` only.
    """
    if column not in frame.columns:
        return np.full(len(frame), -1, dtype=np.intp), np.empty(0, dtype=object)
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    return codes, np.array([str(v).strip() for v in uniques], dtype=object)


def raw_text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array of str, "" where missing or absent."""
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    values = frame[column].to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):  # missing cells, numbers
        values = np.array(["" if pd.isna(v) else str(v) for v in values], dtype=object)
    return values


def _first_appearance(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same grouping renumbered in order of first appearance, unused values dropped: what pd.factorize
    of the column itself gives."""
    renumbered, seen = pd.factorize(codes)   # `seen` holds -1 too where values are missing
    present = seen >= 0
    relabel = np.full(len(seen), -1, np.int32)
    relabel[present] = np.arange(int(present.sum()), dtype=np.int32)
    return relabel[renumbered], np.asarray(values, dtype=object)[seen[present]]


def _value_codes(codes: np.ndarray, per_value) -> tuple[np.ndarray, np.ndarray]:
    """``(code per row, distinct values)`` of a column spread from per-distinct-value results (-1 = missing),
    found from the distinct values alone. `codes` number the rows' distinct inputs in order of first
    appearance (pd.factorize), so factorising the results in that order keeps it."""
    small, values = pd.factorize(np.asarray(per_value, dtype=object), use_na_sentinel=True)
    return np.append(small, -1).astype(np.int32)[codes], np.asarray(values, dtype=object)


def _filled_codes(first: tuple[np.ndarray, np.ndarray], then: tuple[np.ndarray, np.ndarray]):
    """`_value_codes` of a column whose missing values were filled from another column."""
    joint, values = pd.factorize(np.concatenate([np.empty(0, object), first[1], then[1]]))
    to_joint = np.append(joint, -1).astype(np.int32)   # code -1 (missing) picks the appended -1
    codes = np.where(first[0] >= 0, to_joint[first[0]],
                     to_joint[np.where(then[0] >= 0, then[0] + len(first[1]), -1)])
    return _first_appearance(codes, np.asarray(values, dtype=object))


def with_coded_columns(std: pd.DataFrame, value_codes: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """A standardised frame whose coded text columns were left out (to send it to another process cheaply)
    made whole again from `standardise_coded`'s codes: the same columns, dtypes and order."""
    columns = {c: _spread_string(*value_codes[c], std.index) if c in value_codes and c not in std.columns
               else std[c] for c in STANDARD_COLUMNS}
    return pd.DataFrame(columns, index=std.index, copy=False)


def _checked(frame: pd.DataFrame, checked: dict, column: str, check) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, clean value per distinct value)`` of a column: the validation's result where it checked the
    column (`io.ReadResult.checked`), else ``check`` run on the distinct values."""
    if column in checked:
        return checked[column]
    codes, values = _distinct(frame, column)
    return codes, check(values)[0]


def _spread_string(codes: np.ndarray, per_value, index: pd.Index) -> pd.Series:
    """Per-distinct-value results back onto the rows as a ``string`` column (code -1, missing, gives <NA>);
    only the distinct values are converted."""
    distinct = pd.array(np.append(np.asarray(per_value, dtype=object), None), dtype="string")
    return pd.Series(distinct.take(codes, allow_fill=True), index=index)


# --- SSN --------------------------------------------------------------------------------------------------

def check_ssns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clean SSN strings: ``(ssn or None, reason or None)`` per element ("" gives no reason).

    Dashes, spaces and dots are dropped; anything that is not 9 digits, or is a number the SSA never issues
    (area 000, 666 or 900-999, group 00, serial 0000), repeats one digit, or is a known dummy, is None with
    the reason. Leading zeros are kept; lost ones are not guessed back. Vectorised: 9-character values
    (nearly all) are checked as a numpy digit matrix, so it runs on whole columns (SSNs rarely repeat, so
    finding distinct values first would cost more than it saves).
    """
    n = len(values)
    ssn = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    if n == 0:
        return ssn, reason
    texts = np.asarray(values, dtype=object).copy()
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    odd = np.flatnonzero((lengths != 9) & (lengths > 0))
    if len(odd):
        texts[odd] = ["".join(v.replace("-", "").replace(".", "").split()) for v in texts[odd]]
        lengths[odd] = [len(v) for v in texts[odd]]
    nine = np.flatnonzero(lengths == 9)
    digits = np.array(texts[nine], dtype="U9").view(np.uint32).reshape(-1, 9) - 48  # non-digits wrap high
    is_digits = digits.max(axis=1, initial=0) <= 9
    good = nine[is_digits]
    number = digits[is_digits].astype(np.int64) @ 10 ** np.arange(8, -1, -1, dtype=np.int64)
    area, group, serial = number // 1_000_000, number // 10_000 % 100, number % 10_000
    # One reason code per SSN, later rules winning, then one lookup into the reason texts.
    code = np.zeros(len(good), dtype=np.int8)
    code[np.logical_or.reduce([number == d for d in _DUMMY_NUMBERS])] = 1
    code[number % 111_111_111 == 0] = 2  # 000000000, 111111111, ..., 999999999
    code[serial == 0] = 3
    code[group == 0] = 4
    code[(area == 0) | (area == 666) | (area >= 900)] = 5
    reason[lengths > 0] = "SSN is not 9 digits"
    reason[good] = _SSN_REASONS[code]
    ok = good[code == 0]
    ssn[ok] = texts[ok]
    return ssn, reason


# --- dates ------------------------------------------------------------------------------------------------

_TIME_PART = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AP]M)?)$", re.IGNORECASE)
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_XYY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_D_MON_Y = re.compile(r"^(\d{1,2})[-/ .]*([A-Z]{3,9})[-/ .,]*(\d{4}|\d{2})$")
_MON_D_Y = re.compile(r"^([A-Z]{3,9})[-/ .]*(\d{1,2})(?:ST|ND|RD|TH)?[-/ .,]*(\d{4}|\d{2})$")
_MONTHS = {m: i for i, ms in enumerate(
    [("JAN", "JANUARY"), ("FEB", "FEBRUARY"), ("MAR", "MARCH"), ("APR", "APRIL"), ("MAY",), ("JUN", "JUNE"),
     ("JUL", "JULY"), ("AUG", "AUGUST"), ("SEP", "SEPT", "SEPTEMBER"), ("OCT", "OCTOBER"),
     ("NOV", "NOVEMBER"), ("DEC", "DECEMBER")], start=1) for m in ms}


def _real_date(y: int, m: int, d: int, today: dt.date) -> tuple[int | None, str | None]:
    try:
        date = dt.date(y, m, d)
    except ValueError:
        return None, "DOB is not a real calendar date"
    if y < 1900:
        return None, "DOB is before 1900"
    if date > today:
        return None, "DOB is in the future"
    return y * 10000 + m * 100 + d, None


def check_dates(values: np.ndarray, today: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct date strings: ``(YYYYMMDD int or None, reason or None)`` per element.

    Accepts YYYYMMDD, YYYY-MM-DD (/ or . too), MM/DD/YYYY and M/D/YY (-, . too), 15-MAR-2001, March 15 2001,
    and a trailing time of day. Slashed dates are month first unless the column itself shows day-first
    (some first part > 12 and no second part > 12). A two-digit year is 20yy unless that date would lie after
    ``today``, then 19yy. Impossible, pre-1900 or future dates are None + reason.
    """
    today = today or dt.date.today()
    n = len(values)
    out = np.empty(n, dtype=object)
    reason = np.empty(n, dtype=object)
    texts = [_TIME_PART.sub("", str(v).strip()).strip().upper() for v in values]
    slashed = [_XYY.match(t) for t in texts]
    firsts = [int(m.group(1)) for m in slashed if m]
    seconds = [int(m.group(2)) for m in slashed if m]
    day_first = any(a > 12 for a in firsts) and not any(b > 12 for b in seconds)

    def dated(y: str, m: int, d: int) -> tuple[int | None, str | None]:
        if len(y) == 4:
            return _real_date(int(y), m, d, today)
        value, why = _real_date(2000 + int(y), m, d, today)
        return _real_date(1900 + int(y), m, d, today) if why == "DOB is in the future" else (value, why)

    for i, t in enumerate(texts):
        if not t:
            continue
        if t.isascii() and t.isdigit() and len(t) == 8:
            value, why = _real_date(int(t[:4]), int(t[4:6]), int(t[6:]), today)
            if value is None:  # MMDDYYYY, sent by some older systems
                alt, _ = _real_date(int(t[4:]), int(t[:2]), int(t[2:4]), today)
                value, why = (alt, None) if alt is not None else (None, why)
        elif m := _YMD.match(t):
            value, why = _real_date(int(m[1]), int(m[2]), int(m[3]), today)
        elif m := slashed[i]:
            a, b = int(m[1]), int(m[2])
            month, day = (b, a) if day_first else (a, b)
            value, why = dated(m[3], month, day)
        elif (m := _D_MON_Y.match(t)) and m[2] in _MONTHS:
            value, why = dated(m[3], _MONTHS[m[2]], int(m[1]))
        elif (m := _MON_D_Y.match(t)) and m[1] in _MONTHS:
            value, why = dated(m[3], _MONTHS[m[1]], int(m[2]))
        else:
            value, why = None, "DOB format not recognised"
        out[i], reason[i] = value, why
    return out, reason


# --- codes ------------------------------------------------------------------------------------------------

def check_genders(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map distinct gender codes to M/F: ``(code or None, reason or None)``.

    M/Male/1 -> M, F/Female/2 -> F (ISO 5218 numbering); U, X, 0, 9 and similar are deliberately unknown
    (None, no reason); anything else is None with a reason.
    """
    out = np.empty(len(values), dtype=object)
    reason = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        code = re.sub(r"[^A-Z0-9]", "", names.fold(str(v)))
        if code in _MALE:
            out[i] = "M"
        elif code in _FEMALE:
            out[i] = "F"
        elif code and code not in _UNKNOWN_GENDER:
            reason[i] = "Gender code not recognised"
    return out, reason


def check_hs_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CEEB high-school codes: 1-6 digits, zero-padded to 6; anything else None + reason."""
    out = np.empty(len(values), dtype=object)
    reason = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        code = str(v).strip()
        if not code:
            continue
        if code.isascii() and code.isdigit() and len(code) <= 6:
            out[i] = code.zfill(6)
        else:
            reason[i] = "HighSchoolCode is not a 1-6 digit CEEB code"
    return out, reason


def _sasids(values: np.ndarray) -> list:
    # Plain ASCII letters and digits (nearly all SASIDs) need no folding or stripping: skip the regex.
    return [v.upper() if v.isascii() and v.isalnum() else re.sub(r"[\s\-]", "", names.fold(v)) or None
            for v in map(str, values)]


# --- the frame --------------------------------------------------------------------------------------------

def standardise(frame: pd.DataFrame, *, today: dt.date | None = None) -> pd.DataFrame:
    """Clean fields for matching from a raw frame; see `standardise_coded`, which also returns value codes."""
    return standardise_coded(frame, today=today)[0]


def standardise_coded(frame: pd.DataFrame, *, today: dt.date | None = None, checked: dict | None = None
                      ) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Clean fields for matching from a raw frame with canonical column names (see `read_matching_file`).

    Returns one row per input row, same order, a fresh RangeIndex, the columns in `STANDARD_COLUMNS`:
    names as upper-case ASCII words (suffix split off, nickname resolved in ``first_name_canonical``),
    ``dob`` Int32 YYYYMMDD with Int16 parts, ``gender`` M/F, ``ssn`` 9 digits, ``hs_code`` 6 digits; strings
    use pandas ``string`` dtype, unusable values are <NA>. Columns the frame lacks come out all <NA>.
    ``record_id`` is SyntheticID unchanged. ``today`` fixes the two-digit-year pivot and the future-date
    check (default: the current date). Never raises on odd text; raises KeyError without SyntheticID.

    Also returns the text columns' factorisation, ``{column: (int32 code per row, -1 missing; distinct
    values in order of first appearance)}``: what pd.factorize of each column gives, found from the distinct
    raw values (`encoding.Coded` then builds its vocabularies from a fraction of the values: names ~0.14 s
    -> 0.03 s at 100k rows). SSNs and record ids, which hardly repeat, are left out.

    ``checked``: `io.ReadResult.checked` of the read that gave ``frame``, validated with the same ``today``:
    its SSN, date, gender and school checks are not done twice (~0.1 s at 100k rows).
    """
    if "SyntheticID" not in frame.columns:
        raise KeyError("standardise needs a SyntheticID column")
    index = pd.RangeIndex(len(frame))
    out: dict[str, pd.Series] = {"record_id": pd.Series(frame["SyntheticID"].astype("string").array, index=index)}

    value_codes = {}

    def spread(column: str, codes: np.ndarray, per_value) -> None:
        out[column] = _spread_string(codes, per_value, index)
        value_codes[column] = _value_codes(codes, per_value)

    checked = checked or {}
    codes, gender_per_value = _checked(frame, checked, "Gender", check_genders)
    spread("gender", codes, gender_per_value)
    gender_key = np.array([{"M": 1, "F": 2}.get(g, 0) for g in gender_per_value] + [0], dtype=np.int64)[codes]

    codes, values = _distinct(frame, "LastName")
    parsed = [names.surname(v) for v in values]
    for i, column in enumerate(("last_name", "last_name_first", "last_name_last")):
        spread(column, codes, [p[i] for p in parsed])
    out["suffix"] = _spread_string(codes, [p[3] for p in parsed], index)   # filled in from given names below

    codes, values = _distinct(frame, "MiddleName")
    parsed = [names.given_name(v) for v in values]
    spread("middle_name", codes, [p[0] for p in parsed])
    middle_suffix = _spread_string(codes, [p[1] for p in parsed], index)

    codes, values = _distinct(frame, "FirstName")
    parsed = [names.given_name(v) for v in values]
    first_values = np.array([p[0] for p in parsed] + [None], dtype=object)
    spread("first_name", codes, first_values[:-1])
    first_suffix = _spread_string(codes, [p[1] for p in parsed], index)
    out["suffix"] = out["suffix"].fillna(first_suffix).fillna(middle_suffix)
    spread("first_initial", codes, [v[0] if v else None for v in first_values[:-1]])
    # Nicknames depend on gender (CHRIS): resolve each distinct (first name, gender) pair once.
    pair_codes, pairs = pd.factorize(codes.astype(np.int64) * 3 + gender_key)
    canonical = [None if (n := first_values[p // 3]) is None
                 else names.canonical_given_name(n, (None, "M", "F")[p % 3]) for p in pairs]
    spread("first_name_canonical", pair_codes, canonical)

    if "FirstInitial" in frame.columns:
        codes, values = _distinct(frame, "FirstInitial")
        given = [(names.given_name(v)[0] or " ")[0].strip() or None for v in values]
        out["first_initial"] = out["first_initial"].fillna(_spread_string(codes, given, index))
        value_codes["first_initial"] = _filled_codes(value_codes["first_initial"], _value_codes(codes, given))

    codes, dates = _checked(frame, checked, "DOB", lambda values: check_dates(values, today))
    dob = pd.array(np.append(dates, None), dtype="Int32").take(codes, allow_fill=True)
    out["dob"] = pd.Series(dob, index=index)
    out["dob_year"] = (out["dob"] // 10000).astype("Int16")
    out["dob_month"] = (out["dob"] // 100 % 100).astype("Int16")
    out["dob_day"] = (out["dob"] % 100).astype("Int16")

    ssns = checked["SSN"] if "SSN" in checked else check_ssns(raw_text(frame, "SSN"))[0]
    out["ssn"] = pd.Series(pd.array(ssns, dtype="string"), index=index)
    codes, values = _distinct(frame, "SASID")
    spread("sasid", codes, _sasids(values))
    spread("hs_code", *_checked(frame, checked, "HighSchoolCode", check_hs_codes))
    return pd.DataFrame({c: out[c] for c in STANDARD_COLUMNS}, index=index), value_codes
