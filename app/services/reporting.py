"""Queries that turn the store into the plain report inputs of ``app.reports.data``: ``ReportingService(desk)``.

Each method reads in one session and returns frozen dataclasses, so rendering (``app.reports.render``) can
run on any thread without touching the store. Definitions used by the annual report:
received = logged with a received date in the year; approved / denied / fulfilled = the request moved to
approved / denied / released during the year; destruction obligations come from ``lifecycle.deadlines``.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Actual,
    Agency,
    AgencyApproval,
    AgencyContact,
    AuditEvent,
    Board,
    Budget,
    BudgetLine,
    ContactKind,
    DataRecipient,
    DataRequest,
    DataSharingAgreement,
    DestructionCertificate,
    DsaAmendment,
    DsaParty,
    FundDistribution,
    Holiday,
    Invoice,
    InvoiceStatus,
    MatchLogEntry,
    Meeting,
    Motion,
    MotionKind,
    Receipt,
    RecipientType,
    RecipientUser,
    RequestedAgency,
    RequestState,
    RequestStateChange,
    Role,
    request_users,
)
from app.reports import data as rd
from app.reports.formatting import fiscal_year_bounds, fiscal_year_of

from .audit import verify_audit_chain
from .base import AUDIT_READERS, Service
from .errors import NotFound, PermissionDenied, ValidationFailed
from .lifecycle import LABELS, allowed_transitions, deadlines, load_facts
from .meetings import board_name, motion_outcomes

S = RequestState
FINISHED = (S.CLOSED, S.DENIED, S.WITHDRAWN)
# Finance and governance reports: not for hub staff, who see only their own match and destruction work.
OFFICE = frozenset({Role.COORDINATOR, Role.ADMIN, Role.AUDITOR})
EVERYONE = frozenset(Role)
RECIPIENT_TYPE_LABELS = {
    RecipientType.STATE_AGENCY: "State agency", RecipientType.UNIVERSITY: "University",
    RecipientType.NONPROFIT: "Nonprofit", RecipientType.FEDERAL_AGENCY: "Federal agency",
    RecipientType.MUNICIPALITY: "Municipality", RecipientType.RESEARCH_FIRM: "Research firm",
    RecipientType.OTHER: "Other",
}
CERTIFICATE_LABELS = {"hub_inputs": "Hub input files", "recipient_id_link": "Recipient's own ID link",
                      "recipient_data": "Recipient's data"}


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


def _within(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def _quantiles(values: list[int]) -> rd.Durations:
    if not values:
        return rd.Durations(0, None, None)
    return rd.Durations(len(values), float(statistics.median(values)), float(np.percentile(values, 90)))


@dataclass(frozen=True)
class ReportChoices:
    """What the Reports screen offers in its pickers: ``(id, label)`` pairs, newest first where dated."""

    fiscal_years: tuple[int, ...]
    requests: tuple[tuple[int, str], ...]
    meetings: tuple[tuple[int, str], ...]
    invoices: tuple[tuple[int, str], ...]
    agencies: tuple[tuple[int, str], ...]


class ReportingService(Service):
    """Read-only; build it from any ``Desk``. Returns ``app.reports.data`` inputs; raises PermissionDenied,
    NotFound and ValidationFailed (``.message`` is for the user)."""

    def _check(self, roles: frozenset[Role], doing: str) -> None:
        if self.actor.role not in roles:
            raise PermissionDenied(f"As {self.actor.role.value} you may not {doing}.")

    def choices(self, *, today: date | None = None) -> ReportChoices:
        """Everything the report pickers list, in one read."""
        today = today or date.today()
        with self._read() as s:
            first = s.scalar(select(func.min(DataRequest.received_on)))
            requests = tuple((rid, f"{number}: {title}") for rid, number, title in s.execute(
                select(DataRequest.id, DataRequest.number, DataRequest.title)
                .where(DataRequest.number.is_not(None)).order_by(DataRequest.number.desc())))
            meetings = tuple((mid, f"{at:%Y-%m-%d} {board_name(board)}") for mid, at, board in s.execute(
                select(Meeting.id, Meeting.starts_at, Meeting.board).order_by(Meeting.starts_at.desc())))
            invoices = tuple(s.execute(select(Invoice.id, Invoice.number).order_by(Invoice.number.desc())).all())
            agencies = tuple((aid, f"{code}: {name}") for aid, code, name in s.execute(
                select(Agency.id, Agency.code, Agency.name).order_by(Agency.code)))
        last = fiscal_year_of(today)
        years = tuple(range(last, fiscal_year_of(first or today) - 1, -1))
        return ReportChoices(years, requests, meetings, tuple(tuple(i) for i in invoices), agencies)

    # ---- look-ups by the numbers people type ---------------------------------------------------------------
    def request_id(self, number: str) -> int:
        """The id of request ``number`` (e.g. "Q0042", any case); NotFound otherwise."""
        return self._lookup(select(DataRequest.id).where(func.upper(DataRequest.number) == number.strip().upper()),
                            f"There is no request numbered {number!r}.")

    def invoice_id(self, number: str) -> int:
        return self._lookup(select(Invoice.id).where(func.upper(Invoice.number) == number.strip().upper()),
                            f"There is no invoice numbered {number!r}.")

    def agency_id(self, code: str) -> int:
        return self._lookup(select(Agency.id).where(func.upper(Agency.code) == code.strip().upper()),
                            f"There is no agency with the code {code!r}.")

    def meeting_id(self, on: date, board: Board | None = None) -> int:
        """The meeting held on ``on`` (UTC day), of ``board`` when given; NotFound when none or ambiguous."""
        lo = datetime.combine(on, time.min, UTC)
        stmt = select(Meeting.id, Meeting.board).where(Meeting.starts_at >= lo,
                                                       Meeting.starts_at < lo + timedelta(days=1))
        if board is not None:
            stmt = stmt.where(Meeting.board == board)
        with self._read() as s:
            found = s.execute(stmt).all()
        if len(found) == 1:
            return found[0][0]
        if not found:
            raise NotFound(f"No meeting is recorded on {on.isoformat()}.")
        raise NotFound(f"{len(found)} meetings were held on {on.isoformat()}; say which board (--board).")

    def _lookup(self, stmt: object, missing: str) -> int:
        with self._read() as s:
            found = s.scalar(stmt)
        if found is None:
            raise NotFound(missing)
        return found

    # ---- annual report -------------------------------------------------------------------------------
    def annual(self, fiscal_year: int, *, as_of: date | None = None) -> rd.AnnualReportData:
        """Figures for Connecticut fiscal year ``fiscal_year`` (ending June 30 of that year) and the two before."""
        self._check(OFFICE, "prepare the annual report")
        if not 2000 <= fiscal_year <= 2100:
            raise ValidationFailed({"fiscal_year": "must be a year such as 2026"})
        as_of = as_of or date.today()
        start, end = fiscal_year_bounds(fiscal_year)
        with self._read() as s:
            requests = s.execute(select(DataRequest.id, DataRequest.number, DataRequest.received_on,
                                        DataRequest.recipient_id, DataRequest.state)).all()
            rtype = dict(s.execute(select(DataRecipient.id, DataRecipient.recipient_type)).all())
            agencies = s.execute(select(Agency.id, Agency.code).order_by(Agency.code)).all()
            involved: dict[int, set[int]] = defaultdict(set)
            for rid, aid in s.execute(select(RequestedAgency.request_id, RequestedAgency.agency_id)):
                involved[aid].add(rid)
            changes: dict[S, dict[int, date]] = defaultdict(dict)  # first move to a state, per request
            for rid, to_state, on in s.execute(select(RequestStateChange.request_id, RequestStateChange.to_state,
                                                      RequestStateChange.on).order_by(RequestStateChange.on)):
                changes[to_state].setdefault(rid, on)
            dsas = s.execute(select(DataSharingAgreement.request_id, DataSharingAgreement.executed_on)).all()
            recipient_destroyed = dict(s.execute(
                select(DestructionCertificate.request_id, func.min(DestructionCertificate.destroyed_on))
                .where(DestructionCertificate.kind == "recipient_data")
                .group_by(DestructionCertificate.request_id)).all())
            matches = s.execute(select(MatchLogEntry.request_id, MatchLogEntry.matched_on)
                                .where(MatchLogEntry.matched_on.is_not(None))).all()
            compliance = self._compliance(s, start, end, as_of)
            publications = self._publications(s)
            budget, unbudgeted = self._budget(s, fiscal_year)
            invoices = s.execute(select(Invoice.issued_on, Invoice.total_cents)
                                 .where(Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PAID]))).all()
            receipts = s.execute(select(Receipt.received_on, Receipt.amount_cents)).all()
            distributions = s.execute(
                select(Agency.code, func.sum(FundDistribution.amount_cents))
                .join(Agency, Agency.id == FundDistribution.agency_id)
                .where(FundDistribution.distributed_on.between(start, end))
                .group_by(Agency.code).order_by(Agency.code)).all()
            nda_users = s.execute(select(RecipientUser.nda_received_on, DataRecipient.recipient_type)
                                  .join(DataRecipient, DataRecipient.id == RecipientUser.recipient_id)
                                  .where(RecipientUser.nda_received_on.between(start, end))).all()

        received_on = {r.id: r.received_on for r in requests if r.number is not None}
        executed = {rid: on for rid, on in dsas if on is not None}

        def outcomes(label: str, ids: Iterable[int], lo: date, hi: date) -> rd.Outcomes:
            ids = set(ids)
            return rd.Outcomes(
                label,
                received=sum(_within(received_on.get(i), lo, hi) for i in ids),
                approved=sum(_within(changes[S.APPROVED].get(i), lo, hi) for i in ids),
                denied=sum(_within(changes[S.DENIED].get(i), lo, hi) for i in ids),
                fulfilled=sum(_within(changes[S.RELEASED].get(i), lo, hi) for i in ids))

        all_ids = [r.id for r in requests]
        by_type: dict[str, list[int]] = defaultdict(list)
        for r in requests:
            t = rtype.get(r.recipient_id) if r.recipient_id is not None else None
            by_type[RECIPIENT_TYPE_LABELS[t] if t else "Not recorded"].append(r.id)

        def summary(fy: int) -> rd.YearSummary:
            lo, hi = fiscal_year_bounds(fy)
            t = outcomes("All", all_ids, lo, hi)
            monthly = [0] * 12
            for on in received_on.values():
                if _within(on, lo, hi):
                    monthly[(on.month - 7) % 12] += 1
            return rd.YearSummary(
                fy, t.received, t.approved, t.denied, t.fulfilled,
                matches_run=len({(rid, on) for rid, on in matches if _within(on, lo, hi)}),
                publications=sum(_within(p.approved_on, lo, hi) for p in publications),
                fees_collected_cents=sum(c for on, c in receipts if _within(on, lo, hi)),
                monthly_received=tuple(monthly))

        quarters = [[0] * 4 for _ in RECIPIENT_TYPE_LABELS]
        type_index = {t: k for k, t in enumerate(RECIPIENT_TYPE_LABELS)}
        for on, t in nda_users:
            quarters[type_index[t]][((on.month - 7) % 12) // 3] += 1
        keep = [k for k, row in enumerate(quarters) if any(row)]
        return rd.AnnualReportData(
            fiscal_year=fiscal_year, as_of=as_of,
            totals=outcomes("All requests", all_ids, start, end),
            by_agency=tuple(outcomes(code, involved.get(aid, ()), start, end) for aid, code in agencies),
            by_recipient_type=tuple(outcomes(label, ids, start, end) for label, ids in sorted(by_type.items())),
            inquiry_to_dsa=_quantiles([(on - received_on[rid]).days for rid, on in executed.items()
                                       if _within(on, start, end) and rid in received_on]),
            dsa_to_delivery=_quantiles([(on - executed[rid]).days for rid, on in changes[S.RELEASED].items()
                                        if _within(on, start, end) and rid in executed]),
            active_dsas=sum(1 for rid, on in executed.items()
                            if on <= end and not any(_within(changes[st].get(rid), date.min, end) for st in FINISHED)
                            and not _within(recipient_destroyed.get(rid), date.min, end)),
            compliance=compliance,
            matches_run=summary(fiscal_year).matches_run,
            files_matched=sum(_within(on, start, end) for _, on in matches),
            publications=tuple(p for p in publications if _within(p.approved_on, start, end)),
            budget=budget, unbudgeted_actual_cents=unbudgeted,
            fees_invoiced_cents=sum(c for on, c in invoices if _within(on, start, end)),
            fees_collected_cents=sum(c for on, c in receipts if _within(on, start, end)),
            distributions=tuple(rd.Amount(code, cents) for code, cents in distributions),
            data_users=rd.PeopleTable(
                "Data users whose signed non-disclosure agreement was received, by fiscal quarter "
                "(Q1 = July to September)",
                tuple(list(RECIPIENT_TYPE_LABELS.values())[k] for k in keep), ("Q1", "Q2", "Q3", "Q4"),
                tuple(tuple(quarters[k]) for k in keep)),
            trend=tuple(summary(fy) for fy in (fiscal_year - 2, fiscal_year - 1, fiscal_year)),
        )

    def _compliance(self, s: Session, start: date, end: date, as_of: date) -> tuple[rd.Compliance, ...]:
        holidays = list(s.scalars(select(Holiday.day)))
        with_obligations = set(s.scalars(select(MatchLogEntry.request_id).where(
            MatchLogEntry.stewards_confirmed_at.is_not(None))))
        with_obligations |= set(s.scalars(select(DataSharingAgreement.request_id).where(
            DataSharingAgreement.destroy_by.between(start, end))))
        now = _end_of(as_of)
        tally = {"destroy_inputs": Counter(), "recipient_destroy_by": Counter()}
        for rid in sorted(with_obligations):
            for dl in deadlines(load_facts(s, rid), holidays):
                if dl.kind in tally and start <= dl.due_at.date() <= end:
                    tally[dl.kind][dl.status(now)] += 1
        return tuple(rd.Compliance(label, on_time=c["met"], late=c["late"], outstanding=c["overdue"])
                     for label, c in (("Hub input files (match log)", tally["destroy_inputs"]),
                                      ("Recipient data (destroy-by date)", tally["recipient_destroy_by"])))

    def _publications(self, s: Session) -> list[rd.Publication]:
        motions = list(s.scalars(select(Motion).join(Meeting, Meeting.id == Motion.meeting_id).where(
            Motion.kind == MotionKind.PUBLICATION, Meeting.board == Board.DGB, Meeting.cancelled.is_(False))))
        if not motions:
            return []
        outcomes = motion_outcomes(s, motions)
        when = dict(s.execute(select(Meeting.id, Meeting.starts_at)
                              .where(Meeting.id.in_({m.meeting_id for m in motions}))).all())
        numbers = dict(s.execute(select(DataRequest.id, DataRequest.number)).all())
        return sorted((rd.Publication(numbers.get(m.request_id) or "", m.text, when[m.meeting_id].date())
                       for m in motions if outcomes[m.id].passed), key=lambda p: p.approved_on)

    def _budget(self, s: Session, fiscal_year: int) -> tuple[tuple[rd.BudgetItem, ...], int]:
        budget_id = s.scalar(select(Budget.id).where(Budget.fiscal_year == fiscal_year))
        if budget_id is None:
            return (), 0
        spent = dict(s.execute(select(Actual.line_id, func.sum(Actual.amount_cents))
                               .where(Actual.budget_id == budget_id).group_by(Actual.line_id)).all())
        lines = s.execute(select(BudgetLine.id, BudgetLine.category, BudgetLine.amount_cents)
                          .where(BudgetLine.budget_id == budget_id).order_by(BudgetLine.id)).all()
        items = tuple(rd.BudgetItem(cat, amount, spent.get(lid, 0)) for lid, cat, amount in lines)
        return items, spent.get(None, 0)

    # ---- request status ---------------------------------------------------------------------------------
    def request_status(self, request_id: int | None = None, *, as_of: date | None = None) -> rd.RequestStatusData:
        """One request (``request_id``) or every open request (not closed, denied or withdrawn)."""
        self._check(EVERYONE, "read request status")
        as_of = as_of or date.today()
        with self._read() as s:
            if request_id is not None:
                if s.get(DataRequest, request_id) is None:
                    raise NotFound(f"There is no request with id {request_id}.")
                ids = [request_id]
            else:
                ids = list(s.scalars(select(DataRequest.id).where(DataRequest.state.not_in(FINISHED))
                                     .order_by(DataRequest.received_on, DataRequest.id)))
            out = tuple(self._status(s, rid, as_of) for rid in ids)
            scope = f"request {out[0].number}" if request_id is not None else "all open requests"
        return rd.RequestStatusData(as_of, scope, out)

    def _status(self, s: Session, request_id: int, as_of: date) -> rd.RequestStatus:
        req = s.get(DataRequest, request_id)
        facts = load_facts(s, request_id)
        recipient = s.get(DataRecipient, req.recipient_id) if req.recipient_id else None
        codes = dict(s.execute(select(Agency.id, Agency.code)).all())
        approvals = {a.agency_id: a for a in s.scalars(select(AgencyApproval)
                                                         .where(AgencyApproval.request_id == request_id))}
        decisions = tuple(
            rd.AgencyDecision(codes[ra.agency_id],
                              approvals[ra.agency_id].data_decision.value if ra.agency_id in approvals else "pending",
                              approvals[ra.agency_id].users_decision.value if ra.agency_id in approvals else "pending",
                              approvals[ra.agency_id].decided_on if ra.agency_id in approvals else None)
            for ra in req.agencies)
        users = s.execute(select(RecipientUser.nda_needed_on, RecipientUser.nda_received_on)
                          .join(request_users, request_users.c.user_id == RecipientUser.id)
                          .where(request_users.c.request_id == request_id)).all()
        history = tuple(rd.StateStep(c.on, LABELS[c.to_state], c.actor, c.note) for c in req.state_changes)
        since = req.state_changes[-1].on if req.state_changes else req.received_on
        steps = tuple(f"{o.label}: {o.reason}" for o in allowed_transitions(facts) if not o.ok)
        return rd.RequestStatus(
            number=req.number or "(inquiry)", title=req.title, recipient=recipient.name if recipient else "not recorded",
            state=LABELS[req.state], submission_type=req.submission_type.value, received_on=req.received_on,
            days_in_state=max(0, (as_of - since).days), agencies=decisions,
            ndas_needed=sum(1 for needed, got in users if needed is not None or got is not None),
            ndas_received=sum(1 for _, got in users if got is not None),
            dsa_number=facts.dsa.number if facts.dsa else "", next_steps=steps[:4], history=history)

    # ---- DSA register ---------------------------------------------------------------------------------
    def dsa_register(self, *, as_of: date | None = None) -> rd.DsaRegisterData:
        """Every data sharing agreement, oldest first."""
        self._check(EVERYONE, "read the DSA register")
        as_of = as_of or date.today()
        with self._read() as s:
            signed = defaultdict(lambda: [0, 0])
            for dsa_id, on in s.execute(select(DsaParty.dsa_id, DsaParty.signed_on)):
                signed[dsa_id][1] += 1
                signed[dsa_id][0] += on is not None
            amendments = dict(s.execute(select(DsaAmendment.dsa_id, func.count()).group_by(DsaAmendment.dsa_id)).all())
            destroyed = set(s.scalars(select(DestructionCertificate.request_id)
                                      .where(DestructionCertificate.kind == "recipient_data")))
            rows = s.execute(
                select(DataSharingAgreement, DataRequest.number, DataRequest.title, DataRecipient.name)
                .join(DataRequest, DataRequest.id == DataSharingAgreement.request_id)
                .outerjoin(DataRecipient, DataRecipient.id == DataRequest.recipient_id)
                .order_by(DataSharingAgreement.executed_on.is_(None), DataSharingAgreement.executed_on,
                          DataSharingAgreement.id)).all()
            entries = []
            for dsa, number, title, recipient in rows:
                destroy_by = max([dsa.destroy_by, *[a.new_destroy_by for a in dsa.amendments if a.new_destroy_by]],
                                 default=None, key=lambda d: d or date.min)
                if dsa.executed_on is None:
                    status = "unsigned"
                elif dsa.request_id in destroyed:
                    status = "destroyed"
                elif destroy_by is not None and destroy_by < as_of:
                    status = "overdue"
                else:
                    status = "active"
                done, total = signed[dsa.id]
                entries.append(rd.DsaEntry(dsa.number, number or "", title, recipient or "not recorded",
                                           dsa.executed_on, dsa.effective_on, destroy_by, done, total,
                                           amendments.get(dsa.id, 0), status))
        return rd.DsaRegisterData(as_of, tuple(entries))

    # ---- meeting ----------------------------------------------------------------------------------------
    def meeting(self, meeting_id: int, *, as_of: date | None = None) -> rd.MeetingData:
        """Agenda, attendance, votes and minutes; quorum and outcomes as ``desk.meetings`` computes them."""
        self._check(EVERYONE, "read meeting minutes")
        m = self._desk.meetings.get(meeting_id)
        names = {x.id: (x.name, x.agency_code) for x in m.members}
        with self._read() as s:
            numbers = dict(s.execute(select(DataRequest.id, DataRequest.number)).all())
        motions = []
        for k, mo in enumerate(m.motions, start=1):
            cast = dict(mo.votes)
            votes = tuple(rd.VoteLine(name, code, cast[mid].value if mid in cast and mid in m.present
                                      else ("absent" if mid not in m.present else "not recorded"))
                          for mid, (name, code) in names.items())
            o = mo.outcome
            motions.append(rd.MotionRecord(k, mo.kind.value.replace("_", " "), mo.text,
                                           numbers.get(mo.request_id) or "" if mo.request_id else "", mo.formal,
                                           o.passed, o.reason, o.yes, o.no, o.abstain, votes))
        return rd.MeetingData(
            board=board_name(m.board), starts_at=m.starts_at, location=m.location,
            notice_posted_on=m.notice_posted_on, notice_warning=m.notice_warning, cancelled=m.cancelled,
            members=tuple((name, code, mid in m.present) for mid, (name, code) in names.items()),
            quorum_required=m.quorum.required, quorum_met=m.quorum.met, motions=tuple(motions),
            minutes=m.minutes, as_of=as_of or date.today())

    # ---- invoice, distribution letter, destruction certificate ------------------------------------------
    def invoice(self, invoice_id: int, *, as_of: date | None = None) -> rd.InvoiceData:
        self._check(OFFICE, "print invoices")
        with self._read() as s:
            inv = s.get(Invoice, invoice_id)
            if inv is None:
                raise NotFound(f"There is no invoice with id {invoice_id}.")
            dsa = s.get(DataSharingAgreement, inv.dsa_id)
            req = s.get(DataRequest, dsa.request_id)
            rec = s.get(DataRecipient, req.recipient_id) if req.recipient_id else None
            payments = tuple(s.execute(select(Receipt.received_on, Receipt.amount_cents, Receipt.reference)
                                       .where(Receipt.invoice_id == inv.id).order_by(Receipt.received_on)).all())
            return rd.InvoiceData(
                number=inv.number, status=inv.status.value, issued_on=inv.issued_on, due_on=inv.due_on,
                recipient=rec.name if rec else "not recorded", recipient_address=rec.address if rec else "",
                representative=rec.authorized_representative if rec else "", dsa_number=dsa.number,
                request_number=req.number or "", request_title=req.title,
                items=tuple(rd.InvoiceItem(li.description, li.quantity, li.unit_cents, li.amount_cents)
                            for li in inv.lines),
                total_cents=inv.total_cents, paid_cents=sum(c for _, c, _ in payments), payments=payments,
                as_of=as_of or date.today())

    def distribution_letter(self, agency_id: int, start: date, end: date, *,
                            as_of: date | None = None) -> rd.DistributionLetterData:
        """Funds distributed to one agency between ``start`` and ``end`` (inclusive)."""
        self._check(OFFICE, "prepare fund-distribution letters")
        if end < start:
            raise ValidationFailed({"end": "must not be before the start of the period"})
        with self._read() as s:
            agency = s.get(Agency, agency_id)
            if agency is None:
                raise NotFound(f"There is no agency with id {agency_id}.")
            addressee = s.scalar(select(AgencyContact.name).where(
                AgencyContact.agency_id == agency_id, AgencyContact.active.is_(True),
                AgencyContact.kind == ContactKind.EXECUTIVE_BOARD_MEMBER).order_by(AgencyContact.id).limit(1)) or ""
            rows = s.execute(
                select(FundDistribution, DataSharingAgreement.number, DataRequest.number, DataRequest.title)
                .join(DataSharingAgreement, DataSharingAgreement.id == FundDistribution.dsa_id)
                .join(DataRequest, DataRequest.id == DataSharingAgreement.request_id)
                .where(FundDistribution.agency_id == agency_id,
                       FundDistribution.distributed_on.between(start, end))
                .order_by(FundDistribution.distributed_on, FundDistribution.id)).all()
            items = tuple(rd.DistributionItem(f.distributed_on, dsa_no, req_no or "", title, f.instrument,
                                              f.amount_cents) for f, dsa_no, req_no, title in rows)
            return rd.DistributionLetterData(agency.name, agency.code, addressee, start, end, items,
                                             self.actor.display_name, as_of or date.today())

    def destruction_certificate(self, request_id: int, *, as_of: date | None = None) -> rd.DestructionCertificateData:
        self._check(EVERYONE, "print destruction certificate forms")
        with self._read() as s:
            req = s.get(DataRequest, request_id)
            if req is None:
                raise NotFound(f"There is no request with id {request_id}.")
            dsa = s.scalar(select(DataSharingAgreement).where(DataSharingAgreement.request_id == request_id))
            rec = s.get(DataRecipient, req.recipient_id) if req.recipient_id else None
            agencies = tuple(f"{code}: {name}" for code, name in s.execute(
                select(Agency.code, Agency.name).join(RequestedAgency, RequestedAgency.agency_id == Agency.id)
                .where(RequestedAgency.request_id == request_id).order_by(Agency.code)))
            files = tuple(s.scalars(select(MatchLogEntry.file_name).where(MatchLogEntry.request_id == request_id)
                                    .order_by(MatchLogEntry.id)))
            on_file = tuple(rd.CertificateOnFile(CERTIFICATE_LABELS.get(c.kind.value, c.kind.value), c.destroyed_on,
                                                 c.certified_by, c.received_on)
                            for c in s.scalars(select(DestructionCertificate)
                                               .where(DestructionCertificate.request_id == request_id)
                                               .order_by(DestructionCertificate.destroyed_on)))
            destroy_by = None
            if dsa is not None:
                destroy_by = max([d for d in [dsa.destroy_by, *[a.new_destroy_by for a in dsa.amendments]] if d],
                                 default=None)
            return rd.DestructionCertificateData(
                req.number or "(inquiry)", req.title, dsa.number if dsa else "", rec.name if rec else "not recorded",
                rec.authorized_representative if rec else "", destroy_by, agencies, files, on_file,
                as_of or date.today())

    # ---- audit report -------------------------------------------------------------------------------------
    def audit(self, start: date, end: date, *, as_of: date | None = None) -> rd.AuditReportData:
        """Events from ``start`` to ``end`` (inclusive, UTC days) and a verification of the whole chain.

        Shows which fields changed, never their values (an audit trail may hold personal data).
        """
        self._check(AUDIT_READERS, "print the audit report")
        if end < start:
            raise ValidationFailed({"end": "must not be before the start of the period"})
        lo = datetime.combine(start, time.min, UTC)
        hi = datetime.combine(end + timedelta(days=1), time.min, UTC)
        with self._read() as s:
            verdict = verify_audit_chain(s)
            rows = s.execute(select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                                    AuditEvent.entity, AuditEvent.entity_id, AuditEvent.before, AuditEvent.after)
                             .where(AuditEvent.at >= lo, AuditEvent.at < hi).order_by(AuditEvent.id)).all()
        events = tuple(rd.AuditLine(eid, at, actor, action, entity, entity_id, _changed_fields(before, after))
                       for eid, at, actor, action, entity, entity_id, before, after in rows)
        by_actor = tuple(sorted(Counter(e.actor for e in events).items(), key=lambda kv: (-kv[1], kv[0])))
        return rd.AuditReportData(start, end, verdict.ok, verdict.checked, verdict.reason, events, by_actor,
                                  as_of or date.today())


def _changed_fields(before: str | None, after: str | None) -> str:
    if not before and after:
        return "new record"
    if before and not after:
        return "record deleted"
    keys: set[str] = set()
    for blob in (before, after):
        if blob:
            try:
                value = json.loads(blob)
            except ValueError:
                continue
            if isinstance(value, dict):
                keys |= set(value)
    keys.discard("id")
    return ", ".join(sorted(keys))
