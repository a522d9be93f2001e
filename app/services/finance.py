"""``desk.finance``: budgets (CT fiscal year, July–June), fee schedules as rules, invoices, receipts and
fund distributions under executed DSAs. All money is integer cents."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.models import (
    Actual,
    Agency,
    AgencyContribution,
    Budget,
    BudgetLine,
    BudgetStatus,
    DataRecipient,
    DataRequest,
    DataSharingAgreement,
    FeeRule,
    FeeRuleKind,
    FeeSchedule,
    FundDistribution,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Receipt,
    RecipientType,
    RequestState,
)

from .audit_chain import record_of
from .base import Checks, Kind, Service, UnitOfWork, refuse_unknown_fields, view_of
from .errors import NotFound, RuleViolation, ValidationFailed


def fiscal_year_of(day: date) -> int:
    """Connecticut's fiscal year containing ``day``, named by the year it ends (1 July 2025 → FY2026)."""
    return day.year + 1 if day.month >= 7 else day.year


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a fiscal year (FY2026 → 2025-07-01, 2026-06-30)."""
    return date(fiscal_year - 1, 7, 1), date(fiscal_year, 6, 30)


def format_cents(cents: int) -> str:
    """'$1,234.50' (negative amounts as '-$12.00')."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


# ---- fee rules ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeeRuleInfo:
    id: int
    schedule_id: int
    position: int
    kind: FeeRuleKind
    description: str
    amount_cents: int
    min_cohort: int | None
    max_cohort: int | None
    percent_off: int | None
    recipient_type: RecipientType | None


@dataclass(frozen=True, slots=True)
class FeeLine:
    rule_id: int | None
    description: str
    quantity: int
    unit_cents: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class FeeQuote:
    lines: tuple[FeeLine, ...]
    total_cents: int


def compute_fee(rules: Sequence[FeeRuleInfo], *, recipient_type: RecipientType, analyst_hours: int = 0,
                data_sets: int = 0, cohort_size: int = 0) -> FeeQuote:
    """Apply a schedule's rules, in order, to one request's quantities.

    Rules restricted to another recipient type are skipped. FLAT adds its amount; PER_ANALYST_HOUR and
    PER_DATA_SET multiply by hours / data sets; COHORT_BAND adds its amount when the cohort size lies in
    [min, max] (open ends allowed). Then the largest applicable EXEMPTION takes its percentage off the subtotal
    (rounded half up). The total is never negative.
    """
    lines: list[FeeLine] = []
    best_exemption: FeeRuleInfo | None = None
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule.recipient_type is not None and rule.recipient_type is not recipient_type:
            continue
        label = rule.description or rule.kind.value.replace("_", " ")
        if rule.kind is FeeRuleKind.FLAT:
            lines.append(FeeLine(rule.id, label, 1, rule.amount_cents, rule.amount_cents))
        elif rule.kind is FeeRuleKind.PER_ANALYST_HOUR and analyst_hours > 0:
            lines.append(FeeLine(rule.id, label, analyst_hours, rule.amount_cents, analyst_hours * rule.amount_cents))
        elif rule.kind is FeeRuleKind.PER_DATA_SET and data_sets > 0:
            lines.append(FeeLine(rule.id, label, data_sets, rule.amount_cents, data_sets * rule.amount_cents))
        elif rule.kind is FeeRuleKind.COHORT_BAND and _in_band(rule, cohort_size):
            lines.append(FeeLine(rule.id, label, 1, rule.amount_cents, rule.amount_cents))
        elif rule.kind is FeeRuleKind.EXEMPTION and (best_exemption is None
                                                      or (rule.percent_off or 0) > (best_exemption.percent_off or 0)):
            best_exemption = rule
    subtotal = sum(line.amount_cents for line in lines)
    if best_exemption is not None and subtotal > 0:
        off = (subtotal * (best_exemption.percent_off or 0) + 50) // 100
        label = best_exemption.description or f"exemption ({best_exemption.percent_off}% off)"
        lines.append(FeeLine(best_exemption.id, label, 1, -off, -off))
    return FeeQuote(tuple(lines), max(0, sum(line.amount_cents for line in lines)))


def _in_band(rule: FeeRuleInfo, cohort: int) -> bool:
    return (rule.min_cohort is None or cohort >= rule.min_cohort) and (rule.max_cohort is None or cohort <= rule.max_cohort)


def _check_rule(kind: FeeRuleKind, amount_cents: int, min_cohort: int | None, max_cohort: int | None,
                percent_off: int | None) -> None:
    checks = Checks()
    checks.that(amount_cents >= 0, "amount_cents", "cannot be negative")
    if kind is FeeRuleKind.EXEMPTION:
        checks.that(percent_off is not None and 1 <= percent_off <= 100, "percent_off", "give 1–100 (100 = no charge)")
    else:
        checks.that(percent_off is None, "percent_off", "applies only to exemptions")
    if kind is FeeRuleKind.COHORT_BAND:
        checks.that(min_cohort is not None or max_cohort is not None, "min_cohort", "a band needs a lower or upper size")
        checks.that(min_cohort is None or min_cohort >= 0, "min_cohort", "cannot be negative")
        checks.that(min_cohort is None or max_cohort is None or min_cohort <= max_cohort, "max_cohort",
                    "is below the band's lower size")
    else:
        checks.that(min_cohort is None and max_cohort is None, "min_cohort", "applies only to cohort bands")
    checks.done()


def _overlaps(a: FeeRuleInfo, b: FeeRuleInfo) -> bool:
    lo_a, hi_a = a.min_cohort or 0, a.max_cohort if a.max_cohort is not None else 10**12
    lo_b, hi_b = b.min_cohort or 0, b.max_cohort if b.max_cohort is not None else 10**12
    return a.recipient_type == b.recipient_type and lo_a <= hi_b and lo_b <= hi_a


# ---- read models ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeeScheduleInfo:
    id: int
    name: str
    effective_from: date
    effective_to: date | None
    notes: str
    rules: tuple[FeeRuleInfo, ...]


@dataclass(frozen=True, slots=True)
class BudgetLineInfo:
    id: int
    category: str
    description: str
    amount_cents: int
    spent_cents: int


@dataclass(frozen=True, slots=True)
class ContributionInfo:
    id: int
    agency_id: int
    agency_code: str
    pledged_cents: int
    received_cents: int
    received_on: date | None


@dataclass(frozen=True, slots=True)
class BudgetSummary:
    id: int
    fiscal_year: int
    status: BudgetStatus
    submitted_on: date | None
    adopted_on: date | None
    lines: tuple[BudgetLineInfo, ...]
    contributions: tuple[ContributionInfo, ...]
    budgeted_cents: int
    spent_cents: int
    pledged_cents: int
    contributed_cents: int
    fee_receipts_cents: int  # fees received during the fiscal year
    distributed_cents: int  # funds distributed during the fiscal year


@dataclass(frozen=True, slots=True)
class InvoiceInfo:
    id: int
    number: str
    dsa_id: int
    dsa_number: str
    request_number: str | None
    recipient: str
    status: InvoiceStatus
    issued_on: date | None
    due_on: date | None
    analyst_hours: int
    data_sets: int
    cohort_size: int
    total_cents: int
    paid_cents: int
    lines: tuple[FeeLine, ...]

    @property
    def outstanding_cents(self) -> int:
        return 0 if self.status is InvoiceStatus.VOID else self.total_cents - self.paid_cents


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    id: int
    invoice_id: int
    received_on: date
    amount_cents: int
    reference: str


@dataclass(frozen=True, slots=True)
class DistributionInfo:
    id: int
    dsa_id: int
    agency_id: int
    distributed_on: date
    amount_cents: int
    instrument: str


class FinanceService(Service):
    """Budgets, fee schedules, invoices, receipts and distributions (coordinators and admins edit)."""

    # ---- budgets -----------------------------------------------------------------------------------------

    def create_budget(self, fiscal_year: int, notes: str = "") -> int:
        if not 2000 <= fiscal_year <= 2200:
            raise ValidationFailed({"fiscal_year": "is not a plausible fiscal year"})
        with self._write("edit budgets", [Kind.FINANCE]) as uow:
            if uow.session.scalar(select(Budget.id).where(Budget.fiscal_year == fiscal_year)):
                raise ValidationFailed({"fiscal_year": f"FY{fiscal_year} already has a budget"})
            budget = Budget(fiscal_year=fiscal_year, notes=notes.strip())
            uow.created(budget)
            return budget.id

    def add_budget_line(self, budget_id: int, category: str, amount_cents: int, description: str = "") -> int:
        checks = Checks()
        category = checks.text("category", category, max_len=100)
        checks.that(amount_cents >= 0, "amount_cents", "cannot be negative")
        checks.done()
        with self._write("edit budgets", [Kind.FINANCE]) as uow:
            budget = self._draft_budget(uow, budget_id)
            line = BudgetLine(budget_id=budget.id, category=category, description=description.strip(),
                              amount_cents=amount_cents)
            uow.created(line)
            return line.id

    def set_contribution(self, budget_id: int, agency_id: int, pledged_cents: int) -> int:
        if pledged_cents < 0:
            raise ValidationFailed({"pledged_cents": "cannot be negative"})
        with self._write("edit budgets", [Kind.FINANCE]) as uow:
            budget = uow.get(Budget, budget_id, "budget")
            uow.get(Agency, agency_id, "agency")
            existing = uow.session.scalar(select(AgencyContribution).where(
                AgencyContribution.budget_id == budget.id, AgencyContribution.agency_id == agency_id))
            if existing is not None:
                before = record_of(existing)
                existing.pledged_cents = pledged_cents
                uow.updated(existing, before)
                return existing.id
            contribution = AgencyContribution(budget_id=budget.id, agency_id=agency_id, pledged_cents=pledged_cents)
            uow.created(contribution)
            return contribution.id

    def receive_contribution(self, contribution_id: int, amount_cents: int, received_on: date) -> None:
        """Add money received from an agency towards its pledge."""
        if amount_cents <= 0:
            raise ValidationFailed({"amount_cents": "must be positive"})
        with self._write("record contributions", [Kind.FINANCE]) as uow:
            c = uow.get(AgencyContribution, contribution_id, "contribution")
            before = record_of(c)
            c.received_cents += amount_cents
            c.received_on = received_on
            uow.updated(c, before, action="receive")

    def record_actual(self, budget_id: int, *, spent_on: date, description: str, amount_cents: int,
                      line_id: int | None = None) -> int:
        checks = Checks()
        description = checks.text("description", description, max_len=2000)
        checks.that(amount_cents > 0, "amount_cents", "must be positive")
        checks.done()
        with self._write("record spending", [Kind.FINANCE]) as uow:
            budget = uow.get(Budget, budget_id, "budget")
            start, end = fiscal_year_bounds(budget.fiscal_year)
            if not start <= spent_on <= end:
                raise ValidationFailed({"spent_on": f"is outside FY{budget.fiscal_year} ({start} – {end})"})
            if line_id is not None and uow.get(BudgetLine, line_id, "budget line").budget_id != budget.id:
                raise ValidationFailed({"line_id": "belongs to another budget"})
            actual = Actual(budget_id=budget.id, line_id=line_id, spent_on=spent_on, description=description,
                            amount_cents=amount_cents)
            uow.created(actual)
            return actual.id

    def submit_budget(self, budget_id: int, submitted_on: date) -> None:
        with self._write("submit budgets", [Kind.FINANCE]) as uow:
            budget = self._draft_budget(uow, budget_id)
            if not budget.lines:
                raise RuleViolation("A budget without lines cannot be submitted.")
            before = record_of(budget)
            budget.status, budget.submitted_on = BudgetStatus.SUBMITTED, submitted_on
            uow.updated(budget, before, action="submit")

    def adopt_budget(self, budget_id: int, adopted_on: date) -> None:
        with self._write("adopt budgets", [Kind.FINANCE]) as uow:
            budget = uow.get(Budget, budget_id, "budget")
            if budget.status is not BudgetStatus.SUBMITTED:
                raise RuleViolation("Only a submitted budget can be adopted.")
            if budget.submitted_on and adopted_on < budget.submitted_on:
                raise ValidationFailed({"adopted_on": "is before the budget was submitted"})
            before = record_of(budget)
            budget.status, budget.adopted_on = BudgetStatus.ADOPTED, adopted_on
            uow.updated(budget, before, action="adopt")

    def budgets(self) -> list[tuple[int, int, BudgetStatus]]:
        """(id, fiscal year, status) of every budget, latest year first."""
        with self._read() as s:
            return [tuple(r) for r in s.execute(
                select(Budget.id, Budget.fiscal_year, Budget.status).order_by(Budget.fiscal_year.desc()))]

    def budget_summary(self, fiscal_year: int) -> BudgetSummary:
        """Budget against actuals, contributions, fee receipts and distributions for one fiscal year."""
        start, end = fiscal_year_bounds(fiscal_year)
        with self._read() as s:
            budget = s.scalar(select(Budget).where(Budget.fiscal_year == fiscal_year))
            if budget is None:
                raise NotFound(f"There is no budget for FY{fiscal_year}.")
            spent_by_line = dict(s.execute(select(Actual.line_id, func.sum(Actual.amount_cents))
                                           .where(Actual.budget_id == budget.id).group_by(Actual.line_id)).all())
            lines = tuple(BudgetLineInfo(line.id, line.category, line.description, line.amount_cents,
                                         spent_by_line.get(line.id, 0)) for line in budget.lines)
            codes = dict(s.execute(select(Agency.id, Agency.code)).all())
            contributions = tuple(sorted((ContributionInfo(c.id, c.agency_id, codes[c.agency_id], c.pledged_cents,
                                                           c.received_cents, c.received_on)
                                          for c in budget.contributions), key=lambda c: c.agency_code))
            fees = s.scalar(select(func.coalesce(func.sum(Receipt.amount_cents), 0))
                            .where(Receipt.received_on.between(start, end)))
            distributed = s.scalar(select(func.coalesce(func.sum(FundDistribution.amount_cents), 0))
                                   .where(FundDistribution.distributed_on.between(start, end)))
            return BudgetSummary(
                budget.id, budget.fiscal_year, budget.status, budget.submitted_on, budget.adopted_on, lines,
                contributions, sum(line.amount_cents for line in lines), sum(spent_by_line.values()),
                sum(c.pledged_cents for c in contributions), sum(c.received_cents for c in contributions),
                fees, distributed)

    # ---- fee schedules -------------------------------------------------------------------------------------

    def create_fee_schedule(self, name: str, effective_from: date, *, effective_to: date | None = None,
                            notes: str = "") -> int:
        checks = Checks()
        name = checks.text("name", name)
        checks.that(effective_to is None or effective_to >= effective_from, "effective_to", "is before effective_from")
        checks.done()
        with self._write("edit fee schedules", [Kind.FINANCE]) as uow:
            if uow.session.scalar(select(FeeSchedule.id).where(FeeSchedule.name == name)):
                raise ValidationFailed({"name": "another fee schedule has this name"})
            schedule = FeeSchedule(name=name, effective_from=effective_from, effective_to=effective_to,
                                   notes=notes.strip())
            uow.created(schedule)
            return schedule.id

    def add_fee_rule(self, schedule_id: int, kind: FeeRuleKind, *, amount_cents: int = 0, description: str = "",
                     min_cohort: int | None = None, max_cohort: int | None = None, percent_off: int | None = None,
                     recipient_type: RecipientType | None = None, position: int | None = None) -> int:
        """Add a rule to a schedule (see :func:`compute_fee` for what each kind does). Overlapping cohort bands
        for the same recipient type are refused."""
        kind = FeeRuleKind(kind)
        _check_rule(kind, amount_cents, min_cohort, max_cohort, percent_off)
        with self._write("edit fee schedules", [Kind.FINANCE]) as uow:
            schedule = uow.get(FeeSchedule, schedule_id, "fee schedule")
            rule = FeeRule(schedule_id=schedule.id, kind=kind, amount_cents=amount_cents,
                           description=description.strip(), min_cohort=min_cohort, max_cohort=max_cohort,
                           percent_off=percent_off, recipient_type=recipient_type,
                           position=position if position is not None else len(schedule.rules))
            if kind is FeeRuleKind.COHORT_BAND:
                new = _rule_info(rule)
                for other in schedule.rules:
                    if other.kind is FeeRuleKind.COHORT_BAND and _overlaps(new, _rule_info(other)):
                        raise RuleViolation(f"This cohort band overlaps the band '{other.description or other.id}'.")
            uow.created(rule)
            return rule.id

    def update_fee_rule(self, rule_id: int, **changes: object) -> None:
        """Change a rule's amount, description, band, percentage, recipient type or position."""
        refuse_unknown_fields(changes, {"amount_cents", "description", "min_cohort", "max_cohort", "percent_off",
                                        "recipient_type", "position"})
        with self._write("edit fee schedules", [Kind.FINANCE]) as uow:
            rule = uow.get(FeeRule, rule_id, "fee rule")
            before = record_of(rule)
            for name, value in changes.items():
                setattr(rule, name, value)
            _check_rule(rule.kind, rule.amount_cents, rule.min_cohort, rule.max_cohort, rule.percent_off)
            if rule.kind is FeeRuleKind.COHORT_BAND:
                siblings = uow.session.scalars(select(FeeRule).where(
                    FeeRule.schedule_id == rule.schedule_id, FeeRule.kind == FeeRuleKind.COHORT_BAND,
                    FeeRule.id != rule.id))
                if any(_overlaps(_rule_info(rule), _rule_info(o)) for o in siblings):
                    raise RuleViolation("The changed cohort band would overlap another band.")
            uow.updated(rule, before)

    def remove_fee_rule(self, rule_id: int) -> None:
        with self._write("edit fee schedules", [Kind.FINANCE]) as uow:
            uow.deleted(uow.get(FeeRule, rule_id, "fee rule"))

    def fee_schedules(self) -> list[FeeScheduleInfo]:
        with self._read() as s:
            return [FeeScheduleInfo(f.id, f.name, f.effective_from, f.effective_to, f.notes,
                                    tuple(_rule_info(r) for r in f.rules))
                    for f in s.scalars(select(FeeSchedule).order_by(FeeSchedule.effective_from.desc()))]

    def schedule_in_force(self, on: date) -> FeeScheduleInfo:
        """The schedule in force on a day (the latest to start, among those covering it)."""
        for schedule in self.fee_schedules():
            if schedule.effective_from <= on and (schedule.effective_to is None or on <= schedule.effective_to):
                return schedule
        raise NotFound(f"No fee schedule is in force on {on.isoformat()}; add one under Finance.")

    def quote(self, schedule_id: int, *, recipient_type: RecipientType, analyst_hours: int = 0, data_sets: int = 0,
              cohort_size: int = 0) -> FeeQuote:
        _check_quantities(analyst_hours, data_sets, cohort_size)
        schedule = next((f for f in self.fee_schedules() if f.id == schedule_id), None)
        if schedule is None:
            raise NotFound(f"There is no fee schedule with id {schedule_id}.")
        return compute_fee(schedule.rules, recipient_type=RecipientType(recipient_type), analyst_hours=analyst_hours,
                           data_sets=data_sets, cohort_size=cohort_size)

    # ---- invoices, receipts, distributions ------------------------------------------------------------------

    def create_invoice(self, dsa_id: int, *, analyst_hours: int, data_sets: int, cohort_size: int,
                       on: date | None = None, schedule_id: int | None = None) -> int:
        """Draft an invoice for a DSA whose request has been approved, priced by the schedule in force on
        ``on`` (or ``schedule_id``). Returns the invoice id; the number is ``INV-<FY>-<nnnn>``."""
        _check_quantities(analyst_hours, data_sets, cohort_size)
        day = on or date.today()
        with self._write("create invoices", [Kind.FINANCE]) as uow:
            dsa = uow.get(DataSharingAgreement, dsa_id, "DSA")
            req = uow.get(DataRequest, dsa.request_id, "request")
            if req.state in (RequestState.INQUIRY, RequestState.LOGGED, RequestState.DRAFTING,
                             RequestState.BOARD_REVIEW, RequestState.DENIED):
                raise RuleViolation("Fees are invoiced once the request has been approved.")
            schedule = (uow.get(FeeSchedule, schedule_id, "fee schedule") if schedule_id is not None
                        else _schedule_on(uow, day))
            fy = fiscal_year_of(day)
            prefix = f"INV-{fy}-"
            count = uow.session.scalar(select(func.count(Invoice.id)).where(Invoice.number.like(prefix + "%"))) or 0
            invoice = Invoice(number=f"{prefix}{count + 1:04d}", dsa_id=dsa.id, schedule_id=schedule.id,
                              analyst_hours=analyst_hours, data_sets=data_sets, cohort_size=cohort_size)
            self._price(uow, invoice, req)
            uow.created(invoice)
            return invoice.id

    def issue_invoice(self, invoice_id: int, issued_on: date, due_on: date) -> None:
        if due_on < issued_on:
            raise ValidationFailed({"due_on": "is before the issue date"})
        with self._write("issue invoices", [Kind.FINANCE]) as uow:
            invoice = uow.get(Invoice, invoice_id, "invoice")
            if invoice.status is not InvoiceStatus.DRAFT:
                raise RuleViolation(f"Invoice {invoice.number} is {invoice.status.value}, not a draft.")
            before = record_of(invoice)
            invoice.status, invoice.issued_on, invoice.due_on = InvoiceStatus.ISSUED, issued_on, due_on
            uow.updated(invoice, before, action="issue")

    def adjust_invoice(self, invoice_id: int, *, cohort_size: int, analyst_hours: int | None = None) -> int:
        """Re-price an unpaid invoice to the linked cohort (and actual hours); returns the new total in cents."""
        _check_quantities(analyst_hours or 0, 0, cohort_size)
        with self._write("adjust invoices", [Kind.FINANCE]) as uow:
            invoice = uow.get(Invoice, invoice_id, "invoice")
            if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED):
                raise RuleViolation(f"Invoice {invoice.number} is {invoice.status.value}; it can no longer change.")
            paid = _paid(uow, invoice.id)
            before = record_of(invoice)
            invoice.cohort_size = cohort_size
            if analyst_hours is not None:
                invoice.analyst_hours = analyst_hours
            req = uow.session.get(DataRequest, uow.get(DataSharingAgreement, invoice.dsa_id, "DSA").request_id)
            self._price(uow, invoice, req)
            if invoice.total_cents < paid:
                raise RuleViolation(f"The new total {format_cents(invoice.total_cents)} is below what was already "
                                    f"paid ({format_cents(paid)}); record a refund outside the desk first.")
            uow.updated(invoice, before, action="adjust")
            return invoice.total_cents

    def void_invoice(self, invoice_id: int) -> None:
        with self._write("void invoices", [Kind.FINANCE]) as uow:
            invoice = uow.get(Invoice, invoice_id, "invoice")
            if _paid(uow, invoice.id):
                raise RuleViolation(f"Invoice {invoice.number} has receipts; it cannot be voided.")
            before = record_of(invoice)
            invoice.status = InvoiceStatus.VOID
            uow.updated(invoice, before, action="void")

    def record_receipt(self, invoice_id: int, *, received_on: date, amount_cents: int, reference: str = "") -> int:
        """Record money received against an issued invoice; it becomes PAID when nothing is outstanding.
        Overpayment is refused."""
        if amount_cents <= 0:
            raise ValidationFailed({"amount_cents": "must be positive"})
        with self._write("record receipts", [Kind.FINANCE]) as uow:
            invoice = uow.get(Invoice, invoice_id, "invoice")
            if invoice.status is not InvoiceStatus.ISSUED:
                raise RuleViolation(f"Invoice {invoice.number} is {invoice.status.value}; receipts go against issued invoices.")
            outstanding = invoice.total_cents - _paid(uow, invoice.id)
            if amount_cents > outstanding:
                raise RuleViolation(f"{format_cents(amount_cents)} is more than the {format_cents(outstanding)} "
                                    f"outstanding on {invoice.number}.")
            receipt = Receipt(invoice_id=invoice.id, received_on=received_on, amount_cents=amount_cents,
                              reference=reference.strip())
            uow.created(receipt)
            if amount_cents == outstanding:
                before = record_of(invoice)
                invoice.status = InvoiceStatus.PAID
                uow.updated(invoice, before, action="paid")
            return receipt.id

    def distribute(self, dsa_id: int, agency_id: int, *, amount_cents: int, distributed_on: date,
                   instrument: str) -> int:
        """Pass money received under an executed DSA on to an agency. Refused before execution, and beyond
        what has been received under that DSA less what was already distributed."""
        checks = Checks()
        instrument = checks.text("instrument", instrument)
        checks.that(amount_cents > 0, "amount_cents", "must be positive")
        checks.done()
        with self._write("distribute funds", [Kind.FINANCE]) as uow:
            dsa = uow.get(DataSharingAgreement, dsa_id, "DSA")
            if dsa.executed_on is None:
                raise RuleViolation(f"{dsa.number} is not executed; funds are distributed only under executed DSAs.")
            uow.get(Agency, agency_id, "agency")
            received = uow.session.scalar(select(func.coalesce(func.sum(Receipt.amount_cents), 0))
                                          .join(Invoice, Invoice.id == Receipt.invoice_id).where(Invoice.dsa_id == dsa.id))
            already = uow.session.scalar(select(func.coalesce(func.sum(FundDistribution.amount_cents), 0))
                                         .where(FundDistribution.dsa_id == dsa.id))
            if already + amount_cents > received:
                raise RuleViolation(f"Only {format_cents(received - already)} received under {dsa.number} is left "
                                    f"to distribute.")
            d = FundDistribution(dsa_id=dsa.id, agency_id=agency_id, amount_cents=amount_cents,
                                 distributed_on=distributed_on, instrument=instrument)
            uow.created(d)
            return d.id

    def invoices(self, *, dsa_id: int | None = None) -> list[InvoiceInfo]:
        """Invoices newest first, with lines and amounts paid (three queries in all)."""
        with self._read() as s:
            paid = (select(Receipt.invoice_id, func.sum(Receipt.amount_cents).label("paid"))
                    .group_by(Receipt.invoice_id).subquery())
            stmt = (select(Invoice, DataSharingAgreement.number, DataRequest.number, DataRecipient.name,
                           func.coalesce(paid.c.paid, 0))
                    .join(DataSharingAgreement, DataSharingAgreement.id == Invoice.dsa_id)
                    .join(DataRequest, DataRequest.id == DataSharingAgreement.request_id)
                    .join(DataRecipient, DataRecipient.id == DataRequest.recipient_id)
                    .outerjoin(paid, paid.c.invoice_id == Invoice.id).order_by(Invoice.id.desc()))
            if dsa_id is not None:
                stmt = stmt.where(Invoice.dsa_id == dsa_id)
            rows = s.execute(stmt).all()
            lines: dict[int, list[FeeLine]] = {}
            for line in s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id.in_([r[0].id for r in rows]))
                                  .order_by(InvoiceLine.id)):
                lines.setdefault(line.invoice_id, []).append(
                    FeeLine(line.rule_id, line.description, line.quantity, line.unit_cents, line.amount_cents))
            return [InvoiceInfo(i.id, i.number, i.dsa_id, dsa_no, req_no, recipient, i.status, i.issued_on, i.due_on,
                                i.analyst_hours, i.data_sets, i.cohort_size, i.total_cents, p,
                                tuple(lines.get(i.id, ()))) for i, dsa_no, req_no, recipient, p in rows]

    def receipts(self, invoice_id: int | None = None) -> list[ReceiptInfo]:
        with self._read() as s:
            stmt = select(Receipt).order_by(Receipt.received_on, Receipt.id)
            if invoice_id is not None:
                stmt = stmt.where(Receipt.invoice_id == invoice_id)
            return [view_of(ReceiptInfo, r) for r in s.scalars(stmt)]

    def distributions(self, dsa_id: int | None = None) -> list[DistributionInfo]:
        with self._read() as s:
            stmt = select(FundDistribution).order_by(FundDistribution.distributed_on, FundDistribution.id)
            if dsa_id is not None:
                stmt = stmt.where(FundDistribution.dsa_id == dsa_id)
            return [view_of(DistributionInfo, d) for d in s.scalars(stmt)]

    # ---- helpers -----------------------------------------------------------------------------------------

    @staticmethod
    def _draft_budget(uow: UnitOfWork, budget_id: int) -> Budget:
        budget = uow.get(Budget, budget_id, "budget")
        if budget.status is not BudgetStatus.DRAFT:
            raise RuleViolation(f"The FY{budget.fiscal_year} budget is {budget.status.value}; it can no longer change.")
        return budget

    @staticmethod
    def _price(uow: UnitOfWork, invoice: Invoice, req: DataRequest | None) -> None:
        recipient_type = uow.session.scalar(select(DataRecipient.recipient_type)
                                            .where(DataRecipient.id == (req.recipient_id if req else None)))
        if recipient_type is None:
            raise RuleViolation("The request has no data recipient to invoice.")
        rules = [_rule_info(r) for r in uow.get(FeeSchedule, invoice.schedule_id, "fee schedule").rules]
        quote = compute_fee(rules, recipient_type=recipient_type, analyst_hours=invoice.analyst_hours,
                            data_sets=invoice.data_sets, cohort_size=invoice.cohort_size)
        invoice.lines = [InvoiceLine(rule_id=line.rule_id, description=line.description, quantity=line.quantity,
                                     unit_cents=line.unit_cents, amount_cents=line.amount_cents) for line in quote.lines]
        invoice.total_cents = quote.total_cents


def _rule_info(rule: FeeRule) -> FeeRuleInfo:
    return FeeRuleInfo(rule.id, rule.schedule_id, rule.position, rule.kind, rule.description, rule.amount_cents,
                       rule.min_cohort, rule.max_cohort, rule.percent_off, rule.recipient_type)


def _schedule_on(uow: UnitOfWork, day: date) -> FeeSchedule:
    schedule = uow.session.scalar(
        select(FeeSchedule).where(FeeSchedule.effective_from <= day,
                                  (FeeSchedule.effective_to.is_(None)) | (FeeSchedule.effective_to >= day))
        .order_by(FeeSchedule.effective_from.desc()).limit(1))
    if schedule is None:
        raise RuleViolation(f"No fee schedule is in force on {day.isoformat()}; add one under Finance.")
    return schedule


def _paid(uow: UnitOfWork, invoice_id: int) -> int:
    return uow.session.scalar(select(func.coalesce(func.sum(Receipt.amount_cents), 0))
                              .where(Receipt.invoice_id == invoice_id)) or 0


def _check_quantities(analyst_hours: int, data_sets: int, cohort_size: int) -> None:
    checks = Checks()
    checks.that(analyst_hours >= 0, "analyst_hours", "cannot be negative")
    checks.that(data_sets >= 0, "data_sets", "cannot be negative")
    checks.that(cohort_size >= 0, "cohort_size", "cannot be negative")
    checks.done()
