"""The exporter's last check: nothing shaped like person-level data leaves in a package.

Packages carry governance facts (requests, DSA terms, counts, dates, method hashes), never records about
people. The check is deliberately simple and conservative, on two axes:

- field names: a key named like a personal identifier (first/last name, date of birth, SSN, SASID,
  synthetic or record id) holding text is refused; the same key holding a number is allowed, because run
  records describe fields by name with aggregate figures (``field_null_rates: {"ssn": 0.02}``);
- values: any text shaped like an SSN (``123-45-6789`` or 9 bare digits), a SASID (10 bare digits), a
  name followed by a date in a plausible birth year (``SMITH, JOHN 2001-04-05``; this also catches a phrase
  like "DGB Meeting 2014-03-12": reword it) or several tab-separated rows (a pasted file).

Staff names in their roles (authorised representative, certifying officer) are not person-level data in
this sense and pass.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.exchange.errors import PersonalDataFound

_PERSONAL_KEYS = {
    "firstname", "lastname", "middlename", "givenname", "surname", "familyname", "fullname", "firstinitial",
    "dob", "dateofbirth", "birthdate", "birthday", "ssn", "socialsecuritynumber", "sasid", "studentid",
    "syntheticid", "recordid", "personid", "idmatrix", "crosswalk",
}
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)|^\s*\d{9}\s*$")
_SASID = re.compile(r"^\s*\d{10}\s*$")
# Two or three capitalised words (``SMITH, JOHN`` / ``John Q. Smith``) right before a full date whose year
# is a plausible birth year of someone in a cohort (not a recent meeting or signature date).
_NAME_AND_DATE = re.compile(
    r"\b[A-Z][A-Za-z'\-]+,?(?:\s+[A-Z][A-Za-z'\-]*\.?){1,2}\s*[,;|\t]?\s*"
    r"(?:(?P<iso>(?:19|20)\d\d)-\d\d-\d\d|\d{1,2}/\d{1,2}/(?P<us>(?:19|20)\d\d)|(?P<compact>(?:19|20)\d\d)\d{4})\b"
)
_RECENT_YEARS = 10


def _key_is_personal(key: str) -> bool:
    return re.sub(r"[^a-z]", "", key.lower()) in _PERSONAL_KEYS


def _value_problem(text: str) -> str | None:
    if _SSN.search(text):
        return "text shaped like a Social Security number"
    if _SASID.match(text):
        return "a 10-digit value shaped like a SASID"
    for hit in _NAME_AND_DATE.finditer(text):
        year = int(hit.group("iso") or hit.group("us") or hit.group("compact"))
        if year <= date.today().year - _RECENT_YEARS:
            return "a name followed by a date (shaped like a name and date of birth)"
    if text.count("\t") >= 2 and text.count("\n") >= 2:
        return "several tab-separated rows (shaped like a pasted data file)"
    return None


def find_personal_data(obj: Any, path: str = "") -> list[str]:
    """Every place in `obj` (nested dicts/lists of JSON values) that looks like person-level data.

    Each item reads ``"<path>: <reason>"``; an empty list means the payload may leave.
    """
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            here = f"{path}.{key}" if path else str(key)
            if _key_is_personal(str(key)) and isinstance(value, (str, list, dict)) and value:
                found.append(f"{here}: a field named like a personal identifier")
                continue
            found.extend(find_personal_data(value, here))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found.extend(find_personal_data(value, f"{path}[{i}]"))
    elif isinstance(obj, str):
        problem = _value_problem(obj)
        if problem:
            found.append(f"{path or 'value'}: {problem}")
    return found


def refuse_personal_data(obj: Any, what: str) -> None:
    """Raise PersonalDataFound naming the places (at most five) if `obj` looks like it holds person-level data."""
    found = find_personal_data(obj)
    if found:
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise PersonalDataFound(
            f"The {what} was not sealed: packages never carry person-level data, and these look like it: "
            + "; ".join(found[:5]) + more + ". Remove them and try again."
        )
