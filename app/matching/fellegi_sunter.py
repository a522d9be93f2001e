"""Fellegi-Sunter parameters: u from random pairs, m and the match rate by EM, threshold from the model.

EM runs on comparison patterns with counts (not on pairs), in log space with clamped probabilities, and
reports whether it converged. Missing comparisons (level 0) are missing at random: they drop out of the
likelihood. Comparisons on fields a pair's blocking rule forced to agree are masked for that pair (set
missing), as Splink does, so blocking does not bias m; each rule gets its own match rate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.matching import parallel
from app.matching.comparisons import compute_levels, prepare
from app.matching.encoding import Coded

CLAMP = 1e-6
U_SLICE = 100_000   # random pairs per piece of work when it is shared with a helper process


@dataclass
class EMResult:
    m: list[np.ndarray]          # per comparison: probability of each level (index 0 unused) among matches
    rule_rates: dict[int, float]  # per blocking rule: share of its candidate pairs that match
    iterations: int
    converged: bool
    log_likelihood: float


def sample_pairs(n_left: int, n_right: int, size: int, seed: int, dedupe: bool):
    """Seeded random pairs, the stand-in for non-matches when estimating u."""
    rng = np.random.default_rng(seed)
    if dedupe:
        size = min(size, n_left * (n_left - 1) // 2)
    else:
        size = min(size, n_left * n_right)
    li = rng.integers(0, n_left, size, dtype=np.int64)
    ri = rng.integers(0, n_right, size, dtype=np.int64)
    if dedupe:
        keep = li != ri
        li, ri = np.minimum(li, ri)[keep], np.maximum(li, ri)[keep]
    return li, ri


def exact_agreement_rate(codes_left: np.ndarray, codes_right: np.ndarray, vocab_size: int, dedupe: bool) -> float:
    """Chance that two random *different* people with the value present share it, from value counts.

    Pairs sharing a value include the true matches, which would make an identifier like SSN look far
    commoner among non-matches than it is (Splink's random sampling has the same bias). At most
    min(count_left, count_right) of a value's agreeing pairs can be one-to-one matches (count - 1 in a
    single file), so those are left out; the floor keeps a never-shared identifier finite.
    """
    cl = np.bincount(codes_left[codes_left >= 0], minlength=vocab_size).astype(np.float64)
    if dedupe:
        n = cl.sum()
        agreeing = (cl * (cl - 1) / 2 - np.maximum(cl - 1, 0)).sum()
        possible, size = max(n * (n - 1) / 2, 1.0), n
    else:
        cr = np.bincount(codes_right[codes_right >= 0], minlength=vocab_size).astype(np.float64)
        agreeing = (cl * cr - np.minimum(cl, cr)).sum()
        possible, size = max(cl.sum() * cr.sum(), 1.0), max(cl.sum(), cr.sum())
    return float(max(agreeing / possible, 1.0 / (1000.0 * max(size, 1.0))))


def estimate_u(comparisons, coded: Coded, size: int, seed: int, between=None) -> list[np.ndarray]:
    """u per level for each comparison: exact level from value counts, the rest from random pairs.

    `between(done, total)` is called before the first piece of work and after each (progress, and a point
    to cancel). The work is shared with a helper process when that pays (app.matching.parallel).
    """
    li, ri = sample_pairs(coded.n_left, coded.n_right, size, seed, coded.dedupe)
    if between is not None:
        between(0, 1)
    for comp in comparisons:   # the codes, before the helper starts: every task needs them
        coded.field(comp.field)

    shared = parallel.worth_it(len(li) * len(comparisons), parallel.PAIR_COMPARISONS)
    # Shared work goes in slices: one comparison (a name's) can outweigh all the others together.
    step = max(U_SLICE if shared else len(li), 1)
    tasks = [(k, start) for k in range(len(comparisons)) for start in range(0, max(len(li), 1), step)]

    def count_levels(t: int) -> np.ndarray:
        k, start = tasks[t]
        levels = compute_levels(comparisons[k], coded, li[start:start + step], ri[start:start + step])
        return np.bincount(levels, minlength=len(comparisons[k].levels) + 2)

    per_comparison = [np.zeros(len(comp.levels) + 2, np.int64) for comp in comparisons]
    # Preparing the values for the comparisons to come (~0.3 s at 100k) overlaps the helper's first tasks.
    for (k, _), level_counts in zip(tasks, parallel.map_tasks(count_levels, len(tasks), parallel=shared,
                                                              after=between,
                                                              before=lambda: prepare(comparisons, coded))):
        per_comparison[k] += level_counts
    out = []
    for comp, level_counts in zip(comparisons, per_comparison):
        counts = level_counts.astype(np.float64)[1:]
        # Half a pair of pseudo-count: a level never seen among random pairs is rare, not impossible.
        u = np.concatenate([[0.0], (counts + 0.5) / (counts.sum() + 0.5 * len(counts))])
        if comp.levels[0].type == "exact":
            fc = coded.field(comp.field)
            exact = exact_agreement_rate(fc.left, fc.right, len(fc.vocab), coded.dedupe)
            exact = min(exact, 1 - CLAMP)
            rest = u[2:] / u[2:].sum()
            u = np.concatenate([[0.0, exact], rest * (1 - exact)])
        out.append(u)
    return out


def _initial_m(n_levels: int) -> np.ndarray:
    # Matches mostly agree: halve the probability at each worse level.
    raw = 0.5 ** np.arange(n_levels - 1)
    return np.concatenate([[0.0], raw / raw.sum()])


def run_em(patterns: np.ndarray, rules: np.ndarray, counts: np.ndarray, u: list[np.ndarray],
           max_iterations: int, tolerance: float, labelled: tuple[np.ndarray, np.ndarray] | None = None
           ) -> EMResult:
    """Estimate m (u fixed) and a match rate per rule from pattern counts.

    patterns: (P, K) uint8 levels with masked comparisons set to 0; rules: (P,) rule index; counts: (P,).
    labelled: optional (patterns, is_match) of clerically labelled pairs; they enter the m update with
    their known status and are not part of the mixture.
    """
    k_count = patterns.shape[1]
    m = [_initial_m(len(uk)) for uk in u]
    log_u = [np.log(np.maximum(uk, CLAMP)) for uk in u]
    for lu in log_u:
        lu[0] = 0.0
    rule_ids = np.unique(rules)
    rule_pos = np.searchsorted(rule_ids, rules)
    rate = np.full(len(rule_ids), 0.1)
    counts = counts.astype(np.float64)
    converged, log_likelihood, iteration = False, float("nan"), 0
    if not len(patterns):   # no candidate pairs at all: nothing to learn from, say so
        return EMResult(m, {}, 0, False, log_likelihood)
    for iteration in range(1, max_iterations + 1):
        log_m = [np.log(np.maximum(mk, CLAMP)) for mk in m]
        lm = np.zeros(len(patterns))
        lu = np.zeros(len(patterns))
        for k in range(k_count):
            log_m[k][0] = 0.0
            lm += log_m[k][patterns[:, k]]
            lu += log_u[k][patterns[:, k]]
        a = np.log(rate[rule_pos]) + lm
        b = np.log1p(-rate[rule_pos]) + lu
        total = np.logaddexp(a, b)
        post = np.exp(a - total)
        log_likelihood = float((counts * total).sum())
        weight = counts * post
        new_m = []
        for k in range(k_count):
            sums = np.bincount(patterns[:, k], weights=weight, minlength=len(u[k]))
            if labelled is not None and len(labelled[0]):
                lab_patterns, is_match = labelled
                sums += np.bincount(lab_patterns[is_match, k], minlength=len(u[k]))
            sums[0] = 0.0
            if sums.sum() <= 0:
                new_m.append(m[k])
                continue
            mk = np.clip(sums / sums.sum(), CLAMP, 1 - CLAMP)
            mk[0] = 0.0
            new_m.append(mk / mk.sum())
        new_rate = np.bincount(rule_pos, weights=weight, minlength=len(rule_ids)) / np.maximum(
            np.bincount(rule_pos, weights=counts, minlength=len(rule_ids)), 1.0)
        new_rate = np.clip(new_rate, CLAMP, 1 - CLAMP)
        change = max(max(np.abs(a - b).max() for a, b in zip(new_m, m)), np.abs(new_rate - rate).max())
        m, rate = new_m, new_rate
        if change < tolerance:
            converged = True
            break
    return EMResult(m, {int(r): float(x) for r, x in zip(rule_ids, rate)}, iteration, converged,
                    log_likelihood)


def level_weights(m: list[np.ndarray], u: list[np.ndarray]) -> list[np.ndarray]:
    """Match weight in bits of each level; the missing level (0) weighs nothing."""
    out = []
    for mk, uk in zip(m, u):
        w = np.log2(np.maximum(mk, CLAMP) / np.maximum(uk, CLAMP))
        w[0] = 0.0
        out.append(w)
    return out


def probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.asarray(weight, np.float64)))


def choose_threshold(p_forced: np.ndarray, p_free: np.ndarray) -> float:
    """The probability cut that maximises the model's own expected F1 (no truth needed).

    p_forced: probabilities of pairs accepted whatever the cut (deterministic passes); p_free: those
    of the other one-to-one candidates. Expected true matches = sum of all probabilities.
    """
    if not len(p_free):
        return 0.5
    order = np.sort(p_free)[::-1]
    expected_matches = p_forced.sum() + order.sum()
    tp = p_forced.sum() + np.cumsum(order)
    selected = len(p_forced) + np.arange(1, len(order) + 1)
    f1 = 2 * tp / (selected + expected_matches)
    best = int(np.argmax(f1))
    cut = float(order[best])
    return min(max(cut, 1e-6), 1 - 1e-9)


def estimates(p_accepted: np.ndarray, p_all: np.ndarray) -> dict:
    """Expected precision, recall and F1 of the accepted pairs, from the model's probabilities alone."""
    tp = float(p_accepted.sum())
    selected = float(len(p_accepted))
    expected = float(p_all.sum())
    precision = tp / selected if selected else 1.0
    recall = tp / expected if expected else 1.0
    f1 = 2 * tp / (selected + expected) if selected + expected else 1.0
    return {"precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6),
            "expected_false_matches": round(selected - tp, 3), "expected_missed_matches": round(expected - tp, 3)}


def pattern_counts(levels: np.ndarray) -> pd.DataFrame:
    """Distinct rows of levels (columns c0..cK-1) with their count `n`.

    Each row is packed into one int64 (4 bits a level; method.py caps levels and comparisons to fit),
    so counting costs a hash of one integer per pair instead of a K-column group-by.
    """
    k_count = levels.shape[1]
    codes = np.zeros(len(levels), np.int64)
    for k in range(k_count):
        codes |= levels[:, k].astype(np.int64) << (4 * k)
    counts = pd.Series(codes).value_counts(sort=False)
    distinct = counts.index.to_numpy(np.int64)
    frame = pd.DataFrame({f"c{k}": ((distinct >> (4 * k)) & 15).astype(np.uint8) for k in range(k_count)})
    frame["n"] = counts.to_numpy(np.int64)
    return frame


def estimate_lambda(patterns: np.ndarray, counts: np.ndarray, level_w: list[np.ndarray], possible: int) -> float:
    """Match rate over all `possible` pairs: the fixed point of lambda = expected matches / possible.

    Pairs outside the candidates are taken as non-matches; the candidates' expected matches depend on
    lambda through the prior, hence the iteration (it converges in a few steps).
    """
    bits = np.zeros(len(patterns))
    for k, wk in enumerate(level_w):
        bits += wk[patterns[:, k]]
    counts = counts.astype(np.float64)
    lam = min(max(counts.sum() / max(possible, 1) / 10, 1e-12), 0.5)
    for _ in range(200):
        post = probability(np.log2(lam / (1 - lam)) + bits)
        new = min(max(float((counts * post).sum()) / max(possible, 1), 1e-12), 0.5)
        if abs(new - lam) <= 1e-6 * lam:
            return new
        lam = new
    return lam
