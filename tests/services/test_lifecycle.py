"""The request life cycle on a real encrypted store: every illegal move refused with its reason."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.models import CertificateKind, Decision, MotionKind, RequestState, VoteChoice
from app.services import PermissionDenied, RuleViolation, ValidationFailed
from app.services import lifecycle
from app.services.lifecycle import MAIN_LINE, TERMINAL, targets_from

from service_world import DAY, S


def test_a_request_walks_the_whole_main_line_and_gets_a_number(world):
    rid = world.new_request()
    assert world.desk.requests.get(rid).number is None
    world.to(rid, S.CLOSED)
    detail = world.desk.requests.get(rid)
    assert detail.state is S.CLOSED
    assert detail.number == "Q0001"
    assert [c.to_state for c in detail.history] == list(MAIN_LINE[1:])
    assert world.desk.agreements.for_request(rid).executed_on == DAY
    assert world.admin.audit.verify().ok


def test_numbers_are_allocated_in_order_when_logged(world):
    first, second = world.new_request(), world.new_request()
    world.to(second, S.LOGGED)
    world.to(first, S.LOGGED)
    assert world.desk.requests.get(second).number == "Q0001"
    assert world.desk.requests.get(first).number == "Q0002"


@pytest.mark.parametrize("state", [S.INQUIRY, S.DRAFTING, S.APPROVED, S.MATCHED, S.CLOSED])
def test_every_structurally_illegal_move_is_refused_with_the_way_out(world, state):
    rid = world.new_request()
    if state is not S.INQUIRY:
        world.to(rid, state)
    before = world.admin.audit.count()
    for target in RequestState:
        if target in targets_from(state):
            continue
        with pytest.raises(RuleViolation) as err:
            world.desk.requests.move(rid, target, on=DAY, note="because")
        assert f"cannot move to {lifecycle.LABELS[target]}" in err.value.message
        assert (f"it can go to {lifecycle.LABELS[targets_from(state)[0]]}" in err.value.message
                if state not in TERMINAL else "nowhere (it is final)" in err.value.message)
    assert world.desk.requests.get(rid).state is state
    assert world.admin.audit.count() == before  # a refused move writes nothing


def test_an_inquiry_needs_two_agencies(world):
    rid = world.new_request(codes=("SDE",))
    with pytest.raises(RuleViolation, match="at least two agencies"):
        world.desk.requests.move(rid, S.LOGGED)
    world.desk.requests.set_agencies(rid, [world.ag["SDE"], world.ag["OEC"]])
    world.desk.requests.move(rid, S.LOGGED)


def test_board_review_needs_justified_elements_purpose_and_users(world):
    rid = world.new_request()
    world.to(rid, S.DRAFTING)
    with pytest.raises(RuleViolation) as err:
        world.desk.requests.move(rid, S.BOARD_REVIEW)
    for words in ("state the purpose", "state the legal basis", "no data elements are requested from",
                  "name at least one data user"):
        assert words in err.value.message
    world.desk.requests.update(rid, purpose="Evaluate", legal_basis="FERPA")
    sde = world.desk.requests.add_element(rid, world.ag["SDE"], "Grade", "")
    world.desk.requests.add_element(rid, world.ag["DOL"], "Wages", "Outcome measure")
    world.desk.requests.name_users(rid, world.users)
    with pytest.raises(RuleViolation, match="1 data element\\(s\\) have no justification"):
        world.desk.requests.move(rid, S.BOARD_REVIEW)
    world.desk.requests.strike_element(sde, "Not needed")
    with pytest.raises(RuleViolation, match="no data elements are requested from SDE"):
        world.desk.requests.move(rid, S.BOARD_REVIEW)
    world.desk.requests.add_element(rid, world.ag["SDE"], "Graduation", "Outcome")
    world.desk.requests.move(rid, S.BOARD_REVIEW)


def test_approval_needs_every_agency_and_a_passed_dgb_vote(world):
    rid = world.new_request()
    world.to(rid, S.BOARD_REVIEW)
    d = world.desk
    with pytest.raises(RuleViolation) as err:
        d.requests.move(rid, S.APPROVED)
    assert "have not approved both their data and the data users: DOL, SDE" in err.value.message
    assert "no Data Governing Board vote" in err.value.message
    d.approvals.record(rid, world.ag["SDE"], data=Decision.APPROVED, users=Decision.APPROVED, decided_on=DAY,
                       decided_by="S")
    d.approvals.record(rid, world.ag["DOL"], data=Decision.APPROVED, users=Decision.PENDING, decided_on=DAY,
                       decided_by="D")
    motion = d.meetings.add_motion(world.meeting, MotionKind.REQUEST_APPROVAL, "Approve", request_id=rid)
    d.meetings.record_votes(motion, {m: VoteChoice.YES for m in world.members[:2]} | {world.members[2]: VoteChoice.ABSTAIN})
    with pytest.raises(RuleViolation) as err:
        d.requests.move(rid, S.APPROVED)
    assert ": DOL" in err.value.message and "did not pass" in err.value.message
    assert {o.target: o.ok for o in d.requests.transitions(rid)}[S.DENIED]  # a failed vote may end in denial
    d.meetings.record_votes(motion, {m: VoteChoice.YES for m in world.members})
    d.approvals.record(rid, world.ag["DOL"], data=Decision.APPROVED, users=Decision.APPROVED, decided_on=DAY,
                       decided_by="D")
    assert "a denial needs" in {o.target: o.reason for o in d.requests.transitions(rid)}[S.DENIED]
    d.requests.move(rid, S.APPROVED, on=date(2025, 4, 11))
    assert d.requests.get(rid).decision_on == date(2025, 4, 11)


def test_an_agency_refusal_allows_denial(world):
    rid = world.new_request()
    world.to(rid, S.BOARD_REVIEW)
    with pytest.raises(ValidationFailed):  # a refusal needs its reason
        world.desk.approvals.record(rid, world.ag["DOL"], data=Decision.DENIED, users=Decision.APPROVED,
                                    decided_on=DAY, decided_by="D")
    world.desk.approvals.record(rid, world.ag["DOL"], data=Decision.DENIED, users=Decision.APPROVED,
                                decided_on=DAY, decided_by="D", note="Statute forbids")
    with pytest.raises(ValidationFailed, match="give the reason"):
        world.desk.requests.move(rid, S.DENIED)
    world.desk.requests.move(rid, S.DENIED, note="DOL refused")
    assert targets_from(S.DENIED) == ()


def test_dsa_execution_needs_all_signatures_dates_and_exhibit_a(world):
    rid = world.new_request()
    world.to(rid, S.APPROVED)
    d = world.desk
    with pytest.raises(RuleViolation, match="no DSA has been drafted"):
        d.requests.move(rid, S.DSA_EXECUTED)
    dsa = d.agreements.draft(rid)
    with pytest.raises(RuleViolation) as err:
        d.requests.move(rid, S.DSA_EXECUTED)
    assert "5 of 5 DSA parties have not signed" in err.value.message  # SDE, DOL, recipient, hub, OPM
    assert "effective date and a destroy-by date" in err.value.message
    assert "Exhibit A" in err.value.message
    parties = d.agreements.get(dsa).parties
    for party in parties[:-1]:
        d.agreements.sign(party.id, signatory="Signer", signed_on=DAY)
    d.agreements.set_dates(dsa, effective_on=DAY, destroy_by=date(2027, 1, 1))
    d.agreements.add_exhibit(dsa, "request_form", "Exhibit A")
    with pytest.raises(RuleViolation, match="1 of 5 DSA parties have not signed"):
        d.requests.move(rid, S.DSA_EXECUTED)
    d.agreements.sign(parties[-1].id, signatory="Signer", signed_on=DAY)
    d.requests.move(rid, S.DSA_EXECUTED, on=DAY)
    with pytest.raises(RuleViolation, match="amendment"):
        d.agreements.sign(parties[0].id, signatory="Someone else", signed_on=DAY)


def test_the_hub_gets_no_files_and_no_match_without_an_executed_dsa(world):
    rid = world.new_request()
    world.to(rid, S.APPROVED)
    with pytest.raises(RuleViolation, match="no executed DSA"):
        world.hub.matchlog.log_files(rid, sender_agency_id=world.ag["SDE"], files_received_on=DAY, file_name="f",
                                     fields_included=["SSN"])
    facts = world.desk.requests.facts(rid)
    assert lifecycle.GUARDS[S.EXTRACTS_PREPARED](facts) == ["extracts may be prepared only under an executed DSA"]
    assert lifecycle.GUARDS[S.MATCHED](facts) == ["matching may run only under an executed DSA"]


def test_hub_stages_release_and_closing_guards(world):
    rid = world.new_request()
    world.to(rid, S.DSA_EXECUTED)
    hub = world.hub
    entry = hub.matchlog.log_files(rid, sender_agency_id=world.ag["SDE"], files_received_on=DAY, file_name="sde.txt",
                                   fields_included="LastName, DOB")
    with pytest.raises(RuleViolation, match="has not logged a matching file from DOL"):
        hub.requests.move(rid, S.EXTRACTS_PREPARED)
    hub.matchlog.log_files(rid, sender_agency_id=world.ag["DOL"], files_received_on=DAY, file_name="dol.txt",
                           fields_included="SSN")
    hub.requests.move(rid, S.EXTRACTS_PREPARED)
    hub.matchlog.record_match(entry, DAY)
    with pytest.raises(RuleViolation, match="1 matching file\\(s\\) have no match date"):
        hub.requests.move(rid, S.MATCHED)
    world.to(rid, S.MATCHED)
    with pytest.raises(RuleViolation) as err:
        hub.requests.move(rid, S.INPUTS_DESTROYED)
    assert "stewards have not confirmed" in err.value.message and "certificate" in err.value.message
    world.to(rid, S.INPUTS_DESTROYED)
    with pytest.raises(PermissionDenied):  # releasing is the operating group's decision
        hub.requests.move(rid, S.RELEASED)
    with pytest.raises(RuleViolation) as err:
        world.desk.requests.move(rid, S.RELEASED)
    assert "disclosure review" in err.value.message and "2 data user(s) have no signed NDA" in err.value.message
    world.to(rid, S.ANALYSIS)
    with pytest.raises(RuleViolation, match="destruction certificate is not on file"):
        world.desk.requests.move(rid, S.CLOSED)


def test_a_recipient_that_is_a_source_agency_attests_its_id_link_destroyed(world):
    own = world.desk.recipients.create("SDE research office", "state_agency", agency_id=world.ag["SDE"])
    users = [world.desk.recipients.add_user(own, "Sam Analyst")]
    rid = world.desk.requests.create("Own data", [world.ag["SDE"], world.ag["DOL"]], recipient_id=own, received_on=DAY)
    world.users = users
    world.to(rid, S.INPUTS_DESTROYED)
    world.prepare(rid, S.RELEASED)
    with pytest.raises(RuleViolation, match="destroyed its own ID link"):
        world.desk.requests.move(rid, S.RELEASED)
    world.desk.matchlog.certify_destruction(rid, CertificateKind.RECIPIENT_ID_LINK, destroyed_on=DAY,
                                            certified_by="SDE", received_on=DAY)
    world.desk.requests.move(rid, S.RELEASED)


def test_hold_resumes_to_the_stage_it_left_and_withdrawal_is_final(world):
    rid = world.new_request()
    world.to(rid, S.APPROVED)
    d = world.desk
    d.requests.move(rid, S.ON_HOLD, note="Waiting for funding")
    options = {o.target: o for o in d.requests.transitions(rid)}
    assert set(options) == {S.APPROVED, S.WITHDRAWN}
    assert options[S.APPROVED].label == "Resume (Approved)" and options[S.APPROVED].ok
    with pytest.raises(RuleViolation, match="cannot move to DSA executed"):
        d.requests.move(rid, S.DSA_EXECUTED)
    d.requests.move(rid, S.APPROVED)
    assert d.requests.get(rid).held_from is None
    d.requests.move(rid, S.WITHDRAWN, note="Requester withdrew")
    assert d.requests.transitions(rid) == []


def test_allowed_transitions_explain_blocked_buttons_per_role(world):
    rid = world.new_request()
    world.to(rid, S.LOGGED)
    options = {o.target: o for o in world.desk.requests.transitions(rid)}
    assert not options[S.DRAFTING].ok or options[S.DRAFTING].reason == "OK"
    hub_options = {o.target: o for o in world.hub.requests.transitions(rid)}
    assert not hub_options[S.DRAFTING].ok
    assert "hub role may not move a request to Drafting" in hub_options[S.DRAFTING].reason


def test_content_is_frozen_after_the_board_decides(world):
    rid = world.new_request()
    world.to(rid, S.APPROVED)
    with pytest.raises(RuleViolation, match="DSA amendment"):
        world.desk.requests.update(rid, purpose="Something else")
    with pytest.raises(RuleViolation):
        world.desk.requests.add_element(rid, world.ag["SDE"], "More data", "Because")


def test_business_day_and_short_window_deadlines():
    holidays = {date(2025, 7, 4)}
    # Confirmed Wednesday 2 July 2025: skip Fri 4 July (holiday) and the weekend -> Thursday 10 July.
    assert lifecycle.add_business_days(date(2025, 7, 2), 5, holidays) == date(2025, 7, 10)
    confirmed = datetime(2025, 7, 2, 15, 30, tzinfo=UTC)
    entry = lifecycle.MatchFact(1, 7, "f.txt", date(2025, 7, 1), confirmed, None, None)
    base = dict(request_id=1, number="Q0001", state=S.MATCHED, held_from=None, title="t", recipient_id=1,
                recipient_agency_id=None, purpose="p", legal_basis="l", disclosure_reviewed_on=None,
                match_entries=(entry,))
    normal = lifecycle.RequestFacts(**base, agencies=(lifecycle.AgencyFact(7, "SDE", "active", False),))
    ccic = lifecycle.RequestFacts(**base, agencies=(lifecycle.AgencyFact(7, "CCIC", "active", True),))
    (due_normal,) = lifecycle.deadlines(normal, holidays)
    (due_ccic,) = lifecycle.deadlines(ccic, holidays)
    assert due_normal.due_at.date() == date(2025, 7, 10)
    assert due_ccic.due_at == datetime(2025, 7, 3, 15, 30, tzinfo=UTC)
    assert due_ccic.status(datetime(2025, 7, 3, 16, tzinfo=UTC)) == "overdue"
    assert due_normal.status(datetime(2025, 7, 3, 16, tzinfo=UTC)) == "open"


def test_deadlines_listed_for_departures_and_destroy_by(world):
    rid = world.new_request()
    world.to(rid, S.ANALYSIS)
    world.desk.recipients.record_departure(world.users[0], date(2025, 5, 1), date(2025, 5, 5))
    other = world.new_request()
    world.to(other, S.MATCHED)
    mine = world.desk.requests.deadlines(request_id=rid, include_met=True)
    assert {d.request_id for d in mine} == {rid}
    kinds = {(d.kind, d.status(datetime(2025, 6, 1, tzinfo=UTC))) for d in mine}
    assert ("report_departure", "late") in kinds
    assert ("destroy_inputs", "met") in kinds
    assert any(k == "recipient_destroy_by" for k, _ in kinds)


def test_every_state_refuses_every_move_outside_its_edges():
    for state in RequestState:
        held = S.DRAFTING if state is S.ON_HOLD else None
        facts = lifecycle.RequestFacts(request_id=1, number="Q0001", state=state, held_from=held, title="t",
                                       recipient_id=None, recipient_agency_id=None, purpose="", legal_basis="",
                                       disclosure_reviewed_on=None)
        edges = set(targets_from(state, held))
        for target in RequestState:
            reasons = lifecycle.blocked_reasons(facts, target)
            assert (target in edges) or reasons[0].startswith(f"a request in {lifecycle.LABELS[state]} cannot move")
        options = {o.target for o in lifecycle.allowed_transitions(facts)}
        assert options == edges
        assert (state in TERMINAL) == (not edges)
