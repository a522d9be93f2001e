"""Property tests: random walks of real service calls never put a request in a state whose guards failed,
and the GUI's list of allowed moves agrees with what ``move`` accepts."""
from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import Board, CertificateKind, Decision, ExhibitKind, MotionKind, RequestState, VoteChoice
from app.services import ServiceError
from app.services.lifecycle import MAIN_LINE, RequestFacts, allowed_transitions, blocked_reasons, targets_from
from app.services.meetings import board_decision
from service_world import DAY, World

S = RequestState
ACTIONS = ("advance", "advance", "advance", "move_next", "move_any", "approve", "vote", "draft", "sign", "log_file", "match", "confirm", "destroy",
           "certify", "review", "nda", "send_matrix", "elements")


def _do(world: World, rid: int, action: str, pick: int, target: RequestState) -> None:
    """One helpful or unhelpful step; services may refuse it (that is part of the walk)."""
    d, hub = world.desk, world.hub
    detail = d.requests.get(rid)
    agencies = [a.agency_id for a in detail.agencies]
    agency = agencies[pick % len(agencies)]
    if action == "advance":  # the work the next main-line stage needs, then the move
        if detail.state in MAIN_LINE[:-1]:
            world.to(rid, MAIN_LINE[MAIN_LINE.index(detail.state) + 1])
    elif action == "move_next":
        options = [o.target for o in d.requests.transitions(rid)]
        if options:
            nxt = options[0]
            (hub if nxt in (S.EXTRACTS_PREPARED, S.MATCHED, S.INPUTS_DESTROYED) else d).requests.move(rid, nxt, on=DAY)
    elif action == "move_any":
        d.requests.move(rid, target, on=DAY, note="random walk")
    elif action == "approve":
        d.approvals.record(rid, agency, data=Decision.APPROVED, users=Decision.APPROVED, decided_on=DAY, decided_by="S")
    elif action == "vote":
        motion = d.meetings.add_motion(world.meeting, MotionKind.REQUEST_APPROVAL, "Approve", request_id=rid)
        d.meetings.record_votes(motion, {m: VoteChoice.YES if i != pick % 4 else VoteChoice.NO
                                         for i, m in enumerate(world.members)})
    elif action == "draft":
        dsa = d.agreements.draft(rid, effective_on=DAY, destroy_by=DAY.replace(year=DAY.year + 2))
        d.agreements.add_exhibit(dsa, ExhibitKind.REQUEST_FORM, "Exhibit A")
    elif action == "sign":
        dsa = d.agreements.for_request(rid)
        if dsa is not None:
            unsigned = [p for p in dsa.parties if p.signed_on is None]
            if unsigned:
                d.agreements.sign(unsigned[pick % len(unsigned)].id, signatory="Signer", signed_on=DAY)
    elif action == "log_file":
        hub.matchlog.log_files(rid, sender_agency_id=agency, files_received_on=DAY, file_name="f.txt",
                               fields_included="SSN")
    elif action in ("match", "confirm", "destroy", "send_matrix"):
        for row in d.matchlog.page(request_id=rid):
            if action == "match":
                hub.matchlog.record_match(row.id, DAY)
            elif action == "confirm":
                hub.matchlog.confirm_match(row.id, datetime(2025, 3, 3, 12, tzinfo=UTC))
            elif action == "destroy":
                hub.matchlog.record_inputs_destroyed(row.id, DAY)
            else:
                hub.matchlog.record_id_matrix_sent(row.id, DAY, "Rep")
    elif action == "certify":
        kind = list(CertificateKind)[pick % len(CertificateKind)]
        hub.matchlog.certify_destruction(rid, kind, destroyed_on=DAY, certified_by="X", received_on=DAY)
    elif action == "review":
        d.requests.record_disclosure_review(rid, DAY, "Reviewer")
    elif action == "nda":
        d.recipients.record_nda(world.users[pick % len(world.users)], DAY)
    elif action == "elements":
        d.requests.update(rid, purpose="P", legal_basis="L")
        d.requests.add_element(rid, agency, f"E{pick}", "Needed")
        d.requests.name_users(rid, world.users)


def _dgb_passed(world: World, rid: int) -> bool:
    with world.store.read_session() as s:
        return board_decision(s, board=Board.DGB, kind=MotionKind.REQUEST_APPROVAL, request_id=rid).passed


def _invariants(world: World, facts: RequestFacts, previous: RequestFacts) -> None:
    """What must hold of the store after a request entered ``facts.state`` — checked against the facts, not
    against the guard functions, so a guard that forgot a rule is caught."""
    state = facts.state
    if state is previous.state:
        return
    assert state in targets_from(previous.state, previous.held_from)
    reached = MAIN_LINE.index(state) if state in MAIN_LINE else -1
    if state is S.ON_HOLD or (previous.state is S.ON_HOLD and state is previous.held_from):
        return
    if reached >= MAIN_LINE.index(S.LOGGED):
        assert facts.number and len(facts.agencies) >= 2
    if reached >= MAIN_LINE.index(S.APPROVED):
        assert {a for a, d, u in facts.approvals if d is Decision.APPROVED and u is Decision.APPROVED} >= {
            a.id for a in facts.agencies}
        assert _dgb_passed(world, facts.request_id)
    if reached >= MAIN_LINE.index(S.DSA_EXECUTED):
        assert facts.dsa is not None and facts.dsa.executed_on is not None and all(p.signed for p in facts.dsa.parties)
    if reached >= MAIN_LINE.index(S.EXTRACTS_PREPARED):
        assert {e.agency_id for e in facts.match_entries} >= {a.id for a in facts.agencies}
    if reached >= MAIN_LINE.index(S.MATCHED):
        assert all(e.matched_on for e in facts.match_entries)
    if reached >= MAIN_LINE.index(S.INPUTS_DESTROYED):
        assert all(e.inputs_destroyed_on for e in facts.match_entries) and CertificateKind.HUB_INPUTS in facts.certificates
    if reached >= MAIN_LINE.index(S.RELEASED):
        assert facts.disclosure_reviewed_on is not None
        assert all(u.nda_received_on for u in facts.users if u.departed_on is None)
    if state is S.CLOSED:
        assert CertificateKind.RECIPIENT_DATA in facts.certificates
    if state is S.DENIED:
        assert any(Decision.DENIED in (d, u) for _, d, u in facts.approvals) or not _dgb_passed(world, facts.request_id)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 7), st.sampled_from(list(RequestState))),
                      min_size=10, max_size=45))
def test_random_walks_never_skip_a_guard(world_for_walks, steps):
    world = world_for_walks
    rid = world.new_request()
    facts = world.desk.requests.facts(rid)
    for action, pick, target in steps:
        try:
            _do(world, rid, action, pick, target)
        except ServiceError:
            pass  # refused: the walk goes on
        new = world.desk.requests.facts(rid)
        _invariants(world, new, facts)
        # What the GUI offers is exactly what move() would accept now.
        for option in allowed_transitions(new):
            assert option.ok == (not blocked_reasons(new, option.target))
        facts = new
    assert world.admin.audit.verify().ok
