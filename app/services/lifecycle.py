"""The request life cycle: states, legal transitions, their guards, and the deadlines that follow from them.

This is the one place the rules live. Guards are pure functions of :class:`RequestFacts` (gathered by
:func:`load_facts` in a handful of queries), so the GUI can ask :func:`allowed_transitions` which buttons to
offer and why others are blocked, and the requests service calls :func:`check_transition` before moving.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Agency,
    AgencyApproval,
    AgencyStatus,
    Board,
    CertificateKind,
    DataElement,
    DataRecipient,
    DataRequest,
    DataSharingAgreement,
    Decision,
    DestructionCertificate,
    DsaExhibit,
    DsaParty,
    ExhibitKind,
    MatchLogEntry,
    MotionKind,
    PartyKind,
    RecipientUser,
    RequestedAgency,
    RequestState,
    Role,
    request_users,
)

from .errors import NotFound, RuleViolation
from .meetings import BoardDecision, board_decision

S = RequestState

LABELS: dict[RequestState, str] = {
    S.INQUIRY: "Inquiry", S.LOGGED: "Logged", S.DRAFTING: "Drafting", S.BOARD_REVIEW: "Board review",
    S.APPROVED: "Approved", S.DSA_EXECUTED: "DSA executed", S.EXTRACTS_PREPARED: "Extracts prepared",
    S.MATCHED: "Matched", S.INPUTS_DESTROYED: "Inputs destroyed", S.RELEASED: "Released",
    S.ANALYSIS: "Analysis", S.PUBLICATION_REVIEW: "Publication review", S.CLOSED: "Closed",
    S.DENIED: "Denied", S.WITHDRAWN: "Withdrawn", S.ON_HOLD: "On hold",
}

# The main line, in order (board review ends in APPROVED or DENIED).
MAIN_LINE: tuple[RequestState, ...] = (
    S.INQUIRY, S.LOGGED, S.DRAFTING, S.BOARD_REVIEW, S.APPROVED, S.DSA_EXECUTED, S.EXTRACTS_PREPARED,
    S.MATCHED, S.INPUTS_DESTROYED, S.RELEASED, S.ANALYSIS, S.PUBLICATION_REVIEW, S.CLOSED,
)
TERMINAL = frozenset({S.CLOSED, S.DENIED, S.WITHDRAWN})
SIDE_EXITS = frozenset({S.DENIED, S.WITHDRAWN, S.ON_HOLD})
# Side exits and closing are recorded with a reason.
NEEDS_NOTE = frozenset({S.DENIED, S.WITHDRAWN, S.ON_HOLD})

_EXTRA_EDGES: dict[RequestState, tuple[RequestState, ...]] = {
    S.BOARD_REVIEW: (S.DENIED,),
    S.ANALYSIS: (S.CLOSED,),  # no publication planned
    S.PUBLICATION_REVIEW: (S.ANALYSIS,),  # outputs sent back for revision
}

# The hub moves requests through its own stages; everything else is the operating group's.
HUB_STAGES = frozenset({S.EXTRACTS_PREPARED, S.MATCHED, S.INPUTS_DESTROYED})


def targets_from(state: RequestState, held_from: RequestState | None = None) -> tuple[RequestState, ...]:
    """Every state reachable in one step from ``state`` if its guards allow (structure only, no guards)."""
    if state in TERMINAL:
        return ()
    if state is S.ON_HOLD:
        return tuple(t for t in (held_from, S.WITHDRAWN) if t is not None)
    nxt = MAIN_LINE[MAIN_LINE.index(state) + 1]
    return (nxt, *_EXTRA_EDGES.get(state, ()), S.WITHDRAWN, S.ON_HOLD)


# ---- facts ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AgencyFact:
    id: int
    code: str
    status: AgencyStatus
    short_window: bool


@dataclass(frozen=True, slots=True)
class ElementFact:
    agency_id: int
    name: str
    justified: bool
    struck: bool


@dataclass(frozen=True, slots=True)
class UserFact:
    id: int
    nda_received_on: date | None
    departed_on: date | None
    departure_reported_on: date | None


@dataclass(frozen=True, slots=True)
class PartyFact:
    kind: PartyKind
    agency_id: int | None
    recipient_id: int | None
    signed: bool


@dataclass(frozen=True, slots=True)
class DsaFact:
    number: str
    effective_on: date | None
    destroy_by: date | None
    executed_on: date | None
    parties: tuple[PartyFact, ...]
    has_request_form: bool


@dataclass(frozen=True, slots=True)
class MatchFact:
    id: int
    agency_id: int
    file_name: str
    matched_on: date | None
    stewards_confirmed_at: datetime | None
    id_matrix_sent_on: date | None
    inputs_destroyed_on: date | None


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """Everything the guards look at, read in one go."""

    request_id: int
    number: str | None
    state: RequestState
    held_from: RequestState | None
    title: str
    recipient_id: int | None
    recipient_agency_id: int | None  # set when the recipient is itself a source agency
    purpose: str
    legal_basis: str
    disclosure_reviewed_on: date | None
    agencies: tuple[AgencyFact, ...] = ()
    elements: tuple[ElementFact, ...] = ()
    users: tuple[UserFact, ...] = ()
    approvals: tuple[tuple[int, Decision, Decision], ...] = ()  # (agency id, data, users)
    dgb_approval: BoardDecision = BoardDecision(False, False, "no Data Governing Board vote is recorded")
    dsa: DsaFact | None = None
    match_entries: tuple[MatchFact, ...] = ()
    certificates: frozenset[CertificateKind] = frozenset()
    recipient_destroyed_on: date | None = None  # from the recipient's destruction certificate

    @property
    def involves_short_window(self) -> bool:
        return any(a.short_window for a in self.agencies)


def load_facts(session: Session, request_id: int) -> RequestFacts:
    """Read what the guards need about one request (about ten small queries, none per row)."""
    req = session.get(DataRequest, request_id)
    if req is None:
        raise NotFound(f"There is no request with id {request_id}.")
    recipient_agency = (session.scalar(select(DataRecipient.agency_id).where(DataRecipient.id == req.recipient_id))
                        if req.recipient_id else None)
    agencies = tuple(AgencyFact(*row) for row in session.execute(
        select(Agency.id, Agency.code, Agency.status, Agency.short_destruction_window)
        .join(RequestedAgency, RequestedAgency.agency_id == Agency.id)
        .where(RequestedAgency.request_id == request_id).order_by(Agency.code)))
    elements = tuple(ElementFact(a, n, bool(j.strip()), s) for a, n, j, s in session.execute(
        select(DataElement.agency_id, DataElement.name, DataElement.justification, DataElement.struck)
        .where(DataElement.request_id == request_id)))
    users = tuple(UserFact(*row) for row in session.execute(
        select(RecipientUser.id, RecipientUser.nda_received_on, RecipientUser.departed_on,
               RecipientUser.departure_reported_on)
        .join(request_users, request_users.c.user_id == RecipientUser.id)
        .where(request_users.c.request_id == request_id)))
    approvals = tuple(session.execute(
        select(AgencyApproval.agency_id, AgencyApproval.data_decision, AgencyApproval.users_decision)
        .where(AgencyApproval.request_id == request_id)).all())
    dsa_row = session.scalar(select(DataSharingAgreement).where(DataSharingAgreement.request_id == request_id))
    dsa = None
    if dsa_row is not None:
        parties = tuple(PartyFact(k, a, r, bool(sig.strip()) and on is not None) for k, a, r, sig, on in session.execute(
            select(DsaParty.kind, DsaParty.agency_id, DsaParty.recipient_id, DsaParty.signatory, DsaParty.signed_on)
            .where(DsaParty.dsa_id == dsa_row.id)))
        has_form = session.scalar(select(DsaExhibit.id).where(
            DsaExhibit.dsa_id == dsa_row.id, DsaExhibit.kind == ExhibitKind.REQUEST_FORM).limit(1)) is not None
        dsa = DsaFact(dsa_row.number, dsa_row.effective_on, dsa_row.destroy_by, dsa_row.executed_on, parties, has_form)
    entries = tuple(MatchFact(*row) for row in session.execute(
        select(MatchLogEntry.id, MatchLogEntry.sender_agency_id, MatchLogEntry.file_name, MatchLogEntry.matched_on,
               MatchLogEntry.stewards_confirmed_at, MatchLogEntry.id_matrix_sent_on,
               MatchLogEntry.inputs_destroyed_on)
        .where(MatchLogEntry.request_id == request_id).order_by(MatchLogEntry.id)))
    certs = session.execute(select(DestructionCertificate.kind, DestructionCertificate.destroyed_on)
                            .where(DestructionCertificate.request_id == request_id)).all()
    recipient_destroyed = [on for kind, on in certs if kind is CertificateKind.RECIPIENT_DATA]
    needs_vote = req.state in (S.BOARD_REVIEW, S.ON_HOLD)
    dgb = board_decision(session, board=Board.DGB, kind=MotionKind.REQUEST_APPROVAL, request_id=request_id) \
        if needs_vote else BoardDecision(False, False, "not under board review")
    return RequestFacts(
        request_id=req.id, number=req.number, state=req.state, held_from=req.held_from, title=req.title,
        recipient_id=req.recipient_id, recipient_agency_id=recipient_agency, purpose=req.purpose,
        legal_basis=req.legal_basis, disclosure_reviewed_on=req.disclosure_reviewed_on, agencies=agencies,
        elements=elements, users=users, approvals=approvals, dgb_approval=dgb, dsa=dsa, match_entries=entries,
        certificates=frozenset(kind for kind, _ in certs),
        recipient_destroyed_on=min(recipient_destroyed) if recipient_destroyed else None,
    )


# ---- guards --------------------------------------------------------------------------------------------
# Each returns the reasons the move is blocked; an empty list means it is allowed.

def _codes(agencies: Iterable[AgencyFact]) -> str:
    return ", ".join(a.code for a in agencies)


def _guard_logged(f: RequestFacts) -> list[str]:
    reasons = []
    if len(f.agencies) < 2:
        reasons.append(f"an inquiry must need data from at least two agencies (it names {len(f.agencies)})")
    inactive = [a for a in f.agencies if a.status is not AgencyStatus.ACTIVE]
    if inactive:
        reasons.append(f"these agencies are not active participants: {_codes(inactive)}")
    return reasons


def _guard_drafting(f: RequestFacts) -> list[str]:
    return [] if f.recipient_id is not None else ["name the data recipient first"]


def _guard_board_review(f: RequestFacts) -> list[str]:
    reasons = _guard_logged(f) + _guard_drafting(f)
    if not f.purpose.strip():
        reasons.append("state the purpose")
    if not f.legal_basis.strip():
        reasons.append("state the legal basis")
    live = [e for e in f.elements if not e.struck]
    without = [a for a in f.agencies if not any(e.agency_id == a.id for e in live)]
    if without:
        reasons.append(f"no data elements are requested from {_codes(without)}")
    unjustified = [e.name for e in live if not e.justified]
    if unjustified:
        reasons.append(f"{len(unjustified)} data element(s) have no justification (justify or strike them)")
    if not f.users:
        reasons.append("name at least one data user")
    return reasons


def _guard_approved(f: RequestFacts) -> list[str]:
    reasons = []
    decided = {a: (d, u) for a, d, u in f.approvals}
    pending = [a for a in f.agencies if decided.get(a.id, (None, None)) != (Decision.APPROVED, Decision.APPROVED)]
    if pending:
        reasons.append(f"these agencies have not approved both their data and the data users: {_codes(pending)}")
    if not f.dgb_approval.passed:
        reasons.append(f.dgb_approval.reason)
    return reasons


def _guard_denied(f: RequestFacts) -> list[str]:
    refused = any(Decision.DENIED in (d, u) for _, d, u in f.approvals)
    voted_down = f.dgb_approval.voted and not f.dgb_approval.passed
    if refused or voted_down:
        return []
    return ["a denial needs an agency's refusal or a failed Data Governing Board vote on record"]


def _guard_dsa_executed(f: RequestFacts) -> list[str]:
    if f.dsa is None:
        return ["no DSA has been drafted for this request"]
    d, reasons = f.dsa, []
    needed: list[tuple[PartyKind, int | None, int | None, str]] = [
        (PartyKind.AGENCY, a.id, None, a.code) for a in f.agencies]
    needed.append((PartyKind.RECIPIENT, None, f.recipient_id, "the data recipient"))
    missing = [label for kind, agency, recipient, label in needed
               if not any(p.kind is kind and p.agency_id == agency and p.recipient_id == recipient for p in d.parties)]
    for kind, label in ((PartyKind.HUB, "the hub"), (PartyKind.OPERATING_GROUP, "the operating group")):
        if not any(p.kind is kind for p in d.parties):
            missing.append(label)
    if missing:
        reasons.append(f"the DSA lacks these parties: {', '.join(missing)}")
    unsigned = sum(not p.signed for p in d.parties)
    if unsigned:
        reasons.append(f"{unsigned} of {len(d.parties)} DSA parties have not signed")
    if d.effective_on is None or d.destroy_by is None:
        reasons.append("the DSA needs an effective date and a destroy-by date")
    elif d.destroy_by <= d.effective_on:
        reasons.append("the DSA's destroy-by date must be after its effective date")
    if not d.has_request_form:
        reasons.append("attach the approved request form (Exhibit A) to the DSA")
    return reasons


def _guard_extracts(f: RequestFacts) -> list[str]:
    if f.dsa is None or f.dsa.executed_on is None:
        return ["extracts may be prepared only under an executed DSA"]
    senders = {e.agency_id for e in f.match_entries}
    missing = [a for a in f.agencies if a.id not in senders]
    return [f"the hub has not logged a matching file from {_codes(missing)}"] if missing else []


def _guard_matched(f: RequestFacts) -> list[str]:
    if f.dsa is None or f.dsa.executed_on is None:
        return ["matching may run only under an executed DSA"]
    open_ = [e.file_name for e in f.match_entries if e.matched_on is None]
    if not f.match_entries:
        return ["the match log has no files for this request"]
    return [f"{len(open_)} matching file(s) have no match date in the match log"] if open_ else []


def _guard_inputs_destroyed(f: RequestFacts) -> list[str]:
    reasons = []
    unconfirmed = [e for e in f.match_entries if e.stewards_confirmed_at is None]
    if unconfirmed:
        reasons.append(f"the stewards have not confirmed the match for {len(unconfirmed)} file(s)")
    kept = [e for e in f.match_entries if e.inputs_destroyed_on is None]
    if kept:
        reasons.append(f"{len(kept)} input file(s) are not recorded as destroyed")
    if CertificateKind.HUB_INPUTS not in f.certificates:
        reasons.append("the hub's destruction certificate for the input files is not on file")
    return reasons


def _guard_released(f: RequestFacts) -> list[str]:
    reasons = []
    if f.disclosure_reviewed_on is None:
        reasons.append("the disclosure review of the outputs is not recorded")
    source_ids = {a.id for a in f.agencies}
    if f.recipient_agency_id in source_ids and CertificateKind.RECIPIENT_ID_LINK not in f.certificates:
        reasons.append("the recipient is a source agency: its attestation that it destroyed its own ID link is not on file")
    current = [u for u in f.users if u.departed_on is None]
    if not current:
        reasons.append("no current data user is named on the request")
    unsigned = [u for u in current if u.nda_received_on is None]
    if unsigned:
        reasons.append(f"{len(unsigned)} data user(s) have no signed NDA on file")
    return reasons


def _guard_analysis(f: RequestFacts) -> list[str]:
    unsent = [e for e in f.match_entries if e.id_matrix_sent_on is None]
    return [f"the ID matrix has not been sent for {len(unsent)} file(s)"] if unsent else []


def _guard_closed(f: RequestFacts) -> list[str]:
    if CertificateKind.RECIPIENT_DATA not in f.certificates:
        return ["the recipient's destruction certificate is not on file"]
    return []


def _no_guard(f: RequestFacts) -> list[str]:
    return []


GUARDS: dict[RequestState, Callable[[RequestFacts], list[str]]] = {
    S.LOGGED: _guard_logged, S.DRAFTING: _guard_drafting, S.BOARD_REVIEW: _guard_board_review,
    S.APPROVED: _guard_approved, S.DENIED: _guard_denied, S.DSA_EXECUTED: _guard_dsa_executed,
    S.EXTRACTS_PREPARED: _guard_extracts, S.MATCHED: _guard_matched, S.INPUTS_DESTROYED: _guard_inputs_destroyed,
    S.RELEASED: _guard_released, S.ANALYSIS: _guard_analysis, S.PUBLICATION_REVIEW: _no_guard,
    S.CLOSED: _guard_closed, S.WITHDRAWN: _no_guard, S.ON_HOLD: _no_guard,
}


def blocked_reasons(facts: RequestFacts, target: RequestState) -> list[str]:
    """Why ``facts`` may not move to ``target`` (structure first, then the guard); empty when allowed."""
    if target not in targets_from(facts.state, facts.held_from):
        options = ", ".join(LABELS[t] for t in targets_from(facts.state, facts.held_from)) or "nowhere (it is final)"
        return [f"a request in {LABELS[facts.state]} cannot move to {LABELS[target]}; it can go to {options}"]
    if facts.state is S.ON_HOLD and target is facts.held_from:
        return []  # resuming: the stage was legally reached before the hold
    return GUARDS[target](facts)


def role_may_move(role: Role, target: RequestState) -> bool:
    if role in (Role.COORDINATOR, Role.ADMIN):
        return True
    return role is Role.HUB and target in HUB_STAGES


@dataclass(frozen=True, slots=True)
class TransitionOption:
    """One possible next state: ``ok`` or blocked, with the reason in words (for a button's tooltip)."""

    target: RequestState
    label: str
    ok: bool
    reason: str
    needs_note: bool


def allowed_transitions(facts: RequestFacts, role: Role | None = None) -> list[TransitionOption]:
    """Each next state the request could take, with OK or why it is blocked (optionally for ``role``)."""
    options = []
    for target in targets_from(facts.state, facts.held_from):
        reasons = blocked_reasons(facts, target)
        if role is not None and not role_may_move(role, target):
            reasons.insert(0, f"the {role.value} role may not move a request to {LABELS[target]}")
        label = f"Resume ({LABELS[target]})" if facts.state is S.ON_HOLD and target is facts.held_from else LABELS[target]
        options.append(TransitionOption(target, label, not reasons, "; ".join(reasons) or "OK", target in NEEDS_NOTE))
    return options


def check_transition(facts: RequestFacts, target: RequestState) -> None:
    """Raise RuleViolation saying why, unless the request may move to ``target`` now."""
    reasons = blocked_reasons(facts, target)
    if reasons:
        who = f"Request {facts.number}" if facts.number else "This inquiry"
        raise RuleViolation(f"{who} cannot move to {LABELS[target]}: " + "; ".join(reasons) + ".")


# ---- deadlines -----------------------------------------------------------------------------------------

BUSINESS_DAYS_TO_DESTROY = 5
SHORT_WINDOW = timedelta(hours=24)
DEPARTURE_REPORT = timedelta(hours=24)


def add_business_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The date ``days`` working days after ``start`` (weekends and ``holidays`` skipped)."""
    off = set(holidays)
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            left -= 1
    return current


@dataclass(frozen=True, slots=True)
class Deadline:
    """A dated obligation. ``due_at`` is the UTC instant it falls due; ``done_on`` when it was met."""

    request_id: int
    request_number: str | None
    kind: str  # "destroy_inputs", "recipient_destroy_by", "report_departure"
    what: str
    due_at: datetime
    done_on: date | None

    def status(self, now: datetime) -> str:
        """'met', 'late' (met after the deadline), 'overdue' or 'open'."""
        if self.done_on is not None:
            return "met" if self.done_on <= self.due_at.date() else "late"
        return "overdue" if now > self.due_at else "open"


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


def deadlines(facts: RequestFacts, holidays: Iterable[date] = ()) -> list[Deadline]:
    """Destruction of hub inputs (5 business days after the stewards confirm the match, 24 hours when CCIC
    or another short-window agency is involved), the recipient's destroy-by date, and 24-hour reporting of
    data users' departures."""
    holidays = set(holidays)
    out = []
    for e in facts.match_entries:
        if e.stewards_confirmed_at is None:
            continue
        if facts.involves_short_window:
            due = e.stewards_confirmed_at + SHORT_WINDOW
        else:
            due = _end_of(add_business_days(e.stewards_confirmed_at.date(), BUSINESS_DAYS_TO_DESTROY, holidays))
        out.append(Deadline(facts.request_id, facts.number, "destroy_inputs",
                            f"destroy input file {e.file_name}", due, e.inputs_destroyed_on))
    if facts.dsa is not None and facts.dsa.destroy_by is not None and facts.state not in (S.DENIED, S.WITHDRAWN):
        out.append(Deadline(facts.request_id, facts.number, "recipient_destroy_by", "recipient destroys the data",
                            _end_of(facts.dsa.destroy_by), facts.recipient_destroyed_on))
    for u in facts.users:
        if u.departed_on is not None:
            due = datetime.combine(u.departed_on, time(23, 59, 59), UTC) + DEPARTURE_REPORT
            out.append(Deadline(facts.request_id, facts.number, "report_departure",
                                f"report the departure of data user #{u.id}", due, u.departure_reported_on))
    return out
