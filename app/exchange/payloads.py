"""What each package type carries, and the strict check every payload passes on import (and on export).

A schema is a nested dict of field -> checker. Unknown fields are refused, so a newer sender's extra data
is never silently dropped; dates travel as ISO ``YYYY-MM-DD`` and come back as ``date``. Text fields have
length limits; lists have item limits. ``validate(kind, data)`` returns the checked copy with dates parsed.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from app.exchange.errors import InvalidContents
from app.exchange.jsonio import canonical_json

Checker = Callable[[Any, str], Any]

KIND_TITLES = {
    "work_order": "work order",
    "completion": "completion report",
    "destruction_certificate": "destruction certificate",
    "method_approval": "method approval",
}
# Which site seals which type; the importer refuses a type from the wrong side.
SENT_BY = {"work_order": "opm", "method_approval": "opm", "completion": "hub", "destruction_certificate": "hub"}


def _fail(path: str, why: str) -> InvalidContents:
    return InvalidContents(f"The package contents are not valid: {path} {why}.")


def text(max_len: int = 200, *, required: bool = True, pattern: str | None = None) -> Checker:
    regex = re.compile(pattern) if pattern else None

    def check(value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise _fail(path, "must be text")
        if required and not value.strip():
            raise _fail(path, "is empty")
        if len(value) > max_len:
            raise _fail(path, f"is longer than {max_len} characters")
        if regex and not regex.fullmatch(value):
            raise _fail(path, "is not in the expected form")
        return value

    return check


def day(value: Any, path: str) -> date:
    if not isinstance(value, str):
        raise _fail(path, "must be a date (YYYY-MM-DD)")
    try:
        if len(value) != 10:  # fromisoformat would also take 20240105
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(path, "is not a date of the form YYYY-MM-DD") from None


def moment(value: Any, path: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise _fail(path, "must be a date and time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(path, "is not an ISO date and time") from None
    if parsed.tzinfo is None:
        raise _fail(path, "has no time zone")
    return parsed.astimezone(UTC)


def integer(low: int = 0, high: int = 10**12) -> Checker:
    def check(value: Any, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise _fail(path, f"must be a whole number from {low} to {high}")
        return value

    return check


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, "must be true or false")
    return value


def optional(checker: Checker) -> Checker:
    def check(value: Any, path: str) -> Any:
        return None if value is None else checker(value, path)

    return check


def one_of(*choices: str) -> Checker:
    def check(value: Any, path: str) -> str:
        if value not in choices:
            raise _fail(path, f"must be one of {', '.join(choices)}")
        return value

    return check


def list_of(checker: Checker, max_items: int = 100, *, min_items: int = 0) -> Checker:
    def check(value: Any, path: str) -> list:
        if not isinstance(value, list):
            raise _fail(path, "must be a list")
        if not min_items <= len(value) <= max_items:
            raise _fail(path, f"must hold {min_items} to {max_items} items")
        return [checker(item, f"{path}[{i}]") for i, item in enumerate(value)]

    return check


def record(fields: dict[str, Checker]) -> Checker:
    def check(value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise _fail(path, "must be an object")
        unknown, missing = set(value) - set(fields), set(fields) - set(value)
        if unknown:
            raise _fail(path, f"has unexpected fields {sorted(unknown)} (if the sender runs a newer P20 WIN Desk, "
                              "update this one)")
        if missing:
            raise _fail(path, f"lacks the fields {sorted(missing)}")
        return {name: checker(value[name], f"{path}.{name}") for name, checker in fields.items()}

    return check


def json_object(max_bytes: int) -> Checker:
    """Any JSON object up to a size (run records, method documents: their own modules check their shape)."""

    def check(value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise _fail(path, "must be an object")
        if len(canonical_json(value)) > max_bytes:
            raise _fail(path, f"is larger than {max_bytes:,} bytes")
        return value

    return check


def number_map(max_items: int = 50) -> Checker:
    def check(value: Any, path: str) -> dict:
        if not isinstance(value, dict) or len(value) > max_items:
            raise _fail(path, f"must be an object of at most {max_items} counts")
        return {text(64)(k, path): integer()(v, f"{path}.{k}") for k, v in value.items()}

    return check


REQUEST_NUMBER = text(16, pattern=r"[A-Z]{1,4}\d{1,8}")
HEX64 = text(64, pattern=r"[0-9a-f]{64}")
AGENCY_CODE = text(16, pattern=r"[A-Z][A-Z0-9&-]{0,15}")
METHOD_REF = record({"id": text(100), "version": integer(1, 10**6), "sha256": HEX64})

SCHEMAS: dict[str, Checker] = {
    "work_order": record({
        "request": record({
            "number": REQUEST_NUMBER,
            "title": text(300),
            "submission_type": text(32),
            "state": text(32),
            "received_on": day,
            "purpose": text(20000, required=False),  # the hub uses data only for the DSA's purpose
            "legal_basis": text(20000, required=False),
            "fields_to_link": text(20000, required=False),
        }),
        "recipient": optional(record({
            "name": text(200),
            "recipient_type": text(32),
            "authorized_representative": text(200, required=False),
            "representative_email": text(254, required=False),
        })),
        "agencies": list_of(record({
            "code": AGENCY_CODE, "name": text(200), "short_destruction_window": boolean,
        }), 40, min_items=1),
        "dsa": optional(record({
            "number": text(32),
            "effective_on": optional(day),
            "executed_on": optional(day),
            "destroy_by": optional(day),
            "parties": list_of(record({
                "kind": text(32), "name": text(200), "signatory": text(200, required=False), "signed_on": optional(day),
            }), 60),
            "amendments": list_of(record({
                "number": integer(1, 10_000), "effective_on": day, "description": text(4000),
                "new_destroy_by": optional(day),
            }), 200),
        })),
        "method": optional(METHOD_REF),
        "matching_files": list_of(record({
            "agency": AGENCY_CODE,
            "fields": list_of(text(64), 30),
            "expected_rows": optional(integer()),
        }), 40),
        "input_destruction": one_of("5 business days", "24 hours"),
    }),
    "completion": record({
        "request_number": REQUEST_NUMBER,
        "received_by": text(200),
        "files": list_of(record({
            "agency": AGENCY_CODE,
            "file_name": text(255),
            "received_on": day,
            "fields": list_of(text(64), 30),
            "rows": optional(integer()),
            "sender": text(200, required=False),
            "stewards_confirmed_at": optional(moment),
        }), 40, min_items=1),
        "matched_on": day,
        "counts": number_map(),
        "delivered_on": optional(day),
        "delivered_to": text(200, required=False),
        "run": optional(json_object(2 * 1024 * 1024)),
    }),
    "destruction_certificate": record({
        "request_number": REQUEST_NUMBER,
        "destroyed_on": day,
        "certified_by": text(200),
        "files": list_of(record({"agency": AGENCY_CODE, "file_name": text(255)}), 40, min_items=1),
        "statement": text(4000),
        "attachment": optional(text(64, pattern=r"[a-z0-9][a-z0-9._-]{0,63}")),
    }),
    "method_approval": record({
        "method": METHOD_REF,
        "approved_on": day,
        "approved_by": text(200),
        "motion": text(1000, required=False),
        "document": json_object(1024 * 1024),
    }),
}


def validate(kind: str, data: Any) -> dict[str, Any]:
    """The payload of a `kind` package, checked and with dates parsed; InvalidContents says what is wrong."""
    if kind not in SCHEMAS:
        raise InvalidContents(f"Unknown package type {kind!r}.")
    return SCHEMAS[kind](data, KIND_TITLES[kind])


def to_json(value: Any) -> Any:
    """The inverse of `validate` for sending: dates back to ISO text, everything else as is."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
