"""Budget & Fees: a fiscal year's budget against actuals, agency contributions, fee invoices, receipts and
distributions. Every figure is computed by ``desk.finance``; amounts are cents."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.finance import fiscal_year_of
from app.views.list_page import ListPage
from app.views.request_detail import SimpleTable
from app.views.style import LATE_COLOUR, OK_COLOUR
from app.views.table import Column, cents
from app.views.widgets import FormDialog, button_row, call_service, date_edit

INVOICE_COLUMNS = [
    Column("number", "Invoice", "number", width=120),
    Column("request", "Request", "request_number", width=80),
    Column("dsa", "DSA", "dsa_number", width=100),
    Column("recipient", "Recipient", "recipient", filterable=True, width=240),
    Column("status", "Status", "status", filterable=True, width=80),
    Column("issued", "Issued", "issued_on", width=95),
    Column("due", "Due", "due_on", width=95,
           foreground=lambda d: LATE_COLOUR if d is not None and d < date.today() else None),
    Column("total", "Total", "total_cents", display=cents, width=100),
    Column("paid", "Paid", "paid_cents", display=cents, width=100),
    Column("outstanding", "Outstanding", "outstanding_cents", display=cents, width=110,
           foreground=lambda v: LATE_COLOUR if v else None),
]


def headline(amount_cents: int) -> str:
    """Whole dollars for the big figures (the tables below keep the cents)."""
    sign = "-" if amount_cents < 0 else ""
    return f"{sign}${round(abs(amount_cents) / 100):,}"


def _money_input() -> QDoubleSpinBox:
    box = QDoubleSpinBox(maximum=1_000_000_000, decimals=2, prefix="$ ")
    box.setGroupSeparatorShown(True)
    return box


def _to_cents(box: QDoubleSpinBox) -> int:
    return round(box.value() * 100)


class Figure(QFrame):
    """One headline number on a card."""

    def __init__(self, title: str):
        super().__init__(objectName="card")
        self.value = QLabel("—", objectName="bigNumber")
        self.value.setMinimumWidth(0)
        self.value.setAccessibleName(title)
        self.note = QLabel(objectName="muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(QLabel(title, objectName="cardTitle"))
        layout.addWidget(self.value)
        layout.addWidget(self.note)

    def set(self, text: str, note: str = "", colour: str | None = None) -> None:
        self.value.setText(text)
        self.value.setStyleSheet(f"color: {colour};" if colour else "")
        self.note.setText(note)


class BudgetPage(QWidget):
    watches = frozenset({"finance", "agencies"})
    title = "Budget & Fees"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.summary = None
        can_edit = context.can_edit

        title = QLabel("Budget & Fees", objectName="pageTitle")
        self.year = QComboBox()
        self.year.setAccessibleName("Fiscal year")
        self.year.currentIndexChanged.connect(lambda _: self._load_year())
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(QLabel("Fiscal year"))
        top.addWidget(self.year)
        top.addStretch(1)
        if can_edit:
            for text, slot in (("New budget…", self.new_budget), ("Add line…", self.add_line),
                               ("Record spending…", self.record_spending)):
                button = QPushButton(text)
                button.clicked.connect(slot)
                top.addWidget(button)

        self.figures = {key: Figure(text) for key, text in [
            ("budgeted", "Budgeted"), ("spent", "Spent"), ("variance", "Remaining"),
            ("contributed", "Agency contributions"), ("fees", "Fees received"), ("distributed", "Distributed")]}
        cards = QGridLayout()
        cards.setSpacing(10)
        for n, figure in enumerate(self.figures.values()):
            cards.addWidget(figure, 0, n)
            cards.setColumnStretch(n, 1)

        self.lines = SimpleTable([
            Column("category", "Category", "category", width=260),
            Column("description", "Description", "description", width=300),
            Column("budgeted", "Budgeted", "amount_cents", display=cents, width=120),
            Column("spent", "Spent", "spent_cents", display=cents, width=120),
            Column("variance", "Remaining", lambda l: l.amount_cents - l.spent_cents, display=cents, width=120,
                   foreground=lambda v: LATE_COLOUR if v is not None and v < 0 else None),
        ], "No budget lines for this year.")
        self.contributions = SimpleTable([
            Column("agency", "Agency", "agency_code", width=100),
            Column("pledged", "Pledged", "pledged_cents", display=cents, width=120),
            Column("received", "Received", "received_cents", display=cents, width=120),
            Column("open", "Still to come", lambda c: c.pledged_cents - c.received_cents, display=cents, width=120),
            Column("on", "Last received", "received_on", width=110),
        ], "No agency contributions pledged for this year.")
        self.invoices = ListPage("Fee invoices", INVOICE_COLUMNS, settings_key="invoices",
                                 empty_text="No fee invoices yet. Invoices are drafted from a request's Fees tab.")
        self.distributions = SimpleTable([
            Column("on", "Distributed on", "distributed_on", width=120),
            Column("agency", "Agency", "agency", width=100),
            Column("dsa", "DSA", "dsa", width=100),
            Column("amount", "Amount", "amount_cents", display=cents, width=120),
            Column("instrument", "Legal instrument", "instrument", width=320),
        ], "No funds distributed yet.")

        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        tabs.addTab(self._with_buttons(self.lines, []), "Line items")
        tabs.addTab(self._with_buttons(self.contributions, [("Set pledge…", self.set_pledge),
                                                            ("Record contribution…", self.receive)] if can_edit else []),
                    "Agency contributions")
        tabs.addTab(self.invoices, "Fee invoices")
        tabs.addTab(self._with_buttons(self.distributions, [("Distribute funds…", self.distribute)] if can_edit else []),
                    "Distributions")
        self.tabs = tabs

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addLayout(cards)
        layout.addWidget(tabs, 1)
        self.refresh()

    @staticmethod
    def _with_buttons(table: QWidget, buttons) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addWidget(table, 1)
        if buttons:
            column.addLayout(button_row(buttons))
        return page

    # -- loading ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        finance = self.context.desk.finance
        chosen = self.year.currentData()
        budgets = finance.budgets()
        self.year.blockSignals(True)
        self.year.clear()
        for _id, fiscal_year, status in budgets:
            self.year.addItem(f"FY{fiscal_year} ({status.value})", fiscal_year)
        if chosen is None:
            chosen = fiscal_year_of(date.today())
        self.year.setCurrentIndex(max(0, self.year.findData(chosen)))
        self.year.blockSignals(False)
        invoices = finance.invoices()
        self.invoices.set_rows(invoices)
        self._load_year()

    def _load_year(self) -> None:
        fiscal_year = self.year.currentData()
        finance = self.context.desk.finance
        if fiscal_year is None:
            self.summary = None
            for figure in self.figures.values():
                figure.set("—")
            self.lines.set_rows([])
            self.contributions.set_rows([])
            self.distributions.set_rows([])
            return
        ok, summary = call_service(self, lambda: finance.budget_summary(fiscal_year))
        if not ok:
            return
        self.summary = summary
        remaining = summary.budgeted_cents - summary.spent_cents
        spent_share = f"{summary.spent_cents / summary.budgeted_cents:.0%} of budget" if summary.budgeted_cents else ""
        self.figures["budgeted"].set(headline(summary.budgeted_cents), summary.status.value.capitalize())
        self.figures["spent"].set(headline(summary.spent_cents), spent_share)
        self.figures["variance"].set(headline(remaining), "over budget" if remaining < 0 else "under budget",
                                     LATE_COLOUR if remaining < 0 else OK_COLOUR)
        self.figures["contributed"].set(headline(summary.contributed_cents), f"of {headline(summary.pledged_cents)} pledged")
        self.figures["fees"].set(headline(summary.fee_receipts_cents), "received this year")
        self.figures["distributed"].set(headline(summary.distributed_cents), "to agencies")
        self.lines.set_rows(list(summary.lines))
        self.contributions.set_rows(list(summary.contributions))
        codes = {a.id: a.code for a in self.context.desk.agencies.list()}
        dsas = {d.id: d.number for d in self.context.desk.agreements.list()}
        start, end = date(fiscal_year - 1, 7, 1), date(fiscal_year, 6, 30)
        self.distributions.set_rows([
            _Distribution(d, codes.get(d.agency_id, "?"), dsas.get(d.dsa_id, "?"))
            for d in finance.distributions() if start <= d.distributed_on <= end])

    # -- actions ------------------------------------------------------------------------------------------
    def new_budget(self) -> bool:
        dialog = FormDialog(self, "New budget",
                            lambda d: self.context.desk.finance.create_budget(d.fy.value(), d.notes.text()))
        dialog.fy = dialog.row("Fiscal year", "fiscal_year", QSpinBox(minimum=2000, maximum=2100))
        dialog.fy.setValue(fiscal_year_of(date.today()) + 1)
        dialog.notes = dialog.row("Notes", "notes", QLineEdit())
        self.last_dialog = dialog
        ok = bool(dialog.exec())
        if ok:
            self.refresh()
            self.year.setCurrentIndex(max(0, self.year.findData(dialog.fy.value())))
        return ok

    def add_line(self) -> bool:
        if self.summary is None:
            return False
        budget_id = self.summary.id
        dialog = FormDialog(self, "Budget line", lambda d: self.context.desk.finance.add_budget_line(
            budget_id, d.category.text(), _to_cents(d.amount), d.description.text()))
        dialog.category = dialog.row("Category", "category", QLineEdit())
        dialog.description = dialog.row("Description", "description", QLineEdit())
        dialog.amount = dialog.row("Amount", "amount_cents", _money_input())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_spending(self) -> bool:
        if self.summary is None:
            return False
        summary = self.summary
        dialog = FormDialog(self, "Record spending", lambda d: self.context.desk.finance.record_actual(
            summary.id, spent_on=d.on.date().toPython(), description=d.description.text(),
            amount_cents=_to_cents(d.amount), line_id=d.line.currentData()))
        dialog.line = QComboBox()
        dialog.line.addItem("(no line)", None)
        for line in summary.lines:
            dialog.line.addItem(f"{line.category} — {line.description}", line.id)
        dialog.row("Budget line", "line_id", dialog.line)
        dialog.description = dialog.row("Description", "description", QLineEdit())
        dialog.amount = dialog.row("Amount", "amount_cents", _money_input())
        dialog.on = dialog.row("Spent on", "spent_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def set_pledge(self) -> bool:
        if self.summary is None:
            return False
        budget_id = self.summary.id
        agencies = self.context.desk.agencies.list()
        dialog = FormDialog(self, "Agency pledge", lambda d: self.context.desk.finance.set_contribution(
            budget_id, d.agency.currentData(), _to_cents(d.amount)))
        dialog.agency = QComboBox()
        for a in agencies:
            dialog.agency.addItem(f"{a.code} — {a.name}", a.id)
        dialog.row("Agency", "agency_id", dialog.agency)
        dialog.amount = dialog.row("Pledged", "pledged_cents", _money_input())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def receive(self) -> bool:
        contribution = self.contributions.selected()
        if contribution is None:
            return False
        dialog = FormDialog(self, f"Contribution from {contribution.agency_code}",
                            lambda d: self.context.desk.finance.receive_contribution(
                                contribution.id, _to_cents(d.amount), d.on.date().toPython()))
        dialog.amount = dialog.row("Amount", "amount_cents", _money_input())
        dialog.on = dialog.row("Received on", "received_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def distribute(self) -> bool:
        dsas = [d for d in self.context.desk.agreements.list() if d.executed_on is not None]
        agencies = self.context.desk.agencies.list()
        dialog = FormDialog(self, "Distribute funds", lambda d: self.context.desk.finance.distribute(
            d.dsa.currentData(), d.agency.currentData(), amount_cents=_to_cents(d.amount),
            distributed_on=d.on.date().toPython(), instrument=d.instrument.text()))
        dialog.dsa = QComboBox()
        for d in dsas:
            dialog.dsa.addItem(f"{d.number} — {d.request_title}", d.id)
        dialog.row("Under DSA", "dsa_id", dialog.dsa)
        dialog.agency = QComboBox()
        for a in agencies:
            dialog.agency.addItem(f"{a.code} — {a.name}", a.id)
        dialog.row("To agency", "agency_id", dialog.agency)
        dialog.amount = dialog.row("Amount", "amount_cents", _money_input())
        dialog.on = dialog.row("Distributed on", "distributed_on", date_edit())
        dialog.instrument = dialog.row("Legal instrument", "instrument", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())


class _Distribution:
    __slots__ = ("agency", "amount_cents", "distributed_on", "dsa", "instrument")

    def __init__(self, info, agency: str, dsa: str):
        self.distributed_on, self.amount_cents, self.instrument = info.distributed_on, info.amount_cents, info.instrument
        self.agency, self.dsa = agency, dsa


