"""Agenda and minutes of a board meeting, with attendance, quorum and each motion's vote and outcome."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.platypus import Flowable, KeepTogether

from .data import MeetingData
from .formatting import long_date, number
from .layout import Column, ReportInfo, build_pdf, heading, label_value, table, text


def render_meeting(data: MeetingData, out: str | Path | BinaryIO) -> int:
    """Agenda (the motions), attendance and quorum, votes with outcomes as the services computed them, minutes."""
    when = f"{long_date(data.starts_at)}, {data.starts_at:%H:%M} UTC"
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

    story += heading("Attendance", 2)
    if data.members:
        story.append(table([Column("Member", 3), Column("Agency", 1.2), Column("Present", 1)],
                           [[name, agency, "yes" if here else "absent"] for name, agency, here in data.members]))
    else:
        story.append(text("No members were seated on this board on the day."))

    if data.motions:
        story += heading("Motions and votes", 2)
        for m in data.motions:
            result = "PASSED" if m.passed else "NOT PASSED"
            block: list[Flowable] = [
                text(f"Motion {m.number} ({m.kind}{', formal vote' if m.formal else ', advisory'}): {m.text}"),
                text(f"{result}: {m.outcome}. Yes {number(m.yes)}, no {number(m.no)}, abstain {number(m.abstain)}."),
            ]
            if m.votes:
                block.append(table([Column("Member", 3), Column("Agency", 1.2), Column("Vote", 1)],
                                   [[v.member, v.agency, v.choice] for v in m.votes]))
            story.append(KeepTogether(block))
    story += heading("Minutes", 2)
    story.append(text(data.minutes or "No minutes have been recorded yet."))
    return build_pdf(out, info, story)
