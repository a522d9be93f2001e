"""A small world on a real store, and steps that take a request to any stage through the services."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.models import (
    Board,
    CertificateKind,
    Decision,
    ExhibitKind,
    MotionKind,
    RecipientType,
    RequestState,
    Role,
    VoteChoice,
)
from app.services import Desk

S = RequestState
DAY = date(2025, 3, 3)


class World:
    """A store with a coordinator, a hub user, an auditor, a recipient with two data users and a DGB."""

    def __init__(self, store) -> None:  # noqa: ANN001
        admin = Desk(store, "admin")
        admin.users.add("cora", "Cora Coordinator", Role.COORDINATOR)
        admin.users.add("hank", "Hank Hub", Role.HUB)
        admin.users.add("audrey", "Audrey Auditor", Role.AUDITOR)
        self.store, self.admin = store, admin
        self.desk, self.hub, self.auditor = Desk(store, "cora"), Desk(store, "hank"), Desk(store, "audrey")
        self.ag = {a.code: a.id for a in admin.agencies.list()}
        self.recipient = self.desk.recipients.create("Test University", RecipientType.UNIVERSITY,
                                                     authorized_representative="Dr Rep")
        self.users = [self.desk.recipients.add_user(self.recipient, f"Analyst {i}") for i in (1, 2)]
        seated = DAY - timedelta(days=365)
        self.members = [self.desk.meetings.add_member(Board.DGB, self.ag[c], f"Member {c}", seated)
                        for c in ("SDE", "DOL", "OEC")]
        meeting = self.desk.meetings.schedule(Board.DGB, datetime(2025, 4, 10, 14, tzinfo=UTC),
                                              notice_posted_on=date(2025, 3, 31))
        self.meeting = meeting.meeting_id
        self.desk.meetings.record_attendance(self.meeting, self.members)
        self.desk.finance.create_fee_schedule("Fees", date(2020, 1, 1))

    def new_request(self, codes=("SDE", "DOL")) -> int:  # noqa: ANN001
        return self.desk.requests.create("Study", [self.ag[c] for c in codes], recipient_id=self.recipient,
                                         received_on=DAY)

    # Each step does the work a stage needs, then moves into it.
    def to(self, rid: int, target: RequestState) -> None:
        d, order = self.desk, [s for s in (S.LOGGED, S.DRAFTING, S.BOARD_REVIEW, S.APPROVED, S.DSA_EXECUTED,
                                           S.EXTRACTS_PREPARED, S.MATCHED, S.INPUTS_DESTROYED, S.RELEASED,
                                           S.ANALYSIS, S.PUBLICATION_REVIEW, S.CLOSED)]
        current = d.requests.get(rid).state
        start = order.index(current) + 1 if current in order else 0
        for state in order[start:order.index(target) + 1]:
            self.prepare(rid, state)
            (self.hub if state in (S.EXTRACTS_PREPARED, S.MATCHED, S.INPUTS_DESTROYED) else d).requests.move(
                rid, state, on=DAY)

    def prepare(self, rid: int, state: RequestState) -> None:
        d = self.desk
        detail = d.requests.get(rid)
        agencies = [a.agency_id for a in detail.agencies]
        if state is S.BOARD_REVIEW:
            d.requests.update(rid, purpose="Evaluate", legal_basis="FERPA audit/evaluation")
            for a in agencies:
                d.requests.add_element(rid, a, "Element", "Needed for the cohort")
            d.requests.name_users(rid, self.users)
        elif state is S.APPROVED:
            for a in agencies:
                d.approvals.record(rid, a, data=Decision.APPROVED, users=Decision.APPROVED, decided_on=DAY,
                                   decided_by="Steward")
            motion = d.meetings.add_motion(self.meeting, MotionKind.REQUEST_APPROVAL, "Approve", request_id=rid)
            d.meetings.record_votes(motion, {m: VoteChoice.YES for m in self.members})
        elif state is S.DSA_EXECUTED:
            dsa = d.agreements.draft(rid, effective_on=DAY, destroy_by=DAY + timedelta(days=700))
            d.agreements.add_exhibit(dsa, ExhibitKind.REQUEST_FORM, "Exhibit A")
            for party in d.agreements.get(dsa).parties:
                d.agreements.sign(party.id, signatory="Signer", signed_on=DAY)
        elif state is S.EXTRACTS_PREPARED:
            for a in agencies:
                self.hub.matchlog.log_files(rid, sender_agency_id=a, files_received_on=DAY, file_name=f"f{a}.txt",
                                            fields_included=["LastName", "DOB"])
        elif state is S.MATCHED:
            for row in d.matchlog.page(request_id=rid):
                self.hub.matchlog.record_match(row.id, DAY)
        elif state is S.INPUTS_DESTROYED:
            for row in d.matchlog.page(request_id=rid):
                self.hub.matchlog.confirm_match(row.id, datetime(2025, 3, 3, 12, tzinfo=UTC))
                self.hub.matchlog.record_inputs_destroyed(row.id, DAY)
            self.hub.matchlog.certify_destruction(rid, CertificateKind.HUB_INPUTS, destroyed_on=DAY,
                                                  certified_by="Hub", received_on=DAY)
        elif state is S.RELEASED:
            for u in self.users:
                d.recipients.record_nda(u, DAY)
            d.requests.record_disclosure_review(rid, DAY, "Reviewer")
        elif state is S.ANALYSIS:
            for row in d.matchlog.page(request_id=rid):
                self.hub.matchlog.record_id_matrix_sent(row.id, DAY, "Dr Rep")
        elif state is S.CLOSED:
            d.matchlog.certify_destruction(rid, CertificateKind.RECIPIENT_DATA, destroyed_on=DAY,
                                           certified_by="Dr Rep", received_on=DAY)
