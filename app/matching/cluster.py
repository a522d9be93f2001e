"""Clustering for de-duplication.

Connected components over every pair above the threshold chain unrelated people together through
borderline links (A~B, B~C, so A=C). `best_link` is stricter: a pair is kept only when it is the
best-scoring partner of at least one of its two records, then components are taken over those links.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def best_links(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Boolean mask of the pairs that are the best partner of a or of b (ties broken by position)."""
    if not len(a):
        return np.zeros(0, bool)
    pair = a.astype(np.int64) * (int(b.max()) + 1) + b   # sorts as (a, b) would: two sort keys instead of three
    order = np.lexsort((pair, -weight))
    n = len(order)
    # Both ends of each pair, best pair first; a record's first appearance is its best link.
    ends = np.empty(2 * n, a.dtype)
    ends[0::2], ends[1::2] = a[order], b[order]
    first = ~pd.Series(ends).duplicated().to_numpy()
    keep = np.zeros(n, bool)
    keep[order[first[0::2] | first[1::2]]] = True
    return keep


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label (smallest member index) of every record 0..n-1 given undirected edges."""
    labels = np.arange(n)
    if not len(a):
        return labels
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]          # pointer jumping: follow labels to their own labels
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new
