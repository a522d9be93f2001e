"""Small seeded standardised frames with known truth, for engine tests that must not depend on the
reader/standardiser (tests of those live in test_io.py / test_standardise.py).

People get syllable-built names with a skewed (Zipf-like) frequency, dates of birth over a few school
years, SSNs and SASIDs; the right-hand copy of a person carries typical errors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SYLLABLES = ["AN", "BER", "CO", "DA", "EL", "FI", "GAR", "HAN", "IS", "JO", "KER", "LI", "MAR", "NE", "OL",
             "PER", "QUIN", "RO", "SA", "TON", "UL", "VI", "WIL", "XAN", "YO", "ZE"]
NICKNAMES = {"WILLIAM": "BILL", "ROBERT": "BOB", "ELIZABETH": "LIZ", "MARGARET": "PEGGY"}


def _names(rng, count, parts):
    out = set()
    while len(out) < count:
        out.add("".join(rng.choice(SYLLABLES, size=parts)))
    return np.array(sorted(out), dtype=object)


def _unique_numbers(rng, count, start):
    spaced = start + np.arange(count, dtype=np.int64) * 1000 + rng.integers(0, 1000, count)
    return rng.permutation(spaced)


def _typo(rng, name: str) -> str:
    i = int(rng.integers(0, len(name)))
    kind = rng.integers(0, 3)
    if kind == 0 and len(name) > 3:
        return name[:i] + name[i + 1:]
    if kind == 1:
        return name[:i] + "QWERTYUIOPASDFGHJKLZXCVBNM"[int(rng.integers(0, 26))] + name[i + 1:]
    j = min(i + 1, len(name) - 1)
    chars = list(name)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def standard_frame(rows: dict) -> pd.DataFrame:
    """A standardised frame (docs/architecture.md columns and dtypes) from plain column lists."""
    n = len(rows["record_id"])
    frame = pd.DataFrame(index=range(n))
    for col in ("record_id", "first_name", "middle_name", "last_name", "first_name_canonical", "suffix",
                "first_initial", "gender", "ssn", "sasid", "hs_code"):
        frame[col] = pd.array(rows.get(col, [None] * n), dtype="string")
    last = frame["last_name"]
    frame["last_name_first"] = last.str.split(" ").str[0].astype("string")
    frame["last_name_last"] = last.str.split(" ").str[-1].astype("string")
    if "first_name_canonical" not in rows:
        frame["first_name_canonical"] = frame["first_name"]
    if "first_initial" not in rows:
        frame["first_initial"] = frame["first_name"].str[0].astype("string")
    dob = pd.array(rows.get("dob", [None] * n), dtype="Int32")
    frame["dob"] = dob
    frame["dob_year"] = (frame["dob"] // 10000).astype("Int16")
    frame["dob_month"] = (frame["dob"] // 100 % 100).astype("Int16")
    frame["dob_day"] = (frame["dob"] % 100).astype("Int16")
    return frame[["record_id", "first_name", "middle_name", "last_name", "last_name_first", "last_name_last",
                  "first_name_canonical", "suffix", "first_initial", "dob", "dob_year", "dob_month", "dob_day",
                  "gender", "ssn", "sasid", "hs_code"]]


def make_pair(n: int, overlap: float = 0.7, seed: int = 0, error_rate: float = 0.3, wage: bool = False):
    """(left, right, truth): two standardised frames and the set of true (left_id, right_id) pairs.

    wage=True gives the right side only SSN, last name and first initial (the wage file's fields).
    """
    rng = np.random.default_rng(seed)
    firsts = _names(rng, max(60, n // 20), 2)
    lasts = _names(rng, max(200, n // 4), 3)
    fp = 1 / np.arange(1, len(firsts) + 1) ** 0.8
    lp = 1 / np.arange(1, len(lasts) + 1) ** 0.9
    total = int(n * (2 - overlap)) + 1
    people = pd.DataFrame({
        "first": rng.choice(firsts, total, p=fp / fp.sum()),
        "middle": rng.choice(firsts, total),
        "last": rng.choice(lasts, total, p=lp / lp.sum()),
        "gender": rng.choice(["M", "F"], total),
        "dob": pd.to_datetime("2004-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, total), "D"),
        "ssn": [f"{x:09d}" for x in _unique_numbers(rng, total, 100_000_000)],
        "sasid": [f"{x:010d}" for x in _unique_numbers(rng, total, 10**9)],
    })
    people["dob"] = people["dob"].dt.strftime("%Y%m%d").astype(int)
    shared = int(n * overlap)
    left_idx = np.arange(n)
    right_idx = np.concatenate([np.arange(shared), np.arange(n, n + (n - shared))])
    left = people.iloc[left_idx].reset_index(drop=True)
    right = people.iloc[right_idx].reset_index(drop=True).copy()
    for i in range(len(right)):
        if rng.random() >= error_rate:
            continue
        kind = rng.integers(0, 6)
        if kind == 0:
            right.at[i, "first"] = _typo(rng, right.at[i, "first"])
        elif kind == 1:
            right.at[i, "last"] = _typo(rng, right.at[i, "last"])
        elif kind == 2:
            y, md = divmod(int(right.at[i, "dob"]), 10000)
            m, d = divmod(md, 100)
            if d <= 12:
                right.at[i, "dob"] = y * 10000 + d * 100 + m
        elif kind == 3:
            right.at[i, "first"], right.at[i, "last"] = right.at[i, "last"], right.at[i, "first"]
        elif kind == 4:
            right.at[i, "last"] = rng.choice(lasts)   # married name
        else:
            right.at[i, "ssn"] = None
    left_ids = [f"L{i:07d}" for i in range(len(left))]
    right_order = rng.permutation(len(right))
    right = right.iloc[right_order].reset_index(drop=True)
    right_ids = [f"R{i:07d}" for i in range(len(right))]
    truth = {(left_ids[int(orig)], right_ids[pos]) for pos, orig in enumerate(right_order) if orig < shared}

    def frame(p, ids, wage_side=False):
        if wage_side:
            return standard_frame({"record_id": ids, "last_name": list(p["last"]),
                                   "first_initial": [f[0] for f in p["first"]], "ssn": list(p["ssn"])})
        return standard_frame({"record_id": ids, "first_name": list(p["first"]), "middle_name": list(p["middle"]),
                               "last_name": list(p["last"]), "gender": list(p["gender"]), "dob": list(p["dob"]),
                               "ssn": list(p["ssn"]), "sasid": list(p["sasid"])})

    return frame(left, left_ids), frame(right, right_ids, wage), truth


def f1(found: set, truth: set) -> tuple[float, float, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    return precision, recall, 2 * tp / (len(found) + len(truth))
