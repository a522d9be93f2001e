"""Canonical JSON for signing and strict JSON parsing for files that may come from anyone."""
from __future__ import annotations

import json
from typing import Any

from app.exchange.errors import MalformedFile


def canonical_json(obj: Any) -> bytes:
    """The one byte form of `obj` that is signed and hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


MAX_DEPTH = 32  # genuine payloads nest under 10 deep; deeper would only strain the recursive code after parsing


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def strict_loads(data: bytes, what: str) -> Any:
    """Parse JSON refusing duplicate keys, NaN/Infinity, bad UTF-8 and nesting deeper than MAX_DEPTH;
    MalformedFile names `what`."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
        if _too_deep(value):
            raise RecursionError
        return value
    except UnicodeDecodeError:
        raise MalformedFile(f"The {what} is not valid UTF-8 text; the file is damaged.") from None
    except RecursionError:
        raise MalformedFile(f"The {what} is nested too deeply to be genuine; the file is damaged or hostile.") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise MalformedFile(f"The {what} is not valid JSON ({exc}); the file is damaged.") from None
