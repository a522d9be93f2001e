"""The reusable list screen: title, actions, search box, column filters, drill-down chips, a sortable
multi-select table, export to CSV/XLSX and print. Every entity list in the application is one of these."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job, JobCancelled, show_error
from app.export import write_table
from app.views.table import ROW_ROLE, Column, RowFilterProxy, RowTableModel
from app.views.widgets import clear_layout

# Printing goes through QTextDocument; beyond this many rows it is slow and a waste of paper.
PRINT_ROW_LIMIT = 2000
SEARCH_DELAY_MS = 150  # typing pauses this long before a 100k-row list refilters


def _row_key(row: Any) -> Any:
    return getattr(row, "id", None) if row is not None else None


class DataTable(QTableView):
    """A table view set up for large lists: fixed row height, no row header, sort by clicking headers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setShowGrid(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        vertical.hide()
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # keep the services' order until asked
        self.setSortingEnabled(True)


class ListPage(QWidget):
    """A list of row objects shown through ``columns``.

    Signals: ``activated(row)`` on double-click or Enter; ``selection_changed()``.
    ``settings_key`` names where column widths, order and sort are remembered (QSettings).
    """

    activated = Signal(object)
    selection_changed = Signal()

    def __init__(
        self,
        title: str,
        columns: Sequence[Column],
        *,
        settings_key: str,
        empty_text: str = "Nothing here yet.",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.title = title
        self.settings_key = settings_key
        self.model = RowTableModel(columns, parent=self)
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._filter_combos: dict[int, QComboBox] = {}
        self._empty_text = empty_text
        self.export_job: Job | None = None

        heading = QLabel(title, objectName="pageTitle")
        self.actions_bar = QHBoxLayout()
        self.actions_bar.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addLayout(self.actions_bar)

        self.search = QLineEdit(placeholderText="Search…  (Ctrl+F)", clearButtonEnabled=True)
        self.search.setAccessibleName(f"Search {title}")
        self.search.setMinimumWidth(240)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.proxy.set_search(self.search.text()))
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(lambda: (self._search_timer.stop(), self.proxy.set_search(self.search.text())))

        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(self.search)
        for number, column in enumerate(columns):
            if column.filterable:
                combo = QComboBox()
                combo.setAccessibleName(f"Filter by {column.title}")
                combo.setMinimumContentsLength(10)
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                combo.currentIndexChanged.connect(lambda _, n=number: self._combo_changed(n))
                self._filter_combos[number] = combo
                filters.addWidget(combo)
        self.chips = QHBoxLayout()
        self.chips.setSpacing(4)
        filters.addLayout(self.chips)
        filters.addStretch(1)
        self.count_label = QLabel(objectName="count")
        filters.addWidget(self.count_label)
        more = QToolButton(text="Export / Print", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        more.setAccessibleName(f"Export or print {title}")
        menu = QMenu(more)
        self.export_csv_action = menu.addAction("Export to CSV…", lambda: self.export_dialog("csv"))
        self.export_xlsx_action = menu.addAction("Export to Excel (XLSX)…", lambda: self.export_dialog("xlsx"))
        menu.addSeparator()
        self.print_action = menu.addAction("Print…", self.print_dialog)
        more.setMenu(menu)
        filters.addWidget(more)

        self.table = DataTable()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(f"{title} table")
        self.table.doubleClicked.connect(lambda index: self.activated.emit(index.data(ROW_ROLE)))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.selection_changed.emit())
        header = self.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        for number, column in enumerate(columns):
            if column.width:
                self.table.setColumnWidth(number, column.width)
            if column.hidden:
                self.table.setColumnHidden(number, True)

        open_row = QAction("Open", self.table, shortcut=QKeySequence(Qt.Key.Key_Return))
        open_row.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        open_row.triggered.connect(self._activate_current)
        self.table.addAction(open_row)
        find = QAction("Find", self, shortcut=QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: (self.search.setFocus(), self.search.selectAll()))
        self.addAction(find)

        self.empty = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, objectName="muted", wordWrap=True)
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)

        for signal in (self.proxy.modelReset, self.proxy.layoutChanged, self.proxy.rowsInserted, self.proxy.rowsRemoved):
            signal.connect(self._update_count)
        self._restore_state()
        self._update_count()

    # -- content ------------------------------------------------------------------------------------------
    def add_action(self, text: str, slot: Callable[[], Any], *, primary: bool = False, name: str = "") -> QPushButton:
        """A button in the page's top-right action bar (e.g. "New request")."""
        button = QPushButton(text)
        button.setAccessibleName(name or text)
        if primary:
            button.setProperty("primary", True)
        button.clicked.connect(slot)
        self.actions_bar.addWidget(button)
        return button

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Show these rows; search, filters, sort and the selected rows (matched by ``id``) stay as they were."""
        current = _row_key(self.current_row())
        selected = {_row_key(r) for r in self.selected_rows()} - {None}
        self.model.set_rows(rows)
        self._refresh_filter_choices()
        self._update_count()
        if current is not None or selected:
            self._reselect(current, selected)

    def _reselect(self, current: Any, selected: set[Any]) -> None:
        order = self.model.display_order()
        rows = self.model.rows
        wanted = selected | {current}
        position = {_row_key(rows[source]): model_row for model_row, source in enumerate(order)
                    if _row_key(rows[source]) in wanted}
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for key in selected:
            if key in position:
                index = self.proxy.mapFromSource(self.model.index(position[key], 0))
                if index.isValid():
                    selection.select(index, flags)
        if current in position:
            index = self.proxy.mapFromSource(self.model.index(position[current], 0))
            if index.isValid():
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)

    def selected_rows(self) -> list[Any]:
        return [index.data(ROW_ROLE) for index in self.table.selectionModel().selectedRows()]

    def current_row(self) -> Any | None:
        index = self.table.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def shown_rows(self) -> list[Any]:
        return self.proxy.rows()

    # -- filters ------------------------------------------------------------------------------------------
    def set_drilldown(self, key: str, label: str, keep: Callable[[Any], bool]) -> None:
        """Show only rows for which ``keep(row)`` holds, with a removable chip saying ``label``."""
        self.proxy.set_predicate(key, label, keep)
        self._rebuild_chips()

    def clear_filters(self) -> None:
        self.search.clear()
        for combo in self._filter_combos.values():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.proxy.clear_filters()
        self._rebuild_chips()

    def set_column_filter(self, key: str, value: str | None) -> None:
        """Pick ``value`` (a displayed value) in the filter drop-down of column ``key``; None shows all."""
        number = next(n for n, c in enumerate(self.model.columns) if c.key == key)
        combo = self._filter_combos[number]
        position = 0 if value is None else combo.findData(value)
        if position < 0:  # a value no row has yet: still filter by it so the list is honestly empty
            combo.addItem(value, value)
            position = combo.count() - 1
        combo.setCurrentIndex(position)

    def _combo_changed(self, column: int) -> None:
        value = self._filter_combos[column].currentData()
        self.proxy.set_column_filter(column, None if value is None else {value})

    def _refresh_filter_choices(self) -> None:
        for column, combo in self._filter_combos.items():
            chosen = combo.currentData()
            values = sorted({v for v in self.model.display_values(column) if v}, key=str.casefold)
            if chosen is not None and chosen not in values:
                values.append(chosen)
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(f"Any {self.model.columns[column].title.lower()}", None)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
            combo.blockSignals(False)

    def _rebuild_chips(self) -> None:
        clear_layout(self.chips)
        for key, label in self.proxy.predicates().items():
            chip = QPushButton(f"{label}  ✕", objectName="chip")
            chip.setToolTip("Remove this filter")
            chip.setAccessibleName(f"Remove filter {label}")
            chip.clicked.connect(lambda _=False, k=key: (self.proxy.set_predicate(k, "", None), self._rebuild_chips()))
            self.chips.addWidget(chip)
        self._update_count()

    def _update_count(self, *_: object) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,}" if shown != total else f"{total:,} rows" if total != 1 else "1 row")
        if total == 0:
            self.empty.setText(self._empty_text)
            self.stack.setCurrentWidget(self.empty)
        elif shown == 0:
            self.empty.setText("No rows match the search and filters. Clear them to see every row.")
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.table)

    def _activate_current(self) -> None:
        row = self.current_row()
        if row is not None:
            self.activated.emit(row)

    def _header_menu(self, position) -> None:
        menu = QMenu(self)
        for number, column in enumerate(self.model.columns):
            action = menu.addAction(column.title)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(number))
            action.toggled.connect(lambda on, n=number: self.table.setColumnHidden(n, not on))
        menu.exec(self.table.horizontalHeader().mapToGlobal(position))

    # -- export and print ---------------------------------------------------------------------------------
    def visible_columns(self) -> list[int]:
        header = self.table.horizontalHeader()
        return [header.logicalIndex(v) for v in range(header.count()) if not header.isSectionHidden(header.logicalIndex(v))]

    def table_text(self) -> tuple[list[str], list[list[str]]]:
        """Headers and cell texts of what is shown (filtered rows, display order, visible columns)."""
        columns = self.visible_columns()
        headers = [self.model.columns[c].title for c in columns]
        sources = self.proxy.shown_indexes()
        cells = [self.model.display_values(c) for c in columns]
        return headers, [[column[s] for column in cells] for s in sources]

    def export(self, path: Path) -> int:
        """Write what is shown to ``path`` (.csv or .xlsx); returns the number of rows written."""
        headers, rows = self.table_text()
        write_table(path, headers, rows, sheet_title=self.title)
        return len(rows)

    def export_dialog(self, kind: str) -> None:
        suffix = ".xlsx" if kind == "xlsx" else ".csv"
        name = self.title.lower().replace(" ", "-").replace("&", "and") + suffix
        start = QSettings().value("paths/export", str(Path.home()))
        chosen, _ = QFileDialog.getSaveFileName(
            self, f"Export {self.title}", str(Path(start) / name),
            "Excel workbook (*.xlsx)" if kind == "xlsx" else "CSV file (*.csv)",
        )
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() != suffix:
            path = path.with_suffix(suffix)
        QSettings().setValue("paths/export", str(path.parent))
        self.export_in_background(path)

    def export_in_background(self, path: Path) -> Job:
        """Export what is shown to ``path`` as a job (progress, Cancel); a cancelled export leaves no file."""
        headers, rows = self.table_text()

        def counted(ctx):
            # Progress and cancel between rows; a cancel leaves no file (write_table cleans up).
            for number, row in enumerate(rows):
                if number % 2000 == 0:
                    ctx.check()
                    ctx.progress(number / max(1, len(rows)), f"{number:,} of {len(rows):,} rows written")
                yield row

        def done(_: object) -> None:
            window = self.window()
            if hasattr(window, "statusBar"):
                window.statusBar().showMessage(f"Exported {len(rows):,} rows to {path}", 8000)

        def failed(error: BaseException) -> None:
            if isinstance(error, OSError):
                QMessageBox.warning(self, "Export failed", f"Could not write {path.name}: {error.strerror or error}.")
            elif not isinstance(error, JobCancelled):
                show_error(self, "Export failed", error)

        self.export_job = (Job(self, lambda ctx: write_table(path, headers, counted(ctx), sheet_title=self.title),
                               title=f"Exporting {self.title}").success(done).failure(failed).run_in_background())
        return self.export_job

    def print_document(self) -> QTextDocument:
        """The shown rows as a printable document (text escaped: cells print as typed, never as markup)."""
        headers, rows = self.table_text()
        head = "".join(f"<th align='left'>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows[:PRINT_ROW_LIMIT]
        )
        note = (f"<p>First {PRINT_ROW_LIMIT:,} of {len(rows):,} rows; export to Excel for the rest.</p>"
                if len(rows) > PRINT_ROW_LIMIT else "")
        document = QTextDocument()
        document.setHtml(
            f"<h2>{html.escape(self.title)}</h2>{note}"
            f"<table border='1' cellspacing='0' cellpadding='3' width='100%'><tr>{head}</tr>{body}</table>"
        )
        return document

    def print_dialog(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.print_document().print_(printer)

    # -- remembered layout --------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = QSettings()
        state = settings.value(f"lists/{self.settings_key}/header")
        if state is not None:
            self.table.horizontalHeader().restoreState(state)
            self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        sort = settings.value(f"lists/{self.settings_key}/sort")
        if sort:
            column, order = (int(x) for x in str(sort).split(","))
            if 0 <= column < len(self.model.columns):
                self.table.sortByColumn(column, Qt.SortOrder(order))

    def save_state(self) -> None:
        """Remember column widths, order, hidden columns and sort (called by the main window on close)."""
        settings = QSettings()
        header = self.table.horizontalHeader()
        settings.setValue(f"lists/{self.settings_key}/header", header.saveState())
        if header.sortIndicatorSection() >= 0:
            settings.setValue(f"lists/{self.settings_key}/sort",
                              f"{header.sortIndicatorSection()},{header.sortIndicatorOrder().value}")
