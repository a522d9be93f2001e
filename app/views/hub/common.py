"""Pieces the hub workspace's tabs share."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from app.jobs import error_text
from app.services.errors import ServiceError
from app.views.style import LATE_COLOUR, OK_COLOUR


class Notice(QLabel):
    """One line under an action saying what happened or, in the service's words, why it was refused."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # refusals may quote file names such as "<b>.tsv"
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName("Result")
        self.hide()

    def ok(self, text: str) -> None:
        self.setStyleSheet(f"color: {OK_COLOUR};")
        self.setText(text)
        self.show()

    def error(self, error: BaseException | str) -> None:
        self.setStyleSheet(f"color: {LATE_COLOUR};")
        self.setText(error if isinstance(error, str) else error_text(error))
        self.show()


def attempt(notice: Notice, action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a quick service call; a refusal goes to ``notice`` with the service's sentence."""
    try:
        return True, action()
    except ServiceError as error:
        notice.error(error)
        return False, None


def selected_row(table) -> Any:  # noqa: ANN001 - app.views.request_detail.SimpleTable
    """The row object selected in a SimpleTable, or None."""
    rows = table.view.selectionModel().selectedRows() if table.view.selectionModel() else []
    if not rows:
        return None
    return table.model.row_at(table.proxy.mapToSource(rows[0]).row())


def fill_runs(combo: QComboBox, runs: list, label: Callable[[Any], str]) -> None:
    """Refill a picker of match runs (``RunInfo``) without emitting changes, keeping the run chosen before,
    else the newest."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for run in runs:
        combo.addItem(label(run), run.id)
    index = combo.findData(current)
    if index < 0:
        index = max(range(len(runs)), key=lambda i: runs[i].id, default=-1)
    combo.setCurrentIndex(index)
    combo.blockSignals(False)
