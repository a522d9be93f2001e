"""Small widgets shared by screens: service calls with inline errors, forms, the stage bar, section titles."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from enum import Enum
from typing import Any

from PySide6.QtCore import QDate, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.services.errors import ServiceError, ValidationFailed
from app.views.style import colours
from app.views.table import humanise


class FormErrors:
    """Error labels under form fields, filled from ``ValidationFailed.fields`` (keys = service field names)."""

    def __init__(self) -> None:
        self.labels: dict[str, QLabel] = {}
        self.general = QLabel(objectName="fieldError", wordWrap=True)
        self.general.setTextFormat(Qt.TextFormat.PlainText)
        self.general.hide()

    def add_row(self, form: QFormLayout, label: str, field: str, widget: QWidget) -> QWidget:
        """Add ``widget`` to ``form`` with an (initially hidden) error line below it."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        error = QLabel(objectName="fieldError", wordWrap=True)
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.setAccessibleName(f"{label} error")
        error.hide()
        column.addWidget(error)
        self.labels[field] = error
        widget.setAccessibleName(label)
        form.addRow(label, box)
        return widget

    def clear(self) -> None:
        for label in self.labels.values():
            label.clear()
            label.hide()
        self.general.clear()
        self.general.hide()

    def show(self, error: ServiceError) -> None:
        self.clear()
        unplaced = []
        for field, why in getattr(error, "fields", {}).items():
            # Services say "is required"; a whole sentence (capitalised) is shown as it is.
            text = why if why[:1].isupper() else f"{field.replace('_', ' ').capitalize()} {why}."
            label = self.labels.get(field)
            if label is None:
                unplaced.append(text)
            else:
                label.setText(text)
                label.show()
        if not isinstance(error, ValidationFailed):
            unplaced.append(error.message)
        if unplaced:
            self.general.setText(" ".join(unplaced))
            self.general.show()

    def messages(self) -> dict[str, str]:
        """What each field's error line shows now (empty ones left out)."""
        shown = {field: label.text() for field, label in self.labels.items() if label.text()}
        if self.general.text():
            shown["_"] = self.general.text()
        return shown


def call_service(parent: QWidget | None, action: Callable[[], Any], *, errors: FormErrors | None = None,
                 title: str = "Not done") -> tuple[bool, Any]:
    """Run a quick service call on the GUI thread. A ServiceError is shown inline (``errors``) or in a box with
    its ``.message``; returns ``(ok, result)``. Long work goes through ``app.jobs.Job`` instead."""
    try:
        result = action()
    except ServiceError as error:
        if errors is not None:
            errors.show(error)
        else:
            box = QMessageBox(QMessageBox.Icon.Warning, title, error.message, QMessageBox.StandardButton.Ok, parent)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setObjectName("serviceError")
            box.open()
        return False, None
    if errors is not None:
        errors.clear()
    return True, result


class FormDialog(QDialog):
    """A small create/edit dialog: rows added with ``row()``; ``submit`` runs the service call on OK and keeps
    the dialog open (with inline errors) when the service refuses."""

    def __init__(self, parent: QWidget | None, title: str, submit: Callable[[FormDialog], Any]):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.errors = FormErrors()
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self._submit = submit
        self.result_value: Any = None
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.errors.general)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def row(self, label: str, field: str, widget: QWidget) -> QWidget:
        return self.errors.add_row(self.form, label, field, widget)

    def submit(self) -> None:
        ok, value = call_service(self, lambda: self._submit(self), errors=self.errors)
        if ok:
            self.result_value = value
            self.accept()


def date_edit(day: date | QDate | None = None) -> QDateEdit:
    """A date field with a calendar pop-up, ISO display, today by default."""
    if day is None:
        day = QDate.currentDate()
    edit = QDateEdit(day if isinstance(day, QDate) else QDate(day.year, day.month, day.day), calendarPopup=True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def enum_combo(enum_cls: type[Enum], current: Enum | None = None, *, allow_none: str | None = None) -> QComboBox:
    """A drop-down of an enum's members by readable label (``currentData()`` is the member)."""
    combo = QComboBox()
    if allow_none is not None:
        combo.addItem(allow_none, None)
    for member in enum_cls:
        combo.addItem(humanise(str(member.value)), member)
    if current is not None:
        combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def clear_layout(layout) -> None:
    """Remove and delete every widget in ``layout`` (hidden at once: deletion waits for the event loop)."""
    while layout.count():
        widget = layout.takeAt(0).widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()


class CheckList(QListWidget):
    """A list of ``(text, id, checked)`` entries with tick boxes; ``checked_ids()`` says which are ticked."""

    def __init__(self, entries: Iterable[tuple[str, Any, bool]]):
        super().__init__()
        for text, key, checked in entries:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.addItem(item)

    def checked_ids(self) -> list[Any]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]


def button_row(actions: Sequence[tuple[str, Callable[[], Any]]]) -> QHBoxLayout:
    """A left-aligned row of push buttons, one per ``(label, slot)``."""
    row = QHBoxLayout()
    for text, slot in actions:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
    row.addStretch(1)
    return row


def list_over_detail(page: QWidget, list_page: QWidget, detail_widgets: Sequence[QWidget],
                     actions: Sequence[tuple[str, Callable[[], Any]]], sizes: tuple[int, int]) -> None:
    """Lay ``page`` out as its list above a detail pane: ``detail_widgets`` stacked (the last one stretches),
    then a row of ``actions`` buttons when there are any (pass none to a read-only user)."""
    detail = QWidget()
    column = QVBoxLayout(detail)
    column.setContentsMargins(16, 0, 16, 12)
    for widget in detail_widgets:
        column.addWidget(widget, 1 if widget is detail_widgets[-1] else 0)
    if actions:
        column.addLayout(button_row(actions))
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(list_page)
    splitter.addWidget(detail)
    splitter.setSizes(list(sizes))
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(splitter)


def heading(text: str, name: str = "sectionTitle") -> QLabel:
    label = QLabel(text, objectName=name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class StageBar(QWidget):
    """The request's life cycle as a row of steps: done, current, to come (a side state shown as a badge)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.stages: list[str] = []
        self.current = -1
        self.note = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Request stage")

    def set_stages(self, stages: Sequence[str], current: int, note: str = "") -> None:
        """``current`` indexes ``stages``; ``note`` (e.g. "On hold") marks a side state."""
        self.stages, self.current, self.note = list(stages), current, note
        done = f"at {stages[current]}" if 0 <= current < len(stages) else ""
        self.setAccessibleDescription(" ".join(x for x in (done, note) if x))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(600, 2 * self.fontMetrics().height() + 22)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        if not self.stages:
            return
        c = colours()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        n = len(self.stages)
        width = self.width() / n
        y = 9
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() - 1.5))
        painter.setFont(small)
        for i, name in enumerate(self.stages):
            x = i * width
            done = i < self.current
            here = i == self.current
            colour = QColor(c["accent"]) if (done or here) else QColor(c["line"])
            if i < n - 1:
                painter.setPen(QPen(QColor(c["accent"]) if done else QColor(c["line"]), 3))
                painter.drawLine(int(x + width / 2), y, int(x + width * 1.5), y)
            painter.setPen(QPen(colour, 2))
            painter.setBrush(colour if (done or here) else QColor(c["base"]))
            radius = 7 if here else 5
            painter.drawEllipse(QRectF(x + width / 2 - radius, y - radius, 2 * radius, 2 * radius))
            painter.setPen(QColor(c["text"] if here else c["muted"]))
            font = QFont(small)
            font.setBold(here)
            painter.setFont(font)
            painter.drawText(QRectF(x + 1, y + 10, width - 2, self.height() - y - 10),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, name)
        painter.end()
