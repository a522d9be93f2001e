"""Every screen on the demo store; the read-only auditor; unlocking with each kind of mistake."""
from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtWidgets import QPushButton

from app.models import RequestState
from app.services import PermissionDenied
from app.services.lifecycle import LABELS, TERMINAL
from app.store import KdfParams
from app.views.application import UnlockDialog
from app.views.main_window import SCREENS


def test_every_screen_opens_on_the_demo_store_and_the_dashboard_drills_down(qtbot, demo_store, open_window):
    window = open_window(demo_store, "admin", demo=True)
    desk = window.context.desk
    for spec in SCREENS:
        page = window.show_screen(spec.key)
        assert window.stack.currentWidget() is page

    dashboard = window.show_screen("dashboard")
    qtbot.waitUntil(lambda: dashboard.loaded, timeout=20_000)  # figures are gathered off the GUI thread
    rows = desk.requests.page(limit=1000)
    open_by_stage = Counter(LABELS[r.state] for r in rows if r.state not in TERMINAL)
    assert {k: v for k, v in dashboard.stage_counts.items() if v} == dict(open_by_stage)

    stage = max(open_by_stage, key=open_by_stage.get)
    dashboard._open_stage(stage)  # what clicking that bar does
    requests = window.stack.currentWidget()
    assert requests is window.page("requests")
    shown = requests.list_page.shown_rows()
    assert len(shown) == open_by_stage[stage] and {LABELS[r.state] for r in shown} == {stage}

    window.show_screen("dashboard")
    dashboard.metrics["ndas"].click()
    recipients = window.stack.currentWidget()
    assert recipients is window.page("recipients")
    missing = {u.recipient_id for u in desk.recipients.users() if u.nda_outstanding}
    assert {r.id for r in recipients.list_page.shown_rows()} == missing
    assert recipients.list_page.chips.count() == 1

    # A request's detail shows its history and documents from the services.
    closed = next(r for r in rows if r.state is RequestState.CLOSED)
    detail = window.open_request(closed.id)
    assert detail.detail.number == closed.number
    assert len(detail.history_table.model.rows) == len(desk.requests.get(closed.id).history)


def test_auditor_sees_no_edit_actions_and_the_service_refuses_anyway(demo_store, open_window):
    window = open_window(demo_store, "auditor")
    desk = window.context.desk
    assert not window.context.can_edit
    assert not window.new_request_action.isVisible()
    requests = window.show_screen("requests")
    assert not hasattr(requests, "new_button")
    assert [b.text() for b in requests.list_page.findChildren(QPushButton) if b.text().startswith("New")] == []
    row = requests.list_page.model.rows[0]
    detail = window.open_request(row.id)
    assert detail.transition_buttons == {}
    assert not detail.save_overview.isVisible()
    assert all(edit.isReadOnly() for edit in detail.overview_edits.values())
    edit_words = ("Add", "Record", "Draft", "Attach", "New", "Sign", "Strike", "Log", "Name", "File")
    visible = [b.text() for b in detail.findChildren(QPushButton) if b.isVisibleTo(detail)]
    assert not [t for t in visible if t.startswith(edit_words)], visible
    settings = window.show_screen("settings")
    assert [settings.tabs.tabText(i) for i in range(settings.tabs.count())][0] != "Users && roles"
    for page_key in ("agencies", "recipients", "meetings", "budget"):
        page = window.show_screen(page_key)
        texts = [b.text() for b in page.findChildren(QPushButton) if b.isVisibleTo(page)]
        assert not [t for t in texts if t.startswith(edit_words)], (page_key, texts)

    agencies = [a.id for a in desk.agencies.list()][:2]
    with pytest.raises(PermissionDenied):
        desk.requests.create("Sneaky", agencies)
    with pytest.raises(PermissionDenied):
        desk.requests.update(row.id, title="Changed by an auditor")
    assert desk.requests.get(row.id).title == row.title


def test_unlock_dialog_says_what_is_wrong_then_opens(qtbot, store):
    from tests.conftest import TEST_PASSPHRASE

    path = store.path
    store.close()
    dialog = UnlockDialog(path, username="admin", kdf=KdfParams(n=2**10, r=8, p=1))
    qtbot.addWidget(dialog)
    for username, passphrase, expected in [("admin", "not the passphrase", "passphrase"),
                                           ("nobody", "whatever", "no user named"),
                                           ("", "whatever", "Type your user name")]:
        dialog.username.setText(username)
        dialog.passphrase.setText(passphrase)
        dialog.try_unlock()
        assert dialog.store is None and expected in dialog.error.text()
        assert dialog.passphrase.text() == passphrase  # kept (selected) so it can be corrected
    dialog.username.setText("admin")
    dialog.passphrase.setText(TEST_PASSPHRASE)
    dialog.try_unlock()
    assert dialog.store is not None and dialog.passphrase.text() == ""
    dialog.store.close()


def test_unsaved_edits_prompt_before_the_window_closes(qtbot, store, open_window):
    from PySide6.QtWidgets import QMessageBox
    from views_gui import on_next_dialog

    window = open_window(store, "admin")
    desk = window.context.desk
    agencies = [a.id for a in desk.agencies.list()][:2]
    request_id = desk.requests.create("Typed but not saved", agencies)
    detail = window.open_request(request_id)
    detail.overview_edits["purpose"].setPlainText("Half a sentence")
    assert window.unsaved_pages() == [detail.title]

    on_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Cancel).click())
    assert not window.close()  # the person chose to keep editing
    assert window.isVisible() and detail.overview_edits["purpose"].toPlainText() == "Half a sentence"
    desk.requests.update(request_id, title="Changed elsewhere")  # a broadcast must not overwrite the typing
    assert detail.overview_edits["purpose"].toPlainText() == "Half a sentence"

    on_next_dialog(lambda box: box.button(QMessageBox.StandardButton.Discard).click())
    assert window.close()
    assert desk.requests.get(request_id).purpose == ""  # discarded, never saved
