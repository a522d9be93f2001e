"""Quorum and votes are computed from seats, attendance and ballots, never typed in."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.models import Board, MotionKind, VoteChoice
from app.services import RuleViolation
from app.services.meetings import decide_motion, quorum

Y, N, A = VoteChoice.YES, VoteChoice.NO, VoteChoice.ABSTAIN


@pytest.mark.parametrize(("members", "present", "met"), [(15, 10, True), (15, 9, False), (14, 10, True),
                                                          (14, 9, False), (3, 2, True), (3, 1, False), (0, 0, False)])
def test_quorum_is_two_thirds_of_seated_members(members, present, met):
    assert quorum(members, present).met is met


def test_a_dgb_motion_needs_every_member_present_to_vote_yes():
    seated, present = set(range(1, 16)), set(range(1, 11))
    assert decide_motion(1, Board.DGB, True, seated, present, {m: Y for m in present}).passed
    one_abstains = {m: Y for m in present} | {3: A}
    outcome = decide_motion(1, Board.DGB, True, seated, present, one_abstains)
    assert not outcome.passed and "1 of 10 members present did not vote yes" in outcome.reason
    silent = {m: Y for m in list(present)[:-1]}  # a present member who did not vote blocks it too
    assert not decide_motion(1, Board.DGB, True, seated, present, silent).passed
    # Absent members' ballots are ignored rather than counted.
    assert decide_motion(1, Board.DGB, True, seated, present, {m: Y for m in present} | {15: N}).passed


def test_no_quorum_no_decision():
    seated, present = set(range(1, 16)), set(range(1, 10))
    outcome = decide_motion(1, Board.DGB, True, seated, present, {m: Y for m in present})
    assert not outcome.passed and outcome.reason == "no quorum: 9 of 15 members present, 10 needed"


def test_executive_board_formal_unanimous_informal_majority():
    seated = present = set(range(1, 7))
    split = {1: Y, 2: Y, 3: Y, 4: Y, 5: N, 6: A}
    assert not decide_motion(1, Board.EXECUTIVE, True, seated, present, split).passed
    assert decide_motion(1, Board.EXECUTIVE, False, seated, present, split).passed
    assert not decide_motion(1, Board.EXECUTIVE, False, seated, present, {1: Y, 2: N, 3: N}).passed


def test_service_computes_outcome_from_recorded_votes(world):
    d = world.desk
    detail = d.meetings.get(world.meeting)
    assert detail.quorum.met and detail.quorum.required == 2 and detail.notice_warning is None
    motion = d.meetings.add_motion(world.meeting, MotionKind.POLICY, "Adopt the matching method v2")
    assert d.meetings.record_votes(motion, {m: Y for m in world.members}).passed
    outcome = d.meetings.record_votes(motion, {world.members[0]: Y, world.members[1]: N, world.members[2]: Y})
    assert not outcome.passed and (outcome.yes, outcome.no) == (2, 1)
    assert not d.meetings.get(world.meeting).motions[0].outcome.passed


def test_one_weeks_notice_warns_then_refuses_votes(world):
    d = world.desk
    scheduled = d.meetings.schedule(Board.DGB, datetime(2025, 5, 8, 14, tzinfo=UTC), notice_posted_on=date(2025, 5, 4))
    assert "noticed only 4 day(s) ahead" in scheduled.warnings[0]
    d.meetings.record_attendance(scheduled.meeting_id, world.members)
    motion = d.meetings.add_motion(scheduled.meeting_id, MotionKind.POLICY, "Anything")
    with pytest.raises(RuleViolation, match="one week's public notice is required"):
        d.meetings.record_votes(motion, {m: Y for m in world.members})
    assert d.meetings.post_notice(scheduled.meeting_id, date(2025, 4, 30)) == ()
    assert d.meetings.record_votes(motion, {m: Y for m in world.members}).passed
    # The Executive Board is not bound by the DGB's public-notice rule.
    assert d.meetings.schedule(Board.EXECUTIVE, datetime(2025, 5, 9, tzinfo=UTC)).warnings == ()


def test_only_seated_members_attend_and_only_present_members_vote(world):
    d = world.desk
    outsider = d.meetings.add_member(Board.EXECUTIVE, world.ag["SDE"], "Exec member", date(2024, 1, 1))
    with pytest.raises(RuleViolation, match="do not hold a seat"):
        d.meetings.record_attendance(world.meeting, [*world.members, outsider])
    d.meetings.record_attendance(world.meeting, world.members[:2])
    motion = d.meetings.add_motion(world.meeting, MotionKind.POLICY, "Anything")
    with pytest.raises(RuleViolation, match="not marked present"):
        d.meetings.record_votes(motion, {world.members[2]: Y})
    with pytest.raises(RuleViolation, match="already holds a DGB seat"):
        d.meetings.add_member(Board.DGB, world.ag["SDE"], "Second SDE member", date(2025, 1, 1))


def test_agency_admission_needs_a_passed_executive_vote_and_the_emou(world):
    d = world.desk
    dph = d.agencies.create("DPH", "Department of Public Health")
    with pytest.raises(RuleViolation, match="no Executive Board vote"):
        d.agencies.set_status(dph, "active")
    members = [d.meetings.add_member(Board.EXECUTIVE, world.ag[c], f"Head {c}", date(2024, 1, 1)) for c in ("SDE", "DOL")]
    meeting = d.meetings.schedule(Board.EXECUTIVE, datetime(2025, 6, 1, tzinfo=UTC)).meeting_id
    d.meetings.record_attendance(meeting, members)
    with pytest.raises(RuleViolation, match="Executive Board"):
        d.meetings.add_motion(world.meeting, MotionKind.AGENCY_ADMISSION, "Admit DPH", agency_id=dph)
    motion = d.meetings.add_motion(meeting, MotionKind.AGENCY_ADMISSION, "Admit DPH", agency_id=dph)
    d.meetings.record_votes(motion, {members[0]: Y, members[1]: N})
    with pytest.raises(RuleViolation, match="did not pass"):
        d.agencies.set_status(dph, "active")
    d.meetings.record_votes(motion, {members[0]: Y, members[1]: Y})
    with pytest.raises(RuleViolation, match="E-MOU"):
        d.agencies.set_status(dph, "active")
    d.agencies.record_emou(dph, date(2025, 6, 20))
    d.agencies.set_status(dph, "active")
    assert d.agencies.by_code("dph").status.value == "active"
