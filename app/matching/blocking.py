"""Candidate pairs from OR-combined blocking rules, in bounded chunks, each pair produced once.

A pair is attributed to the first rule that produces it; later rules drop pairs an earlier rule already
made (checked on the earlier rule's integer keys, no set of seen pairs kept in memory).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from app.matching import parallel
from app.matching.encoding import Coded
from app.matching.method import BlockingRule

PARALLEL_ROWS = 20_000   # records (both files) from which rules are indexed beside a helper process


@dataclass
class _Plan:
    index: int          # rule number in the method
    rule: BlockingRule
    left_key: np.ndarray
    right_key: np.ndarray
    order_left: np.ndarray     # left records with a key, sorted by key
    start: np.ndarray          # per entry of order_left: first position of its partners in order_right
    count: np.ndarray          # per entry of order_left: number of partners
    order_right: np.ndarray
    dedupe: bool

    @property
    def pairs(self) -> int:
        return int(self.count.sum())


def applicable_rules(rules, coded: Coded) -> list[tuple[int, BlockingRule]]:
    """Rules whose fields both files hold, skipping those meant only for files lacking some field."""
    out = []
    for i, rule in enumerate(rules):
        if not all(coded.available(f) for f in rule.fields):
            continue
        if rule.unless_available and all(coded.available(f) for f in rule.unless_available):
            continue
        out.append((i, rule))
    return out


@dataclass(frozen=True)
class Chunk:
    """A run of one plan's entries whose pairs are compared together."""
    position: int   # the plan's place in the list of plans
    first: int      # entries first..last-1 of the plan
    last: int
    examined: int   # pairs before removing those of earlier rules, for progress reporting


def plan(rules, coded: Coded) -> list[_Plan]:
    """Index each applicable rule: sorted keys and, per left record, the run of matching right records.

    Rules are indexed beside a helper process when the files are large (app.matching.parallel).
    """
    rules = applicable_rules(rules, coded)
    shared = parallel.worth_it(coded.n_left + coded.n_right, PARALLEL_ROWS)
    return parallel.map_tasks(lambda i: _plan_one(*rules[i], coded), len(rules), parallel=shared)


def _plan_one(index: int, rule: BlockingRule, coded: Coded) -> _Plan:
    kl, kr = coded.combined_key(rule.keys)
    order_r = np.flatnonzero(kr >= 0)
    order_r = order_r[np.argsort(kr[order_r], kind="stable")]
    sorted_r = kr[order_r]
    order_l = np.flatnonzero(kl >= 0)
    order_l = order_l[np.argsort(kl[order_l], kind="stable")]
    keys_l = kl[order_l]
    lo = np.searchsorted(sorted_r, keys_l, side="left")
    hi = np.searchsorted(sorted_r, keys_l, side="right")
    if coded.dedupe:
        # Same sorted order on both sides: pair each record only with those after it in its block.
        lo = np.arange(len(order_l)) + 1
    count = np.maximum(hi - lo, 0)
    keep = count > 0
    return _Plan(index, rule, kl, kr, order_l[keep], lo[keep], count[keep], order_r, coded.dedupe)


def _expand(p: _Plan, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of the given plan entries (left records), without removing other rules' pairs."""
    reps = p.count[entries]
    total = int(reps.sum())
    li = np.repeat(p.order_left[entries], reps)
    offsets = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)
    ri = p.order_right[np.repeat(p.start[entries], reps) + offsets]
    if p.dedupe:   # order pairs as (smaller, larger)
        li, ri = np.minimum(li, ri), np.maximum(li, ri)
    return li, ri


def chunks(plans: list[_Plan], chunk_pairs: int) -> list[Chunk]:
    """The plans' entries cut into runs of about `chunk_pairs` pairs, in order."""
    out = []
    for position, p in enumerate(plans):
        ends = np.cumsum(p.count)
        first = 0
        while first < len(p.count):
            base = int(ends[first - 1]) if first else 0
            last = int(np.searchsorted(ends, base + chunk_pairs, side="right"))
            last = max(last, first + 1)   # a single record with a huge block is still one chunk
            out.append(Chunk(position, first, last, int(ends[last - 1]) - base))
            first = last
    return out


def pairs_of(plans: list[_Plan], chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's pairs (left, right indices as int32) without those an earlier rule produced."""
    li, ri = _expand(plans[chunk.position], np.arange(chunk.first, chunk.last))
    keep = np.ones(len(li), bool)
    for earlier in plans[:chunk.position]:
        a = earlier.left_key[li]
        keep &= ~((a >= 0) & (a == earlier.right_key[ri]))
    return li[keep].astype(np.int32), ri[keep].astype(np.int32)


def iter_pairs(plans: list[_Plan], chunk_pairs: int = 2_000_000
               ) -> Iterator[tuple[int, np.ndarray, np.ndarray, int]]:
    """Yield (rule index, left indices, right indices, pairs examined) in chunks of about chunk_pairs.

    `pairs examined` counts pairs before removing those of earlier rules, for progress reporting.
    """
    for chunk in chunks(plans, chunk_pairs):
        li, ri = pairs_of(plans, chunk)
        yield plans[chunk.position].index, li, ri, chunk.examined


def sample_rule_pairs(p: _Plan, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """About `size` of the rule's own pairs (other rules' pairs not removed), for training m.

    Whole blocks of randomly chosen left records are taken, so the sample keeps the rule's mix of
    matches and non-matches.
    """
    if p.pairs <= size:
        return _expand(p, np.arange(len(p.count)))
    order = rng.permutation(len(p.count))
    take = int(np.searchsorted(np.cumsum(p.count[order]), size)) + 1
    return _expand(p, np.sort(order[:take]))
