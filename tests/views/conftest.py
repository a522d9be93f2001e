"""GUI test set-up: settings kept in the test's folder, a main window over a real store."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThreadPool

from app.services import Desk
from app.views.application import make_qapplication
from app.views.context import DeskContext
from app.views.main_window import MainWindow


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp):
    """Window geometry, column layouts and idle time are written under the test's folder, not the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    make_qapplication()  # names and style, as in the real application
    yield
    QSettings().clear()


@pytest.fixture
def open_window(qtbot):
    """``open_window(store, username)`` -> a shown MainWindow for that user; closed after the test."""
    windows = []

    def make(store, username: str, *, demo: bool = False) -> MainWindow:
        window = MainWindow(DeskContext(Desk(store, username), store.path, demo=demo))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.save_state()
    # Background jobs (dashboard figures) must finish before the store they read is closed.
    QThreadPool.globalInstance().waitForDone(30_000)
