"""Agenda and minutes of a board meeting, with attendance, quorum and each motion's vote and outcome."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.platypus import Flowable, KeepTogether

from .data import MeetingData, MotionRecord
from .formatting import local_time, long_date, number
from .layout import Column, ReportInfo, build_pdf, heading, label_value, table, text

# Up to this many motions, votes sit in the attendance table (one column each); beyond, one table per motion.
VOTE_COLUMNS = 4


def render_meeting(data: MeetingData, out: str | Path | BinaryIO) -> int:
    """Agenda (the motions), attendance and quorum, votes with outcomes as the services computed them, minutes."""
    when = f"{long_date(data.starts_at)}, {local_time(data.starts_at)}"
    title = f"{data.board}: agenda and minutes, {long_date(data.starts_at)}"
    info = ReportInfo(title, f"{data.board} meeting of {when}", data.as_of)
    story: list[Flowable] = [text(data.board, "h1"), text(f"Meeting of {when}", "h2")]
    story.append(label_value("Location", data.location or "not recorded"))
    story.append(label_value("Public notice posted", long_date(data.notice_posted_on)
                             if data.notice_posted_on else "not recorded"))
    if data.notice_warning:
        story.append(text(data.notice_warning))
    if data.cancelled:
        story.append(text("This meeting was cancelled.", "h2"))
    present = sum(p for _, _, p in data.members)
    story.append(label_value(
        "Quorum", f"{'met' if data.quorum_met else 'NOT met'}: {present} of {len(data.members)} seated members "
                  f"present, {data.quorum_required} needed (two thirds)"))

    story += heading("Agenda", 2)
    if data.motions:
        story += [text(f"{m.number}. {m.text}" + (f" (request {m.request_number})" if m.request_number else ""))
                  for m in data.motions]
    else:
        story.append(text("No motions were put to this meeting."))

    inline = 0 < len(data.motions) <= VOTE_COLUMNS
    story += heading("Attendance and votes" if inline else "Attendance", 2)
    if data.members:
        cols = [Column("Member", 2.6), Column("Agency", 1.1), Column("Present", 0.9)]
        rows = [[name, agency, "yes" if here else "absent"] for name, agency, here in data.members]
        if inline:
            cols += [Column(f"Motion {m.number}", 0.95) for m in data.motions]
            for k, row in enumerate(rows):
                row += [m.votes[k].choice if k < len(m.votes) else "" for m in data.motions]
        story.append(table(cols, rows))
    else:
        story.append(text("No members were seated on this board on the day."))

    for k, m in enumerate(data.motions):
        block = heading("Motions and outcomes", 2) if k == 0 else []
        block += _motion(m, with_votes=not inline)
        story.append(KeepTogether(block))
    story += heading("Minutes", 2)
    story.append(text(data.minutes or "No minutes have been recorded yet."))
    return build_pdf(out, info, story)


def _motion(m: MotionRecord, *, with_votes: bool) -> list[Flowable]:
    result = "PASSED" if m.passed else "NOT PASSED"
    out: list[Flowable] = [
        text(f"Motion {m.number} ({m.kind}{', formal vote' if m.formal else ', advisory'}): {m.text}"),
        text(f"{result}: {m.outcome}. Yes {number(m.yes)}, no {number(m.no)}, abstain {number(m.abstain)}."),
    ]
    if with_votes and m.votes:
        out.append(table([Column("Member", 3), Column("Agency", 1.2), Column("Vote", 1)],
                          [[v.member, v.agency, v.choice] for v in m.votes]))
    return out
