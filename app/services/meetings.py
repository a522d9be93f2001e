"""DGB and Executive Board meetings: seats, notice, attendance, motions, votes — and their computed outcomes.

Rules (DOMAIN.md): both boards need a quorum of two thirds of the seated members. A DGB motion passes only
if every member present votes yes; DGB meetings are public and need one week's notice (a meeting noticed
later may be scheduled, with a warning, but cannot take votes). Executive Board formal votes are unanimous
among the members present; its informal (advisory) motions pass when yes votes outnumber no votes.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Agency,
    Attendance,
    Board,
    BoardMember,
    DataRequest,
    Meeting,
    Motion,
    MotionKind,
    Vote,
    VoteChoice,
)

from .audit_chain import record_of
from .base import Checks, Kind, Service
from .errors import NotFound, RuleViolation, ValidationFailed

PUBLIC_NOTICE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Quorum:
    members: int
    present: int
    required: int
    met: bool


def quorum(members: int, present: int) -> Quorum:
    """Two thirds of the seated members, rounded up; a board with no members never has a quorum."""
    required = math.ceil(2 * members / 3)
    return Quorum(members, present, required, members > 0 and present >= required)


@dataclass(frozen=True, slots=True)
class MotionOutcome:
    motion_id: int
    passed: bool
    reason: str  # why it passed or failed, in words
    yes: int
    no: int
    abstain: int
    quorum: Quorum


def decide_motion(
    motion_id: int, board: Board, formal: bool, seated: set[int], present: set[int],
    votes: Mapping[int, VoteChoice],
) -> MotionOutcome:
    """The outcome of one motion from who sat, who came and how they voted (votes of absentees are ignored)."""
    present = present & seated
    counted = {m: c for m, c in votes.items() if m in present}
    yes = sum(c is VoteChoice.YES for c in counted.values())
    no = sum(c is VoteChoice.NO for c in counted.values())
    abstain = sum(c is VoteChoice.ABSTAIN for c in counted.values())
    q = quorum(len(seated), len(present))
    if not q.met:
        reason = f"no quorum: {q.present} of {q.members} members present, {q.required} needed"
        return MotionOutcome(motion_id, False, reason, yes, no, abstain, q)
    if not counted:
        return MotionOutcome(motion_id, False, "no votes recorded yet", yes, no, abstain, q)
    if board is Board.DGB or formal:
        passed = yes == len(present)
        rule = "every member present must vote yes" if board is Board.DGB else "formal votes must be unanimous"
        reason = (f"passed {yes}–0 with {len(present)} present" if passed
                  else f"failed: {len(present) - yes} of {len(present)} members present did not vote yes ({rule})")
    else:
        passed = yes > no
        reason = f"{'passed' if passed else 'failed'} {yes}–{no} ({abstain} abstained; advisory vote by majority)"
    return MotionOutcome(motion_id, passed, reason, yes, no, abstain, q)


def _seated_filter(board: Board, on: date):  # noqa: ANN202 - a SQL expression
    return and_(
        BoardMember.board == board, BoardMember.seated_on <= on,
        or_(BoardMember.left_on.is_(None), BoardMember.left_on >= on),
    )


def motion_outcomes(session: Session, motions: Iterable[Motion]) -> dict[int, MotionOutcome]:
    """Outcomes of several motions, with one query per table (not per motion)."""
    motions = list(motions)
    if not motions:
        return {}
    meeting_ids = {m.meeting_id for m in motions}
    meetings = {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids)))}
    present: dict[int, set[int]] = defaultdict(set)
    for meeting_id, member_id in session.execute(
        select(Attendance.meeting_id, Attendance.member_id).where(Attendance.meeting_id.in_(meeting_ids))
    ):
        present[meeting_id].add(member_id)
    votes: dict[int, dict[int, VoteChoice]] = defaultdict(dict)
    for motion_id, member_id, choice in session.execute(
        select(Vote.motion_id, Vote.member_id, Vote.choice).where(Vote.motion_id.in_([m.id for m in motions]))
    ):
        votes[motion_id][member_id] = choice
    members = session.execute(select(BoardMember.id, BoardMember.board, BoardMember.seated_on, BoardMember.left_on)).all()
    out = {}
    for motion in motions:
        meeting = meetings[motion.meeting_id]
        day = meeting.starts_at.date()
        seated = {
            mid for mid, board, seated_on, left_on in members
            if board == meeting.board and seated_on <= day and (left_on is None or left_on >= day)
        }
        out[motion.id] = decide_motion(
            motion.id, meeting.board, motion.formal, seated, present[meeting.id], votes[motion.id]
        )
    return out


@dataclass(frozen=True, slots=True)
class BoardDecision:
    """Whether a board decided something: ``passed``; ``voted`` is False when no vote is on record at all."""

    passed: bool
    voted: bool
    reason: str


def board_decision(session: Session, *, board: Board, kind: MotionKind, request_id: int | None = None,
                   agency_id: int | None = None) -> BoardDecision:
    """Whether any motion of ``kind`` about the request/agency passed at a (not cancelled) meeting of ``board``."""
    stmt = (select(Motion).join(Meeting, Meeting.id == Motion.meeting_id)
            .where(Meeting.board == board, Motion.kind == kind, Meeting.cancelled.is_(False)))
    if request_id is not None:
        stmt = stmt.where(Motion.request_id == request_id)
    if agency_id is not None:
        stmt = stmt.where(Motion.agency_id == agency_id)
    motions = list(session.scalars(stmt.order_by(Motion.id)))
    if not motions:
        return BoardDecision(False, False, f"no {board_name(board)} vote on a {kind.value.replace('_', ' ')} "
                                           "motion is recorded")
    outcomes = motion_outcomes(session, motions)
    if any(o.passed for o in outcomes.values()):
        return BoardDecision(True, True, "passed")
    return BoardDecision(False, True, f"the {board_name(board)} vote did not pass ({outcomes[motions[-1].id].reason})")


def board_name(board: Board) -> str:
    return "Data Governing Board" if board is Board.DGB else "Executive Board"


def notice_days(starts_at: datetime, notice_posted_on: date | None) -> int | None:
    return None if notice_posted_on is None else (starts_at.date() - notice_posted_on).days


# ---- read models -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MemberInfo:
    id: int
    board: Board
    agency_id: int
    agency_code: str
    name: str
    seated_on: date
    left_on: date | None


@dataclass(frozen=True, slots=True)
class MeetingRow:
    id: int
    board: Board
    starts_at: datetime
    notice_posted_on: date | None
    location: str
    cancelled: bool
    motions: int


@dataclass(frozen=True, slots=True)
class MotionInfo:
    id: int
    kind: MotionKind
    text: str
    formal: bool
    request_id: int | None
    agency_id: int | None
    votes: tuple[tuple[int, VoteChoice], ...]
    outcome: MotionOutcome


@dataclass(frozen=True, slots=True)
class MeetingDetail:
    id: int
    board: Board
    starts_at: datetime
    notice_posted_on: date | None
    location: str
    cancelled: bool
    minutes: str
    members: tuple[MemberInfo, ...]  # seated on the day
    present: frozenset[int]
    quorum: Quorum
    notice_warning: str | None
    motions: tuple[MotionInfo, ...]


@dataclass(frozen=True, slots=True)
class Scheduled:
    meeting_id: int
    warnings: tuple[str, ...]


class MeetingService(Service):
    """``desk.meetings``: board seats, meetings, attendance, motions and votes."""

    def add_member(self, board: Board, agency_id: int, name: str, seated_on: date) -> int:
        """Seat a person for an agency on a board; the DGB has one seat per agency at a time."""
        checks = Checks()
        name = checks.text("name", name)
        checks.done()
        with self._write("change board seats", [Kind.MEETINGS]) as uow:
            uow.get(Agency, agency_id, "agency")
            if board is Board.DGB:
                taken = uow.session.scalar(select(BoardMember.name).where(
                    _seated_filter(board, seated_on), BoardMember.agency_id == agency_id))
                if taken:
                    raise RuleViolation("That agency already holds a DGB seat on that date; end the current seat first.")
            member = BoardMember(board=board, agency_id=agency_id, name=name, seated_on=seated_on)
            uow.created(member)
            return member.id

    def end_seat(self, member_id: int, left_on: date) -> None:
        with self._write("change board seats", [Kind.MEETINGS]) as uow:
            member = uow.get(BoardMember, member_id, "board member")
            if left_on < member.seated_on:
                raise ValidationFailed({"left_on": "is before the member was seated"})
            before = record_of(member)
            member.left_on = left_on
            uow.updated(member, before)

    def members(self, board: Board, on: date | None = None) -> list[MemberInfo]:
        """Members of a board (seated on ``on`` when given), by agency code."""
        with self._read() as s:
            stmt = select(BoardMember, Agency.code).join(Agency, Agency.id == BoardMember.agency_id)
            stmt = stmt.where(_seated_filter(board, on)) if on else stmt.where(BoardMember.board == board)
            return [_member(m, code) for m, code in s.execute(stmt.order_by(Agency.code, BoardMember.seated_on))]

    def schedule(self, board: Board, starts_at: datetime, *, notice_posted_on: date | None = None,
                 location: str = "") -> Scheduled:
        """Schedule a meeting. A DGB meeting with less than a week's public notice is scheduled with a
        warning (it may meet, but cannot vote until properly noticed)."""
        checks = Checks()
        location = checks.text("location", location, required=False, max_len=300)
        checks.that(starts_at.tzinfo is not None, "starts_at", "needs a time zone")
        if notice_posted_on is not None and starts_at.tzinfo is not None:
            checks.that(notice_posted_on <= starts_at.date(), "notice_posted_on", "is after the meeting")
        checks.done()
        with self._write("schedule meetings", [Kind.MEETINGS]) as uow:
            meeting = Meeting(board=board, starts_at=starts_at, notice_posted_on=notice_posted_on, location=location)
            uow.created(meeting)
            warning = _notice_warning(meeting)
            return Scheduled(meeting.id, (warning,) if warning else ())

    def post_notice(self, meeting_id: int, posted_on: date) -> tuple[str, ...]:
        """Record when public notice was posted; returns any remaining warning."""
        with self._write("change meetings", [Kind.MEETINGS]) as uow:
            meeting = uow.get(Meeting, meeting_id, "meeting")
            if posted_on > meeting.starts_at.date():
                raise ValidationFailed({"posted_on": "is after the meeting"})
            before = record_of(meeting)
            meeting.notice_posted_on = posted_on
            uow.updated(meeting, before)
            warning = _notice_warning(meeting)
            return (warning,) if warning else ()

    def cancel(self, meeting_id: int) -> None:
        with self._write("change meetings", [Kind.MEETINGS]) as uow:
            meeting = uow.get(Meeting, meeting_id, "meeting")
            before = record_of(meeting)
            meeting.cancelled = True
            uow.updated(meeting, before, action="cancel")

    def record_attendance(self, meeting_id: int, present_member_ids: Iterable[int]) -> Quorum:
        """Replace the attendance list; only members seated on the meeting's board that day may attend."""
        present = set(present_member_ids)
        with self._write("record attendance", [Kind.MEETINGS]) as uow:
            meeting = uow.get(Meeting, meeting_id, "meeting")
            seated = _seated_ids(uow.session, meeting)
            strangers = present - seated
            if strangers:
                raise RuleViolation(
                    f"{len(strangers)} of the people marked present do not hold a seat on that board that day.")
            before = sorted(a.member_id for a in meeting.attendance)
            meeting.attendance = [Attendance(meeting_id=meeting.id, member_id=m) for m in sorted(present)]
            uow.session.flush()
            uow.audit("record_attendance", "meetings", meeting.id, {"present": before}, {"present": sorted(present)})
            return quorum(len(seated), len(present))

    def add_motion(self, meeting_id: int, kind: MotionKind, text: str, *, formal: bool = True,
                   request_id: int | None = None, agency_id: int | None = None,
                   moved_by_id: int | None = None) -> int:
        checks = Checks()
        text = checks.text("text", text, max_len=4000)
        checks.that(kind not in (MotionKind.REQUEST_APPROVAL, MotionKind.OUTPUT_APPROVAL, MotionKind.PUBLICATION)
                    or request_id is not None, "request_id", "is required for a motion about a request")
        checks.that(kind not in (MotionKind.AGENCY_ADMISSION, MotionKind.AGENCY_SUSPENSION) or agency_id is not None,
                    "agency_id", "is required for a motion about an agency")
        checks.done()
        with self._write("add motions", [Kind.MEETINGS]) as uow:
            meeting = uow.get(Meeting, meeting_id, "meeting")
            if meeting.cancelled:
                raise RuleViolation("That meeting was cancelled; motions cannot be added to it.")
            if request_id is not None:
                uow.get(DataRequest, request_id, "request")
            if agency_id is not None:
                uow.get(Agency, agency_id, "agency")
            if kind in (MotionKind.AGENCY_ADMISSION, MotionKind.AGENCY_SUSPENSION) and meeting.board is not Board.EXECUTIVE:
                raise RuleViolation("Admitting or suspending an agency is a decision of the Executive Board.")
            if kind in (MotionKind.REQUEST_APPROVAL, MotionKind.PUBLICATION, MotionKind.OUTPUT_APPROVAL) \
                    and meeting.board is not Board.DGB:
                raise RuleViolation("Requests, outputs and publications are approved by the Data Governing Board.")
            motion = Motion(meeting_id=meeting.id, kind=kind, text=text, formal=formal, request_id=request_id,
                            agency_id=agency_id, moved_by_id=moved_by_id)
            uow.created(motion)
            return motion.id

    def record_votes(self, motion_id: int, votes: Mapping[int, VoteChoice]) -> MotionOutcome:
        """Record (replace) the votes on a motion and return the computed outcome.

        Refused when the meeting was cancelled, when a DGB meeting lacked one week's public notice, or when a
        voter was not marked present.
        """
        with self._write("record votes", [Kind.MEETINGS]) as uow:
            motion = uow.get(Motion, motion_id, "motion")
            meeting = uow.get(Meeting, motion.meeting_id, "meeting")
            if meeting.cancelled:
                raise RuleViolation("That meeting was cancelled; it cannot take votes.")
            warning = _notice_warning(meeting)
            if warning:
                raise RuleViolation(f"{warning} It cannot take votes.")
            present = {a.member_id for a in meeting.attendance}
            absent = set(votes) - present
            if absent:
                raise RuleViolation(f"{len(absent)} voter(s) are not marked present at the meeting; record attendance first.")
            before = {str(v.member_id): v.choice.value for v in motion.votes}
            motion.votes = [Vote(motion_id=motion.id, member_id=m, choice=VoteChoice(c)) for m, c in sorted(votes.items())]
            uow.session.flush()
            uow.audit("record_votes", "motions", motion.id, before,
                      {str(m): VoteChoice(c).value for m, c in sorted(votes.items())})
            return motion_outcomes(uow.session, [motion])[motion.id]

    def list(self, board: Board | None = None) -> list[MeetingRow]:
        with self._read() as s:
            count = (select(Motion.meeting_id, func.count().label("n")).group_by(Motion.meeting_id).subquery())
            stmt = (select(Meeting.id, Meeting.board, Meeting.starts_at, Meeting.notice_posted_on, Meeting.location,
                           Meeting.cancelled, func.coalesce(count.c.n, 0))
                    .outerjoin(count, count.c.meeting_id == Meeting.id).order_by(Meeting.starts_at.desc()))
            if board is not None:
                stmt = stmt.where(Meeting.board == board)
            return [MeetingRow(*row) for row in s.execute(stmt)]

    def get(self, meeting_id: int) -> MeetingDetail:
        with self._read() as s:
            meeting = s.get(Meeting, meeting_id)
            if meeting is None:
                raise NotFound(f"There is no meeting with id {meeting_id}.")
            day = meeting.starts_at.date()
            members = tuple(_member(m, code) for m, code in s.execute(
                select(BoardMember, Agency.code).join(Agency, Agency.id == BoardMember.agency_id)
                .where(_seated_filter(meeting.board, day)).order_by(Agency.code)))
            present = frozenset(a.member_id for a in meeting.attendance)
            outcomes = motion_outcomes(s, meeting.motions)
            motions = tuple(
                MotionInfo(m.id, m.kind, m.text, m.formal, m.request_id, m.agency_id,
                           tuple(sorted((v.member_id, v.choice) for v in m.votes)), outcomes[m.id])
                for m in meeting.motions)
            return MeetingDetail(
                meeting.id, meeting.board, meeting.starts_at, meeting.notice_posted_on, meeting.location,
                meeting.cancelled, meeting.minutes, members, present & {m.id for m in members},
                quorum(len(members), len(present & {m.id for m in members})), _notice_warning(meeting), motions)


def _member(m: BoardMember, code: str) -> MemberInfo:
    return MemberInfo(m.id, m.board, m.agency_id, code, m.name, m.seated_on, m.left_on)


def _seated_ids(session: Session, meeting: Meeting) -> set[int]:
    return set(session.scalars(select(BoardMember.id).where(_seated_filter(meeting.board, meeting.starts_at.date()))))


def _notice_warning(meeting: Meeting) -> str | None:
    if meeting.board is not Board.DGB:
        return None
    days = notice_days(meeting.starts_at, meeting.notice_posted_on)
    if days is None:
        return "No public notice is recorded for this DGB meeting; one week's notice is required."
    if days < PUBLIC_NOTICE.days:
        return f"This DGB meeting was noticed only {days} day(s) ahead; one week's public notice is required."
    return None
