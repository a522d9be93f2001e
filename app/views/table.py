"""One generic table model over a list of row objects, specialised by column definitions, and its filter proxy.

Built to stay smooth at 100,000 rows: every column's values, display strings and sort keys are computed
once per column with ``map`` (not per ``data()`` call), sorting happens in the source model with one Python
``sort`` over precomputed keys, and filtering computes one boolean per row in bulk into one list of the rows
shown. ``data()`` only indexes lists.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from app.services.finance import format_cents

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object behind an index


def format_value(value: Any) -> str:
    """How a plain value reads in a table: dates as ISO (sortable, unambiguous), enums by a readable label."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return humanise(str(value.value))
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return str(value)


def humanise(code: str) -> str:
    """``board_review`` -> ``Board review``."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def cents(value: int | None) -> str:
    """Money held in cents, as the services keep it: ``123450`` -> ``$1,234.50``."""
    return "" if value is None else format_cents(value)


def _generic_sort_key(value: Any) -> Any:
    # Fallback for columns mixing types: a type tag keeps everything comparable.
    if isinstance(value, Enum):
        value = str(value.value)
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, date):
        return (0, value.toordinal())
    if isinstance(value, bool | int | float | Decimal):
        return (0, value)
    return (1, str(value).casefold())


def _format_column(values: list[Any]) -> list[str]:
    """format_value over a whole column, fast: text passes through, repeated values are formatted once."""
    sample = next((v for v in values if v is not None), None)
    if sample.__class__ is str:
        return [v if v.__class__ is str else format_value(v) for v in values]
    return _map_memo(format_value, values)


def _map_memo(display: Callable[[Any], str], values: list[Any]) -> list[str]:
    """``display`` over a column, once per distinct value (stages, agencies, dates repeat a lot)."""
    memo: dict[Any, str] = {}
    try:
        return [memo[v] if v in memo else memo.setdefault(v, display(v)) for v in values]
    except TypeError:  # unhashable values
        return list(map(display, values))


def column_cache(columns: Sequence[Column], rows: Sequence[Any]) -> tuple[dict[int, list], dict[int, list[str]]]:
    """Every column's raw values and display strings for ``rows``, as :class:`RowTableModel` computes them
    when first shown, for ``set_rows(rows, cache=...)``. Pure Python on plain lists: a worker thread can make
    it for a big table (about 0.2 s a column at 800k rows) so that the GUI thread does not."""
    values = {n: list(map(c.getter, rows)) for n, c in enumerate(columns)}
    return values, {n: _display_column(c, values[n]) for n, c in enumerate(columns)}


def _display_column(column: Column, values: list[Any]) -> list[str]:
    return _format_column(values) if column.display is format_value else _map_memo(column.display, values)


@dataclass(frozen=True)
class Column:
    """How one column shows a row.

    ``value``: attribute name or function of the row giving the raw value (sorting and filtering use it).
    ``display``: formats the raw value (default :func:`format_value`). ``sort_key``: overrides the order.
    ``tooltip``: function of the row giving a tooltip. ``filterable``: offer a drop-down of distinct values.
    ``foreground``: function of the raw value giving a colour name (e.g. overdue dates in red) or None.
    """

    key: str
    title: str
    value: str | Callable[[Any], Any]
    display: Callable[[Any], str] = format_value
    sort_key: Callable[[Any], Any] | None = None
    align: Qt.AlignmentFlag | None = None
    tooltip: Callable[[Any], str] | None = None
    filterable: bool = False
    width: int | None = None
    foreground: Callable[[Any], str | None] | None = None
    hidden: bool = False
    getter: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        getter = operator.attrgetter(self.value) if isinstance(self.value, str) else self.value
        object.__setattr__(self, "getter", getter)


class RowTableModel(QAbstractTableModel):
    """Rows are any objects (frozen dataclasses from the services); columns say how to show them."""

    # Emitted inside the reset, after the new rows are in place: a proxy must refresh its mask before Qt
    # rebuilds its mapping at endResetModel.
    rows_replaced = Signal()

    def __init__(self, columns: Sequence[Column], rows: Iterable[Any] = (), parent=None):
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[Any] = []
        self._order: list[int] = []  # model row -> index into _rows
        self._values: dict[int, list[Any]] = {}
        self._display: dict[int, list[str]] = {}
        self._haystack: list[str] | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._align = [c.align if c.align is not None else None for c in self.columns]
        self.set_rows(rows)

    # -- data in ------------------------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[Any], cache: tuple[dict[int, list], dict[int, list[str]]] | None = None) -> None:
        """Replace every row (keeps the current sort). ``cache``: :func:`column_cache` of these rows."""
        self.beginResetModel()
        self._rows = list(rows)
        self._values, self._display = ({}, {}) if cache is None else (dict(cache[0]), dict(cache[1]))
        self._haystack = None
        self._order[:] = range(len(self._rows))  # in place: the proxy holds this list
        if self._sort is not None:
            self._order[:] = self._sorted_order(*self._sort)
        self.rows_replaced.emit()
        self.endResetModel()

    @property
    def rows(self) -> list[Any]:
        """Every row, in the order given (not the display order)."""
        return self._rows

    def row_at(self, model_row: int) -> Any:
        return self._rows[self._order[model_row]]

    def values(self, column: int) -> list[Any]:
        """Raw values of one column for every row (in :attr:`rows` order), computed once."""
        cached = self._values.get(column)
        if cached is None:
            cached = list(map(self.columns[column].getter, self._rows))
            self._values[column] = cached
        return cached

    def display_values(self, column: int) -> list[str]:
        cached = self._display.get(column)
        if cached is None:
            cached = self._display[column] = _display_column(self.columns[column], self.values(column))
        return cached

    def haystack(self) -> list[str]:
        """Per row, the case-folded text of every column, for the search box."""
        if self._haystack is None:
            columns = [self.display_values(c) for c in range(len(self.columns))]
            self._haystack = ["\x1f".join(cells).casefold() for cells in zip(*columns, strict=True)] if columns else []
        return self._haystack

    # -- Qt model interface -------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display_values(column)[self._order[index.row()]]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = self._align[column]
            if align is None:
                align = self._guess_alignment(column)
            return align
        if role == Qt.ItemDataRole.ToolTipRole:
            tooltip = self.columns[column].tooltip
            if tooltip is not None:
                return tooltip(self.row_at(index.row()))
            text = self.display_values(column)[self._order[index.row()]]
            return text if len(text) > 40 else None  # long text cut by the column: show it whole on hover
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = self.columns[column].foreground
            if colour is not None:
                name = colour(self.values(column)[self._order[index.row()]])
                return QBrush(QColor(name)) if name else None
            return None
        if role == ROW_ROLE:
            return self.row_at(index.row())
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].title
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self.data_alignment(section)
        return None

    def data_alignment(self, column: int) -> Qt.AlignmentFlag:
        align = self._align[column]
        return align if align is not None else self._guess_alignment(column)

    def _guess_alignment(self, column: int) -> Qt.AlignmentFlag:
        # Numbers read right-aligned; decided once per column from its first non-empty value.
        sample = next((v for v in self.values(column) if v is not None), None)
        numeric = isinstance(sample, int | float | Decimal) and not isinstance(sample, bool)
        self._align[column] = RIGHT if numeric else LEFT
        return self._align[column]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder rows by one column; persistent indexes (selection, current row) follow their rows."""
        if not 0 <= column < len(self.columns):
            return
        self.layoutAboutToBeChanged.emit()
        old_order = list(self._order)
        self._sort = (column, order)
        self._order[:] = self._sorted_order(column, order)  # in place: the proxy holds this list
        previous = self.persistentIndexList()
        if previous:
            new_position = [0] * len(self._order)
            for row, source in enumerate(self._order):
                new_position[source] = row
            moved = [self.index(new_position[old_order[p.row()]], p.column()) for p in previous]
            self.changePersistentIndexList(previous, moved)
        self.layoutChanged.emit()

    def _sorted_order(self, column: int, order: Qt.SortOrder) -> list[int]:
        # Empty cells go last in both directions; the rest sort on their own values in one C-level sort.
        reverse = order == Qt.SortOrder.DescendingOrder
        values = self.values(column)
        custom = self.columns[column].sort_key
        keys = list(map(custom, values)) if custom is not None else values
        present = [i for i, v in enumerate(values) if v is not None and v != ""]
        missing = [i for i, v in enumerate(values) if v is None or v == ""]
        if custom is None and values and any(v.__class__ is str for v in (values[i] for i in present[:50])):
            keys = [v.casefold() if isinstance(v, str) else v for v in values]
        try:
            present.sort(key=keys.__getitem__, reverse=reverse)
        except TypeError:  # mixed types or unorderable values
            generic = list(map(_generic_sort_key, values))
            present.sort(key=generic.__getitem__, reverse=reverse)
        return present + missing

    def display_order(self) -> list[int]:
        """The live list mapping model rows to :attr:`rows` indexes (updated in place on sort and reset)."""
        return self._order


class RowFilterProxy(QAbstractProxyModel):
    """Search box + column filters + named predicates over a :class:`RowTableModel`.

    The source model sorts (one Python sort over precomputed keys); this proxy only filters, from a mask
    computed in bulk, and keeps the rows shown as one list of model rows. Not a QSortFilterProxyModel: that
    one asks ``filterAcceptsRow`` of every row on every reset (a Python call each, ~1 s at 800k rows) even
    with no filter; here no filter means no mapping at all, and only the rows on screen are ever mapped.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._search: list[str] = []
        self._column_filters: dict[int, set[str]] = {}
        self._predicates: dict[str, tuple[str, Callable[[Any], bool]]] = {}
        self._mask: list[bool] | None = None
        self._order: list[int] = []
        self._shown: list[int] | None = None      # proxy row -> model row; None: every row, in place
        self._position: dict[int, int] | None = None  # model row -> proxy row, built when first asked
        self._moving: list[tuple[QPersistentModelIndex, int, int]] = []

    def source(self) -> RowTableModel:
        model = self.sourceModel()
        assert isinstance(model, RowTableModel)
        return model

    def setSourceModel(self, model: RowTableModel) -> None:  # noqa: N802 - Qt override
        self.beginResetModel()
        self._order = model.display_order()
        super().setSourceModel(model)
        model.modelAboutToBeReset.connect(self.beginResetModel)
        model.rows_replaced.connect(self._update_mask)
        model.modelReset.connect(self.endResetModel)
        model.layoutAboutToBeChanged.connect(self._before_layout)
        model.layoutChanged.connect(self._after_layout)
        model.dataChanged.connect(self._data_changed)
        model.headerDataChanged.connect(self.headerDataChanged)
        self._update_mask()
        self.endResetModel()

    # -- the filters --------------------------------------------------------------------------------------
    def set_search(self, text: str) -> None:
        """Rows whose text contains every word of ``text`` (case-insensitive)."""
        terms = text.casefold().split()
        if terms != self._search:
            self._search = terms
            self._refilter()

    def set_column_filter(self, column: int, allowed: Iterable[str] | None) -> None:
        """Keep only rows whose displayed value in ``column`` is one of ``allowed``; None clears it."""
        if allowed is None:
            self._column_filters.pop(column, None)
        else:
            self._column_filters[column] = set(allowed)
        self._refilter()

    def column_filter(self, column: int) -> set[str] | None:
        return self._column_filters.get(column)

    def set_predicate(self, key: str, label: str, keep: Callable[[Any], bool] | None) -> None:
        """A named filter over row objects (a dashboard drill-down, e.g. "Overdue destruction"); None clears."""
        if keep is None:
            self._predicates.pop(key, None)
        else:
            self._predicates[key] = (label, keep)
        self._refilter()

    def predicates(self) -> dict[str, str]:
        return {key: label for key, (label, _) in self._predicates.items()}

    def clear_filters(self) -> None:
        self._search, self._column_filters, self._predicates = [], {}, {}
        self._refilter()

    def is_filtered(self) -> bool:
        return bool(self._search or self._column_filters or self._predicates)

    def _data_changed(self, *_: Any) -> None:
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def _refilter(self) -> None:
        if not isinstance(self.sourceModel(), RowTableModel):
            return
        self._before_layout()
        self._mask = self._compute_mask(self.source())
        self._after_layout()

    def _update_mask(self) -> None:
        self._mask = self._compute_mask(self.source())
        self._map_rows()

    def _map_rows(self) -> None:
        mask = self._mask
        self._shown = None if mask is None else [r for r, i in enumerate(self._order) if mask[i]]
        self._position = None

    def _before_layout(self) -> None:
        # Persistent indexes (selection, current row) follow their row object: remember which one each is.
        self.layoutAboutToBeChanged.emit()
        order = self._order
        self._moving = [(p, order[self.mapToSource(p).row()], p.column()) for p in self.persistentIndexList()
                        if p.isValid()]

    def _after_layout(self) -> None:
        self._map_rows()
        if self._moving:
            needed = {i for _, i, _ in self._moving}
            model_row = {i: r for r, i in enumerate(self._order) if i in needed}
            source = self.source()
            old = [p for p, _, _ in self._moving]
            new = [self.mapFromSource(source.index(model_row[i], column)) for _, i, column in self._moving]
            self.changePersistentIndexList(old, new)
            self._moving = []
        self.layoutChanged.emit()

    def _compute_mask(self, model: RowTableModel) -> list[bool] | None:
        if not self.is_filtered():
            return None
        keep = [True] * len(model.rows)
        if self._search:
            terms = self._search
            keep = [all(t in h for t in terms) for h in model.haystack()]
        for column, allowed in self._column_filters.items():
            shown = model.display_values(column)
            keep = [k and s in allowed for k, s in zip(keep, shown, strict=True)]
        for _, predicate in self._predicates.values():
            keep = [k and predicate(row) for k, row in zip(keep, model.rows, strict=True)]
        return keep

    # -- Qt overrides -------------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < self.rowCount() and 0 <= column < self.columnCount()):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, index: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        return QModelIndex()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        model = self.sourceModel()
        if parent.isValid() or model is None:
            return 0
        return model.rowCount() if self._shown is None else len(self._shown)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        model = self.sourceModel()
        return 0 if parent.isValid() or model is None else model.columnCount()

    def mapToSource(self, proxy_index: QModelIndex | QPersistentModelIndex) -> QModelIndex:  # noqa: N802
        model = self.sourceModel()
        if not proxy_index.isValid() or model is None:
            return QModelIndex()
        row = proxy_index.row() if self._shown is None else self._shown[proxy_index.row()]
        return model.index(row, proxy_index.column())

    def mapFromSource(self, source_index: QModelIndex | QPersistentModelIndex) -> QModelIndex:  # noqa: N802
        if not source_index.isValid():
            return QModelIndex()
        if self._shown is None:
            return self.index(source_index.row(), source_index.column())
        if self._position is None:
            self._position = {r: n for n, r in enumerate(self._shown)}
        row = self._position.get(source_index.row())
        return QModelIndex() if row is None else self.index(row, source_index.column())

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal:
            return self.source().headerData(section, orientation, role)
        return section + 1 if role == Qt.ItemDataRole.DisplayRole else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.source().sort(column, order)

    def shown_indexes(self) -> list[int]:
        """Indexes into the model's ``rows`` of the rows shown, in display order (no per-row Qt calls: this
        proxy never reorders, so display order is the model's order filtered by the mask)."""
        mask = self._mask
        return list(self._order) if mask is None else [i for i in self._order if mask[i]]

    def rows(self) -> list[Any]:
        """The row objects currently shown, in display order."""
        every = self.source().rows
        return [every[i] for i in self.shown_indexes()]
