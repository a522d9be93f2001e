"""Hand-built report inputs for edge cases: hostile text, very long words, non-Latin names, empty periods."""
from __future__ import annotations

from datetime import UTC, date, datetime

from app.reports import data as rd

HOSTILE = "<b>Bold?</b> & =cmd() <font name=x>"
LONG_WORD = "W" + "x" * 298 + "Z"  # 300 characters, no break opportunity
NAMES = ("Zoë Ñúñez-Ørsted", "Дмитрий Жуков", "山田太郎", "김민준", "Αθηνά Παπαδοπούλου")
AS_OF = date(2026, 7, 15)


def outcomes(label: str, k: int) -> rd.Outcomes:
    return rd.Outcomes(label, received=k + 3, approved=k + 1, denied=k % 2, fulfilled=k)


def annual(fiscal_year: int = 2026, *, agencies: int = 15, title: str = HOSTILE) -> rd.AnnualReportData:
    by_agency = tuple(outcomes(f"A{k:02d}", k) for k in range(agencies))
    types = (outcomes("University", 2), outcomes("State agency", 4), outcomes(NAMES[2], 1))
    total = rd.Outcomes("All requests", *(sum(getattr(t, f) for t in types)
                                          for f in ("received", "approved", "denied", "fulfilled")))
    trend = tuple(rd.YearSummary(fy, 10 + k, 7 + k, 1, 5 + k, 8 + k, k, 100_000 * (k + 1),
                                 tuple((m + k) % 4 for m in range(12)))
                  for k, fy in enumerate((fiscal_year - 2, fiscal_year - 1)))
    trend += (rd.YearSummary(fiscal_year, total.received, total.approved, total.denied, total.fulfilled, 9, 2,
                             987_650, tuple(m % 3 for m in range(12))),)
    return rd.AnnualReportData(
        fiscal_year=fiscal_year, as_of=AS_OF, totals=total, by_agency=by_agency, by_recipient_type=types,
        inquiry_to_dsa=rd.Durations(7, 61.5, 133.0), dsa_to_delivery=rd.Durations(5, 40.0, 77.4), active_dsas=13,
        compliance=(rd.Compliance("Hub input files (match log)", 11, 2, 1),
                    rd.Compliance("Recipient data (destroy-by date)", 4, 0, 0)),
        matches_run=9, files_matched=21,
        publications=(rd.Publication("Q0007", title, date(2026, 3, 4)),
                      rd.Publication("Q0009", LONG_WORD, date(2026, 5, 1))),
        budget=(rd.BudgetItem("Hub operations", 25_000_000, 23_112_350),
                rd.BudgetItem(title, 5_000_000, 1_250_075)),
        unbudgeted_actual_cents=123_450, fees_invoiced_cents=1_500_000, fees_collected_cents=987_650,
        distributions=(rd.Amount("DOL", 900_000), rd.Amount("SDE", 150_025)),
        data_users=rd.PeopleTable("Data users by quarter", ("University", "State agency", "Nonprofit"),
                                  ("Q1", "Q2", "Q3", "Q4"), ((3, 10, 12, 7), (8, 20, 9, 11), (1, 0, 0, 2))),
        trend=trend)


def empty_annual(fiscal_year: int = 2011) -> rd.AnnualReportData:
    zero = rd.Durations(0, None, None)
    return rd.AnnualReportData(
        fiscal_year, AS_OF, rd.Outcomes("All requests"), (), (), zero, zero, 0,
        (rd.Compliance("Hub input files (match log)"),), 0, 0, (), (), 0, 0, 0, (),
        rd.PeopleTable("Data users", (), ("Q1", "Q2", "Q3", "Q4"), ()),
        tuple(rd.YearSummary(fy, 0, 0, 0, 0, 0, 0, 0, (0,) * 12) for fy in (fiscal_year - 2, fiscal_year - 1, fiscal_year)))


def request_status(n: int = 3) -> rd.RequestStatusData:
    reqs = tuple(rd.RequestStatus(
        number=f"Q{k + 1:04d}", title=HOSTILE if k == 0 else LONG_WORD if k == 1 else f"Outcomes study {k}",
        recipient=NAMES[k % len(NAMES)], state="Board review", submission_type="initial",
        received_on=date(2026, 1, k + 1), days_in_state=10 + k,
        agencies=(rd.AgencyDecision("SDE", "approved", "approved", date(2026, 2, 1)),
                  rd.AgencyDecision("DOL", "pending", "pending", None)),
        ndas_needed=4, ndas_received=k, dsa_number="",
        next_steps=("Approved: DOL has not approved its data",),
        history=(rd.StateStep(date(2026, 1, k + 1), "Logged", "coord", HOSTILE),)) for k in range(n))
    return rd.RequestStatusData(AS_OF, "all open requests", reqs)


def dsa_register(n: int = 60) -> rd.DsaRegisterData:
    return rd.DsaRegisterData(AS_OF, tuple(rd.DsaEntry(
        f"DSA-Q{k:04d}", f"Q{k:04d}", LONG_WORD if k == 3 else f"Study {k} {HOSTILE}", NAMES[k % len(NAMES)],
        date(2020 + k % 6, 1 + k % 12, 1), date(2020 + k % 6, 1 + k % 12, 2), date(2027, 6, 30), 3, 4, k % 3,
        "active") for k in range(n)))


def meeting(members: int = 9, present: int = 7) -> rd.MeetingData:
    mem = tuple((NAMES[k % len(NAMES)] + f" {k}", f"AG{k}", k < present) for k in range(members))
    votes = tuple(rd.VoteLine(n, a, "yes" if here else "absent") for n, a, here in mem)
    return rd.MeetingData(
        board="Data Governing Board", starts_at=datetime(2026, 3, 4, 14, 0, tzinfo=UTC), location=HOSTILE,
        notice_posted_on=date(2026, 2, 20), notice_warning=None, cancelled=False, members=mem,
        quorum_required=6, quorum_met=present >= 6,
        motions=(rd.MotionRecord(1, "request approval", f"Approve {HOSTILE}", "Q0001", True, True,
                                 f"passed {present}–0 with {present} present", present, 0, 0, votes),),
        minutes=f"Minutes line one.\n{LONG_WORD}", as_of=AS_OF)


def invoice() -> rd.InvoiceData:
    items = (rd.InvoiceItem("Analyst hours", 12, 5_000, 60_000), rd.InvoiceItem(HOSTILE, 2, 25_025, 50_050),
             rd.InvoiceItem(LONG_WORD, 1, 1_234_500, 1_234_500))
    total = sum(i.amount_cents for i in items)
    return rd.InvoiceData("INV-2026-0007", "issued", date(2026, 3, 4), date(2026, 4, 3), NAMES[1],
                          "1 Main St\nHartford, CT 06103", NAMES[2], "DSA-Q0001", "Q0001", HOSTILE, items, total,
                          100_000, ((date(2026, 3, 20), 100_000, "CHK-1"),), AS_OF)


def distribution_letter(items: int = 3) -> rd.DistributionLetterData:
    return rd.DistributionLetterData(
        "Department of Labor", "DOL", NAMES[0], date(2025, 7, 1), date(2026, 6, 30),
        tuple(rd.DistributionItem(date(2025, 8 + k, 1), f"DSA-Q000{k}", f"Q000{k}", HOSTILE, "MOA-1", 123_456 * (k + 1))
              for k in range(items)), "Pat Coordinator", AS_OF)


def destruction_certificate() -> rd.DestructionCertificateData:
    return rd.DestructionCertificateData(
        "Q0001", HOSTILE, "DSA-Q0001", NAMES[3], NAMES[4], date(2027, 6, 30), ("SDE: Education", "DOL: Labor"),
        ("sde_q0001_matching.txt", LONG_WORD), (rd.CertificateOnFile("Hub input files", date(2026, 2, 1), NAMES[2],
                                                                    date(2026, 2, 2)),), AS_OF)


def audit(events: int = 250) -> rd.AuditReportData:
    lines = tuple(rd.AuditLine(k + 1, datetime(2026, 1, 1 + k % 28, 9, k % 60, tzinfo=UTC), NAMES[k % 5],
                               "update", "data_requests", k, "title, " + ("state" if k % 2 else HOSTILE))
                  for k in range(events))
    by_actor: dict[str, int] = {}
    for e in lines:
        by_actor[e.actor] = by_actor.get(e.actor, 0) + 1
    return rd.AuditReportData(date(2026, 1, 1), date(2026, 3, 31), True, events, "the audit chain is intact", lines,
                              tuple(sorted(by_actor.items())), AS_OF)
