"""One-to-one assignment for linking: best-first greedy on match weight, vectorised.

Greedy takes pairs in order of weight and keeps a pair when neither record is taken yet. The same set
comes out of rounds of 'mutual best' selection (a pair that is the best remaining for both its records
can never be blocked by a better pair), which needs no Python loop over pairs. Ties are broken by
record position, so the result is reproducible.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def greedy_one_to_one(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Indices (into the inputs) of the pairs kept, in best-first order."""
    order = np.lexsort((right, left, -weight))
    lo, ro = left[order], right[order]
    active = np.arange(len(order))
    chosen = []
    # Allocated once: a taken record's pairs all leave `active`, so marks can accumulate across rounds.
    taken_l = np.zeros(int(lo.max(initial=-1)) + 1, bool)
    taken_r = np.zeros(int(ro.max(initial=-1)) + 1, bool)
    while len(active):
        la, ra = lo[active], ro[active]
        best_left = ~pd.Series(la).duplicated().to_numpy()
        best_right = ~pd.Series(ra).duplicated().to_numpy()
        mutual = best_left & best_right
        chosen.append(active[mutual])
        taken_l[la[mutual]] = True
        taken_r[ra[mutual]] = True
        active = active[~(taken_l[la] | taken_r[ra])]
    kept = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
    return order[kept]
