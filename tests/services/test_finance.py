"""Fee rules are data; invoices, receipts and distributions follow the money rules."""
from __future__ import annotations

from datetime import date

import pytest

from app.models import FeeRuleKind, InvoiceStatus, RecipientType, RequestState
from app.services import RuleViolation, ValidationFailed
from app.services.finance import FeeRuleInfo, compute_fee, fiscal_year_bounds, fiscal_year_of, format_cents

K = FeeRuleKind


def rule(i, kind, amount=0, lo=None, hi=None, pct=None, rtype=None):  # noqa: ANN001,ANN201
    return FeeRuleInfo(i, 1, i, kind, f"rule {i}", amount, lo, hi, pct, rtype)


SCHEDULE = [
    rule(1, K.FLAT, 50_000),
    rule(2, K.PER_ANALYST_HOUR, 5_000),
    rule(3, K.PER_DATA_SET, 25_000),
    rule(4, K.COHORT_BAND, 0, 0, 10_000),
    rule(5, K.COHORT_BAND, 100_000, 10_001, 100_000),
    rule(6, K.COHORT_BAND, 250_000, 100_001, None),
    rule(7, K.EXEMPTION, pct=100, rtype=RecipientType.STATE_AGENCY),
]


@pytest.mark.parametrize(("hours", "sets", "cohort", "expected"), [
    (0, 0, 0, 50_000),
    (10, 2, 5_000, 50_000 + 50_000 + 50_000),
    (10, 2, 36_000, 50_000 + 50_000 + 50_000 + 100_000),
    (3, 3, 100_001, 50_000 + 15_000 + 75_000 + 250_000),
])
def test_schedule_rules_price_a_university(hours, sets, cohort, expected):
    quote = compute_fee(SCHEDULE, recipient_type=RecipientType.UNIVERSITY, analyst_hours=hours, data_sets=sets,
                        cohort_size=cohort)
    assert quote.total_cents == expected == sum(line.amount_cents for line in quote.lines)


def test_state_agencies_are_exempt_and_partial_exemptions_round_half_up():
    exempt = compute_fee(SCHEDULE, recipient_type=RecipientType.STATE_AGENCY, analyst_hours=7, data_sets=2)
    assert exempt.total_cents == 0 and exempt.lines[-1].amount_cents == -(50_000 + 35_000 + 50_000)
    partial = [rule(1, K.FLAT, 333), rule(2, K.EXEMPTION, pct=50)]
    assert compute_fee(partial, recipient_type=RecipientType.NONPROFIT).total_cents == 333 - 167


def test_fiscal_years_run_july_to_june_named_by_their_end():
    assert fiscal_year_of(date(2025, 6, 30)) == 2025
    assert fiscal_year_of(date(2025, 7, 1)) == 2026
    assert fiscal_year_bounds(2026) == (date(2025, 7, 1), date(2026, 6, 30))
    assert format_cents(-123456) == "-$1,234.56"


def test_rules_are_validated_and_bands_may_not_overlap(world):
    f = world.desk.finance
    schedule = f.fee_schedules()[0].id
    with pytest.raises(ValidationFailed) as err:
        f.add_fee_rule(schedule, K.EXEMPTION, percent_off=150)
    assert "percent_off" in err.value.fields
    with pytest.raises(ValidationFailed):
        f.add_fee_rule(schedule, K.COHORT_BAND, amount_cents=1, min_cohort=10, max_cohort=5)
    f.add_fee_rule(schedule, K.COHORT_BAND, amount_cents=1, min_cohort=0, max_cohort=999)
    with pytest.raises(RuleViolation, match="overlaps"):
        f.add_fee_rule(schedule, K.COHORT_BAND, amount_cents=2, min_cohort=500, max_cohort=2000)
    band = f.add_fee_rule(schedule, K.COHORT_BAND, amount_cents=2, min_cohort=1000)
    with pytest.raises(RuleViolation, match="overlap"):
        f.update_fee_rule(band, min_cohort=10)
    f.update_fee_rule(band, amount_cents=7)
    assert [r.amount_cents for r in f.fee_schedules()[0].rules] == [1, 7]


def _executed(world):  # noqa: ANN001,ANN202
    f = world.desk.finance
    schedule = f.fee_schedules()[0].id
    f.add_fee_rule(schedule, K.FLAT, amount_cents=50_000, description="Set-up")
    f.add_fee_rule(schedule, K.PER_ANALYST_HOUR, amount_cents=5_000, description="Analyst hour")
    f.add_fee_rule(schedule, K.COHORT_BAND, amount_cents=100_000, min_cohort=10_001, description="Large cohort")
    rid = world.new_request()
    world.to(rid, RequestState.DSA_EXECUTED)
    return f, world.desk.agreements.for_request(rid).id


def test_invoice_adjusts_to_the_linked_cohort_then_receipts_and_distribution(world):
    f, dsa = _executed(world)
    invoice = f.create_invoice(dsa, analyst_hours=10, data_sets=2, cohort_size=36_000, on=date(2025, 3, 10))
    info = f.invoices(dsa_id=dsa)[0]
    assert info.number == "INV-2025-0001" and info.total_cents == 50_000 + 50_000 + 100_000
    assert f.adjust_invoice(invoice, cohort_size=8_000) == 100_000  # the linked cohort was smaller
    f.issue_invoice(invoice, date(2025, 3, 11), date(2025, 4, 10))
    with pytest.raises(RuleViolation, match="more than the \\$1,000.00 outstanding"):
        f.record_receipt(invoice, received_on=date(2025, 3, 20), amount_cents=100_001)
    f.record_receipt(invoice, received_on=date(2025, 3, 20), amount_cents=40_000)
    with pytest.raises(RuleViolation, match="Only \\$400.00"):
        f.distribute(dsa, world.ag["DOL"], amount_cents=40_001, distributed_on=date(2025, 3, 25), instrument="MOA")
    f.distribute(dsa, world.ag["DOL"], amount_cents=40_000, distributed_on=date(2025, 3, 25), instrument="MOA")
    f.record_receipt(invoice, received_on=date(2025, 3, 28), amount_cents=60_000)
    assert f.invoices()[0].status is InvoiceStatus.PAID and f.invoices()[0].outstanding_cents == 0
    with pytest.raises(RuleViolation, match="no longer change"):
        f.adjust_invoice(invoice, cohort_size=50_000)
    with pytest.raises(RuleViolation, match="has receipts"):
        f.void_invoice(invoice)


def test_no_invoice_before_approval_and_no_distribution_before_execution(world):
    f = world.desk.finance
    rid = world.new_request()
    world.to(rid, RequestState.APPROVED)
    dsa = world.desk.agreements.draft(rid)
    with pytest.raises(RuleViolation, match="not executed"):
        f.distribute(dsa, world.ag["DOL"], amount_cents=1, distributed_on=date(2025, 3, 3), instrument="MOA")
    assert f.create_invoice(dsa, analyst_hours=1, data_sets=1, cohort_size=1, on=date(2025, 3, 3)) > 0
    under_review = world.new_request()
    world.to(under_review, RequestState.BOARD_REVIEW)
    early = world.desk.agreements.draft(under_review)
    with pytest.raises(RuleViolation, match="once the request has been approved"):
        f.create_invoice(early, analyst_hours=1, data_sets=1, cohort_size=1, on=date(2025, 3, 3))


def test_budget_summary_sets_spending_against_lines(world):
    f = world.desk.finance
    budget = f.create_budget(2026)
    line = f.add_budget_line(budget, "Hub operations", 1_000_000)
    contribution = f.set_contribution(budget, world.ag["SDE"], 300_000)
    f.receive_contribution(contribution, 200_000, date(2025, 8, 1))
    f.record_actual(budget, spent_on=date(2025, 9, 1), description="Q1", amount_cents=250_000, line_id=line)
    with pytest.raises(ValidationFailed, match="outside FY2026"):
        f.record_actual(budget, spent_on=date(2026, 7, 1), description="Next year", amount_cents=1)
    f.submit_budget(budget, date(2025, 2, 1))
    with pytest.raises(RuleViolation, match="no longer change"):
        f.add_budget_line(budget, "More", 1)
    f.adopt_budget(budget, date(2025, 6, 20))
    summary = f.budget_summary(2026)
    assert (summary.budgeted_cents, summary.spent_cents, summary.pledged_cents, summary.contributed_cents) == (
        1_000_000, 250_000, 300_000, 200_000)
    assert summary.lines[0].spent_cents == 250_000 and summary.status.value == "adopted"
