"""The engine end to end on standardised frames: EM, weights, passes, assignment, clustering, cancel."""
import threading

import numpy as np
import pandas as pd
import pytest

from app.matching import assign, engine
from app.matching.assign import greedy_one_to_one
from app.matching.cluster import best_links, components
from app.matching.fellegi_sunter import choose_threshold, estimate_lambda, level_weights, run_em
from tests.matching.synth import f1, make_pair, standard_frame


def test_em_recovers_known_m_from_a_mixture():
    rng = np.random.default_rng(11)
    m_true = [np.array([0, 0.85, 0.10, 0.05]), np.array([0, 0.9, 0.1])]
    u_true = [np.array([0, 0.01, 0.09, 0.90]), np.array([0, 0.2, 0.8])]
    n, rate = 200_000, 0.08
    is_match = rng.random(n) < rate
    levels = np.zeros((n, 2), np.uint8)
    for k in range(2):
        for flag, probs in ((True, m_true[k]), (False, u_true[k])):
            rows = is_match == flag
            levels[rows, k] = rng.choice(len(probs), rows.sum(), p=probs)
    levels[rng.random(n) < 0.1, 1] = 0          # missing at random: must not disturb the estimate
    table = pd.DataFrame(levels, columns=["c0", "c1"]).value_counts().rename("n").reset_index()
    result = run_em(table[["c0", "c1"]].to_numpy(np.uint8), np.zeros(len(table), np.int64),
                    table["n"].to_numpy(), u_true, 2000, 1e-7)
    assert result.converged
    for k in range(2):
        np.testing.assert_allclose(result.m[k][1:], m_true[k][1:], atol=0.03)
    assert result.rule_rates[0] == pytest.approx(rate, abs=0.01)


def test_em_reports_non_convergence():
    patterns = np.array([[1], [2], [3]], np.uint8)
    u = [np.array([0, 0.2, 0.3, 0.5])]
    result = run_em(patterns, np.zeros(3, np.int64), np.array([10, 20, 30]), u, 1, 1e-12)
    assert not result.converged and result.iterations == 1


def test_missing_level_weighs_nothing_and_lambda_fixed_point():
    weights = level_weights([np.array([0, 0.9, 0.1])], [np.array([0, 0.01, 0.99])])
    assert weights[0][0] == 0.0 and weights[0][1] > 0 > weights[0][2]
    # 100 strong pairs among 10^6 possible: the prior settles near 100 / 10^6.
    lam = estimate_lambda(np.array([[1], [2]], np.uint8), np.array([100, 5000]), [np.array([0, 30.0, -10.0])],
                          1_000_000)
    assert lam == pytest.approx(1e-4, rel=0.05)


def test_threshold_maximises_expected_f1():
    p = np.array([0.99, 0.98, 0.9, 0.6, 0.3, 0.05])
    cut = choose_threshold(np.zeros(0), p)
    best = max((2 * p[p >= c].sum() / ((p >= c).sum() + p.sum()), c) for c in p)[1]
    assert cut == best


@pytest.mark.parametrize("window", [1, 7, 64, 32_768])   # windows of the sorted pairs settled at a time
def test_greedy_assignment_matches_a_plain_greedy_loop(monkeypatch, window):
    monkeypatch.setattr(assign, "WINDOW", window)
    rng = np.random.default_rng(3)
    left, right = rng.integers(0, 40, 400), rng.integers(0, 40, 400)
    weight = rng.normal(size=400).round(1)   # ties on purpose
    chosen = greedy_one_to_one(left, right, weight)
    order = np.lexsort((right, left, -weight))
    used_l, used_r, expected = set(), set(), []
    for i in order:
        if left[i] not in used_l and right[i] not in used_r:
            used_l.add(left[i]), used_r.add(right[i]), expected.append(i)
    assert sorted(chosen) == sorted(expected)


def test_best_link_clustering_breaks_chains_that_components_make():
    # 0-1 strong, 2-3 strong, 1-2 a weak bridge: components chain all four, best-link does not.
    a, b, w = np.array([0, 2, 1]), np.array([1, 3, 2]), np.array([20.0, 20.0, 1.0])
    assert len(set(components(4, a, b))) == 1
    keep = best_links(a, b, w)
    labels = components(4, a[keep], b[keep])
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]


def test_link_finds_true_pairs_with_errors(quick_method, registry):
    left, right, truth = make_pair(1500, seed=2, error_rate=0.4)
    result = engine.link(left, right, quick_method, registry=registry)
    found = set(zip(result.crosswalk["left_id"], result.crosswalk["right_id"]))
    precision, recall, score = f1(found, truth)
    assert score > 0.97, (precision, recall)
    assert result.crosswalk["left_id"].is_unique and result.crosswalk["right_id"].is_unique
    record = result.record
    assert record["parameters"]["em"]["converged"]
    est = record["estimates"]
    assert abs(est["precision"] - precision) < 0.05 and abs(est["recall"] - recall) < 0.05
    assert record["thresholds"]["lower"] < record["thresholds"]["threshold"] < record["thresholds"]["upper"]


def test_wage_file_fields_are_enough(quick_method, registry):
    left, right, truth = make_pair(1500, seed=6, error_rate=0.3, wage=True)
    result = engine.link(left, right, quick_method, registry=registry)
    used = {c["name"] for c in result.record["parameters"]["comparisons"]}
    assert used == {"ssn", "last_name", "first_initial"}
    found = set(zip(result.crosswalk["left_id"], result.crosswalk["right_id"]))
    assert f1(found, truth)[2] > 0.9


def test_deterministic_pass_links_unique_keys_first(quick_method, registry):
    rows = {"first_name": ["ANN", "BOB", "CY"], "last_name": ["LEE", "LEE", "ORR"],
            "dob": [20040101, 20050202, 20060303], "ssn": ["123456780", "223456780", "323456780"]}
    left = standard_frame({"record_id": ["a", "b", "c"], **rows})
    # Right: b's first name and date differ completely, but SSN + surname agree: the pass links it.
    right = standard_frame({"record_id": ["x", "y", "z"], **rows,
                            "first_name": ["ANN", "ROBERTO", "CY"], "dob": [20040101, 19990909, 20060303]})
    result = engine.link(left, right, quick_method, registry=registry)
    cw = result.crosswalk.set_index("left_id")
    assert cw.loc["b", "right_id"] == "y" and cw.loc["b", "pass"] == "ssn+last_name"
    assert result.record["passes"][0] == {"name": "ssn+last_name", "kind": "deterministic", "pairs": 3,
                                          "matches": 3, "review": 0}


def test_dedupe_clusters_duplicates(quick_method, registry):
    left, right, truth = make_pair(800, overlap=0.5, seed=8, error_rate=0.3)
    both = pd.concat([left, right], ignore_index=True)
    result = engine.dedupe(both, quick_method, registry=registry)
    clusters = result.clusters.set_index("record_id")["cluster_id"]
    together = sum(clusters[a] == clusters[b] for a, b in truth)
    assert together / len(truth) > 0.95
    sizes = clusters.value_counts()
    assert sizes.max() <= 3 and len(sizes) < len(both)


def test_same_inputs_same_result_and_progress_reported(quick_method, registry):
    left, right, _ = make_pair(600, seed=9)
    calls = []
    first = engine.link(left, right, quick_method, registry=registry, seed=5,
                        progress=lambda f, m: calls.append((f, m)))
    second = engine.link(left, right, quick_method, registry=registry, seed=5)
    pd.testing.assert_frame_equal(first.crosswalk, second.crosswalk)
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(calls) > 5


def test_cancel_stops_the_run(quick_method, registry):
    left, right, _ = make_pair(600, seed=9)
    cancel = threading.Event()

    def progress(fraction, message):
        if fraction > 0.2:
            cancel.set()

    with pytest.raises(engine.MatchCancelled):
        engine.link(left, right, quick_method, registry=registry, progress=progress, cancel=cancel)


def test_labelled_pairs_are_used(quick_method, registry):
    left, right, truth = make_pair(600, seed=10)
    labels = pd.DataFrame([(a, b, True) for a, b in sorted(truth)[:50]], columns=["left_id", "right_id", "is_match"])
    plain = engine.link(left, right, quick_method, registry=registry)
    taught = engine.link(left, right, quick_method, registry=registry, labelled_pairs=labels)
    assert plain.record["parameters"]["comparisons"] != taught.record["parameters"]["comparisons"]


def test_files_sharing_no_compared_field_are_refused(quick_method, registry):
    left = standard_frame({"record_id": ["a"], "first_name": ["ANN"], "last_name": ["LEE"], "dob": [20040101]})
    right = standard_frame({"record_id": ["b"], "ssn": ["123456780"]})
    with pytest.raises(engine.MethodError, match="share no field"):
        engine.link(left, right, quick_method, registry=registry)


def test_tiny_inputs_do_not_break(quick_method, registry):
    one = standard_frame({"record_id": ["a"], "first_name": ["ANN"], "last_name": ["LEE"], "dob": [20040101]})
    result = engine.dedupe(one, quick_method, registry=registry)
    assert result.clusters.to_dict("records") == [{"record_id": "a", "cluster_id": "a"}]
    assert not result.record["parameters"]["em"]["converged"]


def test_user_cut_offs_bound_the_review_band(quick_method, registry):
    left, right, _ = make_pair(400, seed=12)
    result = engine.link(left, right, quick_method, registry=registry, lower=0.7, upper=0.99)
    cuts = result.record["thresholds"]
    assert cuts["lower"] == 0.7 and cuts["upper"] == 0.99 and 0.7 <= cuts["threshold"] <= 0.99
    assert result.review["match_probability"].between(0.7, 0.99).all()
    with pytest.raises(ValueError, match="lower <= threshold <= upper"):
        engine.link(left, right, quick_method, registry=registry, threshold=0.5, lower=0.6)


def test_bands_predict_what_a_decision_at_those_cut_offs_gives(quick_method, registry):
    left, right, _ = make_pair(600, seed=21)
    scoring = engine.prepare_link(left, right, quick_method, registry=registry)
    bands = scoring.bands()
    assert np.all(np.diff(bands.probabilities) >= 0)
    for cuts in ((0.2, 0.5, 0.9), (0.05, 0.8, 0.999), (bands.lower, bands.threshold, bands.upper)):
        lower, threshold, upper = cuts
        predicted = bands.counts(threshold, lower, upper)
        result = scoring.decide(threshold=threshold, lower=lower, upper=upper)
        assert predicted["matches"] == len(result.crosswalk)
        assert predicted["review"] == len(result.review)
        assert bands.estimates(threshold) == result.record["estimates"]
    # The model's own choice is what `link` makes without cut-offs.
    plain = engine.link(left, right, quick_method, registry=registry)
    assert plain.record["thresholds"] == pytest.approx(
        {"lower": bands.lower, "threshold": bands.threshold, "upper": bands.upper}, abs=1e-6)
    pd.testing.assert_frame_equal(plain.crosswalk, scoring.decide().crosswalk)


def test_deterministic_passes_can_be_left_out_and_the_record_says_so(quick_method, registry):
    left, right, truth = make_pair(600, seed=22)
    scoring = engine.prepare_link(left, right, quick_method, registry=registry)
    allowed = scoring.deterministic_passes
    assert allowed and set(allowed) <= {d.name for d in quick_method.deterministic_passes}
    every = scoring.bands()
    none = scoring.bands(passes=[])
    assert every.counts(0.5, 0.5, 0.5)["deterministic"] > 0 == none.counts(0.5, 0.5, 0.5)["deterministic"]
    # Without the passes their pairs are scored instead: the probabilistic pass sees more candidates.
    assert len(none.probabilities) > len(every.probabilities)
    result = scoring.decide(passes=[])
    assert set(result.crosswalk["pass"]) == {"probabilistic"}
    assert result.record["deterministic_passes_skipped"] == allowed
    assert f1(set(zip(result.crosswalk["left_id"], result.crosswalk["right_id"])), truth)[2] > 0.8
    with pytest.raises(engine.MethodError, match="no deterministic pass nonsense"):
        scoring.bands(passes=["nonsense"])


def test_cut_offs_outside_zero_and_one_are_refused_before_any_work(quick_method, registry):
    left, right, _ = make_pair(50, seed=23)
    for bad in ({"threshold": 1.5}, {"lower": 0.0}, {"upper": -0.2}):
        with pytest.raises(ValueError, match="between 0 and 1"):
            engine.link(left, right, quick_method, registry=registry, **bad)


def test_each_linked_pair_keeps_its_levels_which_add_up_to_its_weight(quick_method, registry):
    left, right, _ = make_pair(800, seed=24, error_rate=0.4)
    result = engine.link(left, right, quick_method, registry=registry)
    compared = result.record["parameters"]["comparisons"]
    assert result.levels.shape == (len(result.crosswalk), len(compared))
    lam = result.record["parameters"]["lambda"]
    explained = np.full(len(result.crosswalk), np.log2(lam / (1 - lam)))
    frequency_levels = np.zeros(len(result.crosswalk), bool)
    methods = {c.name: c for c in quick_method.comparisons}
    for k, comp in enumerate(compared):
        weights = np.array([0.0, *[lv["weight"] for lv in comp["levels"]]])
        explained += weights[result.levels[:, k]]
        tf = [n for n, lv in enumerate(methods[comp["name"]].levels, start=1) if lv.tf > 0]
        frequency_levels |= np.isin(result.levels[:, k], tf)
    rest = result.crosswalk["match_weight"].to_numpy() - explained
    # Without a name-frequency adjustment the levels explain the weight to the rounding of run.json.
    assert (~frequency_levels).sum() >= 10
    np.testing.assert_allclose(rest[~frequency_levels], 0, atol=0.01)
