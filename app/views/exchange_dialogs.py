"""Dialogs for sealed packages across the air gap: this installation's identity, trusting another one,
sending a package to a folder or USB drive, and importing one after a preview of what it will change.

The main window calls :func:`add_menu_actions`; a request screen may add :class:`PackageHistory` for the
request's packages. Every check and change happens in ``app.services.exchange``; the dialogs show its
``.message`` as is.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.exchange.errors import ExchangeError
from app.exchange.identity import IDENTITY_SUFFIX, MAX_IDENTITY_BYTES, read_limited
from app.exchange.jsonio import strict_loads
from app.exchange.package import PACKAGE_SUFFIX
from app.models.exchange import Site
from app.services.errors import ServiceError
from app.services.exchange import EXCHANGE, ExchangeService, PackageRefused, read_package_file, summarise
from app.views.context import DeskContext
from app.views.table import Column
from app.views.widgets import FormDialog, call_service, date_edit

MAX_RUN_RECORD_BYTES = 2 * 1024 * 1024
MAX_SCAN_BYTES = 16 * 1024 * 1024


def _exchange(context: DeskContext) -> ExchangeService:
    return ExchangeService(context.desk)


def _plain(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.TextFormat.PlainText)  # names and messages come from files: never render them
    label.setWordWrap(True)
    return label


def _fingerprint_label(text: str) -> QLabel:
    label = _plain(QLabel(text, objectName="fingerprint"))
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(font.pointSize() + 4)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


# ---- identity ----------------------------------------------------------------------------------------------

class IdentityDialog(QDialog):
    """Shows this installation's name, side and fingerprint, and saves its public identity file; offers to
    create the identity (administrators) when there is none yet."""

    def __init__(self, context: DeskContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("This installation's identity")
        self.context, self.exchange = context, _exchange(context)
        self.stack = QStackedWidget()
        self.error = _plain(QLabel(objectName="fieldError"))
        self.error.hide()

        create = QWidget()
        form = QFormLayout(create)
        form.addRow(_plain(QLabel("This installation has no exchange identity yet. Create it once; its private "
                                  "keys stay inside this encrypted store.")))
        self.name = QLineEdit(placeholderText="e.g. OPM-HARTFORD or HUB-DOL")
        self.site = QComboBox()
        self.site.addItem("OPM desktop (Operating Group)", Site.OPM.value)
        self.site.addItem("Data Integration Hub", Site.HUB.value)
        form.addRow("Installation name", self.name)
        form.addRow("Side", self.site)
        self.create_button = QPushButton("Create identity", objectName="primary")
        self.create_button.clicked.connect(self.create)
        self.create_button.setEnabled(context.is_admin)
        if not context.is_admin:
            form.addRow(_plain(QLabel("Only an administrator can create it.", objectName="muted")))
        form.addRow(self.create_button)

        show = QWidget()
        column = QVBoxLayout(show)
        self.summary = _plain(QLabel())
        self.fingerprint = _fingerprint_label("")
        hint = _plain(QLabel("Read this fingerprint to the other installation when it trusts you, and have them "
                             "read theirs to you. Never confirm a fingerprint copied from a file.", objectName="muted"))
        self.save_button = QPushButton("Save identity file…")
        self.save_button.clicked.connect(lambda: self.save_to(None))
        column.addWidget(self.summary)
        column.addWidget(self.fingerprint)
        column.addWidget(hint)
        column.addWidget(self.save_button)

        self.stack.addWidget(create)
        self.stack.addWidget(show)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        info = self.exchange.identity()
        if info is None:
            self.stack.setCurrentIndex(0)
            return
        self.summary.setText(f"{info.name} — {'OPM desktop' if info.site is Site.OPM else 'Data Integration Hub'}")
        self.fingerprint.setText(info.fingerprint)
        self.stack.setCurrentIndex(1)

    def create(self) -> None:
        ok, _ = call_service(self, lambda: self.exchange.create_identity(self.name.text(), self.site.currentData()),
                             title="Identity not created")
        if ok:
            self.refresh()

    def save_to(self, folder: Path | None) -> Path | None:
        """Write the public identity file into ``folder`` (asks for one when None); returns the path."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Save the identity file to (folder or USB drive)")
            if not chosen:
                return None
            folder = Path(chosen)
        ok, path = call_service(self, lambda: self.exchange.save_public_identity(folder), title="Not saved")
        if ok:
            self.error.setText(f"Saved {path}")
            self.error.setObjectName("muted")
            self.error.show()
        return path if ok else None


# ---- trust -------------------------------------------------------------------------------------------------

class TrustDialog(FormDialog):
    """Trust another installation from its identity file: the person types the fingerprint the other side
    reads from its own screen (the file's own fingerprint is deliberately not shown to copy from)."""

    def __init__(self, context: DeskContext, identity_file: bytes, parent: QWidget | None = None):
        self.exchange = _exchange(context)
        self.data = identity_file
        super().__init__(parent, "Trust an installation", lambda d: self.exchange.trust(self.data, self.typed.text()))
        self.peer = self.exchange.read_identity(identity_file)  # PackageRefused for a bad file: caller shows it
        me = self.exchange.identity()
        side = "an OPM desktop" if self.peer.site == Site.OPM.value else "the Data Integration Hub"
        self.form.addRow(_plain(QLabel(f"{self.peer.name} says it is {side}.")))
        if me is not None:
            self.form.addRow("Your fingerprint (read it to them)", _fingerprint_label(me.fingerprint))
        self.typed = self.row("Their fingerprint, as they read it to you", "fingerprint",
                              QLineEdit(placeholderText="5 groups of 5 digits"))
        self.ok_button.setText("Trust")
        self.ok_button.setEnabled(context.is_admin)
        if not context.is_admin:
            self.form.addRow(_plain(QLabel("Only an administrator can trust an installation.", objectName="muted")))


# ---- sending -----------------------------------------------------------------------------------------------

class SendDialog(QDialog):
    """Seal a package for the other side into a folder (e.g. a USB drive).

    OPM sends work orders and method approvals; the hub sends completion reports and destruction certificates.
    """

    def __init__(self, context: DeskContext, parent: QWidget | None = None, *, request_number: str | None = None):
        super().__init__(parent)
        self.context, self.exchange = context, _exchange(context)
        me = self.exchange.identity()
        self.site = me.site if me else None
        self.setWindowTitle("Send to hub…" if self.site is Site.OPM else "Send to OPM…")
        self.result_path: Path | None = None
        self.attachment: Path | None = None
        self.run_file: Path | None = None

        self.kind = QComboBox()
        kinds = ([("work_order", "Work order"), ("method_approval", "Method approval")] if self.site is Site.OPM
                 else [("completion", "Completion report"), ("destruction_certificate", "Destruction certificate")])
        for key, title in kinds:
            self.kind.addItem(title, key)
        self.request = QComboBox(editable=True)
        for row in context.desk.requests.page(limit=1000):
            if row.number:
                self.request.addItem(f"{row.number} — {row.title}", row.number)
        if request_number:
            self.request.setCurrentIndex(self.request.findData(request_number))
            if self.request.currentIndex() < 0:
                self.request.setEditText(request_number)
        self.peer = QComboBox()
        for p in self.exchange.peers():
            if p.revoked_at is None and p.site is not self.site:
                self.peer.addItem(f"{p.name} ({p.fingerprint})", p.id)
        self.folder = QLineEdit(placeholderText="folder or USB drive")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_folder)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)

        # Type-specific fields.
        self.matched, self.review, self.unmatched = (QSpinBox(maximum=2_000_000_000) for _ in range(3))
        self.run_label = _plain(QLabel("the last recorded run's", objectName="muted"))
        run_button = QPushButton("Run record (run.json)…")
        run_button.clicked.connect(self._choose_run)
        self.certified_by = QLineEdit(placeholderText="default: as on the hub's recorded certificate")
        self.statement = QPlainTextEdit(placeholderText="default: as on the hub's recorded certificate")
        self.scan_label = _plain(QLabel("no scan attached", objectName="muted"))
        scan_button = QPushButton("Attach signed scan…")
        scan_button.clicked.connect(self._choose_scan)
        self.method_path = QLineEdit(placeholderText="method .json file")
        self.approved_on = date_edit()
        self.motion = QLineEdit(placeholderText="e.g. DGB motion 2026-7")

        self.form = QFormLayout()
        self.form.addRow("Package", self.kind)
        self.form.addRow("Request", self.request)
        self.form.addRow("Completion: matched", self.matched)
        self.form.addRow("Completion: for review", self.review)
        self.form.addRow("Completion: not matched", self.unmatched)
        self.form.addRow(run_button, self.run_label)
        self.form.addRow("Certified by", self.certified_by)
        self.form.addRow("Statement", self.statement)
        self.form.addRow(scan_button, self.scan_label)
        self.form.addRow("Method file", self.method_path)
        self.form.addRow("Approved by the DGB on", self.approved_on)
        self.form.addRow("Motion", self.motion)
        self.form.addRow("To", self.peer)
        self.form.addRow("Folder", where)
        self.error = _plain(QLabel(objectName="fieldError"))
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Seal and save")
        buttons.accepted.connect(self.send)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if me is None:
            layout.addWidget(_plain(QLabel("Create this installation's identity first (Exchange ▸ Identity…).")))
            self.ok_button.setEnabled(False)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._show_fields)
        self._show_fields()
        self.setMinimumWidth(520)

    def _show_fields(self) -> None:
        kind = self.kind.currentData()
        groups = {
            "completion": (self.matched, self.review, self.unmatched, self.run_label),
            "destruction_certificate": (self.certified_by, self.statement, self.scan_label),
            "method_approval": (self.method_path, self.approved_on, self.motion),
        }
        for key, widgets in groups.items():
            for widget in widgets:
                self.form.setRowVisible(widget, key == kind)
        self.form.setRowVisible(self.request, kind != "method_approval")

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Save the package to (folder or USB drive)")
        if chosen:
            self.folder.setText(chosen)

    def _choose_run(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Run record", "", "Run record (run.json *.json)")
        if chosen:
            self.run_file = Path(chosen)
            self.run_label.setText(self.run_file.name)

    def _choose_scan(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Signed certificate", "", "PDF or image (*.pdf *.png *.jpg)")
        if chosen:
            self.attachment = Path(chosen)
            self.scan_label.setText(self.attachment.name)

    def _request_number(self) -> str:
        """The chosen request's number, or the number typed (a list entry reads "Q0042 — title")."""
        text = self.request.currentText()
        index = self.request.findText(text)
        return (self.request.itemData(index) if index >= 0 else text.split("—")[0]).strip()

    def _payload(self) -> tuple[str, dict[str, Any], dict[str, bytes] | None]:
        kind, x = self.kind.currentData(), self.exchange
        if kind == "work_order":
            return kind, x.work_order(self._request_number()), None
        if kind == "completion":
            # Nothing filled in: the service takes the record and figures of the hub's last recorded run.
            run = strict_loads(read_limited(self.run_file, MAX_RUN_RECORD_BYTES, "run record"), "run record") \
                if self.run_file else None
            typed = {"matched": self.matched.value(), "review": self.review.value(),
                     "unmatched": self.unmatched.value()}
            counts = typed if any(typed.values()) else None
            return kind, x.completion(self._request_number(), counts=counts, run=run), None
        if kind == "destruction_certificate":
            attachments, name = None, None
            if self.attachment is not None:
                name = "certificate" + (self.attachment.suffix.lower() or ".bin")
                attachments = {name: read_limited(self.attachment, MAX_SCAN_BYTES, "certificate scan")}
            return kind, x.destruction_certificate(
                self._request_number(), certified_by=self.certified_by.text() or None,
                statement=self.statement.toPlainText() or None, attachment=name), attachments
        document = strict_loads(read_limited(Path(self.method_path.text()), 1024 * 1024, "method file"), "method file")
        return kind, x.method_approval(document, approved_on=self.approved_on.date().toPython(),
                                       motion=self.motion.text()), None

    def send(self) -> None:
        self.error.hide()
        if not self.folder.text().strip():
            self._fail("Choose the folder or USB drive to save the package to.")
            return
        try:
            kind, payload, attachments = self._payload()
            result = self.exchange.send(kind, payload, Path(self.folder.text()), peer_id=self.peer.currentData(),
                                        attachments=attachments)
        except (ServiceError, ExchangeError) as exc:
            self._fail(exc.message)
            return
        self.result_path = result.path
        self.accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()


# ---- importing ---------------------------------------------------------------------------------------------

class ImportDialog(QDialog):
    """Shows who sent a package and what importing it will change (the import run and rolled back), then
    imports on "Import". A package that would be refused shows why, and cannot be imported."""

    def __init__(self, context: DeskContext, data: bytes, parent: QWidget | None = None, *, file_name: str = ""):
        super().__init__(parent)
        self.setWindowTitle(f"Import package {file_name}".strip())
        self.exchange, self.data = _exchange(context), data
        self.result = None
        self.header = _plain(QLabel())
        self.status = _plain(QLabel())
        self.changes = QListWidget()
        self.changes.setAccessibleName("What will change")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("primary")
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.changes, 1)
        layout.addWidget(buttons)
        self.setMinimumSize(560, 360)
        self._preview()

    def _preview(self) -> None:
        try:
            s = summarise(self.data)
            self.header.setText(f"{s.kind_title.capitalize()} #{s.sequence} from {s.sender_name} "
                                f"(fingerprint {s.sender_fingerprint}), sealed {s.created:%Y-%m-%d %H:%M} UTC, "
                                f"for {s.recipient_name}.")
            preview = self.exchange.preview(self.data)
        except ServiceError as exc:
            self.status.setObjectName("fieldError")
            self.status.setText(f"This package cannot be imported: {exc.message}")
            self.import_button.setEnabled(False)
            return
        self.changes.addItems(list(preview.changes))
        if preview.already_imported:
            self.status.setText(preview.message)
            self.import_button.setEnabled(False)
        else:
            self.status.setText("Signature, recipient and sequence check out. Importing will make these changes:")

    def apply(self) -> None:
        ok, result = call_service(self, lambda: self.exchange.import_package(self.data), title="Not imported")
        if ok:
            self.result = result
            self.accept()


# ---- the package log of one request --------------------------------------------------------------------------

class PackageHistory(QWidget):
    """Packages sent and received about one request, with "Send to hub…"/"Send to OPM…" for it (a request
    screen's tab). Set ``request_number`` and call ``refresh()`` when the screen shows another request."""

    def __init__(self, context: DeskContext, request_number: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        from app.views.request_detail import SimpleTable

        self.context, self.request_number = context, request_number
        self.send_button = QPushButton("Send to hub…")
        self.send_button.clicked.connect(self.send)
        self.send_button.setVisible(context.can_edit or context.role == "hub")
        self.last_dialog: SendDialog | None = None
        self.table = SimpleTable([
            Column("recorded", "When", "recorded_at", width=140),
            Column("direction", "", lambda p: "sent to" if p.direction.value == "sent" else "received from", width=100),
            Column("peer", "Installation", "peer_name", width=130),
            Column("sequence", "#", "sequence", width=50),
            Column("kind", "Package", "kind_title", width=160),
            Column("summary", "Summary", "summary", width=320),
        ], "No packages about this request yet.")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(row)
        context.changed.connect(lambda kinds: self.refresh() if EXCHANGE in kinds else None)
        self.refresh()

    def refresh(self) -> None:
        exchange = _exchange(self.context)
        me = exchange.identity()
        self.send_button.setText("Send to OPM…" if me is not None and me.site is Site.HUB else "Send to hub…")
        self.send_button.setEnabled(me is not None and bool(self.request_number))
        self.table.set_rows(exchange.log(request_number=self.request_number) if self.request_number else [])

    def send(self) -> None:
        self.last_dialog = SendDialog(self.context, self, request_number=self.request_number)
        self.last_dialog.open()


class PackageLogDialog(QDialog):
    """Every package sent and received, and the trusted installations. A sent package can be saved again
    (same file, same number) when the drive it went on was lost; an administrator can withdraw trust."""

    def __init__(self, context: DeskContext, parent: QWidget | None = None):
        super().__init__(parent)
        from app.views.request_detail import SimpleTable

        self.setWindowTitle("Packages and trusted installations")
        self.context, self.exchange = context, _exchange(context)
        self.packages = SimpleTable([
            Column("recorded", "When", "recorded_at", width=140),
            Column("direction", "", lambda p: "sent to" if p.direction.value == "sent" else "received from", width=100),
            Column("peer", "Installation", "peer_name", width=130),
            Column("sequence", "#", "sequence", width=50),
            Column("kind", "Package", "kind_title", width=160),
            Column("summary", "Summary", "summary", width=300),
        ], "No packages yet.")
        self.peers = SimpleTable([
            Column("name", "Installation", "name", width=150),
            Column("site", "Side", lambda p: p.site.value.upper(), width=60),
            Column("fingerprint", "Fingerprint", "fingerprint", width=230),
            Column("state", "Trust", lambda p: f"withdrawn {p.revoked_at:%Y-%m-%d}" if p.revoked_at else "trusted",
                   width=140),
            Column("sent", "Last sent", "last_sent", width=80),
            Column("received", "Last received", "last_received", width=100),
        ], "No installation is trusted yet.")
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setAccessibleName("Contents of the selected package")
        self.details.setPlaceholderText("Select a package to see what it carried.")
        self.packages.view.selectionModel().currentChanged.connect(lambda *_: self.show_contents())
        self.save_again_button = QPushButton("Save again…")
        self.save_again_button.clicked.connect(lambda: self.save_again(None))
        self.revoke_button = QPushButton("Withdraw trust…")
        self.revoke_button.clicked.connect(self.revoke)
        self.revoke_button.setEnabled(context.is_admin)
        self.message = _plain(QLabel(objectName="muted"))
        row = QHBoxLayout()
        row.addWidget(self.save_again_button)
        row.addStretch(1)
        row.addWidget(self.revoke_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(QLabel("Packages")))
        layout.addWidget(self.packages, 2)
        layout.addWidget(self.details, 1)
        layout.addWidget(_plain(QLabel("Trusted installations")))
        layout.addWidget(self.peers, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumSize(760, 480)
        context.changed.connect(lambda kinds: self.refresh() if EXCHANGE in kinds else None)
        self.refresh()

    def refresh(self) -> None:
        self.packages.set_rows(self.exchange.log())
        self.peers.set_rows(self.exchange.peers())

    def show_contents(self) -> None:
        package = self.packages.selected()
        if package is None:
            self.details.clear()
            return
        ok, contents = call_service(self, lambda: self.exchange.contents_of(package.package_id))
        self.details.setPlainText(json.dumps(contents, indent=2, ensure_ascii=False) if ok else "")

    def save_again(self, folder: Path | None) -> Path | None:
        """Write the selected sent package again into ``folder`` (asks when None)."""
        package = self.packages.selected()
        if package is None or package.direction.value != "sent":
            self.message.setText("Select a package this installation sent.")
            return None
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Save the package again to (folder or USB drive)")
            if not chosen:
                return None
            folder = Path(chosen)
        ok, path = call_service(self, lambda: self.exchange.save_again(package.package_id, folder), title="Not saved")
        if ok:
            self.message.setText(f"Saved {path}")
        return path if ok else None

    def revoke(self) -> None:
        peer = self.peers.selected()
        if peer is None or peer.revoked_at is not None:
            self.message.setText("Select a trusted installation.")
            return
        answer = QMessageBox.question(self, "Withdraw trust", f"Refuse every package from {peer.name} from now on?")
        if answer == QMessageBox.StandardButton.Yes:
            call_service(self, lambda: self.exchange.revoke(peer.id), title="Not withdrawn")


# ---- menu entry points ---------------------------------------------------------------------------------------

def import_package_file(context: DeskContext, parent: QWidget | None, path: Path) -> ImportDialog | None:
    """Open the import dialog for a package file (None, with the reason shown, when it cannot be read)."""
    try:
        data = read_package_file(path)
    except PackageRefused as exc:
        _warn(parent, "Not a package", exc.message)
        return None
    dialog = ImportDialog(context, data, parent, file_name=path.name)
    dialog.open()
    return dialog


def trust_identity_file(context: DeskContext, parent: QWidget | None, path: Path) -> TrustDialog | None:
    try:
        data = read_limited(path, MAX_IDENTITY_BYTES, "identity file")
        dialog = TrustDialog(context, data, parent)
    except (ExchangeError, ServiceError) as exc:
        _warn(parent, "Not an identity file", exc.message)
        return None
    dialog.open()
    return dialog


def _warn(parent: QWidget | None, title: str, message: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.open()


def add_menu_actions(menu, context: DeskContext, parent: QWidget) -> None:  # noqa: ANN001 - a QMenu
    """Add the Exchange sub-menu (identity, trust, send, import) to ``menu``; called by the main window."""
    sub = menu.addMenu("E&xchange")

    def send() -> None:
        dialog = SendDialog(context, parent)
        dialog.accepted.connect(lambda: parent.statusBar().showMessage(f"Saved {dialog.result_path}", 8000)
                                if hasattr(parent, "statusBar") else None)
        dialog.open()

    def import_() -> None:
        chosen, _ = QFileDialog.getOpenFileName(parent, "Import package", "", f"Packages (*{PACKAGE_SUFFIX})")
        if chosen:
            import_package_file(context, parent, Path(chosen))

    def trust() -> None:
        chosen, _ = QFileDialog.getOpenFileName(parent, "Identity file of the other installation", "",
                                                f"Identity files (*{IDENTITY_SUFFIX})")
        if chosen:
            trust_identity_file(context, parent, Path(chosen))

    send_action = sub.addAction("Send to &hub…", send)
    sub.addAction("&Import package…", import_)
    sub.addSeparator()
    sub.addAction("&Trust an installation…", trust)
    sub.addAction("This installation's &identity…", lambda: IdentityDialog(context, parent).open())
    sub.addAction("&Packages and trusted installations…", lambda: PackageLogDialog(context, parent).open())

    def name_the_other_side() -> None:  # the identity (hence the side) may be created while the window is open
        me = _exchange(context).identity()
        send_action.setText("Send to &OPM…" if me is not None and me.site is Site.HUB else "Send to &hub…")

    sub.aboutToShow.connect(name_the_other_side)
    name_the_other_side()

