"""The plain, frozen inputs of every report. ``app/services/reporting.py`` fills them from the store; tests
and the benchmark may build them by hand. Money is integer cents; counts are ints; text is shown literally.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


# ---- annual report to the legislature -----------------------------------------------------------------

@dataclass(frozen=True)
class Outcomes:
    """Requests received, approved, denied and fulfilled (data delivered) in a period, for one group."""

    label: str
    received: int = 0
    approved: int = 0
    denied: int = 0
    fulfilled: int = 0


@dataclass(frozen=True)
class Durations:
    """Elapsed days for the requests that completed a step in the period (median and 90th percentile)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Compliance:
    """Destruction obligations that fell due in the period."""

    label: str
    on_time: int = 0
    late: int = 0
    outstanding: int = 0  # due, not yet destroyed (overdue)


@dataclass(frozen=True)
class BudgetItem:
    line_item: str
    budget_cents: int
    actual_cents: int


@dataclass(frozen=True)
class Amount:
    label: str
    cents: int


@dataclass(frozen=True)
class YearSummary:
    """Headline figures of one fiscal year, for the trend against previous years."""

    fiscal_year: int
    received: int
    approved: int
    denied: int
    fulfilled: int
    matches_run: int
    publications: int
    fees_collected_cents: int
    monthly_received: tuple[int, ...]  # July .. June


@dataclass(frozen=True)
class Publication:
    request_number: str
    title: str
    approved_on: date


@dataclass(frozen=True)
class PeopleTable:
    """Counts of people (suppressed before printing): rows x columns, with labels."""

    title: str
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class AnnualReportData:
    fiscal_year: int
    as_of: date
    totals: Outcomes
    by_agency: tuple[Outcomes, ...]
    by_recipient_type: tuple[Outcomes, ...]
    inquiry_to_dsa: Durations
    dsa_to_delivery: Durations
    active_dsas: int
    compliance: tuple[Compliance, ...]
    matches_run: int
    files_matched: int
    publications: tuple[Publication, ...]
    budget: tuple[BudgetItem, ...]
    unbudgeted_actual_cents: int
    fees_invoiced_cents: int
    fees_collected_cents: int
    distributions: tuple[Amount, ...]
    data_users: PeopleTable
    trend: tuple[YearSummary, ...]  # oldest first, ending with this year

    @property
    def is_empty(self) -> bool:
        """True when nothing at all happened in the year (the report then says so on one page)."""
        t = self.totals
        return not (t.received or t.approved or t.denied or t.fulfilled or self.matches_run or self.publications
                    or self.fees_invoiced_cents or self.fees_collected_cents or self.distributions
                    or any(b.actual_cents for b in self.budget) or self.unbudgeted_actual_cents
                    or any(c.on_time or c.late or c.outstanding for c in self.compliance)
                    or any(any(r) for r in self.data_users.counts))


# ---- request status ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgencyDecision:
    agency: str
    data: str  # "approved" / "denied" / "pending"
    users: str
    decided_on: date | None


@dataclass(frozen=True)
class StateStep:
    on: date
    to_state: str
    actor: str
    note: str


@dataclass(frozen=True)
class RequestStatus:
    number: str
    title: str
    recipient: str
    state: str
    submission_type: str
    received_on: date
    days_in_state: int
    agencies: tuple[AgencyDecision, ...]
    ndas_needed: int
    ndas_received: int
    dsa_number: str
    next_steps: tuple[str, ...]  # what blocks the next stage, in words
    history: tuple[StateStep, ...]


@dataclass(frozen=True)
class RequestStatusData:
    as_of: date
    scope: str  # "all open requests" or "request Q0042"
    requests: tuple[RequestStatus, ...]


# ---- DSA register -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DsaEntry:
    number: str
    request_number: str
    title: str
    recipient: str
    executed_on: date | None
    effective_on: date | None
    destroy_by: date | None
    parties_signed: int
    parties: int
    amendments: int
    status: str  # "unsigned", "active", "destroyed", "overdue"


@dataclass(frozen=True)
class DsaRegisterData:
    as_of: date
    entries: tuple[DsaEntry, ...]


# ---- meeting agenda and minutes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class VoteLine:
    member: str
    agency: str
    choice: str  # "yes", "no", "abstain", "absent", "not recorded"


@dataclass(frozen=True)
class MotionRecord:
    number: int
    kind: str
    text: str
    request_number: str
    formal: bool
    passed: bool
    outcome: str  # the services' reason, in words
    yes: int
    no: int
    abstain: int
    votes: tuple[VoteLine, ...]  # one per seated member, in the order of MeetingData.members


@dataclass(frozen=True)
class MeetingData:
    board: str  # "Data Governing Board"
    starts_at: datetime
    location: str
    notice_posted_on: date | None
    notice_warning: str | None
    cancelled: bool
    members: tuple[tuple[str, str, bool], ...]  # (name, agency, present)
    quorum_required: int
    quorum_met: bool
    motions: tuple[MotionRecord, ...]
    minutes: str
    as_of: date


# ---- fee invoice ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceItem:
    description: str
    quantity: int
    unit_cents: int
    amount_cents: int


@dataclass(frozen=True)
class InvoiceData:
    number: str
    status: str
    issued_on: date | None
    due_on: date | None
    recipient: str
    recipient_address: str
    representative: str
    dsa_number: str
    request_number: str
    request_title: str
    items: tuple[InvoiceItem, ...]
    total_cents: int
    paid_cents: int
    payments: tuple[tuple[date, int, str], ...]  # (received on, cents, reference)
    as_of: date

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents


# ---- fund-distribution letter -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DistributionItem:
    distributed_on: date
    dsa_number: str
    request_number: str
    request_title: str
    instrument: str
    cents: int


@dataclass(frozen=True)
class DistributionLetterData:
    agency: str
    agency_code: str
    addressee: str  # a contact's name, or "" for "Dear colleagues"
    period_start: date
    period_end: date
    items: tuple[DistributionItem, ...]
    signer: str
    as_of: date


# ---- destruction certificate form ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateOnFile:
    kind: str
    destroyed_on: date
    certified_by: str
    received_on: date


@dataclass(frozen=True)
class DestructionCertificateData:
    request_number: str
    request_title: str
    dsa_number: str
    recipient: str
    representative: str
    destroy_by: date | None
    agencies: tuple[str, ...]  # the data sets that must be destroyed
    files: tuple[str, ...]  # matching/analysis files known to the hub
    on_file: tuple[CertificateOnFile, ...]
    as_of: date


# ---- audit report --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    change: str  # a short summary of which fields changed


@dataclass(frozen=True)
class AuditReportData:
    period_start: date
    period_end: date
    chain_ok: bool
    chain_checked: int
    chain_message: str
    events: tuple[AuditLine, ...]
    by_actor: tuple[tuple[str, int], ...]
    as_of: date
