"""Accuracy of the real engine against known truth: generated Connecticut files (full-field and wage cases)
and FEBRL 4 as an outside check.

Floors and tolerances come from measurements (seeds 1-3 at 5,000 x 5,000, 2026-11-26), each set a margin
below the worst run so that a real regression fails and seed noise does not:

============  ==============  =========  ===========================================================
data          measured F1     F1 floor   estimate tolerance (|estimated - true|)
============  ==============  =========  ===========================================================
full          0.9916-0.9933   0.985      precision 0.01, recall 0.02
wage          0.946-0.958     0.93       precision 0.05, recall 0.08 (no DOB; a quarter of the left
                                         file has no SSN, so recall is capped and the model's recall
                                         estimate runs high)
FEBRL 4       0.9973          0.99       precision 0.01, recall 0.01
============  ==============  =========  ===========================================================
"""
import pandas as pd
import pytest

from app.matching.run import run_match
from bench.bench_matching import link_scores
from bench.febrl import write_febrl4
from bench.generate import generate

CASES = {
    # name: (F1 floor, precision tolerance, recall tolerance)
    "full": (0.985, 0.01, 0.02),
    "wage": (0.93, 0.05, 0.08),
    "febrl4": (0.99, 0.01, 0.01),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def linked(request, tmp_path_factory):
    name = request.param
    root = tmp_path_factory.mktemp(name)
    if name == "febrl4":
        paths = write_febrl4(root / "data")
    else:
        paths = generate(name, 5000, seed=4).write(root / "data")
    record = run_match("link", [paths["left"], paths["right"]], root / "out")
    crosswalk = pd.read_csv(root / "out" / "crosswalk.tsv", sep="\t", dtype=str, keep_default_na=False)
    truth = pd.read_csv(paths["truth"], sep="\t", dtype=str, keep_default_na=False)
    return name, record, crosswalk, truth


def test_f1_against_truth_is_above_the_floor(linked):
    name, _, crosswalk, truth = linked
    floor = CASES[name][0]
    scores = link_scores(crosswalk, truth)
    assert scores["f1"] >= floor, scores
    # One-to-one: no record is linked twice.
    assert crosswalk["left_id"].is_unique and crosswalk["right_id"].is_unique


def test_estimated_precision_and_recall_are_close_to_the_true_ones(linked):
    name, record, crosswalk, truth = linked
    _, tol_p, tol_r = CASES[name]
    true = link_scores(crosswalk, truth)
    est = record["estimates"]
    assert abs(est["precision"] - true["precision"]) <= tol_p, (est, true)
    assert abs(est["recall"] - true["recall"]) <= tol_r, (est, true)
    # The expected false matches in words must agree with the estimated precision.
    linked_pairs = sum(p["matches"] for p in record["passes"])
    assert linked_pairs == len(crosswalk)
    assert est["expected_false_matches"] == pytest.approx((1 - est["precision"]) * linked_pairs, rel=0.05, abs=2)
