"""Demo data: a realistic, deterministic P20 WIN history made through the services (so it is all audited),
and a fast bulk loader for GUI benchmarks.

    build_demo(store, "admin", seed=20)                   # ~40 requests over three years, in every state
    build_benchmark(store, "admin", communications=100_000)

Every name here is invented; nothing is personal data.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select

from app.models import (
    AgencyStatus,
    Board,
    CertificateKind,
    Channel,
    Communication,
    ContactKind,
    DataRequest,
    Decision,
    Direction,
    ExhibitKind,
    FeeRuleKind,
    MotionKind,
    RecipientType,
    RequestedAgency,
    RequestState,
    Role,
    VoteChoice,
)

from app.store.keyslots import DEMO_KDF, PRODUCTION_KDF
from app.store.paths import DEMO_PASSPHRASE, DEMO_USER
from app.store.store import Store, keys_path

from . import Desk
from .audit_chain import append_event
from .base import ADMINS
from .errors import PermissionDenied
from .finance import fiscal_year_bounds, fiscal_year_of
from .lifecycle import MAIN_LINE
from .setup import initialise_store

S = RequestState
DEMO_USERS = (("coordinator", "Casey Ortiz (demo coordinator)", Role.COORDINATOR),
              ("hub", "Harper Lin (demo hub analyst)", Role.HUB),
              ("auditor", "Avery Brooks (demo auditor)", Role.AUDITOR))

_FIRST = ("Alex", "Jordan", "Morgan", "Taylor", "Riley", "Sam", "Jamie", "Robin", "Dana", "Chris", "Pat", "Lee",
          "Kim", "Drew", "Quinn", "Reese", "Avery", "Blake", "Casey", "Emery", "Frankie", "Hayden", "Jesse", "Kai")
_LAST = ("Adler", "Baptiste", "Chen", "Delgado", "Eriksen", "Fitzgerald", "Garcia", "Haddad", "Iverson", "Jablonski",
         "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi", "Sandoval",
         "Thibodeau", "Ueda", "Vasquez", "Whitfield", "Yilmaz", "Zielinski")

_RECIPIENTS = (
    ("UConn Neag School of Education", RecipientType.UNIVERSITY, None),
    ("Yale Tobin Center for Economic Policy", RecipientType.UNIVERSITY, None),
    ("Connecticut Data Collaborative", RecipientType.NONPROFIT, None),
    ("CT Early Childhood Research Alliance", RecipientType.NONPROFIT, None),
    ("Office of Workforce Strategy (analytics unit)", RecipientType.STATE_AGENCY, "OWS"),
    ("State Department of Education (research office)", RecipientType.STATE_AGENCY, "SDE"),
    ("Regional Workforce Board of Eastern CT", RecipientType.MUNICIPALITY, None),
    ("Northeast Policy Research Group", RecipientType.RESEARCH_FIRM, None),
    ("US Department of Labor, Employment & Training", RecipientType.FEDERAL_AGENCY, None),
    ("Wesleyan Quantitative Analysis Center", RecipientType.UNIVERSITY, None),
)

_TOPICS = (
    "Pre-K participation and third-grade reading", "Dual enrollment and college completion",
    "Apprenticeship completers' earnings", "Career and technical education outcomes",
    "Wage outcomes of community college certificates", "Homeless youth and postsecondary enrolment",
    "Early care subsidies and maternal employment", "Court-involved youth and workforce re-entry",
    "Foster care alumni in higher education", "Teacher pipeline: education majors to classrooms",
    "Adult education and wage growth", "Student loan burden and labour mobility",
    "Remote learning and graduation during the pandemic", "Manufacturing pipeline programmes",
    "Nursing graduates' retention in Connecticut", "Scholarship recipients' persistence",
    "Mental health services and school attendance", "SNAP households and postsecondary access",
    "Summer youth employment outcomes", "English learners' college enrolment",
)

_ELEMENTS = {
    "SDE": ("Grade 12 enrolment", "Graduation status", "Assessment scores", "English learner status"),
    "DOL": ("Quarterly wages", "Industry code (NAICS)", "Employer county"),
    "OEC": ("Care4Kids participation", "Pre-K programme type"),
    "CSCU": ("Enrolment by term", "Credential awarded", "Programme of study"),
    "UCONN": ("Enrolment by term", "Degree awarded", "Major"),
    "CCIC": ("Enrolment by term", "Degree awarded"),
    "DSS": ("SNAP participation", "Medicaid enrolment"),
    "DCF": ("Placement episodes", "Permanency outcome"),
    "OHE": ("Scholarship awards", "Aid amount band"),
    "CCEH": ("HMIS enrolment", "Housing outcome"),
    "DMHAS": ("Service episodes", "Programme type"),
    "CTECS": ("Trade programme", "Industry credential"),
    "JB-CSSD": ("Probation episodes", "Programme completion"),
    "OWS": ("Training programme", "Completion status"),
}

# Final states for the ~40 requests: every state is represented; most requests are well under way or closed.
_TARGETS = (
    [S.CLOSED] * 9 + [S.ANALYSIS] * 4 + [S.PUBLICATION_REVIEW] * 2 + [S.RELEASED] * 2 + [S.INPUTS_DESTROYED] * 2
    + [S.MATCHED] * 2 + [S.EXTRACTS_PREPARED] * 2 + [S.DSA_EXECUTED] * 2 + [S.APPROVED] * 2 + [S.BOARD_REVIEW] * 3
    + [S.DRAFTING] * 2 + [S.LOGGED] * 2 + [S.INQUIRY] * 2 + [S.DENIED] * 2 + [S.WITHDRAWN] * 2 + [S.ON_HOLD] * 2
)


def _at(day: date, hour: int = 14) -> datetime:
    return datetime.combine(day, time(hour, 0), UTC)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def connecticut_holidays(year: int) -> list[tuple[date, str]]:
    """Connecticut state holidays of a year (Good Friday omitted: it moves with Easter)."""
    return [
        (date(year, 1, 1), "New Year's Day"), (_nth_weekday(year, 1, 0, 3), "Martin Luther King Jr. Day"),
        (date(year, 2, 12), "Lincoln's Birthday"), (_nth_weekday(year, 2, 0, 3), "Washington's Birthday"),
        (_last_weekday(year, 5, 0), "Memorial Day"), (date(year, 6, 19), "Juneteenth"),
        (date(year, 7, 4), "Independence Day"), (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (_nth_weekday(year, 10, 0, 2), "Columbus Day"), (date(year, 11, 11), "Veterans' Day"),
        (_nth_weekday(year, 11, 3, 4), "Thanksgiving"), (date(year, 12, 25), "Christmas Day"),
    ]


@dataclass
class _World:
    agencies: dict[str, int] = field(default_factory=dict)
    dgb: dict[int, int] = field(default_factory=dict)  # agency id -> DGB member id
    meetings: list[tuple[date, int, list[int]]] = field(default_factory=list)  # (day, id, present)
    recipients: list[tuple[int, RecipientType, str | None]] = field(default_factory=list)
    users: dict[int, list[int]] = field(default_factory=dict)  # recipient id -> data user ids
    ndas: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class DemoSummary:
    requests: int
    states: dict[str, int]
    audit_events: int


def create_demo_store(path: Path, username: str = DEMO_USER, passphrase: str = DEMO_PASSPHRASE, *,
                      seed: int = 20, years: int = 3) -> tuple[Store, str, DemoSummary]:
    """Create a store at ``path`` and fill it with demo data; returns the open store, its recovery code and
    a summary. A store left half-filled by an error (or a cancel) is removed: it would confuse more than help.
    With the public demo passphrase the key slots use the cheap ``DEMO_KDF``. Raises StoreError."""
    kdf = DEMO_KDF if passphrase == DEMO_PASSPHRASE else PRODUCTION_KDF
    store, code = initialise_store(path, username, passphrase, "Demo Coordinator", kdf=kdf)
    try:
        summary = build_demo(store, username, seed=seed, years=years)
    except BaseException:
        store.close()
        for leftover in (Path(path), keys_path(Path(path))):
            leftover.unlink(missing_ok=True)
        raise
    return store, code, summary


def build_demo(store, username: str, *, seed: int = 20, years: int = 3, as_of: date | None = None,  # noqa: ANN001
               requests: int = len(_TARGETS)) -> DemoSummary:
    """Fill a freshly initialised store with demo data through the services (all audited; verifies).

    ``username`` must be an admin (it creates the demo desk users ``coordinator``, ``hub``, ``auditor``; they
    get no key slots). The same ``seed``, ``as_of`` (default: today), ``years`` and ``requests`` give the
    same data. The default 42 requests cover every state; fewer take an even sample. Takes ~10 s.
    """
    admin = Desk(store, username)
    if admin.actor.role not in ADMINS:
        raise PermissionDenied("Only an administrator can build demo data.")
    today = as_of or date.today()
    rng = random.Random(seed)
    existing = {u.username for u in admin.users.list()}
    for name, display, role in DEMO_USERS:
        if name not in existing:
            admin.users.add(name, display, role)
    demo = _DemoBuilder(Desk(store, "coordinator"), Desk(store, "hub"), rng, today, years,
                        [_TARGETS[i * len(_TARGETS) // requests] for i in range(min(requests, len(_TARGETS)))])
    demo.build()
    summary_states: dict[str, int] = {}
    for row in admin.requests.page(limit=10_000):
        summary_states[row.state.value] = summary_states.get(row.state.value, 0) + 1
    return DemoSummary(sum(summary_states.values()), summary_states, admin.audit.count())


class _DemoBuilder:
    def __init__(self, desk: Desk, hub: Desk, rng: random.Random, today: date, years: int,
                 targets: list[RequestState]) -> None:
        self.desk, self.hub, self.rng, self.today, self.targets = desk, hub, rng, today, targets
        self.start = today - timedelta(days=365 * years)
        self.years = years
        self.w = _World()

    def name(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def build(self) -> None:
        # One transaction per section and per request: the same audit trail, a fraction of the commits.
        for section in (self.calendar, self.agencies, self.boards, self.money, self.recipients):
            with self.desk.batch():
                section()
        self.requests()

    # ---- reference data --------------------------------------------------------------------------------

    def calendar(self) -> None:
        for year in range(self.start.year, self.today.year + 2):
            for day, label in connecticut_holidays(year):
                self.desk.calendar.add_holiday(day, label)

    def agencies(self) -> None:
        d = self.desk
        for agency in d.agencies.list():
            self.w.agencies[agency.code] = agency.id
            d.agencies.record_emou(agency.id, date(2019, 6, 1) + timedelta(days=self.rng.randint(0, 400)))
            stewards = 2 if agency.code != "CCEH" else 1  # one agency short of stewards: the desk warns
            for _ in range(stewards):
                d.agencies.add_contact(agency.id, ContactKind.DATA_STEWARD, self.name(), title="Data steward",
                                       email=f"steward.{agency.code.lower()}{self.rng.randint(1, 99)}@example.ct.gov")
            d.agencies.add_contact(agency.id, ContactKind.LEGAL, self.name(), title="Agency counsel")
        # Candidates the manual mentions for expansion: one admitted during the demo, one still onboarding.
        dph = d.agencies.create("DPH", "Department of Public Health")
        d.agencies.create("DOH", "Department of Housing")
        self.w.agencies["DPH"] = dph

    def boards(self) -> None:
        d, seated = self.desk, self.start - timedelta(days=30)
        for code, agency_id in sorted(self.w.agencies.items()):
            if code in ("DPH", "DOH"):
                continue
            d.meetings.add_member(Board.EXECUTIVE, agency_id, self.name(), seated)
            self.w.dgb[agency_id] = d.meetings.add_member(Board.DGB, agency_id, self.name(), seated)
            d.agencies.add_contact(agency_id, ContactKind.EXECUTIVE_BOARD_MEMBER, f"Head of {code}")
        exec_members = [m.id for m in d.meetings.members(Board.EXECUTIVE)]
        # Monthly DGB meetings (second Thursday), noticed 8-12 days ahead; one or two members absent.
        month = date(self.start.year, self.start.month, 1)
        while month <= self.today:
            day = _nth_weekday(month.year, month.month, 3, 2)
            if self.start <= day <= self.today:
                meeting = d.meetings.schedule(Board.DGB, _at(day), notice_posted_on=day - timedelta(days=self.rng.randint(8, 12)),
                                              location="OPM, 450 Capitol Ave, Hartford (and online)")
                members = sorted(self.w.dgb.values())
                present = [m for m in members if self.rng.random() > 0.08]
                d.meetings.record_attendance(meeting.meeting_id, present)
                self.w.meetings.append((day, meeting.meeting_id, present))
            month = (month + timedelta(days=32)).replace(day=1)
        # Quarterly Executive Board: budget advice each spring; DPH admitted in the first year.
        for i, quarter_day in enumerate(self._quarters()):
            meeting = d.meetings.schedule(Board.EXECUTIVE, _at(quarter_day, 15), notice_posted_on=quarter_day - timedelta(days=14),
                                          location="OPM board room")
            d.meetings.record_attendance(meeting.meeting_id, exec_members)
            if i == 1:
                motion = d.meetings.add_motion(meeting.meeting_id, MotionKind.AGENCY_ADMISSION,
                                               "Admit the Department of Public Health as a participating agency",
                                               agency_id=self.w.agencies["DPH"])
                d.meetings.record_votes(motion, {m: VoteChoice.YES for m in exec_members})
                d.agencies.record_emou(self.w.agencies["DPH"], quarter_day + timedelta(days=21))
                d.agencies.set_status(self.w.agencies["DPH"], AgencyStatus.ACTIVE)
            if quarter_day.month in (3, 4, 5):
                motion = d.meetings.add_motion(meeting.meeting_id, MotionKind.BUDGET_ADVICE,
                                               f"Advise OPM on the FY{fiscal_year_of(quarter_day) + 1} budget request",
                                               formal=False)
                votes = {m: VoteChoice.YES for m in exec_members}
                votes[exec_members[0]] = VoteChoice.ABSTAIN
                d.meetings.record_votes(motion, votes)

    def _quarters(self) -> list[date]:
        out, day = [], date(self.start.year, 1, 1)
        while day <= self.today:
            for month in (1, 4, 7, 10):
                q = _nth_weekday(day.year, month, 1, 3)
                if self.start <= q <= self.today:
                    out.append(q)
            day = date(day.year + 1, 1, 1)
        return out

    def money(self) -> None:
        f = self.desk.finance
        first = f.create_fee_schedule("Standard fees 2023", self.start - timedelta(days=60),
                                      effective_to=self.start + timedelta(days=365 * max(1, self.years - 1)),
                                      notes="Adopted by the Executive Board on OPM's proposal.")
        second = f.create_fee_schedule("Standard fees (revised)", self.start + timedelta(days=365 * max(1, self.years - 1) + 1))
        for schedule, hourly in ((first, 5000), (second, 6000)):
            f.add_fee_rule(schedule, FeeRuleKind.FLAT, amount_cents=50000, description="Request set-up")
            f.add_fee_rule(schedule, FeeRuleKind.PER_ANALYST_HOUR, amount_cents=hourly, description="Hub analyst time")
            f.add_fee_rule(schedule, FeeRuleKind.PER_DATA_SET, amount_cents=25000, description="Per agency data set")
            f.add_fee_rule(schedule, FeeRuleKind.COHORT_BAND, amount_cents=0, min_cohort=0, max_cohort=10_000,
                           description="Cohort up to 10,000")
            f.add_fee_rule(schedule, FeeRuleKind.COHORT_BAND, amount_cents=100000, min_cohort=10_001,
                           max_cohort=100_000, description="Cohort 10,001-100,000")
            f.add_fee_rule(schedule, FeeRuleKind.COHORT_BAND, amount_cents=250000, min_cohort=100_001,
                           description="Cohort over 100,000")
            f.add_fee_rule(schedule, FeeRuleKind.EXEMPTION, percent_off=100, recipient_type=RecipientType.STATE_AGENCY,
                           description="No charge to state agencies")
        categories = (("Hub operations (DOL)", 18_500_000), ("OPM programme staff", 21_000_000),
                      ("Matching software and licences", 3_500_000), ("Secure file transfer", 900_000),
                      ("Legal and DSA drafting", 1_200_000))
        current = fiscal_year_of(self.today)
        for fy in range(current - 2, current + 1):
            budget = f.create_budget(fy, notes="Operating budget of the P20 WIN data-sharing system.")
            growth = 1 + 0.03 * (fy - current + 2)
            lines = [f.add_budget_line(budget, cat, int(amount * growth), "Annual cost") for cat, amount in categories]
            for code in ("SDE", "DOL", "OEC", "CSCU", "UCONN", "DSS"):
                c = f.set_contribution(budget, self.w.agencies[code], int(1_500_000 * growth))
                start, end = fiscal_year_bounds(fy)
                if end < self.today or self.rng.random() < 0.5:
                    f.receive_contribution(c, int(1_500_000 * growth), min(self.today, start + timedelta(days=90)))
            start, end = fiscal_year_bounds(fy)
            quarter = start
            while quarter <= min(end, self.today):
                for line, (_, amount) in zip(lines[:3], categories[:3], strict=True):
                    f.record_actual(budget, spent_on=quarter, description="Quarterly charge",
                                    amount_cents=int(amount * growth / 4 * self.rng.uniform(0.85, 1.05)), line_id=line)
                quarter += timedelta(days=91)
            submitted = start - timedelta(days=150)
            if submitted <= self.today:
                f.submit_budget(budget, submitted)
                if start <= self.today:
                    f.adopt_budget(budget, start - timedelta(days=5))

    def recipients(self) -> None:
        d = self.desk
        for name, rtype, agency_code in _RECIPIENTS:
            rep = self.name()
            rid = d.recipients.create(
                name, rtype, agency_id=self.w.agencies.get(agency_code) if agency_code else None,
                authorized_representative=rep, representative_email=f"{rep.split()[0].lower()}@example.org",
                address="Connecticut", security_capability="Encrypted workstation, access-controlled research server")
            self.w.recipients.append((rid, rtype, agency_code))
            self.w.users[rid] = [d.recipients.add_user(rid, self.name(), title="Research analyst")
                                 for _ in range(self.rng.randint(2, 4))]

    # ---- requests ----------------------------------------------------------------------------------------

    def requests(self) -> None:
        targets = list(self.targets)
        depth = {s: (MAIN_LINE.index(s) if s in MAIN_LINE else 4) for s in RequestState}
        targets.sort(key=lambda s: -depth[s])
        span = (self.today - self.start).days
        for i, target in enumerate(targets):
            # Deeper targets start earlier, so their whole history fits before today.
            latest_start = span - 20 - depth[target] * 24
            received = self.start + timedelta(days=max(0, min(latest_start, int(span * i / len(targets)))))
            with self.desk.batch():
                _RequestWalk(self, i, target, received).run()


class _RequestWalk:
    """Takes one request through the services from inquiry to its demo target state."""

    def __init__(self, b: _DemoBuilder, index: int, target: RequestState, received: date) -> None:
        self.b, self.d, self.hub, self.rng = b, b.desk, b.hub, b.rng
        self.target, self.day = target, received
        self.index = index
        rid, rtype, agency_code = b.w.recipients[index % len(b.w.recipients)]
        self.recipient, self.recipient_type, self.recipient_agency = rid, rtype, agency_code
        codes = sorted(c for c in _ELEMENTS if c != agency_code)
        picked = self.rng.sample(codes, self.rng.choice((2, 2, 3)))
        if agency_code and self.rng.random() < 0.5:
            picked.append(agency_code)  # a recipient that is itself a source agency
        self.codes = sorted(set(picked))
        self.agency_ids = [b.w.agencies[c] for c in self.codes]
        self.request_id = 0
        self.entries: list[int] = []
        self.dsa_id = 0

    def step(self, low: int = 2, high: int = 12) -> date:
        self.day = min(self.b.today, self.day + timedelta(days=self.rng.randint(low, high)))
        return self.day

    def move(self, state: RequestState, note: str = "", desk: Desk | None = None) -> None:
        (desk or self.d).requests.move(self.request_id, state, on=self.day, note=note)

    def say(self, subject: str, direction: Direction = Direction.OUTGOING, channel: Channel = Channel.EMAIL) -> None:
        self.d.communications.log(occurred_at=_at(self.day, self.rng.randint(9, 16)), direction=direction,
                                  channel=channel, subject=subject, request_id=self.request_id,
                                  recipient_id=self.recipient, counterpart="Authorized representative")

    def reached(self, state: RequestState) -> bool:
        """True when the walk should stop because the target is ``state``."""
        return self.target is state

    def run(self) -> None:
        d, topic = self.d, _TOPICS[self.index % len(_TOPICS)]
        title = topic if self.index < len(_TOPICS) else f"{topic} (follow-up study)"
        self.request_id = d.requests.create(title, self.agency_ids, recipient_id=self.recipient, received_on=self.day)
        self.say("Inquiry received", Direction.INCOMING)
        if self.reached(S.INQUIRY):
            return
        self.step()
        self.move(S.LOGGED)
        if self.reached(S.LOGGED):
            return
        if self.target is S.WITHDRAWN and self.index % 2 == 0:
            self.step()
            self.move(S.WITHDRAWN, "The requester's funding was not renewed.")
            return
        self.draft()
        if self.reached(S.DRAFTING):
            return
        if self.target is S.ON_HOLD and self.index % 2 == 0:
            self.step()
            self.move(S.ON_HOLD, "Waiting for the requester's revised analysis plan.")
            return
        self.step()
        self.move(S.BOARD_REVIEW)
        if self.reached(S.BOARD_REVIEW):
            return
        if self.target is S.WITHDRAWN:
            self.step()
            self.move(S.WITHDRAWN, "The requester chose to use public aggregate data instead.")
            return
        if not self.review():
            return
        if self.reached(S.APPROVED):
            return
        self.execute_dsa()
        if self.reached(S.DSA_EXECUTED):
            return
        if self.target is S.ON_HOLD:
            self.step()
            self.move(S.ON_HOLD, "An agency's extract is delayed by a system migration.")
            return
        self.extracts()
        if self.reached(S.EXTRACTS_PREPARED):
            return
        self.match()
        if self.reached(S.MATCHED):
            return
        self.destroy_inputs()
        if self.reached(S.INPUTS_DESTROYED):
            return
        self.release()
        if self.reached(S.RELEASED):
            return
        self.analysis()
        if self.reached(S.ANALYSIS):
            return
        if self.target is S.PUBLICATION_REVIEW or self.index % 3:
            self.step()
            self.move(S.PUBLICATION_REVIEW)
            if self.reached(S.PUBLICATION_REVIEW):
                return
        self.close()

    def draft(self) -> None:
        d = self.d
        self.step()
        d.requests.update(self.request_id, purpose=f"Evaluate {_TOPICS[self.index % len(_TOPICS)].lower()}.",
                          legal_basis="FERPA audit/evaluation exception (34 CFR 99.35); state statute",
                          learning_agenda_fit="P20 WIN learning agenda: pathways from education to employment",
                          fields_to_link="Name, date of birth, SASID, SSN where wages are linked",
                          analysis_plan="Descriptive statistics and regression; suppressed cells under 6.")
        self.move(S.DRAFTING)
        for code, agency_id in zip(self.codes, self.agency_ids, strict=True):
            for n, element in enumerate(_ELEMENTS.get(code, ("Programme participation", "Outcome"))[:2]):
                eid = d.requests.add_element(self.request_id, agency_id, element,
                                             f"Needed to measure {element.lower()} for the study cohort.")
                if n == 1 and self.rng.random() < 0.15:
                    d.requests.strike_element(eid, "Not needed for the stated purpose.")
        users = self.b.w.users[self.recipient]
        named = sorted(self.rng.sample(users, self.rng.randint(1, len(users))))
        d.requests.name_users(self.request_id, named)
        self.named = named
        self.say("Request form (Exhibit A) sent for completion")

    def review(self) -> bool:
        """Agency decisions and the DGB vote; returns False when the request ends denied."""
        d = self.d
        deny_by_agency = self.target is S.DENIED and self.index % 2 == 0
        for n, agency_id in enumerate(self.agency_ids):
            self.step(1, 8)
            refused = deny_by_agency and n == 0
            d.approvals.record(self.request_id, agency_id, data=Decision.DENIED if refused else Decision.APPROVED,
                               users=Decision.APPROVED, decided_on=self.day, decided_by=f"{self.codes[n]} data steward",
                               note="The requested records cannot be shared under the agency's statute." if refused else "")
        if deny_by_agency:
            self.step()
            self.move(S.DENIED, "An agency refused to share its data.")
            self.say("Denial letter sent")
            return False
        meeting = next(((day, mid, present) for day, mid, present in self.b.w.meetings if day >= self.day), None)
        if meeting is None:  # no DGB meeting left before today: stays under board review
            return False
        day, mid, present = meeting
        self.day = day
        motion = d.meetings.add_motion(mid, MotionKind.REQUEST_APPROVAL, "Approve the data request",
                                       request_id=self.request_id)
        votes = {m: VoteChoice.YES for m in present}
        if self.target is S.DENIED:
            votes[present[0]] = VoteChoice.NO
        d.meetings.record_votes(motion, votes)
        self.step(1, 3)
        if self.target is S.DENIED:
            self.move(S.DENIED, "The Data Governing Board did not approve the request.")
            self.say("Denial letter sent")
            return False
        self.move(S.APPROVED)
        self.say("Approval letter sent; DSA to follow")
        return True

    def execute_dsa(self) -> None:
        d = self.d
        self.step()
        effective = self.day + timedelta(days=14)
        self.dsa_id = d.agreements.draft(self.request_id, effective_on=effective,
                                         destroy_by=effective + timedelta(days=365 * self.rng.choice((2, 3))))
        number = d.requests.get(self.request_id).number
        doc = d.documents.attach(self.request_id, f"{number} request form (Exhibit A).txt",
                                 f"Approved request form for {number}\n".encode(), media_type="text/plain")
        d.agreements.add_exhibit(self.dsa_id, ExhibitKind.REQUEST_FORM, "Exhibit A: approved request form",
                                 document_id=doc)
        d.agreements.add_exhibit(self.dsa_id, ExhibitKind.DESTRUCTION_CERTIFICATE_FORM, "Exhibit C: destruction certificate")
        for party in d.agreements.get(self.dsa_id).parties:
            self.step(1, 6)
            d.agreements.sign(party.id, signatory=f"Authorised signatory, {party.label}", signed_on=self.day)
        for user in self.named:
            if user not in self.b.w.ndas:
                d.recipients.record_nda(user, self.day)
                self.b.w.ndas.add(user)
        self.move(S.DSA_EXECUTED)
        f = d.finance
        invoice = f.create_invoice(self.dsa_id, analyst_hours=self.rng.randint(10, 60), data_sets=len(self.codes),
                                   cohort_size=self.rng.choice((8_000, 36_000, 120_000)), on=self.day)
        f.issue_invoice(invoice, self.day, self.day + timedelta(days=30))
        info = next(i for i in f.invoices(dsa_id=self.dsa_id) if i.id == invoice)
        if info.total_cents > 0 and self.day + timedelta(days=25) <= self.b.today:
            paid_on = self.day + timedelta(days=self.rng.randint(10, 25))
            f.record_receipt(invoice, received_on=paid_on, amount_cents=info.total_cents, reference=f"EFT {invoice:05d}")
            f.distribute(self.dsa_id, self.b.w.agencies["DOL"], amount_cents=info.total_cents // 2,
                         distributed_on=paid_on + timedelta(days=7), instrument="Interagency MOA, hub matching costs")

    def extracts(self) -> None:
        for code, agency_id in zip(self.codes, self.agency_ids, strict=True):
            self.step(2, 10)
            fields = ("LastName", "FirstName", "DOB", "Gender", "SSN", "SyntheticID") if code == "DOL" else (
                "LastName", "MiddleName", "FirstName", "DOB", "Gender", "SASID", "SyntheticID")
            self.entries.append(self.hub.matchlog.log_files(
                self.request_id, sender_agency_id=agency_id, files_received_on=self.day,
                file_name=f"{code}_match_{self.request_id:04d}.txt", fields_included=list(fields),
                sender=f"{code} data steward", received_by="Hub analyst"))
        self.move(S.EXTRACTS_PREPARED, desk=self.hub)

    def match(self) -> None:
        self.step(3, 10)
        for entry in self.entries:
            self.hub.matchlog.record_match(entry, self.day)
        self.move(S.MATCHED, desk=self.hub)

    def destroy_inputs(self) -> None:
        self.step(1, 4)
        confirmed = _at(self.day, 10)
        for entry in self.entries:
            self.hub.matchlog.confirm_match(entry, confirmed)
        self.day = min(self.b.today, self.day + timedelta(days=1 if "CCIC" in self.codes else self.rng.randint(1, 6)))
        for entry in self.entries:
            self.hub.matchlog.record_inputs_destroyed(entry, self.day)
        self.hub.matchlog.certify_destruction(self.request_id, CertificateKind.HUB_INPUTS, destroyed_on=self.day,
                                              certified_by="Hub security officer", received_on=self.day)
        self.move(S.INPUTS_DESTROYED, desk=self.hub)

    def release(self) -> None:
        self.step(2, 10)
        self.d.requests.record_disclosure_review(self.request_id, self.day, "OPM disclosure reviewer")
        if self.recipient_agency in self.codes:
            self.d.matchlog.certify_destruction(self.request_id, CertificateKind.RECIPIENT_ID_LINK,
                                                destroyed_on=self.day, certified_by=f"{self.recipient_agency} steward",
                                                received_on=self.day)
        self.move(S.RELEASED)
        self.say("Linked, de-identified file released to the recipient", channel=Channel.SECURE_FILE_TRANSFER)

    def analysis(self) -> None:
        self.step(1, 5)
        for entry in self.entries:
            self.hub.matchlog.record_id_matrix_sent(entry, self.day, "Authorized representative")
        self.move(S.ANALYSIS)
        if self.rng.random() < 0.3:
            user = self.named[0]
            departed = self.step(5, 20)
            self.d.recipients.record_departure(user, departed, departed + timedelta(days=self.rng.choice((0, 1, 3))))

    def close(self) -> None:
        self.step(10, 40)
        self.d.matchlog.certify_destruction(self.request_id, CertificateKind.RECIPIENT_DATA, destroyed_on=self.day,
                                            certified_by="Authorized representative", received_on=self.day)
        self.move(S.CLOSED)
        self.say("Destruction certificate received; request closed", Direction.INCOMING)


# ---- benchmark stores ----------------------------------------------------------------------------------------

def build_benchmark(store, username: str, *, communications: int = 100_000, requests: int = 0,  # noqa: ANN001
                    seed: int = 20) -> None:
    """Bulk-load many rows for GUI benchmarks (fast: one transaction per table, seconds for 100k rows).

    Bypasses per-row services on purpose, but each load writes one audit event carrying the row count, the id
    range and a SHA-256 of the rows, so the audit chain still verifies. Admins only.
    """
    desk = Desk(store, username)
    if desk.actor.role not in ADMINS:
        raise PermissionDenied("Only an administrator can load benchmark data.")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    states, directions, channels = list(RequestState), list(Direction), list(Channel)
    # Core inserts (the table, not the ORM class): the ORM's per-row bookkeeping tripled the load time.
    with store.session() as s:
        agency_ids = list(s.scalars(select(RequestedAgency.agency_id).distinct())) or [1, 2]
        if requests:
            highest = s.scalar(select(func.count(DataRequest.id))) or 0
            first_id = (s.scalar(select(func.max(DataRequest.id))) or 0) + 1
            rows = [{"id": first_id + i, "number": f"B{highest + i + 1:07d}", "title": f"Benchmark request {i + 1}",
                     "state": rng.choice(states), "received_on": now.date() - timedelta(days=i % 3650),
                     "created_at": now, "updated_at": now} for i in range(requests)]
            s.execute(insert(DataRequest.__table__), rows)
            links = [{"request_id": r["id"], "agency_id": a} for r in rows for a in rng.sample(agency_ids, min(2, len(agency_ids)))]
            s.execute(insert(RequestedAgency.__table__), links)
            _audit_bulk(s, desk.actor.username, "data_requests", rows)
        if communications:
            request_ids = list(s.scalars(select(DataRequest.id))) or [None]
            rows = [{"occurred_at": now - timedelta(minutes=7 * i), "request_id": rng.choice(request_ids),
                     "direction": rng.choice(directions), "channel": rng.choice(channels),
                     "counterpart": f"Contact {i % 500}", "subject": f"Benchmark message {i + 1}", "summary": "",
                     "logged_by": desk.actor.username} for i in range(communications)]
            s.execute(insert(Communication.__table__), rows)
            _audit_bulk(s, desk.actor.username, "communications", rows)


def _audit_bulk(session, actor: str, table: str, rows: list[dict]) -> None:  # noqa: ANN001
    # repr of the value tuples is deterministic and ~4x cheaper than canonical JSON per row.
    digest = hashlib.sha256(repr([tuple(row.values()) for row in rows]).encode()).hexdigest()
    append_event(session, actor=actor, action="bulk_load", entity=table, entity_id=None,
                 after={"rows": len(rows), "sha256": digest})


__all__ = ["DemoSummary", "build_benchmark", "build_demo", "connecticut_holidays"]
