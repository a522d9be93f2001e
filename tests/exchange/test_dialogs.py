"""The exchange dialogs on real stores, driven as a person would (pytest-qt, offscreen)."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QDialogButtonBox, QLabel, QMainWindow, QMenu

from app.services import Desk
from app.services.exchange import ExchangeService
from app.services.setup import initialise_store

from app.views.context import DeskContext
from app.views.exchange_dialogs import (
    IdentityDialog,
    ImportDialog,
    PackageHistory,
    PackageLogDialog,
    SendDialog,
    TrustDialog,
    add_menu_actions,
)

from .conftest import FAST_KDF, PASSPHRASE, Site, dump, hub_matches, make_site


def _context(site, qtbot):  # noqa: ARG001 - qtbot makes sure a QApplication exists
    return DeskContext(site.desk, site.path)


def test_send_then_import_with_preview_and_cancel(pair, usb, qtbot):
    opm, hub = pair
    send = SendDialog(_context(opm, qtbot), request_number=opm.number)
    qtbot.addWidget(send)
    assert send.windowTitle() == "Send to hub…" and send.kind.currentData() == "work_order"
    send.ok_button.click()
    assert "Choose the folder" in send.error.text() and not send.result_path
    send.folder.setText(str(usb))
    send.ok_button.click()
    assert send.result_path is not None and send.result_path.parent == usb and send.result() == send.DialogCode.Accepted

    data = send.result_path.read_bytes()
    before = dump(hub.store)
    hub_context = _context(hub, qtbot)
    dialog = ImportDialog(hub_context, data, file_name=send.result_path.name)
    qtbot.addWidget(dialog)
    shown = [dialog.changes.item(i).text() for i in range(dialog.changes.count())]
    assert any(f"create work order {opm.number}" in line for line in shown)
    assert "OPM-HARTFORD" in dialog.header.text() and dialog.import_button.isEnabled()
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel).click()
    assert dump(hub.store) == before

    history = PackageHistory(hub_context, opm.number)
    qtbot.addWidget(history)
    assert history.table.model.rowCount() == 0 and history.send_button.text() == "Send to OPM…"
    dialog = ImportDialog(hub_context, data)
    qtbot.addWidget(dialog)
    dialog.import_button.click()
    assert dialog.result is not None and not dialog.result.already_imported
    assert hub.desk.requests.page(search=opm.number)[0].number == opm.number
    assert history.table.model.rowCount() == 1  # refreshed by the change broadcast
    history.send_button.click()  # the hub reports back about this request
    assert history.last_dialog.windowTitle() == "Send to OPM…"
    assert history.last_dialog._request_number() == opm.number
    history.last_dialog.reject()

    again = ImportDialog(hub_context, data)
    qtbot.addWidget(again)
    assert "already imported" in again.status.text() and not again.import_button.isEnabled()


def test_refused_package_shows_why_and_cannot_be_imported(pair, usb, qtbot):
    opm, hub = pair
    data = bytearray(opm.exchange.send("work_order", opm.exchange.work_order(opm.number), usb).path.read_bytes())
    data[100] ^= 0xFF
    before = dump(hub.store)
    dialog = ImportDialog(_context(hub, qtbot), bytes(data))
    qtbot.addWidget(dialog)
    assert dialog.status.text().startswith("This package cannot be imported:")
    assert not dialog.import_button.isEnabled() and dialog.changes.count() == 0
    assert dump(hub.store) == before


def test_trust_needs_the_fingerprint_read_aloud(tmp_path, qtbot, registry_home):
    opm = make_site(tmp_path, "opm-hartford", "opm")
    hub = make_site(tmp_path, "hub-dol", "hub")
    dialog = TrustDialog(_context(hub, qtbot), opm.exchange.public_identity_file())
    qtbot.addWidget(dialog)
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert hub.exchange.identity().fingerprint in shown  # ours, to read to them
    assert opm.exchange.identity().fingerprint not in shown  # theirs is never offered for copying
    dialog.typed.setText("12345 12345 12345 12345 12345")
    dialog.ok_button.click()
    assert "does not match" in dialog.errors.messages()["fingerprint"] and hub.exchange.peers() == []
    dialog.typed.setText(opm.exchange.identity().fingerprint.replace(" ", ""))
    dialog.ok_button.click()
    assert [p.name for p in hub.exchange.peers()] == ["OPM-HARTFORD"]


def test_identity_dialog_creates_and_saves(tmp_path, qtbot, registry_home):
    store, _ = initialise_store(tmp_path / "new.p20store", "admin", PASSPHRASE, "Admin", kdf=FAST_KDF)
    desk = Desk(store, "admin")
    site = Site(store, desk, ExchangeService(desk), tmp_path / "new.p20store")
    dialog = IdentityDialog(_context(site, qtbot))
    qtbot.addWidget(dialog)
    assert dialog.stack.currentIndex() == 0
    dialog.name.setText("HUB-DOL")
    dialog.site.setCurrentIndex(1)
    dialog.create_button.click()
    assert dialog.stack.currentIndex() == 1 and dialog.fingerprint.text() == site.exchange.identity().fingerprint
    path = dialog.save_to(tmp_path)
    assert path is not None and path.read_bytes() == site.exchange.public_identity_file()
    store.close()


def test_menu_offers_the_exchange_actions(pair, qtbot):
    opm, hub = pair
    window = QMainWindow()
    qtbot.addWidget(window)
    menu = QMenu()
    add_menu_actions(menu, _context(hub, qtbot), window)
    titles = [a.text() for a in menu.actions()[0].menu().actions() if a.text()]
    assert titles[0] == "Send to &OPM…" and "&Import package…" in titles and "&Trust an installation…" in titles


def test_package_log_saves_a_sent_package_again(pair, usb, qtbot, tmp_path):
    opm, hub = pair
    sent = opm.exchange.send("work_order", opm.exchange.work_order(opm.number), usb)
    dialog = PackageLogDialog(_context(opm, qtbot))
    qtbot.addWidget(dialog)
    assert dialog.packages.model.rowCount() == 1 and dialog.peers.model.rowCount() == 1
    assert dialog.save_again(tmp_path) is None and "Select a package" in dialog.message.text()
    dialog.packages.view.setCurrentIndex(dialog.packages.proxy.index(0, 0))
    assert f'"number": "{opm.number}"' in dialog.details.toPlainText()  # what the work order carried
    again = dialog.save_again(tmp_path)
    assert again is not None and again.read_bytes() == sent.path.read_bytes()


def test_send_dialog_builds_each_type_from_its_fields(pair, usb, qtbot, tmp_path):
    import json as json_

    from app.matching.method import load_method

    opm, hub = pair
    hub.exchange.import_package(opm.exchange.send("work_order", opm.exchange.work_order(opm.number), usb)
                                .path.read_bytes())
    hub_matches(hub, opm.number)
    for row in hub.desk.matchlog.page():
        hub.desk.matchlog.record_inputs_destroyed(row.id, date(2026, 4, 9))
    out = tmp_path / "out"
    out.mkdir()

    dialog = SendDialog(_context(hub, qtbot), request_number=opm.number)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Send to OPM…"
    dialog.matched.setValue(1200)
    dialog.folder.setText(str(out))
    dialog.ok_button.click()
    assert dialog.result_path is not None, dialog.error.text()
    result = opm.exchange.import_package(dialog.result_path.read_bytes())
    assert "counts: matched 1,200, review 0, unmatched 0" in result.changes

    scan = tmp_path / "signed.PDF"
    scan.write_bytes(b"%PDF-1.4 scan")
    dialog = SendDialog(_context(hub, qtbot), request_number=opm.number)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("destruction_certificate"))
    assert dialog.form.isRowVisible(dialog.certified_by) and not dialog.form.isRowVisible(dialog.matched)
    dialog.attachment = scan
    dialog.folder.setText(str(out))
    dialog.ok_button.click()
    assert dialog.error.text() == "certified by: is required; statement: is required" and not dialog.result_path
    dialog.certified_by.setText("Hub security officer")
    dialog.statement.setPlainText("Input files overwritten and deleted.")
    dialog.ok_button.click()
    result = opm.exchange.import_package(dialog.result_path.read_bytes())
    assert "attach certificate.pdf (13 bytes)" in result.changes

    method_file = tmp_path / "method.json"
    method = load_method()
    method_file.write_text(json_.dumps(dict(method.document, version=method.version + 1)), encoding="utf-8")
    dialog = SendDialog(_context(opm, qtbot))
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("method_approval"))
    dialog.method_path.setText(str(method_file))
    dialog.folder.setText(str(out))
    dialog.ok_button.click()
    assert dialog.result_path is not None and dialog.result_path.name.startswith("method-approval-")
