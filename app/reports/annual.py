"""The annual report to the legislature on P20 WIN data sharing for one Connecticut fiscal year."""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.lib.units import inch
from reportlab.platypus import Flowable, PageBreak, Spacer, Table

from .charts import DASHES, LINE_PALETTE, PALETTE, bar_chart, line_chart, pie_chart
from .data import AnnualReportData, Outcomes
from .formatting import days, fiscal_year_bounds, fiscal_year_label, long_date, money, number, percent
from .layout import Column, ReportInfo, build_pdf, cover, footnote, heading, key_figures, keep
from .layout import no_activity, table, text
from .suppression import FOOTNOTE, suppress

TITLE = "P20 WIN Annual Report to the Legislature"
# Oldest year lightest / dotted, this year darkest / solid, so the current year stands out in greyscale.
TREND_BARS = [PALETTE[2], PALETTE[1], PALETTE[0]]
TREND_LINES = [LINE_PALETTE[2], LINE_PALETTE[1], LINE_PALETTE[0]]
TREND_DASHES = [DASHES[2], DASHES[1], DASHES[0]]
MONTHS = ("Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun")


def render_annual(data: AnnualReportData, out: str | Path | BinaryIO) -> int:
    """Render the annual report; returns the page count. An empty year gives a cover and a no-activity page."""
    start, end = fiscal_year_bounds(data.fiscal_year)
    fy = fiscal_year_label(data.fiscal_year)
    period = f"{long_date(start)} to {long_date(end)}"
    info = ReportInfo(f"{TITLE}, {fy}", f"Data sharing activities and outcomes, {fy} ({period})", data.as_of)
    story: list[Flowable] = cover(info, f"Data sharing activities and outcomes\n{fy}: {period}",
                                  ["Prepared by the Operating Group for the General Assembly and funding "
                                   "stakeholders under the P20 WIN Data Governance Policy."])
    if data.is_empty:
        story += no_activity("data-sharing activity", f"{fy} ({period})")
    else:
        story += _summary(data, fy)
        story += _requests(data)
        story += _timeliness(data)
        story += _agreements(data)
        story += _money(data)
        story += _trend(data)
        story += _notes()
    return build_pdf(out, info, story, has_cover=True)


def _summary(d: AnnualReportData, fy: str) -> list[Flowable]:
    t = d.totals
    budget = sum(b.budget_cents for b in d.budget)
    spent = sum(b.actual_cents for b in d.budget) + d.unbudgeted_actual_cents
    figures = [
        ("Requests received", number(t.received)),
        ("Requests approved", number(t.approved)),
        ("Requests denied", number(t.denied)),
        ("Requests fulfilled (data delivered)", number(t.fulfilled)),
        ("Median days, inquiry to signed DSA", days(d.inquiry_to_dsa.median)),
        ("Median days, signed DSA to delivery", days(d.dsa_to_delivery.median)),
        ("Active data sharing agreements at year end", number(d.active_dsas)),
        ("Matches run at the hub", number(d.matches_run)),
        ("Publications approved for release", number(len(d.publications))),
        ("Fees invoiced", money(d.fees_invoiced_cents)),
        ("Fees collected", money(d.fees_collected_cents)),
        (f"Spent ({money(spent)} of a {money(budget)} budget)" if budget else
         f"Spent ({money(spent)}); no budget recorded for the year", percent(spent, budget)),
    ]
    story: list[Flowable] = [*heading(f"Executive summary, {fy}"), key_figures(figures)]
    story.append(Spacer(1, 8))
    story += [text(s) for s in _sentences(d)]
    late = sum(c.late + c.outstanding for c in d.compliance)
    due = sum(c.on_time + c.late + c.outstanding for c in d.compliance)
    if due:
        story.append(text(f"Destruction of data: {number(due - late)} of {number(due)} obligations that fell "
                          f"due this year were met on time ({percent(due - late, due)})."))
    if len(d.trend) > 1:
        years = [fiscal_year_label(y.fiscal_year) for y in d.trend]
        story.append(bar_chart(
            ["Received", "Approved", "Denied", "Fulfilled"],
            [(label, [y.received, y.approved, y.denied, y.fulfilled]) for label, y in zip(years, d.trend, strict=True)],
            title="Requests, this year and the two before", height=2.2 * inch, palette=TREND_BARS))
    story.append(PageBreak())
    return story


def _sentences(d: AnnualReportData) -> list[str]:
    """Plain-language comparisons with last year."""
    if len(d.trend) < 2:
        return []
    now, before = d.trend[-1], d.trend[-2]
    out = []
    for what, a, b in (("Requests received", before.received, now.received),
                       ("Requests fulfilled", before.fulfilled, now.fulfilled),
                       ("Matches run", before.matches_run, now.matches_run)):
        if a == b:
            out.append(f"{what}: {number(b)}, the same as the year before.")
        else:
            out.append(f"{what}: {number(b)}, {'up' if b > a else 'down'} from {number(a)} the year before.")
    return out


def _outcome_table(rows: tuple[Outcomes, ...], first: str, total: Outcomes | None) -> Table:
    cols = [Column(first, 3.2), Column("Received", 1, True), Column("Approved", 1, True),
            Column("Denied", 1, True), Column("Fulfilled", 1, True)]
    body = [[r.label, number(r.received), number(r.approved), number(r.denied), number(r.fulfilled)] for r in rows]
    tot = None if total is None else ["All requests", number(total.received), number(total.approved),
                                      number(total.denied), number(total.fulfilled)]
    return table(cols, body, total=tot)


def _requests(d: AnnualReportData) -> list[Flowable]:
    story: list[Flowable] = heading("Data requests")
    story.append(text("A request is counted under every agency whose data it asks for, so the agency rows add "
                      "up to more than the number of requests. Approved, denied and fulfilled count decisions "
                      "and deliveries made this year, whenever the request was received."))
    story += heading("By participating agency", 2)
    active = tuple(r for r in d.by_agency if r.received or r.approved or r.denied or r.fulfilled)
    story.append(_outcome_table(active, "Agency", None) if active else text("No requests involved any agency."))
    if active:
        story.append(Spacer(1, 8))
        story.append(bar_chart([r.label for r in active], [("Received", [r.received for r in active]),
                                                          ("Fulfilled", [r.fulfilled for r in active])],
                               title="Requests received and fulfilled, by agency", horizontal=True))
    types = tuple(r for r in d.by_recipient_type if r.received or r.approved or r.denied or r.fulfilled)
    block: list[Flowable] = [text("By type of recipient", "h2"), _outcome_table(types, "Recipient type", d.totals)]
    if sum(r.received > 0 for r in types) > 1:  # a one-wedge pie says nothing the table does not
        block += [Spacer(1, 6), pie_chart([r.label for r in types], [r.received for r in types],
                                          title="Requests received, by type of recipient")]
    story.append(keep(*block))
    return story


def _timeliness(d: AnnualReportData) -> list[Flowable]:
    story: list[Flowable] = heading("Time to agreement and to delivery")
    cols = [Column("Step", 3.2), Column("Requests", 1, True), Column("Median", 1, True),
            Column("90th percentile", 1.2, True)]
    rows = [["From inquiry received to DSA signed by all parties", number(d.inquiry_to_dsa.count),
             days(d.inquiry_to_dsa.median), days(d.inquiry_to_dsa.p90)],
            ["From DSA signed to data delivered to the recipient", number(d.dsa_to_delivery.count),
             days(d.dsa_to_delivery.median), days(d.dsa_to_delivery.p90)]]
    story.append(table(cols, rows))
    story.append(footnote("Calendar days, for the requests that completed the step during the year. "
                          "The 90th percentile is the time within which nine in ten finished."))
    return story


def _agreements(d: AnnualReportData) -> list[Flowable]:
    story: list[Flowable] = heading("Agreements, matching and destruction of data")
    story.append(text(f"{number(d.active_dsas)} data sharing agreements were in force at the end of the year. "
                      f"The hub ran {number(d.matches_run)} matches on {number(d.files_matched)} files received "
                      "from the agencies."))
    story += heading("Destruction compliance", 2)
    cols = [Column("Obligation", 3.2), Column("On time", 1, True), Column("Late", 1, True),
            Column("Outstanding", 1, True)]
    rows = [[c.label, number(c.on_time), number(c.late), number(c.outstanding)] for c in d.compliance]
    tot = ["All obligations", number(sum(c.on_time for c in d.compliance)),
           number(sum(c.late for c in d.compliance)), number(sum(c.outstanding for c in d.compliance))]
    story.append(table(cols, rows, total=tot))
    story.append(footnote("Obligations that fell due during the year: hub input files within five business days "
                          "of the stewards confirming a match (24 hours when independent-college data is "
                          "involved); recipients by the destroy-by date in their agreement. Outstanding = past "
                          "due and not yet destroyed."))
    split = [sum(getattr(c, f) for c in d.compliance) for f in ("on_time", "late", "outstanding")]
    if sum(v > 0 for v in split) > 1:  # a one-wedge pie says nothing the table does not
        story.append(pie_chart(["On time", "Late", "Outstanding"], split,
                               title="Destruction obligations due this year"))
    story += heading("Publications approved for release", 2)
    if d.publications:
        story.append(table([Column("Request", 0.9), Column("Publication", 4), Column("Approved", 1.3)],
                           [[p.request_number, p.title, long_date(p.approved_on)] for p in d.publications]))
    else:
        story.append(text("No publications were approved for release this year."))
    story += heading("Data users who signed non-disclosure agreements", 2)
    story += _people(d)
    return story


def _people(d: AnnualReportData) -> list[Flowable]:
    p = d.data_users
    if not p.row_labels or not any(any(r) for r in p.counts):
        return [text("No data user signed a non-disclosure agreement this year.")]
    s = suppress(p.counts)
    grand = (s.n_rows, s.n_cols)
    cols = ([Column("Recipient type", 2.4)] + [Column(c, 0.8, True) for c in p.col_labels]
            + [Column("Total", 0.9, True), Column("Share", 0.9, True)])
    rows = [[label] + [s.text(i, j) for j in range(s.n_cols + 1)] + [s.share(i, s.n_cols, of=grand)]
            for i, label in enumerate(p.row_labels)]
    tot = ["Total"] + [s.text(s.n_rows, j) for j in range(s.n_cols + 1)] + [s.share(*grand, of=grand)]
    out: list[Flowable] = [text(p.title), table(cols, rows, total=tot)]
    if s.any_withheld:
        out.append(footnote(FOOTNOTE))
    return out


def _money(d: AnnualReportData) -> list[Flowable]:
    story: list[Flowable] = heading("Budget, fees and fund distributions")
    story += heading("Budget and actual spending by line item", 2)
    if d.budget or d.unbudgeted_actual_cents:
        cols = [Column("Line item", 2.6), Column("Budget", 1.3, True), Column("Actual", 1.3, True),
                Column("Remaining", 1.3, True), Column("Spent", 0.9, True)]
        rows = [[b.line_item, money(b.budget_cents), money(b.actual_cents), money(b.budget_cents - b.actual_cents),
                 percent(b.actual_cents, b.budget_cents)] for b in d.budget]
        if d.unbudgeted_actual_cents:
            rows.append(["Spending not assigned to a line item", money(0), money(d.unbudgeted_actual_cents),
                         money(-d.unbudgeted_actual_cents), "–"])
        budget = sum(b.budget_cents for b in d.budget)
        actual = sum(b.actual_cents for b in d.budget) + d.unbudgeted_actual_cents
        story.append(table(cols, rows, total=["Total", money(budget), money(actual), money(budget - actual),
                                              percent(actual, budget)]))
        story.append(footnote("A negative amount remaining is spending over the budgeted amount."))
        story.append(Spacer(1, 8))
        story.append(bar_chart([b.line_item for b in d.budget],
                               [("Budget", [b.budget_cents / 100 for b in d.budget]),
                                ("Actual", [b.actual_cents / 100 for b in d.budget])],
                               title="Budget and actual, by line item (dollars)", horizontal=True,
                               fmt=lambda v: f"${v:,.0f}"))
    else:
        story.append(text("No budget was recorded for this fiscal year."))
    story += heading("Fees", 2)
    story.append(table([Column("Fees", 4), Column("Amount", 1.5, True)],
                       [["Invoiced to data recipients this year", money(d.fees_invoiced_cents)],
                        ["Collected this year (for invoices of any year)", money(d.fees_collected_cents)]]))
    story += heading("Funds distributed to agencies", 2)
    if d.distributions:
        story.append(table([Column("Agency", 4), Column("Amount", 1.5, True)],
                           [[a.label, money(a.cents)] for a in d.distributions],
                           total=["Total", money(sum(a.cents for a in d.distributions))]))
    else:
        story.append(text("No funds were distributed to agencies this year."))
    return story


def _trend(d: AnnualReportData) -> list[Flowable]:
    if len(d.trend) < 2:
        return []
    years = [fiscal_year_label(y.fiscal_year) for y in d.trend]
    cols = [Column("Measure", 2.6)] + [Column(y, 1, True) for y in years]
    rows = [
        ["Requests received"] + [number(y.received) for y in d.trend],
        ["Requests approved"] + [number(y.approved) for y in d.trend],
        ["Requests denied"] + [number(y.denied) for y in d.trend],
        ["Requests fulfilled"] + [number(y.fulfilled) for y in d.trend],
        ["Matches run"] + [number(y.matches_run) for y in d.trend],
        ["Publications approved"] + [number(y.publications) for y in d.trend],
        ["Fees collected"] + [money(y.fees_collected_cents) for y in d.trend],
    ]
    story: list[Flowable] = [keep(text("Trend against the two previous years", "h1"), table(cols, rows))]
    story.append(Spacer(1, 10))
    story.append(line_chart(MONTHS, [(y, list(t.monthly_received)) for y, t in zip(years, d.trend, strict=True)],
                            title="Requests received each month", palette=TREND_LINES,
                            dashes=TREND_DASHES))
    return story


def _notes() -> list[Flowable]:
    story: list[Flowable] = heading("About these figures", 2)
    for line in (
        "Connecticut's fiscal year runs from July 1 to June 30 and is named by the year in which it ends.",
        "Received: requests logged during the year. Approved and denied: Data Governing Board decisions during "
        "the year. Fulfilled: requests whose linked data were delivered to the recipient during the year.",
        "Counts of people (such as data users) below six are withheld, with further cells withheld where needed "
        "so that a withheld count cannot be worked out from the totals.",
        "All figures come from the P20 WIN Desk record of requests, agreements, the hub's match log and the "
        "Operating Group's accounts.",
    ):
        story.append(text(line, "small"))
    return story
