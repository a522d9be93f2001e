"""The Dashboard: what needs a coordinator today. Every figure opens the list it summarises, filtered.

Deadlines (destruction, departures) and their status come from ``desk.requests.deadlines``; approvals
waiting, NDAs missing, meetings, budget and fees are counted from what the services return.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QSettings, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job
from app.models import Decision, RequestState
from app.services.finance import fiscal_year_of
from app.services.lifecycle import LABELS, MAIN_LINE, TERMINAL
from app.views.style import LATE_COLOUR, appearance, colours, is_dark
from app.views.table import cents
from app.views.widgets import clear_layout

DEFAULT_APPROVAL_WAIT_DAYS = 30


def approval_wait_days() -> int:
    """Approvals pending longer than this many days count as overdue (Settings key ``dashboard/approval_days``)."""
    try:
        return max(1, int(QSettings().value("dashboard/approval_days", DEFAULT_APPROVAL_WAIT_DAYS)))
    except (TypeError, ValueError):
        return DEFAULT_APPROVAL_WAIT_DAYS


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard shows, gathered in one pass (on a worker thread)."""

    today: date
    stage_counts: dict[str, int]
    counts: dict[str, int]  # metric key -> number shown
    drill: dict[str, frozenset[int]]  # metric key -> request (or recipient) ids its list shows
    meetings: list
    invoices_outstanding: tuple[int, int]  # (invoices, cents)
    fiscal_year: int
    budget: object | None


def collect_figures(desk, approval_days: int) -> Figures:
    """Read the dashboard's figures through the services. Safe off the GUI thread (plain data only)."""
    today, now = date.today(), datetime.now(UTC)
    rows = desk.requests.page(limit=max(1, desk.requests.count()))
    open_rows = [r for r in rows if r.state not in TERMINAL]
    stage_counts = {LABELS[s]: 0 for s in MAIN_LINE if s not in TERMINAL}
    stage_counts[LABELS[RequestState.ON_HOLD]] = 0
    for row in open_rows:
        stage_counts[LABELS[row.state]] = stage_counts.get(LABELS[row.state], 0) + 1

    deadlines = desk.requests.deadlines()
    destroy = [d for d in deadlines if d.kind in ("destroy_inputs", "recipient_destroy_by")]
    overdue = [d for d in destroy if d.status(now) == "overdue"]
    soon = [d for d in destroy if d.status(now) == "open" and (d.due_at - now).days <= 7]
    departures = [d for d in deadlines if d.kind == "report_departure"]

    waiting: set[int] = set()
    pending = 0
    for row in open_rows:
        if row.state not in (RequestState.DRAFTING, RequestState.BOARD_REVIEW):
            continue
        history = desk.requests.get(row.id).history
        since = history[-1].on if history else row.received_on
        if (today - since).days <= approval_days:
            continue
        late = [a for a in desk.approvals.for_request(row.id) if Decision.PENDING in (a.data_decision, a.users_decision)]
        if late:
            waiting.add(row.id)
            pending += len(late)

    missing = [u for u in desk.recipients.users() if u.nda_outstanding]
    meetings = sorted((m for m in desk.meetings.list() if not m.cancelled and m.starts_at >= now),
                      key=lambda m: m.starts_at)
    issued = [i for i in desk.finance.invoices() if i.status.value == "issued" and i.outstanding_cents]
    fiscal_year = fiscal_year_of(today)
    has_budget = fiscal_year in {fy for _id, fy, _status in desk.finance.budgets()}
    return Figures(
        today=today, stage_counts=stage_counts,
        counts={"destruction": len(overdue), "destruction_soon": len(soon), "departures": len(departures),
                "approvals": pending, "ndas": len(missing)},
        drill={"destruction": frozenset(d.request_id for d in overdue),
               "destruction_soon": frozenset(d.request_id for d in soon),
               "departures": frozenset(d.request_id for d in departures),
               "approvals": frozenset(waiting), "ndas": frozenset(u.recipient_id for u in missing)},
        meetings=meetings[:5], invoices_outstanding=(len(issued), sum(i.outstanding_cents for i in issued)),
        fiscal_year=fiscal_year, budget=desk.finance.budget_summary(fiscal_year) if has_budget else None,
    )


class Card(QFrame):
    """A titled box on the dashboard."""

    def __init__(self, title: str):
        super().__init__(objectName="card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 12)
        self.body.setSpacing(4)
        heading = QLabel(title, objectName="cardTitle")
        self.body.addWidget(heading)


class Metric(QPushButton):
    """A clickable line: a big number and what it counts."""

    def __init__(self, label: str, on_click):
        super().__init__(objectName="metric")
        self.label = label
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(on_click)
        self.count = 0

    def set_count(self, count: int, text: str | None = None, *, alarm: bool = False) -> None:
        self.count = count
        shown = text if text is not None else f"{count:,}"
        self.setText(f"{shown}   {self.label}" if text is None else f"{self.label}:  {shown}")
        self.setAccessibleName(f"{self.label}: {shown}")
        self.setToolTip(f"Open the list of {self.label.lower()}")
        self.setStyleSheet(f"color: {LATE_COLOUR}; font-weight: 600;" if alarm and count else "")


class DashboardPage(QWidget):
    watches = frozenset({"requests", "approvals", "agreements", "recipients", "meetings", "finance", "matchlog"})
    title = "Dashboard"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.window_ = window
        self.drill: dict[str, frozenset[int]] = {}
        self._generation = 0
        self.loaded = False
        self.figures: Figures | None = None
        # Charts take their colours when drawn: draw again when the system switches light/dark.
        appearance.changed.connect(self._redraw_charts)
        self.job: Job | None = None

        title = QLabel("Dashboard", objectName="pageTitle")
        self.greeting = QLabel(objectName="muted")
        self.greeting.setTextFormat(Qt.TextFormat.PlainText)

        self.attention = Card("Needs attention")
        self.metrics = {
            "destruction": Metric("Destruction deadlines overdue", lambda: self._open_requests("destruction")),
            "destruction_soon": Metric("Destruction deadlines this week", lambda: self._open_requests("destruction_soon")),
            "departures": Metric("Staff departures to process", lambda: self._open_requests("departures")),
            "approvals": Metric(f"Approvals waiting over {approval_wait_days()} days",
                                lambda: self._open_requests("approvals")),
            "ndas": Metric("Data users without a signed NDA", self._open_ndas),
        }
        for metric in self.metrics.values():
            self.attention.body.addWidget(metric)

        self.money = Card("Money")
        self.fees = Metric("Fees outstanding", self._open_fees)
        self.budget_line = Metric("Budget spent", lambda: window.show_screen("budget"))
        self.money.body.addWidget(self.fees)
        self.money.body.addWidget(self.budget_line)
        self.budget_chart = QChartView()
        self.budget_chart.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.budget_chart.setMinimumHeight(180)
        # Charts' size hints are large; let the grid share the window instead of scrolling.
        self.budget_chart.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.budget_chart.setAccessibleName("Budget planned versus spent chart")
        self.money.body.addWidget(self.budget_chart, 1)

        self.meetings = Card("Upcoming meetings")
        self.meetings_list = QVBoxLayout()
        self.meetings.body.addLayout(self.meetings_list)

        self.stages = Card("Open requests by stage — click a bar to see them")
        self.stage_chart = QChartView()
        self.stage_chart.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.stage_chart.setMinimumHeight(360)
        self.stage_chart.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.stage_chart.setAccessibleName("Requests per stage chart")
        self.stages.body.addWidget(self.stage_chart, 1)
        self.stage_counts: dict[str, int] = {}

        grid = QGridLayout()
        grid.setSpacing(12)
        grid.addWidget(self.stages, 0, 0, 3, 1)
        grid.addWidget(self.attention, 0, 1)
        grid.addWidget(self.meetings, 1, 1)
        grid.addWidget(self.money, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(2, 1)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(16, 12, 16, 12)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.greeting)
        column.addLayout(head)
        column.addLayout(grid, 1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.refresh()

    # -- figures ------------------------------------------------------------------------------------------
    def refresh(self) -> Job:
        """Gather the figures off the GUI thread (deadlines read every open request) and show them when
        ready; the window stays usable meanwhile. A refresh superseded by a newer one is dropped."""
        self._generation += 1
        generation = self._generation
        self.loaded = False
        self.greeting.setText(f"{self.context.display_name} · {date.today():%A %d %B %Y} · updating…")
        desk, limit = self.context.desk, approval_wait_days()
        self.job = (Job(self, lambda ctx: collect_figures(desk, limit))
                    .success(lambda figures: self._show(figures, generation)).run_in_background())
        return self.job

    def _show(self, figures: Figures, generation: int) -> None:
        if generation != self._generation:
            return
        self.figures = figures
        self.greeting.setText(f"{self.context.display_name} · {figures.today:%A %d %B %Y}")
        self.stage_counts = figures.stage_counts
        self._draw_stages()
        self.drill = dict(figures.drill)
        for key, count in figures.counts.items():
            self.metrics[key].set_count(count, alarm=key != "destruction_soon")
        self._show_meetings(figures.meetings)
        self._show_money(figures)
        self.loaded = True

    def _show_meetings(self, upcoming: list) -> None:
        clear_layout(self.meetings_list)
        if not upcoming:
            empty = QLabel("No board meetings scheduled. Schedule the next one under Meetings & Votes.",
                           objectName="muted", wordWrap=True)
            self.meetings_list.addWidget(empty)
        from app.views.meetings_page import BOARD_NAMES

        for meeting in upcoming[:5]:
            when = meeting.starts_at.astimezone()
            notice = "" if meeting.notice_posted_on else " · notice not posted"
            button = Metric(f"{BOARD_NAMES.get(meeting.board, meeting.board.value)}{notice}",
                            lambda _=False: self._open_meetings())
            button.setText(f"{when:%a %d %b, %H:%M}   {button.label}")
            button.setAccessibleName(f"Meeting {when:%d %B} {button.label}")
            if not meeting.notice_posted_on:
                button.setStyleSheet(f"color: {LATE_COLOUR};")
            self.meetings_list.addWidget(button)

    def _show_money(self, figures: Figures) -> None:
        count, outstanding = figures.invoices_outstanding
        self.fees.set_count(count, f"{cents(outstanding)} on {count} invoice{'s' if count != 1 else ''}")
        summary, fiscal_year = figures.budget, figures.fiscal_year
        if summary is None:
            self.budget_line.set_count(0, f"No budget for FY{fiscal_year}")
            self.budget_chart.setChart(self._empty_chart(f"No budget recorded for FY{fiscal_year}."))
            return
        share = summary.spent_cents / summary.budgeted_cents if summary.budgeted_cents else 0
        self.budget_line.set_count(
            1, f"{cents(summary.spent_cents)} of {cents(summary.budgeted_cents)} ({share:.0%}) in FY{fiscal_year}")
        self._draw_budget(summary)

    def _redraw_charts(self, *_: object) -> None:
        if self.figures is not None:
            self._draw_stages()
            self._show_money(self.figures)

    # -- charts -------------------------------------------------------------------------------------------
    def _chart(self) -> QChart:
        chart = QChart()
        chart.setTheme(QChart.ChartTheme.ChartThemeDark if is_dark() else QChart.ChartTheme.ChartThemeLight)
        chart.setBackgroundVisible(False)
        chart.setMargins(QMargins(0, 0, 0, 0))
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        return chart

    def _empty_chart(self, text: str) -> QChart:
        chart = self._chart()
        chart.setTitle(text)
        chart.legend().hide()
        return chart

    def _draw_stages(self) -> None:
        c = colours()
        names = list(reversed(self.stage_counts))  # first stage at the top
        chart = self._chart()
        bars = QBarSet("Requests")
        bars.setColor(QColor(c["accent"]))
        bars.setLabelColor(QColor(c["text"]))
        bars.append([self.stage_counts[n] for n in names])
        series = QHorizontalBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QHorizontalBarSeries.LabelsPosition.LabelsOutsideEnd)
        series.setBarWidth(0.7)
        series.clicked.connect(lambda index, _set: self._open_stage(names[index]))
        chart.addSeries(series)
        axis_y = QBarCategoryAxis()
        axis_y.append(names)
        axis_y.setGridLineVisible(False)
        axis_y.setTruncateLabels(False)
        axis_x = QValueAxis()
        top = max([1, *self.stage_counts.values()]) + 1  # room for the value label beyond the longest bar
        axis_x.setRange(0, top)
        axis_x.setLabelFormat("%d")
        if top <= 10:
            axis_x.setTickCount(top + 1)  # one tick per request: labels sit exactly on whole numbers
        else:
            axis_x.applyNiceNumbers()
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(axis_y)
        series.attachAxis(axis_x)
        chart.legend().hide()
        self.stage_chart.setChart(chart)

    def _draw_budget(self, summary) -> None:
        c = colours()
        chart = self._chart()
        planned, spent = QBarSet("Planned"), QBarSet("Spent")
        planned.setColor(QColor(c["line"]).darker(120))
        spent.setColor(QColor(c["accent"]))
        lines = list(reversed(summary.lines))  # first line at the top
        categories = [line.category if len(line.category) <= 28 else line.category[:27] + "…" for line in lines]
        for line in lines:
            planned.append(line.amount_cents / 100_000)
            spent.append(line.spent_cents / 100_000)
        series = QHorizontalBarSeries()
        series.append(planned)
        series.append(spent)
        series.clicked.connect(lambda *_: self.window_.show_screen("budget"))
        chart.addSeries(series)
        axis_y = QBarCategoryAxis()
        axis_y.append(categories)
        axis_y.setTruncateLabels(False)
        axis_x = QValueAxis()
        axis_x.setLabelFormat("$%.0fk")  # thousands: the axis cannot print separators
        top = max([1.0, *(v / 100_000 for line in lines for v in (line.amount_cents, line.spent_cents))])
        axis_x.setRange(0, top * 1.05)
        axis_x.applyNiceNumbers()
        chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(axis_y)
        series.attachAxis(axis_x)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)
        self.budget_chart.setChart(chart)

    # -- drill-downs --------------------------------------------------------------------------------------
    def _open_stage(self, label: str) -> None:
        page = self.window_.show_screen("requests")
        page.list_page.clear_filters()
        page.list_page.set_column_filter("state", label)

    def _open_requests(self, key: str) -> None:
        ids = set(self.drill.get(key, set()))
        page = self.window_.show_screen("requests")
        page.list_page.clear_filters()
        page.list_page.set_drilldown("dashboard", self.metrics[key].label, lambda row: row.id in ids)

    def _open_ndas(self) -> None:
        ids = set(self.drill.get("ndas", set()))
        page = self.window_.show_screen("recipients")
        page.list_page.clear_filters()
        page.list_page.set_drilldown("dashboard", "Recipients with NDAs missing", lambda row: row.id in ids)

    def _open_meetings(self) -> None:
        page = self.window_.show_screen("meetings")
        page.list_page.clear_filters()
        page.list_page.set_column_filter("status", "Upcoming")

    def _open_fees(self) -> None:
        page = self.window_.show_screen("budget")
        page.tabs.setCurrentWidget(page.invoices)
        page.invoices.clear_filters()
        page.invoices.set_drilldown("dashboard", "Outstanding", lambda row: bool(row.outstanding_cents)
                                    and row.status.value == "issued")
