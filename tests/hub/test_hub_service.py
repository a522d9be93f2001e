"""The hub's use cases through the real services, store, engine and files."""
from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from app.services.errors import RuleViolation
from app.matching import MatchCancelled
from app.services.hub import (
    HubService, check_file, check_matrix, load_links, load_review, match_files, match_files_in_process, why,
)


def test_matrix_check_refuses_personal_columns(tmp_path):
    good = tmp_path / "good.tsv"
    good.write_text("left_id\tright_id\nK000123\tP000456\nK000124\tP000999\n")
    assert check_matrix(good) == []
    dob = tmp_path / "dob.tsv"
    dob.write_text("left_id\tright_id\tBirth\nK000123\tP000456\t20010304\nK000124\tP000999\t2002-11-30\n")
    assert check_matrix(dob) == ["column 'Birth' holds values shaped like dates"]
    named = tmp_path / "named.tsv"
    named.write_text("left_id\tLastName\tx\nK1\tSMITH\t123-45-6789\nK2\tO'BRIEN\t987654320\n")
    problems = check_matrix(named)
    assert any("LastName" in p for p in problems) and any("SSNs" in p for p in problems)


def test_register_match_review_deliver_destroy(hub_world, tmp_path):
    world, ready, waiting, files = hub_world
    hub = HubService(world.hub)
    left, right = check_file(files["left"]), check_file(files["right"])
    assert left.rows > 1000 and len(left.sha256) == 64
    with pytest.raises(RuleViolation, match="no executed DSA"):
        hub.register_file(waiting, left, sender_agency_id=world.ag["SDE"], received_on=datetime.now(UTC).date())
    today = datetime.now(UTC).date()
    lf = hub.register_file(ready, left, sender_agency_id=world.ag["SDE"], received_on=today)
    rf = hub.register_file(ready, right, sender_agency_id=world.ag["DOL"], received_on=today)
    record = match_files(hub.file(lf), hub.file(rf), tmp_path / "work" / "run1")
    run_id = hub.record_run(ready, lf, rf, tmp_path / "work" / "run1", record)
    run = hub.run(run_id)
    review = load_review(run)
    assert len(review) > 0
    pair = review.iloc[0]
    parts = why(run.record, pair)
    assert sum(w for _, w in parts) == pytest.approx(float(pair["match_weight"]), abs=1e-3)
    # Any linked pair, not only the review band's, has its levels: its waterfall names one per comparison.
    links = load_links(run)
    linked = links.iloc[len(links) // 2]
    parts = why(run.record, linked)
    compared = run.record["parameters"]["comparisons"]
    assert [label.split(":")[0] for label, _ in parts[1:1 + len(compared)]] == [c["name"] for c in compared]
    assert sum(w for _, w in parts) == pytest.approx(float(linked["match_weight"]), abs=1e-3)
    assert all(label in ("", *(lv["label"] for lv in c["levels"]))
               for c in compared for label in links[f"{c['name']}_level"])

    # Reject an accepted pair, accept a rejected one: the final matrix follows the reviewer.
    accepted = review[review["decision"] == "match"].iloc[0]
    hub.decide(run_id, accepted["left_id"], accepted["right_id"], "non-match")
    path, n = hub.write_final_matrix(run_id)
    final = pd.read_csv(path, sep="\t", dtype=str)
    assert not ((final["left_id"] == accepted["left_id"]) & (final["right_id"] == accepted["right_id"])).any()
    assert hub.undo(run_id).decision == "non-match"
    assert hub.decisions(run_id) == []

    # Two-person review: the second round must be someone else, and only agreed verdicts count.
    blind = hub.record_run(ready, lf, rf, tmp_path / "work" / "run1", record, two_person_review=True)
    a, b = (review.iloc[i] for i in (0, 1))
    hub.decide(blind, a["left_id"], a["right_id"], "non-match")
    hub.decide(blind, b["left_id"], b["right_id"], "non-match")
    with pytest.raises(RuleViolation, match="someone other"):
        hub.decide(blind, a["left_id"], a["right_id"], "non-match", round=2)
    second = HubService(world.desk)  # the coordinator as second reviewer
    second.decide(blind, a["left_id"], a["right_id"], "non-match", round=2)
    second.decide(blind, b["left_id"], b["right_id"], "match", round=2)
    assert hub.final_decisions(blind) == {(a["left_id"], a["right_id"]): "non-match"}
    with pytest.raises(RuleViolation, match="not set up"):
        hub.decide(run_id, a["left_id"], a["right_id"], "match", round=2)

    bad = tmp_path / "with_dob.tsv"
    final.assign(DOB="20010101").to_csv(bad, sep="\t", index=False)
    with pytest.raises(RuleViolation, match="DOB"):
        hub.deliver(run_id, tmp_path / "out", "Dr Rep", matrix=bad)
    written = hub.deliver(run_id, tmp_path / "out", "Dr Rep")
    assert {p.name for p in written} >= {"id_matrix.tsv", "run.json"}
    log = world.hub.matchlog.page(request_id=ready)
    assert all(r.id_matrix_sent_to == "Dr Rep" and r.matched_on == today for r in log)

    done = hub.destroy(ready)
    assert len(done) == 4 and not files["left"].exists() and not (tmp_path / "work" / "run1").exists()
    assert all(r.inputs_destroyed_on == today for r in world.hub.matchlog.page(request_id=ready))
    assert hub.certificate_pdf(ready, tmp_path / "cert.pdf") >= 1
    assert (tmp_path / "cert.pdf").read_bytes().startswith(b"%PDF")


def test_unusable_file_is_refused_with_a_sentence_and_nothing_registered(hub_world, tmp_path):
    from app.matching.io import MatchInputError

    world, ready, _, _ = hub_world
    hostile = tmp_path / "<b>=cmd()<i>.tsv"
    hostile.write_bytes(b"\xff\xfe\x00garbage\x00\n=cmd()\t<b>\n")
    with pytest.raises(MatchInputError) as caught:
        check_file(hostile)
    assert caught.value.message and "Traceback" not in caught.value.message
    assert HubService(world.hub).files() == []


def test_passes_and_cut_offs_are_chosen_while_the_child_waits(registered, tmp_path):
    _, hub, _, lf, rf = registered
    asked = []

    def choose(bands, allowed):
        every = bands(None)
        none = bands([])
        assert bands([]) is none   # asked of the child once per choice of passes
        asked.append((allowed, every, none))
        return {"passes": [], "threshold": 0.7, "lower": 0.4, "upper": 0.97}

    record = match_files_in_process(hub.file(lf), hub.file(rf), tmp_path / "chosen", choose=choose)
    allowed, every, none = asked[0]
    assert allowed and sum(d["matches"] for d in every.deterministic) > 0 and none.deterministic == []
    assert record["thresholds"] == {"lower": 0.4, "threshold": 0.7, "upper": 0.97,
                                    "set_by_hand": ["lower", "threshold", "upper"]}
    assert record["deterministic_passes_skipped"] == allowed
    links = pd.read_csv(tmp_path / "chosen" / "crosswalk.tsv", sep="\t", dtype=str)
    assert len(links) == none.counts(0.7, 0.4, 0.97)["matches"]

    def give_up(bands, allowed):
        raise MatchCancelled("no")

    with pytest.raises(MatchCancelled):
        match_files_in_process(hub.file(lf), hub.file(rf), tmp_path / "given-up", choose=give_up)
    assert not (tmp_path / "given-up").exists() or not any((tmp_path / "given-up").iterdir())


def test_matrix_check_finds_the_inputs_personal_values_the_shapes_miss(generated_files, tmp_path):
    left = pd.read_csv(generated_files["left"], sep="\t", dtype=str, keep_default_na=False)
    right = pd.read_csv(generated_files["right"], sep="\t", dtype=str, keep_default_na=False)
    n = min(len(left), len(right), 500)
    clean = pd.DataFrame({"left_id": left["SyntheticID"][:n], "right_id": right["SyntheticID"][:n].to_numpy()})
    path = tmp_path / "matrix.tsv"
    clean.to_csv(path, sep="\t", index=False)
    inputs = [generated_files["left"], generated_files["right"]]
    assert check_matrix(path, inputs=inputs) == []   # synthetic IDs are what may leave
    # Ten-digit SASIDs look like IDs to the shape check; the inputs say what they are.
    leaky = clean.assign(ref=left["SASID"][:n].to_numpy())
    leaky.to_csv(path, sep="\t", index=False)
    assert check_matrix(path) == []
    problems = check_matrix(path, inputs=inputs)
    assert problems and all("'ref'" in p and "SASID column" in p for p in problems), problems
    # Punctuation and case do not hide an SSN or a surname.
    with_ssn = right[right["SSN"] != ""]["SSN"][:n]
    disguised = clean[:len(with_ssn)].assign(
        x=[f"{s[:3]}.{s[3:5]}.{s[5:]}" for s in with_ssn], y=[f"{v.lower()} 7" for v in left["LastName"][:len(with_ssn)]])
    disguised.to_csv(path, sep="\t", index=False)
    found = check_matrix(path, inputs=inputs)
    assert any("'x'" in p and "SSN" in p for p in found), found
    assert not any("'y'" in p for p in found)   # "SMITH7" is no surname: the check compares whole values
