"""The matching engine's Python API: `link` two standardised frames or `dedupe` one.

Order of work: integer-code the frames; u from seeded random pairs; candidate pairs from the blocking
rules in chunks (levels + term-frequency adjustments per chunk, pattern counts for EM); EM for m; match
weights; deterministic passes; one-to-one assignment (link) or clustering (dedupe); a threshold that
maximises the model's own expected F1, with a clerical-review band around it.

The work splits in two phases so that a person can choose passes and cut-offs between them:
`prepare_link`/`prepare_dedupe` do everything up to the scored candidates and return a `Scoring`;
`Scoring.bands(passes)` tells what any cut-offs would give (counts per band, estimated precision and
recall) and `Scoring.decide(...)` makes the result. `link`/`dedupe` do both with the model's choices.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from app.matching import parallel
from app.matching.assign import greedy_one_to_one
from app.matching.blocking import chunks, pairs_of, plan, sample_rule_pairs
from app.matching.cluster import best_links, components
from app.matching.comparisons import active_comparisons, compute_levels, tf_adjustment
from app.matching.encoding import Coded
from app.matching.fellegi_sunter import (
    choose_threshold, estimate_lambda, estimate_u, estimates, level_weights, pattern_counts, probability,
    run_em,
)
from app.matching.method import Method, MethodError, parse_key
from app.matching.registry import Registry

Progress = Callable[[float, str], None]
REPORTED_FIELDS = ("first_name", "middle_name", "last_name", "first_initial", "dob", "gender", "ssn",
                   "sasid", "hs_code")
# Pairs below this weight (probability < 0.001) cannot matter for assignment or the F1 estimate.
WEIGHT_FLOOR = -10.0
HISTOGRAM_EDGES = np.arange(-60, 61, 1.0)


class MatchCancelled(Exception):
    """The caller's cancel event was set; nothing was produced."""


@dataclass
class MatchResult:
    """What a run produced. Indices refer to rows of the standardised frames.

    pairs: accepted pairs (left, right, match_probability, match_weight, pass);
    review: pairs in the review band with each comparison's values and level;
    record: the run.json parts the engine knows (thresholds, passes, parameters, estimates, ...).
    """
    mode: str
    pairs: pd.DataFrame
    review: pd.DataFrame
    record: dict
    clusters: pd.DataFrame | None = None   # dedupe: record_id, cluster_id
    crosswalk: pd.DataFrame | None = None  # link: left_id, right_id, match_probability, match_weight, pass
    levels: np.ndarray | None = None       # link: each crosswalk row's level per comparison (for "why")


LinkResult = MatchResult
DedupeResult = MatchResult


@dataclass
class _Options:
    seed: int = 1
    chunk_pairs: int = 2_000_000
    labelled: pd.DataFrame | None = None
    timings: dict = field(default_factory=dict)


@dataclass
class Bands:
    """What a decision would give at any cut-offs, before it is made (for choosing them with live counts).

    probabilities: ascending, one per candidate the probabilistic pass decides on (after one-to-one
    assignment for a link, best links for a dedupe), above the weight floor. deterministic: the applied
    passes as {name, pairs, matches}; forced: their pairs' probabilities. threshold/lower/upper: the
    model's own choices. Plain numpy and lists: it crosses a process boundary to the hub's window.
    """
    probabilities: np.ndarray
    deterministic: list[dict]
    forced: np.ndarray
    threshold: float
    lower: float
    upper: float

    def counts(self, threshold: float, lower: float, upper: float) -> dict:
        """Pairs per band: matches (deterministic + accepted), review (lower <= p < upper), below."""
        p = self.probabilities
        at = np.searchsorted(p, [lower, threshold, upper], side="left")
        accepted = int(len(p) - at[1])
        forced = sum(d["matches"] for d in self.deterministic)
        return {"deterministic": forced, "accepted": accepted, "matches": forced + accepted,
                "review": int(at[2] - at[0]), "below": int(at[0])}

    def estimates(self, threshold: float) -> dict:
        """The model's expected precision, recall and F1 if pairs from `threshold` up are accepted."""
        p = self.probabilities
        accepted = p[np.searchsorted(p, threshold, side="left"):]
        return estimates(np.concatenate([self.forced, accepted]), np.concatenate([self.forced, p]))


def check_cutoffs(threshold: float | None = None, lower: float | None = None, upper: float | None = None) -> None:
    """ValueError unless the given cut-offs are probabilities in order (lower <= threshold <= upper)."""
    given = [v for v in (lower, threshold, upper) if v is not None]
    if any(not 0.0 < v < 1.0 for v in given):
        raise ValueError("Cut-offs are match probabilities between 0 and 1.")
    if given != sorted(given):
        raise ValueError("Cut-offs must satisfy lower <= threshold <= upper.")


def prepare_link(left_std: pd.DataFrame, right_std: pd.DataFrame, method: Method, *,
                 registry: Registry | None = None, seed: int = 1, labelled_pairs: pd.DataFrame | None = None,
                 progress: Progress | None = None, cancel: threading.Event | None = None,
                 chunk_pairs: int = 2_000_000, value_codes: list[dict] | None = None) -> Scoring:
    """Score every candidate pair of two standardised frames (the slow phase of `link`); see `link`.

    value_codes: optional, the two frames' value codes from `standardise.standardise_coded` (a faster start).
    """
    options = _Options(seed, chunk_pairs, labelled_pairs)
    return Scoring(Coded(left_std, right_std, value_codes), method, registry, options, progress, cancel).score()


def prepare_dedupe(std: pd.DataFrame, method: Method, *, registry: Registry | None = None, seed: int = 1,
                   labelled_pairs: pd.DataFrame | None = None, progress: Progress | None = None,
                   cancel: threading.Event | None = None, chunk_pairs: int = 2_000_000,
                   value_codes: list[dict] | None = None) -> Scoring:
    """Score every candidate pair within one standardised frame (the slow phase of `dedupe`)."""
    options = _Options(seed, chunk_pairs, labelled_pairs)
    return Scoring(Coded(std, value_codes=value_codes), method, registry, options, progress, cancel).score()


def link(left_std: pd.DataFrame, right_std: pd.DataFrame, method: Method, *, registry: Registry | None = None,
         seed: int = 1, threshold: float | None = None, lower: float | None = None, upper: float | None = None,
         labelled_pairs: pd.DataFrame | None = None, progress: Progress | None = None,
         cancel: threading.Event | None = None, chunk_pairs: int = 2_000_000) -> MatchResult:
    """Link two standardised frames one-to-one.

    The method must be approved in `registry` (default: the default registry) or MethodNotApproved is
    raised. threshold/lower/upper are match probabilities overriding the model's choices.
    labelled_pairs: optional DataFrame (left_id, right_id, is_match) of clerically decided pairs.
    progress(fraction, message) is called between stages and chunks; a set `cancel` raises MatchCancelled.
    """
    check_cutoffs(threshold, lower, upper)   # before any work, not after an hour at 1M rows
    scoring = prepare_link(left_std, right_std, method, registry=registry, seed=seed, labelled_pairs=labelled_pairs,
                           progress=progress, cancel=cancel, chunk_pairs=chunk_pairs)
    return scoring.decide(threshold=threshold, lower=lower, upper=upper)


def dedupe(std: pd.DataFrame, method: Method, *, registry: Registry | None = None, seed: int = 1,
           threshold: float | None = None, lower: float | None = None, upper: float | None = None,
           labelled_pairs: pd.DataFrame | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None, chunk_pairs: int = 2_000_000) -> MatchResult:
    """Find records of the same person within one standardised frame; see `link` for the options."""
    check_cutoffs(threshold, lower, upper)
    scoring = prepare_dedupe(std, method, registry=registry, seed=seed, labelled_pairs=labelled_pairs,
                             progress=progress, cancel=cancel, chunk_pairs=chunk_pairs)
    return scoring.decide(threshold=threshold, lower=lower, upper=upper)


class Scoring:
    """Scored candidates of one run, made by `prepare_link`/`prepare_dedupe` (not constructed directly)."""

    def __init__(self, coded: Coded, method: Method, registry, options: _Options, progress, cancel):
        self.approval = (registry or Registry.default()).require(method)
        self.coded, self.method, self.options = coded, method, options
        self._progress, self._cancel = progress, cancel
        self.comparisons = active_comparisons(method.comparisons, coded)
        if not self.comparisons:
            raise MethodError(f"The two files share no field that method {method.label} compares.")
        self._t = time.perf_counter()
        self.labelled_used = 0
        self._assigned: dict = {}
        self._det_pairs: dict = {}

    # -- plumbing ---------------------------------------------------------------------------------
    def _step(self, fraction: float, message: str):
        if self._cancel is not None and self._cancel.is_set():
            raise MatchCancelled("Matching was cancelled.")
        if self._progress is not None:
            self._progress(min(max(fraction, 0.0), 1.0), message)

    def _time(self, stage: str):
        now = time.perf_counter()
        self.options.timings[stage] = round(self.options.timings.get(stage, 0.0) + now - self._t, 3)
        self._t = now

    def _score_pairs(self, li, ri):
        """Levels (N, K) and summed TF adjustment (bits) for arbitrary pairs."""
        levels = self._levels(li, ri)
        tf = np.zeros(len(li), np.float32)
        for k, comp in enumerate(self.comparisons):
            adj = tf_adjustment(comp, self.coded, li, ri, levels[:, k], float(self.u[k][1]))
            if adj is not None:
                tf += adj
        return levels, tf

    def _levels(self, li, ri):
        """Levels (N, K) for arbitrary pairs."""
        levels = np.zeros((len(li), len(self.comparisons)), np.uint8)
        for k, comp in enumerate(self.comparisons):
            levels[:, k] = compute_levels(comp, self.coded, li, ri)
        return levels

    def _evidence(self, levels, tf):
        """Summed level weights and TF adjustments in bits: the match weight without the prior."""
        w = np.zeros(len(levels), np.float64)
        for k, wk in enumerate(self.level_w):
            w += wk[levels[:, k]]
        return w + tf

    def _weights(self, levels, tf):
        return self.prior + self._evidence(levels, tf)

    # -- the run ----------------------------------------------------------------------------------
    def score(self) -> Scoring:
        """Train the model and score every candidate pair (progress 0 to 0.9); returns self."""
        coded, method, opts = self.coded, self.method, self.options
        self._step(0.0, "Preparing values")
        self.u = estimate_u(self.comparisons, coded, method.u_sample_pairs, opts.seed,
                            lambda done, total: self._step(0.05 * done / total, "Sampling random pairs"))
        self._time("u_sampling")
        self._step(0.05, "Finding candidate pairs")
        plans = plan(method.blocking_rules, coded)
        if not plans:
            raise MethodError(f"No blocking rule of method {method.label} applies to these files' fields.")
        self._time("blocking")
        self._train(plans)
        self._time("em")
        total = max(sum(p.pairs for p in plans), 1)
        shared = parallel.worth_it(total * len(self.comparisons), parallel.PAIR_COMPARISONS)
        # Shared work in smaller chunks, so that the two processes end at about the same time.
        pieces = chunks(plans, min(opts.chunk_pairs, max(total // 8, 50_000)) if shared else opts.chunk_pairs)
        started = time.perf_counter()

        def compare(i: int):
            if i == 0:   # task 0 stays in this process, which keeps the result: the decision's first step
                return self._deterministic_pairs(None)
            li, ri = pairs_of(plans, pieces[i - 1])
            levels, tf = self._score_pairs(li, ri)
            # m is known already (trained on samples) and the prior is a constant: keep 12 bytes a pair.
            return li, ri, self._evidence(levels, tf).astype(np.float32), pattern_counts(levels)

        def compared(finished: int, count: int):
            if finished < 2:   # the deterministic passes' task: no candidate compared yet
                return
            done = sum(piece.examined for piece in pieces[:finished - 1])   # about: pieces end out of order
            eta = (time.perf_counter() - started) / max(done, 1) * (total - done)
            self._step(0.15 + 0.7 * done / total, f"Compared {done:,} of {total:,} candidate pairs "
                                                  f"(about {eta:.0f} s left)")

        scored = parallel.map_tasks(compare, len(pieces) + 1, parallel=shared, after=compared)[1:]
        rule_pairs = {p.index: 0 for p in plans}
        for piece, (li, _, _, _) in zip(pieces, scored):
            rule_pairs[plans[piece.position].index] += len(li)
        self._time("comparing")
        self._set_prior([table for *_, table in scored])
        self._step(0.85, "Scoring pairs")
        histogram = np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64)
        kept = []
        scored.reverse()
        while scored:
            li, ri, evidence, _ = scored.pop()
            w = self.prior + evidence.astype(np.float64)
            histogram += np.histogram(np.clip(w, -59.5, 59.5), HISTOGRAM_EDGES)[0]
            keep = w >= WEIGHT_FLOOR
            kept.append((li[keep], ri[keep], w[keep].astype(np.float32)))
        self.li = np.concatenate([k[0] for k in kept]) if kept else np.zeros(0, np.int32)
        self.ri = np.concatenate([k[1] for k in kept]) if kept else np.zeros(0, np.int32)
        self.w = np.concatenate([k[2] for k in kept]).astype(np.float64) if kept else np.zeros(0)
        self.histogram, self.plans, self.rule_pairs = histogram, plans, rule_pairs
        self._time("scoring")
        return self

    @property
    def deterministic_passes(self) -> list[str]:
        """Names of the method's deterministic passes that these files' fields allow, in the method's order."""
        return [d.name for d in self.method.deterministic_passes if all(self.coded.available(f) for f in d.fields)]

    def bands(self, passes: list[str] | None = None) -> Bands:
        """Counts per band for any cut-offs when only `passes` (None: all) of the deterministic passes run."""
        a = self._assign(passes)
        threshold, lower, upper = self._band(a["det_p"], a["p"])
        return Bands(np.sort(a["p"]), [dict(d) for d in a["passes"]], a["det_p"].copy(), threshold, lower, upper)

    def decide(self, *, threshold: float | None = None, lower: float | None = None, upper: float | None = None,
               passes: list[str] | None = None) -> MatchResult:
        """The result at these cut-offs (None: the model's choice) with only `passes` (None: all) applied."""
        check_cutoffs(threshold, lower, upper)
        coded, method, opts = self.coded, self.method, self.options
        self._t = time.perf_counter()   # time spent choosing between the phases is no stage's
        self._step(0.9, "Assigning matches" if not coded.dedupe else "Clustering")
        a = self._assign(passes)
        cutoffs = self._band(a["det_p"], a["p"], threshold, lower, upper)
        result = self._cluster(a, *cutoffs) if coded.dedupe else self._link(a, *cutoffs)
        self._time("assignment" if not coded.dedupe else "clustering")
        nz = np.flatnonzero(self.histogram)
        lo, hi = (nz[0], nz[-1] + 1) if len(nz) else (60, 60)
        result.record["weight_histogram"] = {"edges": HISTOGRAM_EDGES[lo:hi + 1].tolist(),
                                             "counts": self.histogram[lo:hi].tolist()}
        result.record["parameters"]["blocking"] = [
            {"rule": p.rule.name, "pairs": self.rule_pairs[p.index]} for p in self.plans]
        result.record["deterministic_passes_skipped"] = [
            name for name in self.deterministic_passes if name not in {d["name"] for d in a["passes"]}]
        result.record["field_null_rates"] = self._null_rates()
        result.record["seed"] = opts.seed
        result.record["method"] = {"id": method.id, "version": method.version, "sha256": method.sha256,
                                   "approved_by": self.approval.approved_by,
                                   "approved_on": self.approval.approved_on}
        opts.timings.pop("total", None)
        opts.timings["total"] = round(sum(opts.timings.values()), 3)
        result.record["timings"] = dict(opts.timings)
        self._step(1.0, "Done")
        return result

    def _train(self, plans):
        """m by EM on a seeded sample of each rule's own pairs, masking the fields the rule fixed."""
        rng = np.random.default_rng(self.options.seed + 1)
        comp_fields = [c.fields for c in self.comparisons]
        samples = [sample_rule_pairs(p, self.method.em_pairs_per_rule, rng) for p in plans]   # in rule order

        def patterns(position: int) -> pd.DataFrame:
            p, (li, ri) = plans[position], samples[position]
            levels = np.zeros((len(li), len(self.comparisons)), np.uint8)
            for k, comp in enumerate(self.comparisons):
                if not comp_fields[k] & p.rule.families:
                    levels[:, k] = compute_levels(comp, self.coded, li, ri)
            table = pattern_counts(levels)
            table["rule"] = p.index
            return table

        work = sum(len(li) for li, _ in samples) * len(self.comparisons)
        shared = parallel.worth_it(work, parallel.PAIR_COMPARISONS)
        # Biggest samples first, so that the two processes end together; the tables go back in rule order.
        order = sorted(range(len(plans)), key=lambda position: -len(samples[position][0]))
        done = parallel.map_tasks(lambda t: patterns(order[t]), len(plans), parallel=shared,
                                  after=lambda finished, count: self._step(0.05 + 0.1 * finished / count,
                                                                           f"Training on blocking rules ({finished} "
                                                                           f"of {count})"))
        tables = [table for _, table in sorted(zip(order, done), key=lambda pair: pair[0])]
        table = pd.concat(tables, ignore_index=True)
        cols = [c for c in table.columns if c.startswith("c")]
        self.em = run_em(table[cols].to_numpy(np.uint8), table["rule"].to_numpy(np.int64), table["n"].to_numpy(),
                         self.u, self.method.em_max_iterations, self.method.em_tolerance,
                         self._labelled_patterns())
        self.level_w = level_weights(self.em.m, self.u)

    def _set_prior(self, pattern_tables):
        """The match rate over all possible pairs, from the candidates' expected matches."""
        coded = self.coded
        possible = (coded.n_left * (coded.n_left - 1) // 2) if coded.dedupe else coded.n_left * coded.n_right
        table = pd.concat(pattern_tables, ignore_index=True) if pattern_tables else pattern_counts(
            np.zeros((0, len(self.comparisons)), np.uint8))
        cols = [c for c in table.columns if c.startswith("c")]
        table = table.groupby(cols, sort=True)["n"].sum().reset_index()
        self.lam = estimate_lambda(table[cols].to_numpy(np.uint8), table["n"].to_numpy(), self.level_w, possible)
        self.prior = float(np.log2(self.lam / (1 - self.lam)))

    def _labelled_patterns(self):
        labels = self.options.labelled
        if labels is None or not len(labels):
            return None
        left_ids = pd.Index(self.coded.left_frame["record_id"])
        right_ids = pd.Index(self.coded.right_frame["record_id"])
        li = left_ids.get_indexer(labels["left_id"])
        ri = right_ids.get_indexer(labels["right_id"])
        ok = (li >= 0) & (ri >= 0)   # labels naming records not in these files are ignored
        levels = self._levels(li[ok], ri[ok])
        self.labelled_used = int(ok.sum())
        return levels, labels["is_match"].to_numpy(bool)[ok]

    def _null_rates(self) -> dict:
        coded = self.coded
        out = {"left": {}, "right": {}}
        for side, frame in (("left", coded.left_frame), ("right", coded.right_frame)):
            for name in REPORTED_FIELDS:
                out[side][name] = round(coded.null_rate(frame, name), 6)
        if coded.dedupe:
            out["right"] = {}
        return out

    def _deterministic(self, taken_l: np.ndarray, taken_r: np.ndarray, passes: list[str] | None):
        """Pairs from the chosen deterministic passes: yields (pass name, li, ri, candidates found)."""
        coded = self.coded
        known = self.deterministic_passes
        unknown = sorted(set(passes or ()) - set(known))
        if unknown:
            raise MethodError(f"Method {self.method.label} has no deterministic pass {', '.join(unknown)} that "
                              f"these files allow (it has: {', '.join(known) or 'none'}).")
        for det in self.method.deterministic_passes:
            if det.name not in known or (passes is not None and det.name not in passes):
                continue
            kl, kr = coded.combined_key([parse_key(f) for f in det.fields])
            if coded.dedupe:
                ok = np.flatnonzero(kl >= 0)
                frame = pd.DataFrame({"k": kl[ok], "i": ok})
                head = frame.groupby("k")["i"].transform("min").to_numpy()
                sel = head != frame["i"].to_numpy()
                yield det.name, head[sel], frame["i"].to_numpy()[sel], int(sel.sum())
                continue
            kl = np.where(taken_l, -1, kl)
            kr = np.where(taken_r, -1, kr)
            size = int(max(kl.max(initial=-1), kr.max(initial=-1))) + 1
            cl = np.bincount(kl[kl >= 0], minlength=size)
            cr = np.bincount(kr[kr >= 0], minlength=size)
            both = (cl > 0) & (cr > 0)
            found = int((cl * cr)[both].sum())
            unique = both & (cl == 1) & (cr == 1)   # ambiguous keys go to the probabilistic pass
            li = np.flatnonzero((kl >= 0) & unique[np.maximum(kl, 0)])
            ri_of_key = np.full(size, -1, np.int64)
            rsel = np.flatnonzero((kr >= 0) & unique[np.maximum(kr, 0)])
            ri_of_key[kr[rsel]] = rsel
            ri = ri_of_key[kl[li]]
            taken_l[li] = True
            taken_r[ri] = True
            yield det.name, li, ri, found

    def _band(self, p_forced, p_free, threshold=None, lower=None, upper=None):
        bits = self.method.review_band_bits
        if threshold is None:   # the model's choice, kept inside a band the user gave
            threshold = choose_threshold(p_forced, p_free)
            threshold = min(max(threshold, lower or 0.0), upper or 1.0)
        w_t = np.log2(threshold / (1 - threshold))
        lower = lower if lower is not None else min(float(probability(w_t - bits)), threshold)
        upper = upper if upper is not None else max(float(probability(w_t + bits)), threshold)
        if not lower <= threshold <= upper:
            raise ValueError(f"Cut-offs must satisfy lower <= threshold <= upper "
                             f"(got {lower:.4g}, {threshold:.4g}, {upper:.4g}).")
        return threshold, lower, upper

    def _assign(self, passes: list[str] | None) -> dict:
        """Deterministic passes, then one-to-one assignment (link) or best links (dedupe) of the rest.

        Cached per choice of passes: showing the bands and then deciding does this work once.
        """
        key = None if passes is None else tuple(sorted(passes))
        if key in self._assigned:
            return self._assigned[key]
        started = time.perf_counter()
        coded = self.coded
        d = self._deterministic_pairs(passes)
        taken_l, taken_r, det_l, det_r, det_pass = d["taken_l"], d["taken_r"], d["det_l"], d["det_r"], d["det_pass"]
        det_levels, summary = d["det_levels"], d["passes"]
        det_w = self._weights(det_levels, d["det_tf"])
        li, ri, w = self.li, self.ri, self.w
        if coded.dedupe:
            if self.method.clustering == "best_link":
                keep = best_links(li, ri, w)
                li, ri, w = li[keep], ri[keep], w[keep]
            det_p = np.zeros(0)   # a dedupe's threshold is chosen on the probabilistic pairs alone
        else:
            free = ~(taken_l[li] | taken_r[ri])
            li, ri, w = li[free], ri[free], w[free]
            chosen = greedy_one_to_one(li, ri, w)
            li, ri, w = li[chosen], ri[chosen], w[chosen]
            det_p = probability(det_w)
        self._assigned[key] = a = {
            "det_l": det_l, "det_r": det_r, "det_w": det_w, "det_pass": det_pass, "det_p": det_p,
            "det_levels": det_levels,
            "passes": summary, "li": li, "ri": ri, "w": w, "p": probability(w)}
        stage = "clustering" if coded.dedupe else "assignment"
        self.options.timings[stage] = round(self.options.timings.get(stage, 0.0) + time.perf_counter() - started, 3)
        self._t = time.perf_counter()
        return a

    def _deterministic_pairs(self, passes: list[str] | None) -> dict:
        """The chosen deterministic passes' pairs with their levels and TF bits, and the records they take.

        Cached per choice of passes; the method's own choice (all) is made while the candidates are compared.
        """
        key = None if passes is None else tuple(sorted(passes))
        if key not in self._det_pairs:
            coded = self.coded
            taken_l = np.zeros(coded.n_left, bool)
            taken_r = np.zeros(coded.n_right, bool)
            rows, summary = [], []
            for name, dl, dr, found in self._deterministic(taken_l, taken_r, passes):
                rows.append((name, dl, dr))
                summary.append({"name": name, "kind": "deterministic", "pairs": found, "matches": len(dl),
                                "review": 0})
            det_l = np.concatenate([r[1] for r in rows]).astype(np.int64) if rows else np.zeros(0, np.int64)
            det_r = np.concatenate([r[2] for r in rows]).astype(np.int64) if rows else np.zeros(0, np.int64)
            det_levels, det_tf = self._score_pairs(det_l, det_r)
            self._det_pairs[key] = {
                "taken_l": taken_l, "taken_r": taken_r, "det_l": det_l, "det_r": det_r,
                "det_pass": np.repeat(np.array([r[0] for r in rows], dtype=object), [len(r[1]) for r in rows]),
                "det_levels": det_levels, "det_tf": det_tf, "passes": summary}
        return self._det_pairs[key]

    def _probabilistic_pass(self, a: dict, accept, in_band) -> list[dict]:
        n_candidates = sum(self.rule_pairs.values())
        return [*a["passes"], {"name": "probabilistic", "kind": "probabilistic", "pairs": int(n_candidates),
                               "matches": int(accept.sum()), "review": int(in_band.sum())}]

    def _link(self, a: dict, threshold, lower, upper) -> MatchResult:
        coded = self.coded
        det_l, det_r, det_w, det_p, det_pass = a["det_l"], a["det_r"], a["det_w"], a["det_p"], a["det_pass"]
        li, ri, w, p = a["li"], a["ri"], a["w"], a["p"]
        accept = p >= threshold
        in_band = (p >= lower) & (p < upper)
        passes = self._probabilistic_pass(a, accept, in_band)
        pairs = pd.DataFrame({
            "left": np.concatenate([det_l, li[accept]]), "right": np.concatenate([det_r, ri[accept]]),
            "match_probability": np.concatenate([det_p, p[accept]]),
            "match_weight": np.concatenate([det_w, w[accept]]),
            "pass": np.concatenate([det_pass, np.full(int(accept.sum()), "probabilistic", object)]),
        })
        left_id = coded.ids("left")[pairs["left"]]
        right_id = coded.ids("right")[pairs["right"]]
        # By left_id, then right_id: each left record is linked once (and files have unique ids), so left_id
        # alone gives that order. Fixed-width text sorts several times faster than Python str objects.
        order = np.argsort(left_id.astype(str), kind="stable")
        crosswalk = pd.DataFrame({
            "left_id": left_id[order], "right_id": right_id[order],
            "match_probability": pairs["match_probability"].to_numpy()[order],
            "match_weight": pairs["match_weight"].to_numpy()[order], "pass": pairs["pass"].to_numpy()[order]})
        accepted_levels = self._levels(li[accept], ri[accept])
        levels = np.concatenate([a["det_levels"], accepted_levels])[order]
        review = self._review(li[in_band], ri[in_band], w[in_band], threshold)
        record = self._record(threshold, lower, upper, passes,
                              estimates(np.concatenate([det_p, p[accept]]), np.concatenate([det_p, p])))
        return MatchResult("link", pairs, review, record, crosswalk=crosswalk, levels=levels)

    def _cluster(self, a: dict, threshold, lower, upper) -> MatchResult:
        coded = self.coded
        det_l, det_r, det_w, det_pass = a["det_l"], a["det_r"], a["det_w"], a["det_pass"]
        li, ri, w, p = a["li"], a["ri"], a["w"], a["p"]
        accept = p >= threshold
        in_band = (p >= lower) & (p < upper)
        passes = self._probabilistic_pass(a, accept, in_band)
        first = np.concatenate([det_l, li[accept]]).astype(np.int64)
        second = np.concatenate([det_r, ri[accept]]).astype(np.int64)
        labels = components(coded.n_left, first, second)
        ids = coded.left_frame["record_id"].to_numpy(dtype=str)
        # A cluster is named by its smallest record id: stable across runs and input order.
        order = np.argsort(ids, kind="stable")
        rank = np.empty(len(ids), np.int64)
        rank[order] = np.arange(len(ids))
        smallest = np.full(len(ids), len(ids), np.int64)
        np.minimum.at(smallest, labels, rank)
        clusters = pd.DataFrame({"record_id": ids[order], "cluster_id": ids[order][smallest[labels[order]]]})
        pairs = pd.DataFrame({"left": first, "right": second,
                              "match_probability": np.concatenate([probability(det_w), p[accept]]),
                              "match_weight": np.concatenate([det_w, w[accept]]),
                              "pass": np.concatenate([det_pass, np.full(int(accept.sum()), "probabilistic", object)])})
        review = self._review(li[in_band], ri[in_band], w[in_band], threshold)
        record = self._record(threshold, lower, upper, passes, estimates(p[accept], p))
        return MatchResult("dedupe", pairs, review, record, clusters=clusters)

    def _review(self, li, ri, w, threshold) -> pd.DataFrame:
        """Review-band pairs with each compared field's values and the level they reached."""
        coded = self.coded
        order = np.lexsort((ri, li, -w))
        li, ri, w = li[order].astype(np.int64), ri[order].astype(np.int64), w[order]
        levels = self._levels(li, ri)
        p = probability(w)
        out = {"left_id": coded.ids("left")[li], "right_id": coded.ids("right")[ri],
               "match_probability": p, "match_weight": w,
               "decision": np.where(p >= threshold, "match", "non-match")}
        for k, comp in enumerate(self.comparisons):
            labels = np.asarray(comp.labels, dtype=object)
            fc = coded.field(comp.field)
            # Each value's text from the field's vocabulary, "" (the appended last entry) where missing: the
            # text pandas' astype("string") gives, without its per-value missing check (~3 ms a column).
            text = coded.derived(("text", comp.field), lambda fc=fc: np.append(
                fc.vocab.astype(str).astype(object) if fc.vocab.dtype != object else fc.vocab, ""))
            for side, codes, idx in (("left", fc.left, li), ("right", fc.right, ri)):
                out[f"{comp.name}_{side}"] = text[codes[idx]]
            out[f"{comp.name}_level"] = labels[levels[:, k]]
        return pd.DataFrame(out)

    def _record(self, threshold, lower, upper, passes, est) -> dict:
        comparisons = []
        for comp, mk, uk, wk in zip(self.comparisons, self.em.m, self.u, self.level_w):
            comparisons.append({"name": comp.name, "levels": [
                {"label": label, "m": float(mk[i]), "u": float(uk[i]), "weight": round(float(wk[i]), 4)}
                for i, label in enumerate(comp.labels) if i > 0]})
        return {
            "mode": "dedupe" if self.coded.dedupe else "link",
            "thresholds": {"lower": round(lower, 6), "threshold": round(threshold, 6), "upper": round(upper, 6)},
            "passes": passes,
            "parameters": {"lambda": self.lam, "labelled_pairs": self.labelled_used,
                           "em": {"iterations": self.em.iterations, "converged": self.em.converged,
                                  "log_likelihood": (round(self.em.log_likelihood, 4)
                                                     if np.isfinite(self.em.log_likelihood) else None),
                                  "rule_match_rates": {self.method.blocking_rules[i].name: r
                                                       for i, r in sorted(self.em.rule_rates.items())}},
                           "comparisons": comparisons},
            "estimates": est,
        }
