"""Money: fiscal-year budgets, agency contributions, actuals, fee schedules, invoices, receipts, distributions.

All amounts are integer cents. Connecticut's fiscal year runs July-June and is named by the year it ends
(FY2026 = 1 July 2025 - 30 June 2026).
"""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_type
from .recipient import RecipientType


class BudgetStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # budget request submitted on the Executive Board's advice
    ADOPTED = "adopted"


class Budget(Base):
    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(unique=True)  # the year the FY ends
    status: Mapped[BudgetStatus] = mapped_column(enum_type(BudgetStatus), default=BudgetStatus.DRAFT)
    submitted_on: Mapped[date | None]
    adopted_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")

    lines: Mapped[list[BudgetLine]] = relationship(cascade="all, delete-orphan", order_by="BudgetLine.id")
    contributions: Mapped[list[AgencyContribution]] = relationship(cascade="all, delete-orphan")
    actuals: Mapped[list[Actual]] = relationship(cascade="all, delete-orphan", order_by="Actual.spent_on")


class BudgetLine(Base):
    __tablename__ = "budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(100))  # e.g. "Hub operations", "Staff", "Software"
    description: Mapped[str] = mapped_column(Text, default="")
    amount_cents: Mapped[int]


class AgencyContribution(Base):
    __tablename__ = "agency_contributions"
    __table_args__ = (UniqueConstraint("budget_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    pledged_cents: Mapped[int]
    received_cents: Mapped[int] = mapped_column(default=0)
    received_on: Mapped[date | None]


class Actual(Base):
    """Money actually spent against a budget line."""

    __tablename__ = "actuals"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("budget_lines.id"))
    spent_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text)
    amount_cents: Mapped[int]


class FeeRuleKind(enum.StrEnum):
    FLAT = "flat"  # a base fee per request
    PER_ANALYST_HOUR = "per_analyst_hour"
    PER_DATA_SET = "per_data_set"  # each agency's data set in the request
    COHORT_BAND = "cohort_band"  # a fee when the (linked) cohort size falls in [min, max]
    EXEMPTION = "exemption"  # a percentage off the total for a recipient type (100 = no charge)


class FeeSchedule(Base):
    __tablename__ = "fee_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")

    rules: Mapped[list[FeeRule]] = relationship(cascade="all, delete-orphan", order_by="FeeRule.position")


class FeeRule(Base):
    __tablename__ = "fee_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedules.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[FeeRuleKind] = mapped_column(enum_type(FeeRuleKind))
    description: Mapped[str] = mapped_column(String(300), default="")
    amount_cents: Mapped[int] = mapped_column(default=0)  # per unit, or the band's / flat fee
    min_cohort: Mapped[int | None]
    max_cohort: Mapped[int | None]
    percent_off: Mapped[int | None]  # EXEMPTION only, 1-100
    # When set, the rule applies only to this kind of recipient (e.g. an exemption for state agencies).
    recipient_type: Mapped[RecipientType | None] = mapped_column(enum_type(RecipientType))


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # "INV-2026-0007"
    dsa_id: Mapped[int] = mapped_column(ForeignKey("dsas.id"), index=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedules.id"))
    status: Mapped[InvoiceStatus] = mapped_column(enum_type(InvoiceStatus), default=InvoiceStatus.DRAFT)
    issued_on: Mapped[date | None]
    due_on: Mapped[date | None]
    analyst_hours: Mapped[int] = mapped_column(default=0)
    data_sets: Mapped[int] = mapped_column(default=0)
    cohort_size: Mapped[int] = mapped_column(default=0)  # estimated, then adjusted to the linked cohort
    total_cents: Mapped[int] = mapped_column(default=0)

    lines: Mapped[list[InvoiceLine]] = relationship(cascade="all, delete-orphan", order_by="InvoiceLine.id")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("fee_rules.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_cents: Mapped[int] = mapped_column(default=0)
    amount_cents: Mapped[int]


class Receipt(Base):
    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    received_on: Mapped[date]
    amount_cents: Mapped[int]
    reference: Mapped[str] = mapped_column(String(100), default="")  # cheque / transfer reference


class FundDistribution(Base):
    """Money passed on to an agency (e.g. the hub's matching cost) under an executed DSA."""

    __tablename__ = "fund_distributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    dsa_id: Mapped[int] = mapped_column(ForeignKey("dsas.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    distributed_on: Mapped[date]
    amount_cents: Mapped[int]
    instrument: Mapped[str] = mapped_column(String(200), default="")  # the legal instrument's reference
