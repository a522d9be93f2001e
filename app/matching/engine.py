"""The matching engine's Python API: `link` two standardised frames or `dedupe` one.

Order of work: integer-code the frames; u from seeded random pairs; candidate pairs from the blocking
rules in chunks (levels + term-frequency adjustments per chunk, pattern counts for EM); EM for m; match
weights; deterministic passes; one-to-one assignment (link) or clustering (dedupe); a threshold that
maximises the model's own expected F1, with a clerical-review band around it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from app.matching.assign import greedy_one_to_one
from app.matching.blocking import iter_pairs, plan, sample_rule_pairs
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


LinkResult = MatchResult
DedupeResult = MatchResult


@dataclass
class _Options:
    seed: int = 1
    threshold: float | None = None
    lower: float | None = None
    upper: float | None = None
    chunk_pairs: int = 2_000_000
    labelled: pd.DataFrame | None = None
    timings: dict = field(default_factory=dict)


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
    options = _Options(seed, threshold, lower, upper, chunk_pairs, labelled_pairs)
    return _Engine(Coded(left_std, right_std), method, registry, options, progress, cancel).run()


def dedupe(std: pd.DataFrame, method: Method, *, registry: Registry | None = None, seed: int = 1,
           threshold: float | None = None, lower: float | None = None, upper: float | None = None,
           labelled_pairs: pd.DataFrame | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None, chunk_pairs: int = 2_000_000) -> MatchResult:
    """Find records of the same person within one standardised frame; see `link` for the options."""
    options = _Options(seed, threshold, lower, upper, chunk_pairs, labelled_pairs)
    return _Engine(Coded(std), method, registry, options, progress, cancel).run()


class _Engine:
    def __init__(self, coded: Coded, method: Method, registry, options: _Options, progress, cancel):
        given = [v for v in (options.lower, options.threshold, options.upper) if v is not None]
        if given != sorted(given):   # checked before any work, not after an hour at 1M rows
            raise ValueError("Cut-offs must satisfy lower <= threshold <= upper.")
        self.approval = (registry or Registry.default()).require(method)
        self.coded, self.method, self.options = coded, method, options
        self._progress, self._cancel = progress, cancel
        self.comparisons = active_comparisons(method.comparisons, coded)
        if not self.comparisons:
            raise MethodError(f"The two files share no field that method {method.label} compares.")
        self._t = time.perf_counter()
        self._t0 = self._t
        self.labelled_used = 0

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
        levels = np.zeros((len(li), len(self.comparisons)), np.uint8)
        tf = np.zeros(len(li), np.float32)
        for k, comp in enumerate(self.comparisons):
            levels[:, k] = compute_levels(comp, self.coded, li, ri)
            adj = tf_adjustment(comp, self.coded, li, ri, levels[:, k], float(self.u[k][1]))
            if adj is not None:
                tf += adj
        return levels, tf

    def _evidence(self, levels, tf):
        """Summed level weights and TF adjustments in bits: the match weight without the prior."""
        w = np.zeros(len(levels), np.float64)
        for k, wk in enumerate(self.level_w):
            w += wk[levels[:, k]]
        return w + tf

    def _weights(self, levels, tf):
        return self.prior + self._evidence(levels, tf)

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> MatchResult:
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
        chunks, pattern_tables, rule_pairs = [], [], {p.index: 0 for p in plans}
        total = max(sum(p.pairs for p in plans), 1)
        done, started = 0, time.perf_counter()
        for rule, li, ri, examined in iter_pairs(plans, opts.chunk_pairs):
            done += examined
            levels, tf = self._score_pairs(li, ri)
            pattern_tables.append(pattern_counts(levels))
            # m is known already (trained on samples) and the prior is a constant: keep 12 bytes a pair.
            chunks.append((li, ri, self._evidence(levels, tf).astype(np.float32)))
            rule_pairs[rule] += len(li)
            elapsed = time.perf_counter() - started
            eta = elapsed / done * (total - done)
            self._step(0.15 + 0.7 * done / total, f"Compared {done:,} of {total:,} candidate pairs "
                                                  f"(about {eta:.0f} s left)")
        self._time("comparing")
        self._set_prior(pattern_tables)
        self._step(0.85, "Scoring pairs")
        histogram = np.zeros(len(HISTOGRAM_EDGES) - 1, np.int64)
        kept = []
        chunks.reverse()
        while chunks:
            li, ri, evidence = chunks.pop()
            w = self.prior + evidence.astype(np.float64)
            histogram += np.histogram(np.clip(w, -59.5, 59.5), HISTOGRAM_EDGES)[0]
            keep = w >= WEIGHT_FLOOR
            kept.append((li[keep], ri[keep], w[keep].astype(np.float32)))
        li = np.concatenate([k[0] for k in kept]) if kept else np.zeros(0, np.int32)
        ri = np.concatenate([k[1] for k in kept]) if kept else np.zeros(0, np.int32)
        w = np.concatenate([k[2] for k in kept]).astype(np.float64) if kept else np.zeros(0)
        self._time("scoring")
        self._step(0.9, "Assigning matches" if not coded.dedupe else "Clustering")
        result = self._decide(li, ri, w, sum(rule_pairs.values()))
        self._time("assignment" if not coded.dedupe else "clustering")
        nz = np.flatnonzero(histogram)
        lo, hi = (nz[0], nz[-1] + 1) if len(nz) else (60, 60)
        result.record["weight_histogram"] = {"edges": HISTOGRAM_EDGES[lo:hi + 1].tolist(),
                                             "counts": histogram[lo:hi].tolist()}
        result.record["parameters"]["blocking"] = [
            {"rule": p.rule.name, "pairs": rule_pairs[p.index]} for p in plans]
        result.record["field_null_rates"] = self._null_rates()
        result.record["seed"] = opts.seed
        result.record["method"] = {"id": method.id, "version": method.version, "sha256": method.sha256,
                                   "approved_by": self.approval.approved_by,
                                   "approved_on": self.approval.approved_on}
        opts.timings["total"] = round(time.perf_counter() - self._t0, 3)
        result.record["timings"] = dict(opts.timings)
        self._step(1.0, "Done")
        return result

    def _train(self, plans):
        """m by EM on a seeded sample of each rule's own pairs, masking the fields the rule fixed."""
        rng = np.random.default_rng(self.options.seed + 1)
        comp_fields = [c.fields for c in self.comparisons]
        tables = []
        for position, p in enumerate(plans):
            li, ri = sample_rule_pairs(p, self.method.em_pairs_per_rule, rng)
            levels = np.zeros((len(li), len(self.comparisons)), np.uint8)
            for k, comp in enumerate(self.comparisons):
                if not comp_fields[k] & p.rule.families:
                    levels[:, k] = compute_levels(comp, self.coded, li, ri)
            table = pattern_counts(levels)
            table["rule"] = p.index
            tables.append(table)
            self._step(0.05 + 0.1 * (position + 1) / len(plans), f"Training on blocking rule {p.rule.name}")
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
        levels, _ = self._score_pairs(li[ok], ri[ok])
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

    def _deterministic(self, taken_l: np.ndarray, taken_r: np.ndarray):
        """Pairs from the deterministic passes: yields (pass name, li, ri, candidates found)."""
        coded = self.coded
        for det in self.method.deterministic_passes:
            if not all(coded.available(f) for f in det.fields):
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

    def _band(self, p_forced, p_free):
        opts, bits = self.options, self.method.review_band_bits
        threshold = opts.threshold
        if threshold is None:   # the model's choice, kept inside a band the user gave
            threshold = choose_threshold(p_forced, p_free)
            threshold = min(max(threshold, opts.lower or 0.0), opts.upper or 1.0)
        w_t = np.log2(threshold / (1 - threshold))
        lower = opts.lower if opts.lower is not None else min(float(probability(w_t - bits)), threshold)
        upper = opts.upper if opts.upper is not None else max(float(probability(w_t + bits)), threshold)
        if not lower <= threshold <= upper:
            raise ValueError(f"Cut-offs must satisfy lower <= threshold <= upper "
                             f"(got {lower:.4g}, {threshold:.4g}, {upper:.4g}).")
        return threshold, lower, upper

    def _decide(self, li, ri, w, n_candidates) -> MatchResult:
        coded = self.coded
        taken_l = np.zeros(coded.n_left, bool)
        taken_r = np.zeros(coded.n_right, bool)
        det_rows, passes = [], []
        for name, dl, dr, found in self._deterministic(taken_l, taken_r):
            det_rows.append((name, dl, dr))
            passes.append({"name": name, "kind": "deterministic", "pairs": found, "matches": int(len(dl)),
                           "review": 0})
        det_l = np.concatenate([d[1] for d in det_rows]).astype(np.int64) if det_rows else np.zeros(0, np.int64)
        det_r = np.concatenate([d[2] for d in det_rows]).astype(np.int64) if det_rows else np.zeros(0, np.int64)
        det_pass = np.concatenate([[d[0]] * len(d[1]) for d in det_rows]) if det_rows else np.zeros(0, object)
        det_levels, det_tf = self._score_pairs(det_l, det_r)
        det_w = self._weights(det_levels, det_tf)
        if coded.dedupe:
            return self._cluster(li, ri, w, det_l, det_r, det_w, det_pass, passes, n_candidates)
        free = ~(taken_l[li] | taken_r[ri])
        li, ri, w = li[free], ri[free], w[free]
        chosen = greedy_one_to_one(li, ri, w)
        li, ri, w = li[chosen], ri[chosen], w[chosen]
        p, det_p = probability(w), probability(det_w)
        threshold, lower, upper = self._band(det_p, p)
        accept = p >= threshold
        in_band = (p >= lower) & (p < upper)
        passes.append({"name": "probabilistic", "kind": "probabilistic", "pairs": int(n_candidates),
                       "matches": int(accept.sum()), "review": int(in_band.sum())})
        pairs = pd.DataFrame({
            "left": np.concatenate([det_l, li[accept]]), "right": np.concatenate([det_r, ri[accept]]),
            "match_probability": np.concatenate([det_p, p[accept]]),
            "match_weight": np.concatenate([det_w, w[accept]]),
            "pass": np.concatenate([det_pass, np.full(int(accept.sum()), "probabilistic", object)]),
        })
        left_id = coded.left_frame["record_id"].to_numpy()[pairs["left"]]
        right_id = coded.right_frame["record_id"].to_numpy()[pairs["right"]]
        # Fixed-width text sorts several times faster than Python str objects.
        order = np.lexsort((right_id.astype(str), left_id.astype(str)))
        crosswalk = pd.DataFrame({
            "left_id": left_id[order], "right_id": right_id[order],
            "match_probability": pairs["match_probability"].to_numpy()[order],
            "match_weight": pairs["match_weight"].to_numpy()[order], "pass": pairs["pass"].to_numpy()[order]})
        review = self._review(li[in_band], ri[in_band], w[in_band], threshold)
        record = self._record(threshold, lower, upper, passes,
                              estimates(np.concatenate([det_p, p[accept]]), np.concatenate([det_p, p])))
        return MatchResult("link", pairs, review, record, crosswalk=crosswalk)

    def _cluster(self, li, ri, w, det_l, det_r, det_w, det_pass, passes, n_candidates) -> MatchResult:
        coded = self.coded
        if self.method.clustering == "best_link":
            keep = best_links(li, ri, w)
            li, ri, w = li[keep], ri[keep], w[keep]
        p = probability(w)
        threshold, lower, upper = self._band(np.zeros(0), p)
        accept = p >= threshold
        in_band = (p >= lower) & (p < upper)
        passes.append({"name": "probabilistic", "kind": "probabilistic", "pairs": int(n_candidates),
                       "matches": int(accept.sum()), "review": int(in_band.sum())})
        a = np.concatenate([det_l, li[accept]]).astype(np.int64)
        b = np.concatenate([det_r, ri[accept]]).astype(np.int64)
        labels = components(coded.n_left, a, b)
        ids = coded.left_frame["record_id"].to_numpy(dtype=str)
        # A cluster is named by its smallest record id: stable across runs and input order.
        order = np.argsort(ids, kind="stable")
        rank = np.empty(len(ids), np.int64)
        rank[order] = np.arange(len(ids))
        smallest = np.full(len(ids), len(ids), np.int64)
        np.minimum.at(smallest, labels, rank)
        clusters = pd.DataFrame({"record_id": ids[order], "cluster_id": ids[order][smallest[labels[order]]]})
        pairs = pd.DataFrame({"left": a, "right": b,
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
        levels, _ = self._score_pairs(li, ri)
        p = probability(w)
        out = {"left_id": coded.left_frame["record_id"].to_numpy()[li],
               "right_id": coded.right_frame["record_id"].to_numpy()[ri],
               "match_probability": p, "match_weight": w,
               "decision": np.where(p >= threshold, "match", "non-match")}
        for k, comp in enumerate(self.comparisons):
            labels = np.asarray(comp.labels, dtype=object)
            for side, frame, idx in (("left", coded.left_frame, li), ("right", coded.right_frame, ri)):
                values = frame[comp.field].iloc[idx].astype("string").to_numpy(dtype=object, na_value="")
                out[f"{comp.name}_{side}"] = values
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
