"""Board and audit listings: request status, the DSA register and the audit report."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.platypus import Flowable, KeepTogether, Spacer

from .data import AuditReportData, DsaRegisterData, RequestStatus, RequestStatusData
from .formatting import long_date, number, short_date
from .layout import Column, ReportInfo, build_pdf, facts, footnote, heading, label_value, no_activity, table
from .layout import text


def render_request_status(data: RequestStatusData, out: str | Path | BinaryIO) -> int:
    """One request in detail, or a summary table of all open requests followed by each in detail."""
    single = len(data.requests) == 1 and data.scope.startswith("request")
    title = f"Request status: {data.requests[0].number}" if single else "Status of open data requests"
    info = ReportInfo(title, f"Data request status for the Data Governing Board, {data.scope}", data.as_of)
    story: list[Flowable] = heading(title)
    if not data.requests:
        story += no_activity("open data request", f"{data.scope} as of {long_date(data.as_of)}")
        return build_pdf(out, info, story)
    if not single:
        story.append(text(f"{number(len(data.requests))} open requests as of {long_date(data.as_of)}."))
        cols = [Column("Request", 0.8), Column("Title", 2.4), Column("Recipient", 1.7), Column("Stage", 1.15),
                Column("Received", 1.2), Column("Days at stage", 0.8, True)]
        story.append(table(cols, [[r.number, r.title, r.recipient, r.state, short_date(r.received_on),
                                   number(r.days_in_state)] for r in data.requests]))
    for r in data.requests:
        story += _request_detail(r, show_heading=not single)
    return build_pdf(out, info, story)


def _request_detail(r: RequestStatus, *, show_heading: bool) -> list[Flowable]:
    story: list[Flowable] = heading(f"{r.number}: {r.title}", 2) if show_heading else [text(r.title, "h2")]
    story.append(facts([("Recipient", r.recipient), ("Stage", f"{r.state} ({r.days_in_state} days)"),
                        ("Submission type", r.submission_type), ("Received", long_date(r.received_on)),
                        ("Data sharing agreement", r.dsa_number or "none yet"),
                        ("Non-disclosure agreements", f"{r.ndas_received} of {r.ndas_needed} received")]))
    story.append(Spacer(1, 6))
    if r.agencies:
        story.append(table([Column("Agency", 2.5), Column("Data", 1), Column("Named users", 1),
                            Column("Decided", 1.2)],
                           [[a.agency, a.data, a.users, short_date(a.decided_on)] for a in r.agencies]))
    if r.next_steps:
        story.append(Spacer(1, 4))
        story.append(text("Before the next stage:", "body"))
        story += [text(f"• {step}", "body") for step in r.next_steps]
    if r.history:
        rows = [[short_date(h.on), h.to_state, h.actor, h.note] for h in r.history]
        story.append(KeepTogether([text("History", "body"),
                                   table([Column("Date", 1), Column("Stage", 1.3), Column("By", 1),
                                          Column("Note", 3)], rows)]))
    return story


def render_dsa_register(data: DsaRegisterData, out: str | Path | BinaryIO) -> int:
    """Every data sharing agreement with its dates, signatures, amendments and status."""
    info = ReportInfo("Register of data sharing agreements", "P20 WIN data sharing agreement register", data.as_of)
    story: list[Flowable] = heading("Register of data sharing agreements")
    if not data.entries:
        story += no_activity("data sharing agreement", f"the register as of {long_date(data.as_of)}")
        return build_pdf(out, info, story)
    story.append(text(f"{number(len(data.entries))} agreements as of {long_date(data.as_of)}."))
    cols = [Column("Agreement", 1.15), Column("Title", 2.1), Column("Recipient", 1.6), Column("Executed", 1.2),
            Column("Destroy by", 1.2), Column("Signed", 0.8, True), Column("Status", 1.15)]
    story.append(table(cols, [[e.number, e.title, e.recipient, short_date(e.executed_on), short_date(e.destroy_by),
                               f"{e.parties_signed} of {e.parties}", _status(e.status, e.amendments)]
                              for e in data.entries]))
    story.append(footnote("Signed: parties that have signed, of all parties. Status: unsigned (not yet executed), "
                          "active, destroyed (the recipient's destruction certificate is on file) or overdue "
                          "(past the destroy-by date with no certificate); amendments are counted after it. "
                          "Destroy by includes any extension made by amendment."))
    return build_pdf(out, info, story)


def _status(status: str, amendments: int) -> str:
    if not amendments:
        return status
    return f"{status}, {amendments} amendment{'s' if amendments != 1 else ''}"


def render_audit(data: AuditReportData, out: str | Path | BinaryIO) -> int:
    """Audit events for a period, with the result of verifying the whole hash chain."""
    period = f"{long_date(data.period_start)} to {long_date(data.period_end)}"
    info = ReportInfo("Audit report", f"P20 WIN Desk audit events, {period}", data.as_of)
    story: list[Flowable] = heading("Audit report")
    story.append(label_value("Period", period))
    verdict = ("Intact: every event's hash matches its content and the previous event"
               if data.chain_ok else f"BROKEN: {data.chain_message}")
    story.append(label_value("Audit chain", f"{verdict} ({number(data.chain_checked)} events checked)"))
    if not data.events:
        story += no_activity("audited change", period)
        return build_pdf(out, info, story)
    story.append(label_value("Events in period", number(len(data.events))))
    if data.by_actor:
        story += heading("Changes by user", 2)
        story.append(table([Column("User", 3), Column("Events", 1, True)],
                           [[actor, number(n)] for actor, n in data.by_actor]))
    story += heading("Events", 2)
    cols = [Column("#", 0.45, True), Column("When (UTC)", 1.4), Column("User", 0.9), Column("Action", 1.35),
            Column("Record", 1.6), Column("Fields changed", 1.85)]
    # ISO times here: an audit trail is read by date and time order, and they fit one line.
    story.append(table(cols, [[str(e.id), f"{e.at:%Y-%m-%d %H:%M}", e.actor, e.action,
                               f"{e.entity} #{e.entity_id}" if e.entity_id is not None else e.entity, e.change]
                              for e in data.events]))
    return build_pdf(out, info, story)
