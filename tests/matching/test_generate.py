"""The seeded test-data generator: deterministic, in the P20 WIN layout, and producing the corruptions it
documents at roughly the documented rates (measured from the written files, not from the generator's state)."""
import csv
import re

import pandas as pd
import pytest
from rapidfuzz.distance import Levenshtein

from bench.generate import P20_COLUMNS, WAGE_COLUMNS, Rates, _lists, generate

N = 20_000


@pytest.fixture(scope="module")
def full():
    return generate("full", N, seed=11)


def _pairs(case):
    left = case.left.set_index("SyntheticID").loc[case.truth["left_id"]].reset_index()
    right = case.right.set_index("SyntheticID").loc[case.truth["right_id"]].reset_index()
    return left, right


def _fold(s: pd.Series) -> pd.Series:
    return s.str.upper().str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")


def _close(measured: float, expected: float, rel: float = 0.4) -> bool:
    return abs(measured - expected) <= rel * expected


def test_same_seed_same_files_and_other_seed_differs():
    a, b, c = generate("full", 2000, seed=5), generate("full", 2000, seed=5), generate("full", 2000, seed=6)
    pd.testing.assert_frame_equal(a.left, b.left)
    pd.testing.assert_frame_equal(a.right, b.right)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.left["LastName"].equals(c.left["LastName"])


def test_files_round_trip_in_the_p20win_layout(tmp_path):
    case = generate("full", 3000, seed=2)
    paths = case.write(tmp_path)
    text = paths["right"].read_text("utf-8")
    assert '"' not in text
    header, *rows = text.splitlines()
    assert header.split("\t") == P20_COLUMNS
    assert all(row.count("\t") == len(P20_COLUMNS) - 1 for row in rows)
    back = pd.read_csv(paths["left"], sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    pd.testing.assert_frame_equal(back, case.left)
    for frame in (case.left, case.right):
        dob = frame["DOB"][frame["DOB"] != ""]
        assert pd.to_datetime(dob, format="%Y%m%d", errors="coerce").notna().all()
        assert dob.str.fullmatch(r"\d{8}").all()
        assert frame["SSN"].str.fullmatch(r"(\d{9})?").all()
        hs = frame["HighSchoolCode"][frame["HighSchoolCode"] != ""]
        assert hs.str.fullmatch(r"07\d{4}").all()
        assert frame["SyntheticID"].is_unique
    assert (case.left["SASID"].str.len() == 10).all()
    assert (case.left["SSN"] == "").all()  # K-12 files carry no SSN


def test_truth_is_one_to_one_at_the_requested_overlap(full):
    t = full.truth
    assert len(t) == round(0.6 * N)
    assert t["left_id"].is_unique and t["right_id"].is_unique
    assert t["left_id"].isin(full.left["SyntheticID"]).all()
    assert t["right_id"].isin(full.right["SyntheticID"]).all()
    # Truth links the same people: most pairs agree on SASID where the right file has one.
    left, right = _pairs(full)
    has = right["SASID"] != ""
    assert (left["SASID"][has] == right["SASID"][has]).mean() > 0.98


def test_date_corruptions_at_stated_rates(full):
    left, right = _pairs(full)
    both = (left["DOB"] != "") & (right["DOB"] != "")
    ld = pd.to_datetime(left["DOB"][both], format="%Y%m%d")
    rd = pd.to_datetime(right["DOB"][both], format="%Y%m%d")
    swappable = (ld.dt.day <= 12) & (ld.dt.day != ld.dt.month)
    swapped = (rd.dt.day == ld.dt.month) & (rd.dt.month == ld.dt.day) & (rd.dt.year == ld.dt.year) & swappable
    assert _close(swapped.sum() / swappable.sum(), Rates().day_month_swap)
    off_by_one = (rd - ld).abs() == pd.Timedelta(days=1)
    assert _close(off_by_one.mean(), Rates().dob_off_by_one)
    assert _close((right["DOB"] == "").mean(), Rates().missing_right["DOB"])


def test_name_corruptions_at_stated_rates(full):
    left, right = _pairs(full)
    rl, rf = _fold(right["LastName"]), _fold(right["FirstName"])
    swapped = (rl == left["FirstName"]) & (rf == left["LastName"]) & (left["FirstName"] != left["LastName"])
    assert _close(swapped.mean(), Rates().name_swap)
    nick = _lists()["nicknames"]
    has_nick = left["FirstName"].isin(nick.keys())
    is_nick = pd.Series([r in nick.get(f, ()) for f, r in zip(left["FirstName"], rf)])
    # Some nicknames then get a typo, so the measured share sits a little under the rate.
    assert _close(is_nick[has_nick].mean(), Rates().nickname)
    dist = pd.Series([Levenshtein.distance(a, b) for a, b in zip(left["LastName"], rl)])
    one_edit = (dist == 1) & ~rl.str.contains(" ") & ~left["LastName"].str.contains(r"[-' ]")
    assert _close(one_edit.mean(), Rates().last_typo * (1 - Rates().second_edit), rel=0.5)
    women = left["Gender"] == "F"
    unrelated = pd.Series([Levenshtein.normalized_distance(a, b) > 0.6 for a, b in zip(left["LastName"], rl)])
    new_surname = unrelated & (rf == left["FirstName"])  # exclude first/last swaps
    married_new = Rates().married * 0.75
    assert _close(new_surname[women].mean(), married_new, rel=0.5)
    assert new_surname[~women].mean() < married_new / 3
    accented = right["LastName"].str.contains(r"[ÁÉÍÓÚÑáéíóúñ]")
    assert accented.any()
    assert right["LastName"].str.contains(r"\b(?:Jr|Ii|Iii)$").mean() > 0.005


def test_missing_fields_and_ssn_share(full):
    r = full.right
    assert _close((r["MiddleName"] == "").mean(), Rates().missing_right["MiddleName"], rel=0.15)
    assert _close((r["HighSchoolCode"] == "").mean(), Rates().missing_right["HighSchoolCode"], rel=0.15)
    real_ssn = r["SSN"].str.fullmatch(r"\d{9}") & ~r["SSN"].isin(["000000000", "123456789", "999999999", "111111111"])
    assert _close(real_ssn.mean(), 0.6, rel=0.1)
    assert r["SSN"].isin(["000000000", "123456789", "999999999", "111111111"]).any()


def test_twins_and_siblings_are_hard_non_matches(full):
    left, right = full.left, full.right
    key = ["LastName", "DOB", "HighSchoolCode"]
    groups = left[left["DOB"] != ""].groupby(key)["FirstName"].nunique()
    twins_within_left = int((groups > 1).sum())
    assert twins_within_left >= 0.5 * Rates().twins * N
    # Right-only people that share surname, DOB and school with a left person but are not their match.
    upper = right.assign(LastName=_fold(right["LastName"]))
    cross = left.merge(upper[upper["HighSchoolCode"] != ""], on=key, suffixes=("_l", "_r"))
    true = set(zip(full.truth["left_id"], full.truth["right_id"]))
    false = [p for p in zip(cross["SyntheticID_l"], cross["SyntheticID_r"]) if p not in true]
    assert len(false) > 10


def test_wage_case_layout_and_keys():
    case = generate("wage", 5000, seed=3)
    assert list(case.right.columns) == WAGE_COLUMNS
    assert list(case.left.columns) == P20_COLUMNS
    assert "DOB" not in case.right.columns
    left, right = _pairs(case)
    placeholders = ["000000000", "123456789", "999999999", "111111111"]
    has_ssn = left["SSN"].str.fullmatch(r"\d{9}") & ~left["SSN"].isin(placeholders)
    assert _close(has_ssn.mean(), 0.75, rel=0.1)
    assert (left["SSN"][has_ssn] == right["SSN"][has_ssn]).mean() > 0.97
    assert (left["FirstName"].str[:1] == right["FirstInitial"]).mean() > 0.85
    assert right["FirstInitial"].str.fullmatch(r"[A-Z]").all()
    assert re.fullmatch(r"\d+\.\d\d", case.right["Wages"].iloc[0])


def test_dedupe_case_clusters():
    case = generate("dedupe", 10_000, seed=4)
    assert len(case.left) == 10_000 and len(case.truth) == 10_000
    assert set(case.truth["record_id"]) == set(case.left["SyntheticID"])
    sizes = case.truth["cluster_id"].value_counts()
    assert _close((sizes > 1).mean(), 0.2, rel=0.25)
    assert sizes.max() <= 4


def test_population_has_realistic_name_frequencies(full):
    counts = full.left["LastName"].value_counts()
    assert counts.index[0] in {"SMITH", "JOHNSON", "WILLIAMS", "GARCIA", "RODRIGUEZ"}
    assert counts.iloc[0] > 0.005 * N          # common surnames are very common
    assert (counts == 1).sum() > 0.1 * N       # and a long tail of rare ones
    for ct_name in ("RODRIGUEZ", "SILVA", "KOWALSKI", "RUSSO"):
        assert ct_name in counts.index
    boys = full.left[full.left["Gender"] == "M"]["FirstName"].value_counts()
    assert {"JACOB", "MICHAEL"} & set(boys.index[:5])


def test_rejects_unknown_case():
    with pytest.raises(ValueError, match="case must be one of"):
        generate("wages", 10)


@pytest.mark.parametrize("case,n,kw", [("full", 1, {}), ("full", 40, {"overlap": 0.0}), ("full", 40, {"overlap": 1.0}),
                                       ("full", 40, {"n_right": 7}), ("wage", 3, {}), ("dedupe", 1, {})])
def test_edge_sizes(case, n, kw):
    c = generate(case, n, seed=1, **kw)
    assert len(c.left) == n
    if case == "dedupe":
        assert len(c.truth) == n
    else:
        expected = min(round(kw.get("overlap", 0.6) * n), kw.get("n_right", n))
        assert len(c.right) == kw.get("n_right", n) and len(c.truth) == expected


def test_identifiers_are_unique_per_person_across_files(full):
    placeholders = ["000000000", "123456789", "999999999", "111111111"]
    ssn = full.right["SSN"]
    real = ssn[ssn.str.fullmatch(r"\d{9}") & ~ssn.isin(placeholders)]
    assert not real.duplicated().any()
    # A SASID present in both files belongs to one person, so it only appears on truly linked pairs.
    left, right = _pairs(full)
    linked = set(left["SASID"][left["SASID"] == right["SASID"]])
    shared = set(full.left["SASID"]) & set(full.right["SASID"]) - {""}
    assert shared <= linked
