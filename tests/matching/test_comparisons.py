"""Comparison levels on hand-built pairs, missing values, term frequencies and blocking."""
import numpy as np
import pytest

from app.matching.blocking import iter_pairs, plan, sample_rule_pairs
from app.matching.comparisons import compute_levels, tf_adjustment
from app.matching.encoding import NAME_FIELDS, Coded
from app.matching.method import load_method
from app.matching.standardise import standardise_coded
from bench.generate import generate
from tests.matching.synth import make_pair, standard_frame


def _comparison(name):
    return next(c for c in load_method().comparisons if c.name == name)


def _levels(name, left_rows, right_rows, **extra):
    """Level label of comparison `name` for left row i vs right row i."""
    left = standard_frame({"record_id": [f"L{i}" for i in range(len(left_rows))], **_columns(left_rows)})
    right = standard_frame({"record_id": [f"R{i}" for i in range(len(right_rows))], **_columns(right_rows)})
    comp = _comparison(name)
    idx = np.arange(len(left_rows))
    levels = compute_levels(comp, Coded(left, right), idx, idx)
    return [comp.labels[v] for v in levels]


def _columns(rows):
    keys = sorted({k for r in rows for k in r})
    return {k: [r.get(k) for r in rows] for k in keys}


def test_first_name_levels():
    left = [{"first_name": "JOHN", "last_name": "SMITH"}, {"first_name": "BILL", "first_name_canonical": "WILLIAM",
                                                          "last_name": "OTT"},
            {"first_name": "MARIA", "last_name": "LOPEZ"}, {"first_name": "KATHERINE", "last_name": "WU"},
            {"first_name": "KAREN", "last_name": "SMITH"}, {"first_name": None, "last_name": "SMITH"},
            {"first_name": "ZOE", "last_name": "SMITH"}, {"first_name": "PETER", "last_name": "SMITH"}]
    right = [{"first_name": "JOHN", "last_name": "SMITH"},
             {"first_name": "WILLIAM", "first_name_canonical": "WILLIAM", "last_name": "OTT"},
             {"first_name": "LOPEZ", "last_name": "MARIA"}, {"first_name": "KATHERNE", "last_name": "WU"},
             {"first_name": "KARL", "last_name": "SMITH"}, {"first_name": "ANN", "last_name": "SMITH"},
             {"first_name": "ABIGAIL", "last_name": "SMITH"}, {"first_name": "PEDRO", "last_name": "SMITH"}]
    assert _levels("first_name", left, right) == [
        "exact", "nickname", "swapped with last name", "jaro-winkler >= 0.92", "jaro-winkler >= 0.80",
        "missing", "else", "metaphone"]


def test_last_name_levels_cover_compound_names_and_the_wage_file_cross():
    left = [{"last_name": "GARCIA LOPEZ", "first_name": "ANA"}, {"last_name": "JOSHUA", "first_name": "DISS"},
            {"last_name": "THOMPSON", "first_name": "AL"}, {"last_name": "SMITH", "first_name": "AL"}]
    right = [{"last_name": "LOPEZ", "first_name": "ANA"}, {"last_name": "DISS", "first_name": None},
             {"last_name": "THOMSPON", "first_name": "AL"}, {"last_name": "KOWALSKI", "first_name": "AL"}]
    assert _levels("last_name", left, right) == [
        "shares a surname part", "equals the other's first name", "jaro-winkler >= 0.92", "else"]


def test_date_levels():
    left = [{"dob": 20040312}, {"dob": 20040312}, {"dob": 20040312}, {"dob": 20040312}, {"dob": 20040312},
            {"dob": 20040312}, {"dob": None}]
    right = [{"dob": 20040312}, {"dob": 20041203}, {"dob": 20040313}, {"dob": 20040329}, {"dob": 20041130},
             {"dob": 20070101}, {"dob": 20040312}]
    assert _levels("dob", left, right) == [
        "exact", "day and month swapped", "one digit differs", "within 31 days", "same year", "else", "missing"]


def test_ssn_levels():
    left = [{"ssn": "123456780"}, {"ssn": "123456780"}, {"ssn": "123456780"}, {"ssn": "123456780"}]
    right = [{"ssn": "123456780"}, {"ssn": "123456789"}, {"ssn": "213456780"}, {"ssn": "987654320"}]
    assert _levels("ssn", left, right) == ["exact", "one digit or transposition", "one digit or transposition", "else"]


def test_tf_adjustment_rewards_rare_names_and_ignores_source_duplicates():
    # SMITH is common; the same ZYLSTRA person repeated five times must not make ZYLSTRA look common.
    lasts = ["SMITH"] * 40 + ["ZYLSTRA"] * 5 + [f"NAME{chr(65 + i)}" for i in range(15)]
    rows = {"record_id": [f"L{i}" for i in range(60)], "last_name": lasts, "first_name": ["ANN"] * 60,
            "dob": [20040101 + i for i in range(40)] + [20050505] * 5 + [20060101 + i for i in range(15)]}
    left = standard_frame(rows)
    right = standard_frame({**rows, "record_id": [f"R{i}" for i in range(60)]})
    coded = Coded(left, right)
    comp = _comparison("last_name")
    li = np.array([0, 40])          # SMITH=SMITH, ZYLSTRA=ZYLSTRA
    levels = compute_levels(comp, coded, li, li)
    adj = tf_adjustment(comp, coded, li, li, levels, u_exact=0.1)
    assert adj[1] > 0 > adj[0]
    tf = coded.term_frequencies("last_name")
    code = coded.field("last_name").left
    assert tf[code[40]] == pytest.approx(tf[code[45]])   # counted once, like a one-off name


def test_blocking_gives_each_rule_pair_once_and_nothing_else():
    left, right, _ = make_pair(300, seed=4)
    coded = Coded(left, right)
    rules = load_method().blocking_rules
    plans = plan(rules, coded)
    produced = [tuple(p) for _, li, ri, _ in iter_pairs(plans, chunk_pairs=997) for p in zip(li, ri)]
    assert len(produced) == len(set(produced))
    # Brute force over all pairs: a pair is a candidate iff some applicable rule's keys agree.
    expected = set()
    for p in plans:
        kl, kr = coded.combined_key(p.rule.keys)
        i, j = np.nonzero((kl[:, None] == kr[None, :]) & (kl[:, None] >= 0))
        expected.update(zip(i, j))
    assert set(produced) == expected
    # Training samples stay within their rule.
    rng = np.random.default_rng(0)
    kl, kr = coded.combined_key(plans[2].rule.keys)
    sl, sr = sample_rule_pairs(plans[2], 50, rng)
    assert len(sl) >= 50 and np.all(kl[sl] == kr[sr])


def test_dedupe_blocking_pairs_are_ordered_and_unique():
    left, _, _ = make_pair(200, seed=5)
    coded = Coded(left)
    plans = plan(load_method().blocking_rules, coded)
    pairs = [tuple(p) for _, li, ri, _ in iter_pairs(plans, chunk_pairs=50) for p in zip(li, ri)]
    assert pairs and all(i < j for i, j in pairs) and len(pairs) == len(set(pairs))


def test_one_edit_check_agrees_with_rapidfuzz_damerau_levenshtein():
    # The vectorised SSN/SASID level must give exactly rapidfuzz's answer, lengths equal or not.
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    from app.matching.comparisons import _within_one_edit
    rng = np.random.default_rng(3)
    # Lengths up to 12 span two 64-bit words of code points; "Ł" needs more than a byte (no words).
    for letters, longest in (("012A", 7), ("01", 13), ("01Ł", 7)):
        vocab = np.array(sorted({"".join(rng.choice(list(letters), size=rng.integers(1, longest)))
                                 for _ in range(3000)}), dtype=object)
        frame = standard_frame({"record_id": [f"R{i}" for i in range(len(vocab))], "ssn": list(vocab)})
        coded = Coded(frame, frame)
        codes_vocab = coded.field("ssn").vocab
        a, b = rng.integers(0, len(codes_vocab), 100_000), rng.integers(0, len(codes_vocab), 100_000)
        expected = np.minimum(process.cpdist(codes_vocab[a], codes_vocab[b], scorer=DamerauLevenshtein.distance,
                                             score_cutoff=1), 2)
        assert np.bincount(expected.astype(int)).min() > 50   # all three outcomes are exercised
        assert (coded.char_words("ssn") is None) == ("Ł" in letters)
        for words in (None, coded.char_words("ssn")):
            got = _within_one_edit(coded.char_matrix("ssn"), codes_vocab, a, b, words)
            assert (got == expected).all()


@pytest.mark.parametrize("case", ["full", "wage", "dedupe"])
def test_value_codes_from_standardise_give_the_vocabulary_factorising_every_row_gives(case):
    generated = generate(case, 3000, seed=4)
    raws = [generated.left] if case == "dedupe" else [generated.left, generated.right]
    coded = [standardise_coded(raw.iloc[::-1].reset_index(drop=True)) for raw in raws]   # any row order
    frames, hints = [c[0] for c in coded], [c[1] for c in coded]
    assert hints[0]["first_name"][0].min() == -1   # missing names are in the data
    fast, slow = Coded(*frames, value_codes=hints), Coded(*frames)
    fast._column = lambda frame, name: pytest.fail(f"factorised every row of {name}")
    for name in (*NAME_FIELDS, "first_initial", "gender", "sasid", "hs_code"):   # wage: initials filled in
        a, b = fast.field(name), slow.field(name)
        assert list(a.vocab) == list(b.vocab), name
        assert np.array_equal(a.left, b.left) and np.array_equal(a.right, b.right), name
    # Codes of another frame are not used: the result is the rows' own factorisation.
    wrong = Coded(*frames, value_codes=[{k: (v[0][:-1], v[1]) for k, v in h.items()} for h in hints])
    assert list(wrong.field("last_name").vocab) == list(slow.field("last_name").vocab)
