"""A recorded run's results: estimates, passes, the weight histogram, m/u per comparison, and every linked
pair with the "why" of its weight.

``RunResults`` needs nothing but a ``RunInfo`` (the match wizard's last step embeds it); ``ResultsTab`` is
the hub page's tab that picks any recorded run of the current request.
"""
from __future__ import annotations

import operator
from pathlib import Path

import pandas as pd
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job, error_text
from app.services.errors import ServiceError
from app.services.hub import RunInfo, load_links, why
from app.views.hub.charts import LevelChart, WeightHistogram, WeightWaterfall, weight_of
from app.views.hub.common import fill_runs
from app.views.list_page import SEARCH_DELAY_MS
from app.views.request_detail import SimpleTable
from app.views.table import RIGHT, Column, column_cache
from app.views.widgets import heading

PASS_COLUMNS = [
    Column("name", "Pass", "name", width=110), Column("kind", "Kind", "kind", width=95),
    Column("pairs", "Pairs", "pairs", width=70), Column("matches", "Matches", "matches", width=80),
    Column("review", "To review", "review", width=70),
]
MU_COLUMNS = [
    Column("comparison", "Compared", "comparison", width=100), Column("level", "Level", "label", width=160),
    Column("m", "m", "m", display=lambda v: f"{v:.4f}", width=65,
           tooltip=lambda r: "share of true matches at this level"),
    Column("u", "u", "u", display=lambda v: f"{v:.6f}", width=80,
           tooltip=lambda r: "share of non-matches at this level"),
    Column("weight", "Weight", "weight", display=lambda v: f"{v:+.2f}", width=60),
]
# A linked pair is a tuple (row in load_links' frame, left, right, weight, probability, pass): itemgetter
# columns keep a 800k-row crosswalk's per-column work in C. Numbers arrive as text and sort as numbers.
LOAD_CHUNK = 10_000
LINK_COLUMNS = [
    Column("left", "Left ID", operator.itemgetter(1), width=100),
    Column("right", "Right ID", operator.itemgetter(2), width=100),
    Column("weight", "Weight", operator.itemgetter(3), sort_key=float, align=RIGHT, width=68),
    Column("probability", "Probability", operator.itemgetter(4), sort_key=float, align=RIGHT, width=92),
    Column("pass", "Pass", operator.itemgetter(5), width=90),
]
# A crosswalk larger than this (about 20,000 pairs) is read on a worker thread.
LARGE_CROSSWALK_BYTES = 1_000_000


class _Level:  # a row of the m/u table
    __slots__ = ("comparison", "label", "m", "u", "weight")

    def __init__(self, comparison: str, level: dict):
        self.comparison, self.label = comparison, level["label"]
        self.m, self.u, self.weight = float(level["m"]), float(level["u"]), float(level["weight"])


class _Pass:
    __slots__ = ("name", "kind", "pairs", "matches", "review")

    def __init__(self, p: dict):
        self.name, self.kind = p.get("name", ""), p.get("kind", "")
        self.pairs, self.matches, self.review = p.get("pairs"), p.get("matches"), p.get("review")


def estimates_text(run: RunInfo) -> str:
    """The run's estimates and thresholds in one sentence."""
    e, t = run.record.get("estimates", {}), run.record.get("thresholds", {})
    nan = float("nan")
    return (f"Estimated precision {e.get('precision', nan):.3f}, recall {e.get('recall', nan):.3f}, "
            f"F1 {e.get('f1', nan):.3f}; expected false matches {e.get('expected_false_matches', 0):.0f}, "
            f"missed {e.get('expected_missed_matches', 0):.0f}. Thresholds: review band "
            f"{t.get('lower', 0):.4f}–{t.get('upper', 0):.4f}, accepted from {t.get('threshold', 0):.4f}. "
            f"Method {run.method}.")


def link_rows(run: RunInfo) -> tuple[pd.DataFrame, list[tuple], tuple]:
    """The run's crosswalk (``load_links``), one row tuple per pair for the links table and the table's
    column cache (any thread: at 800k pairs the cache is about a second the GUI thread does not spend).

    Made in chunks: a C loop over 800k rows holds the GIL for tens of milliseconds, which the window's
    thread would wait for when this runs on a worker thread."""
    links = load_links(run, chunk_rows=LOAD_CHUNK)
    rows: list[tuple] = []
    values: dict[int, list] = {n: [] for n in range(len(LINK_COLUMNS))}
    display: dict[int, list[str]] = {n: [] for n in range(len(LINK_COLUMNS))}
    for start in range(0, len(links), LOAD_CHUNK):
        part = links.iloc[start:start + LOAD_CHUNK]
        weights = [f"{w:.2f}" for w in pd.to_numeric(part["match_weight"], errors="coerce").fillna(0.0)]
        part_rows = list(zip(range(start, start + len(part)), part["left_id"], part["right_id"], weights,
                             part["match_probability"], part["pass"]))
        part_values, part_display = column_cache(LINK_COLUMNS, part_rows)
        rows += part_rows
        for n in values:
            values[n] += part_values[n]
            display[n] += part_display[n]
    return links, rows, (values, display)


def has_levels(run: RunInfo, links: pd.DataFrame) -> bool:
    """Whether the run kept each linked pair's comparison levels (runs before crosswalk_levels.npy did not)."""
    compared = run.record.get("parameters", {}).get("comparisons", [])
    return bool(compared) and all(f"{c['name']}_level" in links.columns for c in compared)


class RunResults(QWidget):
    """One run's results; ``set_run(run)`` shows it (None clears). Setting the run already shown keeps its
    loaded crosswalk, so callers may call it on every refresh. Embeddable anywhere: it asks nothing of its
    parent. ``links`` is the crosswalk frame once loaded (``load_links``); ``loading`` the running Job."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run: RunInfo | None = None
        self.links = pd.DataFrame()
        self.loading: Job | None = None
        self._shown: tuple | None = None
        self.estimates = QLabel(objectName="muted", wordWrap=True)
        self.estimates.setTextFormat(Qt.TextFormat.PlainText)
        self.estimates.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.passes = SimpleTable(PASS_COLUMNS, "No run yet.")
        self.passes.view.setAccessibleName("Passes")
        self.histogram = WeightHistogram()
        self.level_chart = LevelChart()
        chart_scroll = QScrollArea()
        chart_scroll.setWidget(self.level_chart)
        chart_scroll.setWidgetResizable(True)
        chart_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        chart_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.levels = SimpleTable(MU_COLUMNS, "No run yet.")
        self.levels.view.setAccessibleName("m and u per comparison level, as numbers")
        self.level_stack = QStackedWidget()
        self.level_stack.addWidget(chart_scroll)
        self.level_stack.addWidget(self.levels)
        self.numbers = QPushButton("Show numbers")
        self.numbers.setCheckable(True)
        self.numbers.setAccessibleName("Show m and u as a table")
        self.numbers.toggled.connect(self._toggle_numbers)
        for table in (self.passes, self.levels):
            table.set_rows([])

        summary = QWidget()
        grid = QGridLayout(summary)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(heading("Passes"), 0, 0)
        grid.addWidget(self.passes, 1, 0)
        grid.addWidget(heading("Match weights and thresholds"), 2, 0)
        grid.addWidget(self.histogram, 3, 0)
        level_title = QHBoxLayout()
        level_title.addWidget(heading("m and u per comparison level"), 1)
        level_title.addWidget(self.numbers)
        grid.addLayout(level_title, 0, 1)
        grid.addWidget(self.level_stack, 1, 1, 3, 1)
        grid.setRowStretch(3, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        self.search = QLineEdit(placeholderText="Search an ID, weight or pass…", clearButtonEnabled=True)
        self.search.setAccessibleName("Search linked pairs")
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(self._apply_search)
        self.count = QLabel(objectName="count")
        self.pairs = SimpleTable(LINK_COLUMNS, "No run yet.")
        self.pairs.view.setAccessibleName("Linked pairs")
        self.pairs.view.setSelectionMode(self.pairs.view.SelectionMode.SingleSelection)
        self.pairs.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_why())
        for signal in (self.pairs.proxy.modelReset, self.pairs.proxy.layoutChanged):
            signal.connect(self._update_count)
        self.pairs.set_rows([])
        self.waterfall = WeightWaterfall()
        self.why_note = QLabel(objectName="muted", wordWrap=True)
        self.why_note.setTextFormat(Qt.TextFormat.PlainText)
        self.why_note.setAccessibleName("Why unavailable")
        self.why_note.hide()

        links = QWidget()
        links_layout = QGridLayout(links)
        links_layout.setContentsMargins(0, 0, 0, 0)
        search_row = QHBoxLayout()
        search_row.addWidget(heading("Linked pairs"))
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.count)
        links_layout.addLayout(search_row, 0, 0)
        links_layout.addWidget(self.pairs, 1, 0, 2, 1)
        links_layout.addWidget(heading("Why: each field's contribution to the match weight"), 0, 1)
        links_layout.addWidget(self.why_note, 1, 1)
        links_layout.addWidget(self.waterfall, 2, 1)
        links_layout.setRowStretch(2, 1)
        links_layout.setColumnStretch(0, 5)
        links_layout.setColumnStretch(1, 6)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(summary)
        split.addWidget(links)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.estimates)
        layout.addWidget(split, 1)

    # -- the run ------------------------------------------------------------------------------------------
    def set_run(self, run: RunInfo | None, *, blind: bool = False) -> None:
        """Show ``run`` (None: nothing). The crosswalk loads at once when small, else on a worker thread.

        blind: a two-person review is still open: the linked pairs would show a reviewer the model's decisions
        that round 2 hides, so they are not listed."""
        self.run = run
        record = run.record if run is not None else {}
        self.estimates.setText(estimates_text(run) if run is not None else "No run yet.")
        self.passes.set_rows([_Pass(p) for p in record.get("passes", [])])
        view = self.passes.view  # a handful of passes: no taller than its rows, the histogram gets the rest
        view.setFixedHeight(view.horizontalHeader().sizeHint().height() + 2 * view.frameWidth() + 2
                            + view.verticalHeader().defaultSectionSize() * max(1, len(record.get("passes", []))))
        self.levels.set_rows([_Level(c["name"], lv) for c in record.get("parameters", {}).get("comparisons", [])
                              for lv in c["levels"]])
        self.histogram.set_run(record)
        self.level_chart.set_run(record)
        key = None if run is None else (run.id, run.out_dir, run.destroyed_at, blind)
        if key == self._shown:
            return
        self._shown = key
        self._set_links(pd.DataFrame(), [])
        if run is None:
            self._note("")
        elif blind:
            self._note("This run has a blind two-person review that is not finished: its linked pairs are listed "
                       "once the second reviewer has decided every pair, so that neither reviewer sees the "
                       "model's decisions here.")
        elif run.destroyed_at is not None:
            self._note(f"The working files of run {run.id} were destroyed on {run.destroyed_at:%Y-%m-%d}, so its "
                       "linked pairs are gone. The figures above are kept in the run record.")
        elif _size(Path(run.out_dir) / "crosswalk.tsv") > LARGE_CROSSWALK_BYTES:
            self._note("Reading the linked pairs…")
            job = self.loading = Job(self, lambda ctx: link_rows(run))
            job.success(lambda result: self._loaded(key, *result)).failure(lambda e: self._failed(key, e))
            job.run_in_background()
        else:
            try:
                self._loaded(key, *link_rows(run))
            except (ServiceError, OSError, ValueError, KeyError) as error:  # a damaged crosswalk, in words
                self._failed(key, error)

    def _loaded(self, key: tuple, links: pd.DataFrame, rows: list[tuple], cache: tuple) -> None:
        if key != self._shown:  # another run was chosen while this one loaded
            return
        self._set_links(links, rows, cache)
        if not rows:
            self._note("This run linked no pairs.")
        elif not has_levels(self.run, links):
            self._note("This run was made before each linked pair's comparison levels were kept, so the why of "
                       "a linked pair cannot be shown (the levels are not kept). The Review tab explains the "
                       "review band's pairs; a new run keeps the levels of every pair.")
        else:
            self._note("")

    def _failed(self, key: tuple, error: BaseException) -> None:
        if key != self._shown:
            return
        reason = error_text(error) if isinstance(error, ServiceError) else (
            "its crosswalk.tsv cannot be read as a crosswalk (damaged, or changed by hand).")
        self._note(f"The linked pairs cannot be shown: {reason}")

    def _set_links(self, links: pd.DataFrame, rows: list[tuple], cache: tuple | None = None) -> None:
        self.links = links
        self.pairs.set_rows(rows, cache)
        self.waterfall.set_parts([])
        self._update_count()

    def _note(self, text: str) -> None:
        self.why_note.setText(text)
        self.why_note.setVisible(bool(text))

    # -- the linked pairs ---------------------------------------------------------------------------------
    def _apply_search(self) -> None:
        self._search_timer.stop()
        self.pairs.proxy.set_search(self.search.text())
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.pairs.proxy.rowCount(), self.pairs.model.rowCount()
        self.count.setText(f"{shown:,} of {total:,} pairs" if shown != total else f"{total:,} pairs")

    def selected_pair(self) -> pd.Series | None:
        """The crosswalk row of the pair selected in the links table, or None."""
        row = self.pairs.selected()
        return None if row is None or self.links.empty else self.links.iloc[row[0]]

    def _show_why(self) -> None:
        pair = self.selected_pair()
        if pair is None or self.run is None or not has_levels(self.run, self.links):
            self.waterfall.set_parts([])
            return
        threshold = self.run.record.get("thresholds", {}).get("threshold")
        self.waterfall.set_parts(why(self.run.record, pair), weight_of(threshold) if threshold else None)

    def _toggle_numbers(self, on: bool) -> None:
        self.level_stack.setCurrentIndex(1 if on else 0)
        self.numbers.setText("Show chart" if on else "Show numbers")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # missing: load_links says so in its own words


class ResultsTab(QWidget):
    """The hub page's Results tab: any recorded run of the current request, newest first."""

    def __init__(self, page):  # noqa: ANN001 - HubPage
        super().__init__()
        self.page = page
        self._runs: dict[int, RunInfo] = {}
        self.runs = QComboBox()
        self.runs.setAccessibleName("Run")
        self.runs.currentIndexChanged.connect(lambda _: self._show())
        self.results = RunResults()
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.runs, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)

    def request_changed(self) -> None:
        # A hidden tab does not read a crosswalk nobody looks at; the page refreshes a tab when it is shown.
        if self.isVisible():
            self.refresh()
        else:
            self.runs.blockSignals(True)
            self.runs.clear()
            self.runs.blockSignals(False)
            self._runs = {}
            self.results.set_run(None)

    def refresh(self) -> None:
        rid = self.page.request_id()
        runs = list(reversed(self.page.hub.runs(rid))) if rid is not None else []
        fill_runs(self.runs, runs, run_label)
        self._runs = {r.id: r for r in runs}
        self._show()

    def _show(self) -> None:
        run = self._runs.get(self.runs.currentData())
        self.results.set_run(run, blind=run is not None and run.two_person_review and not self._reviewed(run))

    def _reviewed(self, run: RunInfo) -> bool:
        """Round 2 of a two-person review has decided every review pair (or the working files are gone).

        Counted against the run record's review figure, not review.tsv: reading that file on the GUI thread
        at every refresh took ~0.3 s for a large run."""
        if run.destroyed_at is not None:
            return True
        decided = {(d.left_id, d.right_id) for d in self.page.hub.decisions(run.id, round=2) if d.decision != "skip"}
        return len(decided) >= sum(p.get("review") or 0 for p in run.record.get("passes", []))


def run_label(run: RunInfo) -> str:
    """How a run reads in a picker: id, date, method and its counts."""
    passes = run.record.get("passes", [])
    linked, review = sum(p.get("matches") or 0 for p in passes), sum(p.get("review") or 0 for p in passes)
    gone = " — working files destroyed" if run.destroyed_at is not None else ""
    return (f"Run {run.id} — {run.finished_at:%Y-%m-%d %H:%M} UTC — {run.method} — {linked:,} linked, "
            f"{review:,} to review{gone}")
