"""Integer codes for the standardised frames: every value becomes a code into one shared vocabulary.

Blocking joins and comparisons then work on small integers, and each string function (phonetic codes,
Jaro-Winkler, ...) runs once per unique value or unique value pair instead of once per record pair.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, TypeVar

import jellyfish
import numpy as np
import pandas as pd

from app.matching.method import Key

T = TypeVar("T")

# Name columns share one vocabulary so that codes compare across fields (first/last swap, surname parts).
NAME_FIELDS = ("first_name", "last_name", "middle_name", "first_name_canonical", "last_name_first",
               "last_name_last")
_PHONETIC = {"soundex": jellyfish.soundex, "nysiis": jellyfish.nysiis, "metaphone": jellyfish.metaphone}
_IDENTITY = ("first_name", "last_name", "middle_name", "first_initial", "dob")   # one person, for frequencies
_SLICE_WIDTH = {"first5": 5, "last4": 4}
_SLICES = {"initial": lambda v: v[:1], "first5": lambda v: v[:5], "last4": lambda v: v[-4:]}


@dataclass(frozen=True)
class FieldCodes:
    left: np.ndarray   # int32 code per left record, -1 = missing
    right: np.ndarray
    vocab: np.ndarray  # value per code (object strings, or int64 for numeric fields)


class Coded:
    """Integer-coded view of two standardised frames (link) or of one frame against itself (dedupe)."""

    def __init__(self, left: pd.DataFrame, right: pd.DataFrame | None = None,
                 value_codes: list[dict[str, tuple[np.ndarray, np.ndarray]]] | None = None):
        """value_codes: per frame, `standardise.standardise_coded`'s factorisation of that very frame's text
        columns; the same codes come out, faster."""
        self.dedupe = right is None
        self._value_codes = value_codes
        self.left_frame = left
        self.right_frame = left if right is None else right
        self.n_left = len(left)
        self.n_right = len(self.right_frame)
        self._fields: dict[str, FieldCodes] = {}
        self._keys: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._vocab_maps: dict[tuple[str, str], np.ndarray] = {}
        self._tf: dict[str, np.ndarray] = {}
        self._chars: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._words: dict[str, list[np.ndarray] | None] = {}
        self._derived: dict[tuple, object] = {}
        self._available: dict[str, bool] = {}
        self._people: dict[str, np.ndarray] = {}

    def _frames(self):
        return (self.left_frame,) if self.dedupe else (self.left_frame, self.right_frame)

    def available(self, name: str) -> bool:
        """True when the field has at least one value on both sides."""
        if name not in self._available:
            # The first rows nearly always settle it; a whole-column scan costs ~5 ms per 100k strings.
            self._available[name] = all(name in f.columns and (f[name].iloc[:64].notna().any()
                                                               or f[name].notna().any()) for f in self._frames())
        return self._available[name]

    def ids(self, side: str) -> np.ndarray:
        """record_id of every row of one side ("left" or "right") as an object array, made once."""
        key = ("ids", side)
        if key not in self._derived:
            frame = self.left_frame if side == "left" else self.right_frame
            self._derived[key] = frame["record_id"].to_numpy()
        return self._derived[key]

    def null_rate(self, frame: pd.DataFrame, name: str) -> float:
        if name not in frame.columns or not len(frame):
            return 1.0
        if frame is self.left_frame or frame is self.right_frame:
            # Missing values are exactly the -1 codes: no per-value missing check of a string column.
            side = 0 if frame is self.left_frame else 1
            if name in self._fields:
                codes = self._fields[name].left if side == 0 else self._fields[name].right
                return float((codes < 0).mean())
            hint = self._value_codes[side].get(name) if self._value_codes and side < len(self._value_codes) else None
            if hint is not None and len(hint[0]) == len(frame):
                return float((hint[0] < 0).mean())
        return float(frame[name].isna().mean())

    def field(self, name: str) -> FieldCodes:
        if name not in self._fields:
            if name in NAME_FIELDS:
                self._encode_names()
            else:
                self._fields[name] = self._encode([name])[name]
        return self._fields[name]

    def _column(self, frame: pd.DataFrame, name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name]
        return pd.Series(pd.NA, index=frame.index, dtype="string")

    def _encode(self, names) -> dict[str, FieldCodes]:
        frames = self._frames()
        hints = self._value_codes
        if hints is not None and len(hints) == len(frames) and all(
                name in h and len(h[name][0]) == len(f) for h, f in zip(hints, frames) for name in names):
            # Each column's distinct values in order of first appearance, in the order factorising the rows
            # below would meet them: factorising these gives the same vocabulary (a value's first row falls in
            # its first column and frame, where its order of appearance is kept) from a fraction of the values.
            parts = [h[n] for n in names for h in hints]
            joint, uniques = pd.factorize(np.concatenate([np.empty(0, object), *(values for _, values in parts)]))
            chunks, pos = [], 0
            for own, values in parts:
                chunks.append(np.append(joint[pos:pos + len(values)], -1).astype(np.int32)[own])   # -1 stays -1
                pos += len(values)
            vocab = np.asarray(uniques, dtype=object)
        else:
            parts = [self._column(f, n) for n in names for f in frames]
            if all(pd.api.types.is_numeric_dtype(part.dtype) for part in parts):
                values = pd.concat(parts, ignore_index=True).astype("Int64")
            else:
                # Plain objects hash with Python's cached str hashes: twice as fast as pandas' string dtype.
                # Missing values stay pd.NA, which factorize codes -1 like None.
                values = np.concatenate([np.asarray(part.array, dtype=object) for part in parts])
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            codes = codes.astype(np.int32)
            vocab = (np.asarray(uniques, dtype=np.int64) if pd.api.types.is_numeric_dtype(uniques.dtype)
                     else np.asarray(uniques, dtype=object))
            bounds = np.cumsum([0, *(len(part) for part in parts)])
            chunks = [codes[a:b] for a, b in itertools.pairwise(bounds)]
        out = {}
        for i, n in enumerate(names):
            left = chunks[i * len(frames)]
            out[n] = FieldCodes(left, left if self.dedupe else chunks[i * len(frames) + 1], vocab)
        return out

    def _encode_names(self):
        self._fields.update(self._encode(NAME_FIELDS))

    def vocab_map(self, field: str, key: Key) -> np.ndarray:
        """Code of `key` for every vocabulary code of `field` (key must be a function of the field's value)."""
        cache = (field, key.text)
        if cache not in self._vocab_maps:
            fc = self.field(field)
            if key.function in _SLICE_WIDTH:
                self._vocab_maps[cache] = self._slice_key(field, key.function)
            elif key.function in _PHONETIC or key.function in _SLICES:
                self._vocab_maps[cache] = self._value_key(key.function, fc.vocab)
            else:
                kc = self.field(key.text)
                mapping = np.full(len(fc.vocab), -1, np.int32)
                for codes, kcodes in ((fc.left, kc.left), (fc.right, kc.right)):
                    ok = (codes >= 0) & (kcodes >= 0)
                    mapping[codes[ok]] = kcodes[ok]
                self._vocab_maps[cache] = mapping
        return self._vocab_maps[cache]

    def char_matrix(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """``(chars, lengths)`` of the field's vocabulary: code points per value (uint8 when all fit),
        zero-padded to the longest."""
        if field not in self._chars:
            vocab = self.field(field).vocab
            # Text vocabularies hold str already; numbers (int64) are written out.
            text = vocab if vocab.dtype == object else np.asarray([str(v) for v in vocab], dtype=object)
            lengths = np.fromiter(map(len, text), np.int64, len(text))
            width = max(int(lengths.max(initial=0)), 1)
            chars = np.asarray(text, dtype=f"U{width}").view(np.uint32).reshape(len(text), width)
            if chars.max(initial=0) < 256:
                chars = chars.astype(np.uint8)   # a quarter of the memory traffic in comparisons
            self._chars[field] = (chars, lengths)
        return self._chars[field]

    def _slice_key(self, field: str, function: str) -> np.ndarray:
        """Codes of first5()/last4() from the code-point matrix: the same codes as `_value_key` gives
        (SSN blocking rules spent ~0.1 s each on a Python slice per value)."""
        chars, lengths = self.char_matrix(field)
        if chars.dtype != np.uint8:   # five 32-bit code points and a length do not fit one int64
            return self._value_key(function, self.field(field).vocab)
        size = _SLICE_WIDTH[function]
        chars = np.pad(chars, ((0, 0), (0, max(size - chars.shape[1], 0))))
        if function == "first5":
            part = chars[:, :size]
        else:   # the last `size` characters; shorter values keep theirs at the end, zeros before
            at = lengths[:, None] - size + np.arange(size)
            part = np.where(at >= 0, np.take_along_axis(chars, np.maximum(at, 0), axis=1), 0)
        packed = np.minimum(lengths, size)   # with the length, zeros cannot be confused with characters
        for j in range(size):
            packed = (packed << 8) | part[:, j]
        codes, _ = pd.factorize(packed)
        codes = codes.astype(np.int32)
        codes[lengths == 0] = -1
        return codes

    def derived(self, key: tuple, make: Callable[[], T]) -> T:
        """`make()`, computed once per key: values derived from a field's vocabulary (e.g. date parts)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def char_words(self, field: str) -> list[np.ndarray] | None:
        """The code-point matrix as columns of uint64 words, eight one-byte code points each (zero-padded),
        for comparing eight characters at once; None when some code point needs more than a byte."""
        if field not in self._words:
            chars, _ = self.char_matrix(field)
            if chars.dtype != np.uint8:
                self._words[field] = None
            else:
                width = -(-chars.shape[1] // 8) * 8
                padded = np.zeros((len(chars), width), np.uint8)
                padded[:, :chars.shape[1]] = chars
                words = padded.view(np.uint64)
                self._words[field] = [np.ascontiguousarray(words[:, j]) for j in range(words.shape[1])]
        return self._words[field]

    @staticmethod
    def _value_key(function: str, vocab: np.ndarray) -> np.ndarray:
        if function == "initial":
            # Character codes, so initials of different fields compare (sorted_initials).
            return np.fromiter((ord(v[0]) if v else -1 for v in vocab), np.int32, len(vocab))
        transform = _PHONETIC.get(function) or _SLICES[function]
        encoded = [transform(v) if v else "" for v in vocab]
        codes, _ = pd.factorize(np.asarray(encoded, dtype=object))
        codes = codes.astype(np.int32)
        codes[np.asarray([e == "" for e in encoded], bool)] = -1
        return codes

    def key(self, key: Key) -> tuple[np.ndarray, np.ndarray]:
        """Per-record integer codes of a blocking/pass key on both sides; -1 where any input is missing."""
        if key.text not in self._keys:
            if key.function is None:
                fc = self.field(key.text)
                result = (fc.left, fc.right)
            elif key.function == "sorted_initials":
                a = self.key(Key(f"initial({key.fields[0]})", "initial", key.fields[:1]))
                b = self.key(Key(f"initial({key.fields[1]})", "initial", key.fields[1:]))
                result = tuple(np.where((x >= 0) & (y >= 0), np.minimum(x, y) * 256 + np.maximum(x, y), -1)
                               for x, y in zip(a, b))
            else:
                fc = self.field(key.fields[0])
                mapping = np.append(self.vocab_map(key.fields[0], key), np.int32(-1))  # index -1 -> missing
                result = (mapping[fc.left], mapping[fc.right])
            self._keys[key.text] = result
        return self._keys[key.text]

    def combined_key(self, keys) -> tuple[np.ndarray, np.ndarray]:
        """One int64 code per record for a tuple of keys (joint factorisation keeps codes dense)."""
        left = np.zeros(self.n_left, np.int64)
        right = np.zeros(self.n_right, np.int64)
        for key in keys:
            kl, kr = self.key(key)
            width = int(max(kl.max(initial=-1), kr.max(initial=-1))) + 2
            left = np.where((left >= 0) & (kl >= 0), left * width + kl, -1)
            right = np.where((right >= 0) & (kr >= 0), right * width + kr, -1)
            both = np.concatenate([left, right])
            codes, _ = pd.factorize(both, use_na_sentinel=False)
            codes = np.where(both >= 0, codes, -1).astype(np.int64)
            left, right = codes[:self.n_left], codes[self.n_left:]
        if self.dedupe:
            right = left
        return left, right

    def _distinct_people(self, side: str, ident: list[str]) -> np.ndarray:
        """Row positions of the first record of each distinct identity (names + DOB) on one side."""
        if side not in self._people:
            cols = {n: (self.field(n).left if side == "left" else self.field(n).right) for n in ident}
            self._people[side] = np.flatnonzero(~pd.DataFrame(cols).duplicated().to_numpy())
        return self._people[side]

    def term_frequencies(self, field: str) -> np.ndarray:
        """Share of people holding each vocabulary value, counted over distinct people.

        Rows repeating the same person (same names and date of birth) count once, so duplicates in a
        source do not make a name look common.
        """
        if field not in self._tf:
            fc = self.field(field)
            counts = np.zeros(len(fc.vocab), np.float64)
            ident = [n for n in _IDENTITY if self.available(n)]
            sides = [(fc.left, "left")] if self.dedupe else [(fc.left, "left"), (fc.right, "right")]
            for codes, side in sides:
                if field in ident:   # then (value, identity) rows are distinct exactly when identities are
                    values = codes[self._distinct_people(side, ident)]
                else:
                    cols = {"v": codes}
                    for n in ident:
                        other = self.field(n)
                        cols[n] = other.left if side == "left" else other.right
                    values = pd.DataFrame(cols).drop_duplicates()["v"].to_numpy()
                values = values[values >= 0]
                counts += np.bincount(values, minlength=len(fc.vocab))
            total = counts.sum()
            self._tf[field] = np.maximum(counts, 1.0) / max(total, 1.0)
        return self._tf[field]
