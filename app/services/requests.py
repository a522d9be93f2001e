"""``desk.requests``: data requests from inquiry to closing, their agencies, data elements and users."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Integer, cast, func, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Agency,
    AgencyStatus,
    DataElement,
    DataRecipient,
    DataRequest,
    DataSharingAgreement,
    Holiday,
    MatchLogEntry,
    RecipientUser,
    RequestedAgency,
    RequestState,
    RequestStateChange,
    SubmissionType,
    request_users,
)

from . import lifecycle
from .agreements import mark_executed
from .audit_chain import record_of
from .base import HUB_WORK, Checks, Kind, Service, UnitOfWork, refuse_unknown_fields, view_of
from .errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed

S = RequestState
# Content is settled once the board has decided; later changes go through DSA amendments.
EDITABLE = frozenset({S.INQUIRY, S.LOGGED, S.DRAFTING, S.BOARD_REVIEW, S.ON_HOLD})
TEXT_FIELDS = ("title", "purpose", "legal_basis", "learning_agenda_fit", "fields_to_link", "applicable_laws",
               "analysis_plan")


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One line of the request list."""

    id: int
    number: str | None
    title: str
    state: RequestState
    submission_type: SubmissionType
    recipient: str | None
    received_on: date
    decision_on: date | None
    agencies: str  # agency codes, comma-separated


@dataclass(frozen=True, slots=True)
class RequestLogRow:
    """The manual's request log: one line per request."""

    number: str | None
    title: str
    received_on: date
    submission_type: SubmissionType
    requester: str
    organisation: str
    agencies: str
    state: RequestState
    decision_on: date | None
    ndas_needed: int
    ndas_received: int


@dataclass(frozen=True, slots=True)
class ElementInfo:
    id: int
    agency_id: int
    name: str
    justification: str
    struck: bool
    struck_reason: str


@dataclass(frozen=True, slots=True)
class RequestedAgencyInfo:
    agency_id: int
    code: str
    name: str
    publication_limits: str


@dataclass(frozen=True, slots=True)
class StateChangeInfo:
    from_state: RequestState
    to_state: RequestState
    on: date
    actor: str
    note: str


@dataclass(frozen=True, slots=True)
class RequestDetail:
    id: int
    number: str | None
    title: str
    state: RequestState
    held_from: RequestState | None
    submission_type: SubmissionType
    follows_request_id: int | None
    recipient_id: int | None
    recipient_name: str | None
    purpose: str
    legal_basis: str
    learning_agenda_fit: str
    fields_to_link: str
    applicable_laws: str
    analysis_plan: str
    received_on: date
    decision_on: date | None
    disclosure_reviewed_on: date | None
    disclosure_reviewer: str
    agencies: tuple[RequestedAgencyInfo, ...]
    elements: tuple[ElementInfo, ...]
    user_ids: tuple[int, ...]
    history: tuple[StateChangeInfo, ...]


def _agency_codes():  # noqa: ANN202 - a correlated scalar subquery
    return (select(func.group_concat(Agency.code, ", "))
            .join(RequestedAgency, RequestedAgency.agency_id == Agency.id)
            .where(RequestedAgency.request_id == DataRequest.id).correlate(DataRequest).scalar_subquery())


class RequestService(Service):
    """Create and edit requests and move them through the life cycle (rules in ``lifecycle``)."""

    # ---- writing ---------------------------------------------------------------------------------------

    def create(self, title: str, agency_ids: Iterable[int], *, recipient_id: int | None = None,
               submission_type: SubmissionType = SubmissionType.INITIAL, follows_request_id: int | None = None,
               received_on: date | None = None, purpose: str = "", legal_basis: str = "") -> int:
        """Record an inquiry; returns its id. It gets a number (``Q0042``) when it is logged."""
        agency_ids = sorted(set(agency_ids))
        checks = Checks()
        title = checks.text("title", title, max_len=300)
        checks.that(submission_type is SubmissionType.INITIAL or follows_request_id is not None,
                    "follows_request_id", f"a {submission_type.value} must name the request it follows")
        checks.done()
        with self._write("create requests", [Kind.REQUESTS]) as uow:
            self._check_agencies(uow.session, agency_ids)
            if recipient_id is not None:
                uow.get(DataRecipient, recipient_id, "data recipient")
            if follows_request_id is not None:
                uow.get(DataRequest, follows_request_id, "request")
            req = DataRequest(
                title=title, recipient_id=recipient_id, submission_type=submission_type,
                follows_request_id=follows_request_id, received_on=received_on or date.today(),
                purpose=purpose.strip(), legal_basis=legal_basis.strip(), state=S.INQUIRY)
            uow.created(req)
            for agency_id in agency_ids:
                uow.session.add(RequestedAgency(request_id=req.id, agency_id=agency_id))
            uow.session.flush()
            uow.audit("set_agencies", "data_requests", req.id, None, {"agency_ids": agency_ids})
            return req.id

    def update(self, request_id: int, **changes: object) -> None:
        """Change text fields (title, purpose, legal_basis, learning_agenda_fit, fields_to_link,
        applicable_laws, analysis_plan), ``recipient_id`` or ``submission_type`` before the board decides."""
        refuse_unknown_fields(changes, {*TEXT_FIELDS, "recipient_id", "submission_type", "follows_request_id"})
        checks = Checks()
        for name in TEXT_FIELDS:
            if name in changes:
                changes[name] = checks.text(name, str(changes[name] or ""), required=name == "title",
                                            max_len=300 if name == "title" else 20000)
        checks.done()
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            req = self._editable(uow, request_id)
            if changes.get("recipient_id") is not None:
                uow.get(DataRecipient, changes["recipient_id"], "data recipient")
            if changes.get("follows_request_id") is not None:
                if changes["follows_request_id"] == req.id:
                    raise ValidationFailed({"follows_request_id": "a request cannot follow itself"})
                uow.get(DataRequest, changes["follows_request_id"], "request")
            before = record_of(req)
            for name, value in changes.items():
                setattr(req, name, SubmissionType(value) if name == "submission_type" else value)
            uow.updated(req, before)

    def set_agencies(self, request_id: int, agency_ids: Iterable[int]) -> None:
        """Replace the agencies whose data the request needs (elements of dropped agencies are removed)."""
        agency_ids = sorted(set(agency_ids))
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            req = self._editable(uow, request_id)
            if req.state not in (S.INQUIRY, S.LOGGED, S.DRAFTING):
                raise RuleViolation("Agencies can change only before board review; withdraw and resubmit instead.")
            self._check_agencies(uow.session, agency_ids)
            before = sorted(a.agency_id for a in req.agencies)
            req.agencies = [a for a in req.agencies if a.agency_id in agency_ids] + [
                RequestedAgency(request_id=req.id, agency_id=a) for a in agency_ids if a not in before]
            req.elements = [e for e in req.elements if e.agency_id in agency_ids]
            uow.session.flush()
            uow.audit("set_agencies", "data_requests", req.id, {"agency_ids": before}, {"agency_ids": agency_ids})

    def set_publication_limits(self, request_id: int, agency_id: int, limits: str) -> None:
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            self._editable(uow, request_id)
            link = uow.session.get(RequestedAgency, (request_id, agency_id))
            if link is None:
                raise NotFound("That agency is not part of this request.")
            before = record_of(link)
            link.publication_limits = limits.strip()
            uow.updated(link, before)

    def add_element(self, request_id: int, agency_id: int, name: str, justification: str = "") -> int:
        """Request one data element from one of the request's agencies, with the reason it is needed."""
        checks = Checks()
        name = checks.text("name", name)
        justification = checks.text("justification", justification, required=False, max_len=4000)
        checks.done()
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            req = self._editable(uow, request_id)
            if agency_id not in {a.agency_id for a in req.agencies}:
                raise RuleViolation("Add the agency to the request before requesting its data elements.")
            if any(e.agency_id == agency_id and e.name.lower() == name.lower() for e in req.elements):
                raise ValidationFailed({"name": "is already requested from that agency"})
            element = DataElement(request_id=req.id, agency_id=agency_id, name=name, justification=justification)
            uow.created(element)
            return element.id

    def justify_element(self, element_id: int, justification: str) -> None:
        checks = Checks()
        justification = checks.text("justification", justification, max_len=4000)
        checks.done()
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            element = uow.get(DataElement, element_id, "data element")
            self._editable(uow, element.request_id)
            before = record_of(element)
            element.justification = justification
            uow.updated(element, before)

    def strike_element(self, element_id: int, reason: str) -> None:
        """Strike an element (e.g. unjustified); it stays on record, marked struck, with the reason."""
        checks = Checks()
        reason = checks.text("reason", reason, max_len=2000)
        checks.done()
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            element = uow.get(DataElement, element_id, "data element")
            self._editable(uow, element.request_id)
            before = record_of(element)
            element.struck, element.struck_reason = True, reason
            uow.updated(element, before, action="strike")

    def name_users(self, request_id: int, user_ids: Iterable[int]) -> None:
        """Set the data users named on the request; they must work for the request's recipient."""
        user_ids = sorted(set(user_ids))
        with self._write("edit requests", [Kind.REQUESTS]) as uow:
            req = self._editable(uow, request_id)
            if req.recipient_id is None:
                raise RuleViolation("Name the data recipient before naming its data users.")
            owners = dict(uow.session.execute(
                select(RecipientUser.id, RecipientUser.recipient_id).where(RecipientUser.id.in_(user_ids))).all())
            strangers = [u for u in user_ids if owners.get(u) != req.recipient_id]
            if strangers:
                raise RuleViolation(f"{len(strangers)} of those people are not data users of this request's recipient.")
            before = self._user_ids(uow.session, req.id)
            uow.session.execute(request_users.delete().where(request_users.c.request_id == req.id))
            if user_ids:
                uow.session.execute(request_users.insert(), [{"request_id": req.id, "user_id": u} for u in user_ids])
            uow.audit("name_users", "data_requests", req.id, {"user_ids": before}, {"user_ids": user_ids})

    def record_disclosure_review(self, request_id: int, on: date, reviewer: str) -> None:
        """Record OPM's disclosure review of the outputs (needed before release)."""
        checks = Checks()
        reviewer = checks.text("reviewer", reviewer)
        checks.done()
        with self._write("record disclosure reviews", [Kind.REQUESTS]) as uow:
            req = uow.get(DataRequest, request_id, "request")
            if req.state in lifecycle.TERMINAL:
                raise RuleViolation(f"The request is {lifecycle.LABELS[req.state].lower()}.")
            before = record_of(req)
            req.disclosure_reviewed_on, req.disclosure_reviewer = on, reviewer
            uow.updated(req, before, action="disclosure_review")

    def move(self, request_id: int, target: RequestState, *, on: date | None = None, note: str = "") -> RequestState:
        """Move a request to ``target`` if the life-cycle rules allow; returns the new state.

        Raises RuleViolation with the reasons when blocked, PermissionDenied when the role may not make this
        move (the hub moves only through its stages), ValidationFailed when a side exit lacks a reason.
        Logging allocates the request number; approval/denial sets the decision date; executing the DSA sets
        its executed date.
        """
        target = RequestState(target)
        note = note.strip()
        if target in lifecycle.NEEDS_NOTE and not note:
            raise ValidationFailed({"note": f"give the reason for moving the request to {lifecycle.LABELS[target]}"})
        if not lifecycle.role_may_move(self.actor.role, target):
            raise PermissionDenied(f"As {self.actor.role.value} you may not move a request to {lifecycle.LABELS[target]}.")
        day = on or date.today()
        with self._write("move requests", [Kind.REQUESTS, Kind.AGREEMENTS], roles=HUB_WORK) as uow:
            facts = lifecycle.load_facts(uow.session, request_id)
            lifecycle.check_transition(facts, target)
            apply_transition(uow, uow.get(DataRequest, request_id, "request"), target, day, note)
            return target

    # ---- reading ---------------------------------------------------------------------------------------

    def transitions(self, request_id: int) -> list[lifecycle.TransitionOption]:
        """The next states the acting user could choose, each OK or with the reason it is blocked."""
        with self._read() as s:
            return lifecycle.allowed_transitions(lifecycle.load_facts(s, request_id), self.actor.role)

    def facts(self, request_id: int) -> lifecycle.RequestFacts:
        with self._read() as s:
            return lifecycle.load_facts(s, request_id)

    def get(self, request_id: int) -> RequestDetail:
        with self._read() as s:
            req = s.get(DataRequest, request_id)
            if req is None:
                raise NotFound(f"There is no request with id {request_id}.")
            recipient = s.get(DataRecipient, req.recipient_id) if req.recipient_id else None
            agencies = tuple(RequestedAgencyInfo(a, code, name, limits) for a, code, name, limits in s.execute(
                select(RequestedAgency.agency_id, Agency.code, Agency.name, RequestedAgency.publication_limits)
                .join(Agency, Agency.id == RequestedAgency.agency_id)
                .where(RequestedAgency.request_id == req.id).order_by(Agency.code)))
            return view_of(
                RequestDetail, req, recipient_name=recipient.name if recipient else None, agencies=agencies,
                elements=tuple(view_of(ElementInfo, e) for e in req.elements),
                user_ids=tuple(self._user_ids(s, req.id)),
                history=tuple(view_of(StateChangeInfo, c) for c in req.state_changes))

    def page(self, *, offset: int = 0, limit: int = 200, states: Iterable[RequestState] | None = None,
             search: str = "", newest_first: bool = True) -> list[RequestRow]:
        """A page of the request list (filter by states, search number/title/recipient). Pages over ids first
        and joins only the rows returned, so deep pages of a large list stay cheap."""
        order = (DataRequest.received_on.desc(), DataRequest.id.desc()) if newest_first else (
            DataRequest.received_on, DataRequest.id)
        with self._read() as s:
            ids = (self._matching(select(DataRequest.id), states, search).order_by(*order)
                   .offset(offset).limit(limit).scalar_subquery())
            stmt = (select(DataRequest.id, DataRequest.number, DataRequest.title, DataRequest.state,
                           DataRequest.submission_type, DataRecipient.name, DataRequest.received_on,
                           DataRequest.decision_on, func.coalesce(_agency_codes(), ""))
                    .outerjoin(DataRecipient, DataRecipient.id == DataRequest.recipient_id)
                    .where(DataRequest.id.in_(ids)).order_by(*order))
            return [RequestRow(*row) for row in s.execute(stmt)]

    def count(self, *, states: Iterable[RequestState] | None = None, search: str = "") -> int:
        with self._read() as s:
            return s.scalar(self._matching(select(func.count(DataRequest.id)), states, search)) or 0

    def request_log(self) -> list[RequestLogRow]:
        """The manual's request log, oldest first, in one query."""
        with self._read() as s:
            needed = (select(func.count()).select_from(request_users)
                      .where(request_users.c.request_id == DataRequest.id).correlate(DataRequest).scalar_subquery())
            received = (select(func.count()).select_from(request_users)
                        .join(RecipientUser, RecipientUser.id == request_users.c.user_id)
                        .where(request_users.c.request_id == DataRequest.id,
                               RecipientUser.nda_received_on.is_not(None))
                        .correlate(DataRequest).scalar_subquery())
            stmt = (select(DataRequest.number, DataRequest.title, DataRequest.received_on,
                           DataRequest.submission_type,
                           func.coalesce(DataRecipient.authorized_representative, ""),
                           func.coalesce(DataRecipient.name, ""), func.coalesce(_agency_codes(), ""),
                           DataRequest.state, DataRequest.decision_on, needed, received)
                    .outerjoin(DataRecipient, DataRecipient.id == DataRequest.recipient_id)
                    .order_by(DataRequest.received_on, DataRequest.id))
            return [RequestLogRow(*row) for row in s.execute(stmt)]

    def deadlines(self, *, request_id: int | None = None, include_met: bool = False) -> list[lifecycle.Deadline]:
        """Destruction and departure deadlines of one request, or of every request not denied or withdrawn,
        soonest first; only open or overdue ones unless ``include_met``."""
        now = datetime.now(UTC)
        with self._read() as s:
            holidays = set(s.scalars(select(Holiday.day)))
            # Only requests that can carry a deadline: a DSA, a match-log file or a departed data user.
            has_dsa = select(DataSharingAgreement.id).where(DataSharingAgreement.request_id == DataRequest.id)
            has_file = select(MatchLogEntry.id).where(MatchLogEntry.request_id == DataRequest.id)
            has_departure = (select(request_users.c.user_id)
                             .join(RecipientUser, RecipientUser.id == request_users.c.user_id)
                             .where(request_users.c.request_id == DataRequest.id, RecipientUser.departed_on.is_not(None)))
            stmt = select(DataRequest.id).where(DataRequest.state.not_in([S.DENIED, S.WITHDRAWN]),
                                                or_(has_dsa.exists(), has_file.exists(), has_departure.exists()))
            if request_id is not None:
                stmt = select(DataRequest.id).where(DataRequest.id == request_id)
            ids = list(s.scalars(stmt))
            out = [d for rid in ids for d in lifecycle.deadlines(lifecycle.load_facts(s, rid), holidays)]
        if not include_met:
            out = [d for d in out if d.status(now) in ("open", "overdue")]
        return sorted(out, key=lambda d: d.due_at)

    # ---- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def _matching(stmt, states, search):  # noqa: ANN001,ANN205 - SQL statement in and out
        stmt = stmt.select_from(DataRequest)
        if states is not None:
            stmt = stmt.where(DataRequest.state.in_([RequestState(x) for x in states]))
        if search.strip():
            like = f"%{search.strip()}%"
            recipients = select(DataRecipient.id).where(DataRecipient.name.ilike(like))
            stmt = stmt.where(or_(DataRequest.number.ilike(like), DataRequest.title.ilike(like),
                                  DataRequest.recipient_id.in_(recipients)))
        return stmt

    @staticmethod
    def _user_ids(session: Session, request_id: int) -> list[int]:
        return list(session.scalars(select(request_users.c.user_id)
                                    .where(request_users.c.request_id == request_id).order_by(request_users.c.user_id)))

    @staticmethod
    def _editable(uow: UnitOfWork, request_id: int) -> DataRequest:
        req = uow.get(DataRequest, request_id, "request")
        if req.state not in EDITABLE:
            raise RuleViolation(
                f"The request is {lifecycle.LABELS[req.state].lower()}; its content can no longer change "
                "(record changes as a DSA amendment).")
        return req

    @staticmethod
    def _check_agencies(session: Session, agency_ids: list[int]) -> None:
        found = dict(session.execute(select(Agency.id, Agency.status).where(Agency.id.in_(agency_ids))).all())
        missing = [a for a in agency_ids if a not in found]
        if missing:
            raise NotFound(f"No agency has id {missing[0]}.")
        gone = [a for a in agency_ids if found[a] in (AgencyStatus.WITHDRAWN, AgencyStatus.SUSPENDED)]
        if gone:
            raise RuleViolation("Suspended or withdrawn agencies cannot be asked for data.")


def apply_transition(uow: UnitOfWork, req: DataRequest, target: RequestState, day: date, note: str = "") -> None:
    """Move ``req`` to ``target`` inside the caller's unit of work, once the caller has checked the rules
    (``lifecycle.check_transition``): numbers a logged request, dates a decision, keeps or clears the held
    stage, executes the DSA, records the state change and audits it."""
    before = record_of(req)
    source = req.state
    if target is S.LOGGED and req.number is None:
        req.number = _next_number(uow.session)
    if target in (S.APPROVED, S.DENIED):
        req.decision_on = day
    if target is S.ON_HOLD:
        req.held_from = source
    elif source is S.ON_HOLD:
        req.held_from = None
    if target is S.DSA_EXECUTED:
        mark_executed(uow, req.id, day)
    req.state = target
    uow.session.add(RequestStateChange(request_id=req.id, from_state=source, to_state=target, on=day,
                                       actor=uow.actor.username, note=note))
    uow.updated(req, before, action="transition")


def _next_number(session: Session) -> str:
    highest = session.scalar(select(func.max(cast(func.substr(DataRequest.number, 2), Integer)))
                             .where(DataRequest.number.is_not(None))) or 0
    return f"Q{highest + 1:04d}"

