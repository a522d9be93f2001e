"""Idle lock closes the store and the window; unlocking opens both again; switch user asks first."""
from __future__ import annotations

from PySide6.QtCore import QThreadPool
from views_gui import on_next_dialog

from app.views.application import DeskApplication, UnlockDialog


def test_idle_lock_closes_the_store_and_unlock_reopens_it(qtbot, store):
    from tests.conftest import TEST_ADMIN, TEST_PASSPHRASE

    controller = DeskApplication(store.path)
    controller.start_session(store, TEST_ADMIN)
    first = controller.window
    assert controller.idle.timer.isActive()  # counting down from the last input
    QThreadPool.globalInstance().waitForDone(30_000)  # the dashboard's figures read the store

    seen = {}

    def answer(dialog):
        assert isinstance(dialog, UnlockDialog)
        seen["reason"] = dialog.reason.text()
        seen["user"] = dialog.username.text()
        assert controller.window is None and controller.store is None  # locked: nothing open meanwhile
        dialog.passphrase.setText(TEST_PASSPHRASE)
        dialog.try_unlock()

    on_next_dialog(answer)
    controller.idle.idle.emit()  # what the timer does after the idle minutes
    assert "inactivity" in seen["reason"] and seen["user"] == TEST_ADMIN
    assert controller.window is not None and controller.window is not first
    assert controller.window.context.username == TEST_ADMIN
    with controller.store.read_session():  # the reopened store works
        pass
    QThreadPool.globalInstance().waitForDone(30_000)
    controller.end_session(ask=False)
    assert controller.store is None
