"""One-to-one assignment for linking: best-first greedy on match weight, vectorised.

Greedy takes pairs in order of weight and keeps a pair when neither record is taken yet. The same set
comes out of rounds of "mutual best" selection (a pair that is the best remaining for both its records can
never be blocked by a better pair), with no Python loop over pairs: each round finds every record's best
remaining pair with one ``np.minimum.at`` over positions. Ties are broken by record position, so the result
is reproducible.

The rounds run on one window of the sorted pairs at a time. Greedy's choices among the best pairs never
depend on worse ones, so a window's pairs are settled (kept, or blocked by a kept pair) before the next
window starts; the long chains of records whose best pair is blocked then stay inside small windows instead
of keeping the whole list active for ~80 rounds. Wage 100k (372k pairs after the deterministic passes):
0.10 s against 0.17 s for rounds over the whole list, and ~0.42 s for a plain loop over the sorted pairs.
"""
from __future__ import annotations

import numpy as np

_NONE = np.iinfo(np.int64).max
WINDOW = 32_768   # sorted pairs settled at a time (16k-64k measured alike)


def greedy_one_to_one(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Indices (into the inputs) of the pairs kept, in best-first order."""
    if not len(left):
        return np.zeros(0, np.int64)
    # One int64 per (left, right) sorts as the two would, so two keys do the work of three.
    pair = left.astype(np.int64) * (int(right.max()) + 1) + right
    order = np.lexsort((pair, -weight))
    lo, ro = left[order].astype(np.int64), right[order].astype(np.int64)
    best_l = np.full(int(lo.max()) + 1, _NONE, np.int64)   # per record: its best remaining position
    best_r = np.full(int(ro.max()) + 1, _NONE, np.int64)
    taken_l = np.zeros(len(best_l), bool)
    taken_r = np.zeros(len(best_r), bool)
    chosen = []
    for start in range(0, len(order), WINDOW):
        active = np.arange(start, min(start + WINDOW, len(order)))
        active = active[~(taken_l[lo[active]] | taken_r[ro[active]])]
        while len(active):   # the first active pair is always mutual best: every round keeps one or more
            la, ra = lo[active], ro[active]
            position = np.arange(len(active))
            best_l[la] = _NONE
            best_r[ra] = _NONE
            np.minimum.at(best_l, la, position)
            np.minimum.at(best_r, ra, position)
            mutual = (best_l[la] == position) & (best_r[ra] == position)
            chosen.append(active[mutual])
            taken_l[la[mutual]] = True
            taken_r[ra[mutual]] = True
            active = active[~(taken_l[la] | taken_r[ra])]
    return order[np.sort(np.concatenate(chosen))]
