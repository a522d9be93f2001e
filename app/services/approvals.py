"""``desk.approvals``: each involved agency's decision on its data and on the named data users."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.models import Agency, AgencyApproval, DataRequest, Decision, RequestedAgency, RequestState

from .audit_chain import record_of
from .base import Checks, Kind, Service
from .errors import NotFound, RuleViolation

S = RequestState
OPEN_FOR_DECISIONS = frozenset({S.DRAFTING, S.BOARD_REVIEW})


@dataclass(frozen=True, slots=True)
class ApprovalInfo:
    request_id: int
    agency_id: int
    agency_code: str
    data_decision: Decision
    users_decision: Decision
    decided_on: date | None
    decided_by: str
    note: str

    @property
    def approved(self) -> bool:
        return self.data_decision is Decision.APPROVED and self.users_decision is Decision.APPROVED


class ApprovalService(Service):

    def for_request(self, request_id: int) -> list[ApprovalInfo]:
        """One line per requested agency (PENDING where it has not decided), by agency code."""
        with self._read() as s:
            rows = s.execute(
                select(RequestedAgency.agency_id, Agency.code, AgencyApproval)
                .join(Agency, Agency.id == RequestedAgency.agency_id)
                .outerjoin(AgencyApproval, (AgencyApproval.request_id == RequestedAgency.request_id)
                           & (AgencyApproval.agency_id == RequestedAgency.agency_id))
                .where(RequestedAgency.request_id == request_id).order_by(Agency.code))
            out = []
            for agency_id, code, a in rows:
                if a is None:
                    out.append(ApprovalInfo(request_id, agency_id, code, Decision.PENDING, Decision.PENDING, None, "", ""))
                else:
                    out.append(ApprovalInfo(request_id, agency_id, code, a.data_decision, a.users_decision,
                                            a.decided_on, a.decided_by, a.note))
            return out

    def record(self, request_id: int, agency_id: int, *, data: Decision, users: Decision, decided_on: date,
               decided_by: str, note: str = "") -> None:
        """Record (or change) one agency's decision on its data and on the data users, while the request is
        in drafting or board review. A denial needs a note saying why."""
        data, users = Decision(data), Decision(users)
        checks = Checks()
        decided_by = checks.text("decided_by", decided_by)
        note = checks.text("note", note, required=Decision.DENIED in (data, users), max_len=4000)
        checks.done()
        with self._write("record agency approvals", [Kind.APPROVALS, Kind.REQUESTS]) as uow:
            req = uow.get(DataRequest, request_id, "request")
            if req.state not in OPEN_FOR_DECISIONS:
                raise RuleViolation("Agencies decide on a request while it is in drafting or board review.")
            if uow.session.get(RequestedAgency, (request_id, agency_id)) is None:
                raise NotFound("That agency's data is not part of this request.")
            approval = uow.session.get(AgencyApproval, (request_id, agency_id))
            if approval is None:
                approval = AgencyApproval(request_id=request_id, agency_id=agency_id, data_decision=data,
                                          users_decision=users, decided_on=decided_on, decided_by=decided_by,
                                          note=note)
                uow.session.add(approval)
                uow.session.flush()
                uow.audit("record_approval", "agency_approvals", request_id, None,
                          {"agency_id": agency_id, **record_of(approval)})
                return
            before = record_of(approval)
            approval.data_decision, approval.users_decision = data, users
            approval.decided_on, approval.decided_by, approval.note = decided_on, decided_by, note
            uow.updated(approval, before, action="record_approval")
