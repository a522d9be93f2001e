"""Comparison levels for record pairs, computed once per unique pair of values and gathered back.

Level numbers: 0 = missing on either side (neutral weight), 1..K = the method's levels in order (the
first that holds wins), K+1 = 'else'. Levels are uint8 arrays aligned with the pair arrays.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from app.matching.encoding import Coded
from app.matching.method import Comparison, parse_key


def active_comparisons(comparisons, coded: Coded) -> list[Comparison]:
    """The comparisons usable on these files: their field present on both sides, and not replaced."""
    out = []
    for comp in comparisons:
        if not coded.available(comp.field):
            continue
        if comp.unless_available and all(coded.available(f) for f in comp.unless_available):
            continue
        out.append(comp)
    return out


def _date_parts(values: np.ndarray):
    values = values.astype(np.int64)
    return values // 10000, values // 100 % 100, values % 100


def _date_days(values: np.ndarray) -> np.ndarray:
    y, m, d = _date_parts(values)
    months = (y - 1970) * 12 + (m - 1)
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + d - 1


def _date_table(vocab: np.ndarray) -> tuple[np.ndarray, ...]:
    """Year, month, day, day number and the eight decimal digits (one per byte of a uint64) of each
    YYYYMMDD date."""
    values = vocab.astype(np.int64)
    digits = np.zeros(len(values), np.uint64)
    rest = values.copy()
    for k in range(8):
        digits |= (rest % 10).astype(np.uint64) << np.uint64(8 * k)
        rest //= 10
    return (*_date_parts(values), _date_days(values), digits)


_CROSS_FIELD = ("swap", "cross")
_SCORERS = {"jaro_winkler": JaroWinkler.normalized_similarity, "damerau_levenshtein": DamerauLevenshtein.distance}


def _within_one_edit(char_matrix: tuple[np.ndarray, np.ndarray], vocab: np.ndarray, a: np.ndarray,
                     b: np.ndarray, words: list[np.ndarray] | None = None) -> np.ndarray:
    """Damerau-Levenshtein distance of value pairs (codes a, b) capped at 2 ("more than one edit").

    For equal lengths one edit is one substitution or one adjacent transposition, checked on the code-point
    matrix without a per-pair call: SSNs and SASIDs (nearly all pairs) cost ~10x less than rapidfuzz.
    Pairs whose lengths differ by one go to rapidfuzz.
    """
    chars, lengths = char_matrix
    dist = np.full(len(a), 2, np.float32)
    same = np.flatnonzero(lengths[a] == lengths[b])
    if len(same):
        n_diff = _differing(chars, words, a[same], b[same])
        dist[same] = np.minimum(n_diff, 2)
        two = np.flatnonzero(n_diff == 2)   # one adjacent transposition?
        x, y = chars[a[same[two]]], chars[b[same[two]]]
        differ = x != y
        swapped = (differ[:, :-1] & differ[:, 1:] & (x[:, :-1] == y[:, 1:]) & (x[:, 1:] == y[:, :-1])).any(axis=1)
        dist[same[two[swapped]]] = 1
    off = np.flatnonzero(np.abs(lengths[a] - lengths[b]) == 1)
    if len(off):
        left, right = vocab[a[off]], vocab[b[off]]
        if vocab.dtype != object:   # numbers: compared as their text, as the code-point matrix has them
            left, right = [str(v) for v in left], [str(v) for v in right]
        dist[off] = process.cpdist(left, right, scorer=DamerauLevenshtein.distance, score_cutoff=1, workers=-1)
    return dist


_LOW_BITS = np.uint64(0x0101010101010101)


def _nonzero_bytes(x: np.ndarray) -> np.ndarray:
    """How many of the eight bytes of each uint64 are not zero (x is modified)."""
    x |= x >> np.uint64(4)
    x |= x >> np.uint64(2)
    x |= x >> np.uint64(1)   # now bit 0 of each byte says whether any bit of that byte was set
    return np.bitwise_count(x & _LOW_BITS)


def _differing(chars: np.ndarray, words: list[np.ndarray] | None, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of positions where rows a[i] and b[i] of the code-point matrix differ.

    With `words` (`Coded.char_words`) eight one-byte code points are compared at once: XOR, a bit per
    nonzero byte, a population count; for SSNs ~2x faster than comparing 9-byte rows.
    """
    if words is None:
        return np.count_nonzero(chars[a] != chars[b], axis=1)
    total = np.zeros(len(a), np.int64)
    for column in words:
        total += _nonzero_bytes(column[a] ^ column[b])
    return total


def _level_on_unique(level, comp: Comparison, coded: Coded, ua, ub, vocab, idx, cache) -> np.ndarray:
    """Whether each unique value pair (ua[idx], ub[idx]) reaches `level`.

    cache[kind] holds a string score per unique pair, computed once on the first level of that kind
    (later levels of the same kind only see pairs the earlier one left, a subset).
    """
    kind, params = level.type, level.params
    if kind in _SCORERS:
        if kind not in cache:
            scores = np.full(len(ua), np.nan, np.float32)
            # The loosest level's bound as cutoff lets rapidfuzz stop early on hopeless pairs.
            bounds = [lv.params["min" if kind == "jaro_winkler" else "max"]
                      for lv in comp.levels if lv.type == kind]
            cutoff = min(bounds) if kind == "jaro_winkler" else max(bounds)
            if kind == "damerau_levenshtein" and _one_edit(comp):
                scores[idx] = _within_one_edit(coded.char_matrix(comp.field), vocab, ua[idx], ub[idx],
                                               coded.char_words(comp.field))
            else:
                scores[idx] = process.cpdist(vocab[ua[idx]], vocab[ub[idx]], scorer=_SCORERS[kind],
                                             score_cutoff=cutoff, workers=-1)
            cache[kind] = scores
        if kind == "jaro_winkler":
            return cache[kind][idx] >= float(params["min"])
        return cache[kind][idx] <= int(params["max"])
    ua, ub = ua[idx], ub[idx]
    if kind == "exact":
        return ua == ub
    if kind == "same":
        mapping = coded.vocab_map(comp.field, parse_key(params["key"]))
        return (mapping[ua] == mapping[ub]) & (mapping[ua] >= 0)
    if kind == "token_overlap":
        # Surname parts share the name vocabulary, so a part's code is directly comparable with a name's.
        maps = [coded.vocab_map(comp.field, parse_key(k)) for k in params["keys"]]
        parts_a = [ua, *(m[ua] for m in maps)]
        parts_b = [ub, *(m[ub] for m in maps)]
        hit = np.zeros(len(ua), bool)
        for pa in parts_a:
            for pb in parts_b:
                hit |= (pa == pb) & (pa >= 0)
        return hit
    if kind in ("date_swap", "date_one_digit", "date_within", "date_same_year"):
        # Per distinct date once (a few thousand), then looked up per pair.
        year, month, day, days, digits = coded.derived((comp.field, "date parts"), lambda: _date_table(vocab))
        if kind == "date_swap":
            return (year[ua] == year[ub]) & (month[ua] == day[ub]) & (day[ua] == month[ub])
        if kind == "date_same_year":
            return year[ua] == year[ub]
        if kind == "date_within":
            return np.abs(days[ua] - days[ub]) <= int(params["days"])
        return _nonzero_bytes(digits[ua] ^ digits[ub]) == 1   # exactly one of the eight digits differs
    raise AssertionError(f"level type {kind} is validated in method.py")


def _one_edit(comp: Comparison) -> bool:
    """Whether the comparison's edit-distance levels go no further than one edit (the code-point check)."""
    return max(int(lv.params["max"]) for lv in comp.levels if lv.type == "damerau_levenshtein") == 1


def prepare(comparisons, coded: Coded) -> None:
    """Compute now every cached value these comparisons use (codes, key maps, code points, term
    frequencies), so that work shared with a forked helper (app.matching.parallel) finds them in place
    instead of each process computing its own."""
    for comp in comparisons:
        coded.field(comp.field)
        for level in comp.levels:
            if level.type == "same":
                coded.vocab_map(comp.field, parse_key(level.params["key"]))
            elif level.type == "token_overlap":
                for key in level.params["keys"]:
                    coded.vocab_map(comp.field, parse_key(key))
            elif level.type in _CROSS_FIELD:
                coded.field(level.params["other"])
            elif level.type == "damerau_levenshtein" and _one_edit(comp):
                coded.char_words(comp.field)
            elif level.type.startswith("date_"):
                coded.derived((comp.field, "date parts"), lambda: _date_table(coded.field(comp.field).vocab))
            if level.tf > 0:
                coded.term_frequencies(comp.field)


def _identifier_level(level) -> bool:
    return level.type == "exact" or (level.type == "damerau_levenshtein" and int(level.params["max"]) <= 1)


def compute_levels(comp: Comparison, coded: Coded, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Level of every pair (li[i], ri[i]) for one comparison; see the module docstring for numbering."""
    fc = coded.field(comp.field)
    cl, cr = fc.left[li], fc.right[ri]
    present = (cl >= 0) & (cr >= 0)
    levels = np.zeros(len(li), np.uint8)
    rest = present
    if comp.levels[0].type == "exact":
        # Agreeing pairs take the first level without the distinct-pair step: where a blocking rule fixed
        # the field (last name + initial), that is every pair of the rule.
        agree = present & (cl == cr)
        levels[agree] = 1
        rest = present & ~agree
    if not rest.any():
        return levels
    width = np.int64(len(fc.vocab))
    pair_key = cl[rest].astype(np.int64) * width + cr[rest]
    if width * width <= max(4 * len(pair_key), 1 << 16):
        # Small vocabulary (gender, dates on small files): a dense table beats hashing.
        seen = np.zeros(width * width, bool)
        seen[pair_key] = True
        uniques = np.flatnonzero(seen)
        slot = np.zeros(width * width, np.int64)
        slot[uniques] = np.arange(len(uniques))
        inverse = slot[pair_key]
    elif all(_identifier_level(lv) for lv in comp.levels):
        # Identifiers (SSN, SASID): their pairs hardly repeat and every level is a cheap array operation,
        # so finding distinct pairs first would cost more than it saves.
        inverse, uniques = None, pair_key
    else:
        inverse, uniques = pd.factorize(pair_key)
    ua, ub = (uniques // width).astype(np.int64), (uniques % width).astype(np.int64)
    else_level = len(comp.levels) + 1
    on_unique = np.full(len(uniques), else_level, np.uint8)
    todo = np.ones(len(uniques), bool)
    cache: dict[str, np.ndarray] = {}
    for number, level in enumerate(comp.levels, start=1):
        if level.type in _CROSS_FIELD or not todo.any():
            continue
        idx = np.flatnonzero(todo)
        hit = _level_on_unique(level, comp, coded, ua, ub, fc.vocab, idx, cache)
        on_unique[idx[hit]] = number
        todo[idx[hit]] = False
    levels[rest] = on_unique if inverse is None else on_unique[inverse]
    for number, level in enumerate(comp.levels, start=1):
        if level.type in _CROSS_FIELD:
            # Per pair, as it involves another field: swap = both fields exchanged; cross = the field on
            # one side equals the other field on the other side (all a wage file's first initial allows).
            other = coded.field(level.params["other"])
            ol, orr = other.left[li], other.right[ri]
            if level.type == "swap":
                hit = (cl == orr) & (ol == cr) & (ol >= 0)
            else:
                hit = ((cl == orr) & (orr >= 0)) | ((ol == cr) & (ol >= 0))
            hit &= present & (cl != cr)
            levels[hit & (levels > number)] = number
    return levels


def tf_adjustment(comp: Comparison, coded: Coded, li, ri, levels, u_exact: float) -> np.ndarray | None:
    """Term-frequency adjustment in bits (Splink's formula, also on fuzzy levels), or None if not used.

    Agreeing on a rare value is stronger evidence than on a common one: log2(u_exact / tf(value)) on
    the exact level; on fuzzy levels the commoner of the two values is used, scaled by the level's tf.
    """
    tf_levels = [(n, lv.tf) for n, lv in enumerate(comp.levels, start=1) if lv.tf > 0]
    if not tf_levels:
        return None
    fc = coded.field(comp.field)
    # log2(u_exact / tf) per value, once: it falls as tf rises, so a pair's commoner value has the smaller
    # entry, and the minimum of the two entries is the per-pair formula's result to the last bit.
    bits = coded.derived((comp.field, "tf bits", u_exact),
                         lambda: np.log2(u_exact / coded.term_frequencies(comp.field)))
    out = np.zeros(len(li), np.float32)
    for number, scale in tf_levels:
        sel = np.flatnonzero(levels == number)
        if not len(sel):
            continue
        out[sel] = scale * np.minimum(bits[fc.left[li[sel]]], bits[fc.right[ri[sel]]])
    return out
