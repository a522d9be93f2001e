"""A matching method is versioned data: a JSON file naming passes, blocking rules and comparison levels.

Its identity is `id`, `version` and the SHA-256 of its canonical JSON (sorted keys, no whitespace), so
reformatting the file keeps the hash while any change of content breaks its approval in the registry.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.resources import resource_path

STANDARD_METHOD = "p20win-standard-1.json"

# Columns of the standardised frame (docs/architecture.md) a method may refer to.
FIELDS = frozenset({
    "first_name", "middle_name", "last_name", "last_name_first", "last_name_last", "first_name_canonical",
    "suffix", "first_initial", "dob", "dob_year", "dob_month", "dob_day", "gender", "ssn", "sasid", "hs_code",
})
# Key functions: one-argument transforms of a string field (first5/last4: leading/trailing characters, for
# SSN blocks that survive a typo in the other half), and the order-free pair of two initials.
KEY_FUNCTIONS = {"soundex": 1, "nysiis": 1, "metaphone": 1, "initial": 1, "first5": 1, "last4": 1,
                 "sorted_initials": 2}
LEVEL_TYPES = {
    "exact": (), "same": ("key",), "swap": ("other",), "cross": ("other",), "token_overlap": ("keys",),
    "jaro_winkler": ("min",), "damerau_levenshtein": ("max",), "date_swap": (), "date_one_digit": (),
    "date_within": ("days",), "date_same_year": (),
}
# Fields derived from another: a rule fixing a part (birth year, first initial) biases the whole field's
# comparison, so masking in EM works on these families.
FIELD_FAMILY = {"dob_year": "dob", "dob_month": "dob", "dob_day": "dob", "first_initial": "first_name",
                "first_name_canonical": "first_name", "last_name_first": "last_name", "last_name_last": "last_name"}
# Level numbers (with 'missing' and 'else') fit in 4 bits and a pair's levels in one int64 (EM patterns).
MAX_LEVELS = 13
MAX_COMPARISONS = 15
_KEY_RE = re.compile(r"^(\w+)\(([\w, ]+)\)$")


class MethodError(ValueError):
    """The method file is unreadable or invalid; `.message` says what to fix."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Key:
    """A blocking or comparison key: a field, or a function of fields, e.g. ``soundex(last_name)``."""
    text: str
    function: str | None
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Level:
    label: str
    type: str
    tf: float = 0.0
    params: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Comparison:
    name: str
    field: str
    levels: tuple[Level, ...]
    unless_available: tuple[str, ...] = ()

    @property
    def labels(self) -> list[str]:
        """Level labels by level number: 0 is 'missing' (neutral), the last is 'else' (no agreement)."""
        return ["missing", *(lv.label for lv in self.levels), "else"]

    @property
    def fields(self) -> set[str]:
        """Field families this comparison looks at, for masking it in EM when a blocking rule fixed them."""
        out = {self.field}
        for lv in self.levels:
            if lv.type == "same":
                out.update(parse_key(lv.params["key"]).fields)
            elif lv.type == "token_overlap":
                out.update(lv.params["keys"])
        return {FIELD_FAMILY.get(f, f) for f in out}


@dataclass(frozen=True)
class BlockingRule:
    name: str
    keys: tuple[Key, ...]
    unless_available: tuple[str, ...] = ()

    @property
    def fields(self) -> set[str]:
        """The fields the rule's keys read (as given, for checking availability)."""
        return {f for k in self.keys for f in k.fields}

    @property
    def families(self) -> set[str]:
        return {FIELD_FAMILY.get(f, f) for f in self.fields}


@dataclass(frozen=True)
class DeterministicPass:
    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Method:
    id: str
    version: int
    sha256: str
    description: str
    deterministic_passes: tuple[DeterministicPass, ...]
    blocking_rules: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    u_sample_pairs: int
    em_max_iterations: int
    em_tolerance: float
    em_pairs_per_rule: int
    review_band_bits: float
    clustering: str
    document: dict = field(hash=False, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.id} v{self.version}"


def canonical_sha256(document: dict) -> str:
    """SHA-256 of the canonical JSON of a method document (what the registry approves)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def standard_method_path() -> Path:
    return resource_path("methods", STANDARD_METHOD)


def load_method(path: str | Path | None = None) -> Method:
    """Read and validate a method file (default: the shipped standard method). Raises MethodError."""
    path = Path(path) if path is not None else standard_method_path()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MethodError(f"Method file {path} does not exist.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MethodError(f"Method file {path} is not valid UTF-8 JSON: {exc}") from None
    return parse_method(document, source=str(path))


def parse_key(text: str) -> Key:
    text = text.strip()
    if text in FIELDS:
        return Key(text, None, (text,))
    match = _KEY_RE.match(text)
    if match:
        func, args = match.group(1), tuple(a.strip() for a in match.group(2).split(","))
        if func in KEY_FUNCTIONS and len(args) == KEY_FUNCTIONS[func] and all(a in FIELDS for a in args):
            return Key(text, func, args)
    raise MethodError(
        f"Unknown key {text!r}: use a standardised field ({', '.join(sorted(FIELDS))}) or one of "
        f"{', '.join(f'{f}(...)' for f in KEY_FUNCTIONS)} applied to fields.")


def parse_method(document: dict, *, source: str = "method") -> Method:
    """Validate a method document and build the Method. Raises MethodError naming the bad entry."""
    def need(obj, name, kind, where):
        if name not in obj:
            raise MethodError(f"{source}: {where} lacks {name!r}.")
        value = obj[name]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise MethodError(f"{source}: {where}.{name} has the wrong type.")
        return value

    if not isinstance(document, dict):
        raise MethodError(f"{source}: a method is a JSON object.")
    mid = need(document, "id", str, "method")
    version = need(document, "version", int, "method")
    passes = []
    for i, p in enumerate(document.get("deterministic_passes", [])):
        fields = tuple(need(p, "fields", list, f"deterministic_passes[{i}]"))
        bad = [f for f in fields if f not in FIELDS]
        if bad or not fields:
            raise MethodError(f"{source}: deterministic pass {i} names unknown fields {bad}.")
        passes.append(DeterministicPass(need(p, "name", str, f"deterministic_passes[{i}]"), fields))
    rules = []
    for i, r in enumerate(need(document, "blocking_rules", list, "method")):
        keys = tuple(parse_key(k) for k in need(r, "keys", list, f"blocking_rules[{i}]"))
        if not keys:
            raise MethodError(f"{source}: blocking rule {i} has no keys.")
        rules.append(BlockingRule(need(r, "name", str, f"blocking_rules[{i}]"), keys,
                                  tuple(r.get("unless_available", ()))))
    if not rules:
        raise MethodError(f"{source}: a method needs at least one blocking rule.")
    comparisons = []
    for i, c in enumerate(need(document, "comparisons", list, "method")):
        where = f"comparisons[{i}]"
        fld = need(c, "field", str, where)
        if fld not in FIELDS:
            raise MethodError(f"{source}: {where} compares unknown field {fld!r}.")
        levels = []
        for j, lv in enumerate(need(c, "levels", list, where)):
            kind = need(lv, "type", str, f"{where}.levels[{j}]")
            if kind not in LEVEL_TYPES:
                raise MethodError(f"{source}: {where}.levels[{j}] has unknown type {kind!r} "
                                  f"(known: {', '.join(LEVEL_TYPES)}).")
            params = {p: lv[p] for p in LEVEL_TYPES[kind] if p in lv}
            missing = [p for p in LEVEL_TYPES[kind] if p not in lv]
            if missing:
                raise MethodError(f"{source}: {where}.levels[{j}] ({kind}) needs {', '.join(missing)}.")
            if kind == "same":
                parse_key(params["key"])
            if kind in ("swap", "cross") and params["other"] not in FIELDS:
                raise MethodError(f"{source}: {where}.levels[{j}] swaps with unknown field {params['other']!r}.")
            levels.append(Level(need(lv, "label", str, f"{where}.levels[{j}]"), kind,
                                float(lv.get("tf", 0.0)), params))
        if not levels or len(levels) > MAX_LEVELS:
            raise MethodError(f"{source}: {where} needs 1 to {MAX_LEVELS} levels.")
        comparisons.append(Comparison(need(c, "name", str, where), fld, tuple(levels),
                                      tuple(c.get("unless_available", ()))))
    if len(comparisons) > MAX_COMPARISONS:
        raise MethodError(f"{source}: at most {MAX_COMPARISONS} comparisons.")
    names = [c.name for c in comparisons]
    if len(set(names)) != len(names):
        raise MethodError(f"{source}: comparison names must be unique.")
    em = document.get("em", {})
    clustering = document.get("clustering", "best_link")
    if clustering not in ("best_link", "connected_components"):
        raise MethodError(f"{source}: clustering must be 'best_link' or 'connected_components'.")
    return Method(
        id=mid, version=version, sha256=canonical_sha256(document),
        description=str(document.get("description", "")),
        deterministic_passes=tuple(passes), blocking_rules=tuple(rules), comparisons=tuple(comparisons),
        u_sample_pairs=int(document.get("u_sample_pairs", 1_000_000)),
        em_max_iterations=int(em.get("max_iterations", 200)), em_tolerance=float(em.get("tolerance", 1e-6)),
        em_pairs_per_rule=int(em.get("pairs_per_rule", 300_000)),
        review_band_bits=float(document.get("review_band_bits", 3.0)), clustering=clustering,
        document=document,
    )
