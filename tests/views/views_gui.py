"""Helpers for driving real widgets: answer the next modal dialog, pick rows, wait for jobs."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from app.views.widgets import FormDialog


def on_next_dialog(fill: Callable[[QWidget], None]) -> None:
    """Call ``fill(dialog)`` once the next modal dialog is open (schedule this, then trigger the dialog).
    A dialog still open afterwards (the service refused) is cancelled so the test never hangs."""

    def attempt(tries: int = 0) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            if tries < 500:
                QTimer.singleShot(5, lambda: attempt(tries + 1))
            return
        try:
            fill(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, attempt)


def submit_form(values: Callable[[FormDialog], None], errors: list | None = None) -> None:
    """Fill the next FormDialog with ``values(dialog)`` and press OK; inline errors go to ``errors``."""

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, FormDialog), f"expected a form, got {dialog!r}"
        values(dialog)
        dialog.submit()
        if errors is not None:
            errors.append(dialog.errors.messages() if dialog.isVisible() else {})

    on_next_dialog(fill)


def choose(combo: QComboBox, text: str) -> None:
    """Pick the first entry of ``combo`` whose label contains ``text``."""
    for i in range(combo.count()):
        if text in combo.itemText(i):
            combo.setCurrentIndex(i)
            return
    raise AssertionError(f"{text!r} not among {[combo.itemText(i) for i in range(combo.count())]}")


def select_row(table, predicate: Callable[[object], bool]) -> object:
    """Make the first row satisfying ``predicate`` current in a SimpleTable or ListPage; returns it."""
    view = getattr(table, "view", None) or table.table
    proxy = table.proxy
    model = proxy.sourceModel()
    for r in range(proxy.rowCount()):
        row = model.row_at(proxy.mapToSource(proxy.index(r, 0)).row())
        if predicate(row):
            view.setCurrentIndex(proxy.index(r, 0))
            view.selectRow(r)
            return row
    raise AssertionError("no row matches")
