"""One request: header with number, stage and stage bar, the next legal transitions, and tabs for its parts.

The transitions offered come from ``desk.requests.transitions`` (the life cycle's own rules). A blocked one
stays clickable: clicking asks the service to move anyway, and the service's refusal (its reason) is shown,
so the rule lives only in the service.
"""
from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QDate, QIODevice, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.lifecycle import LABELS, MAIN_LINE
from app.services.requests import EDITABLE
from app.views.list_page import DataTable
from app.views.requests_page import state_label
from app.views.table import Column, RowFilterProxy, RowTableModel, cents, humanise
from app.views.widgets import (
    FormDialog,
    CheckList,
    FormErrors,
    StageBar,
    button_row,
    call_service,
    clear_layout,
    date_edit,
    enum_combo,
    heading,
)

OVERVIEW_FIELDS = [
    ("title", "Title", False), ("purpose", "Purpose", True), ("legal_basis", "Legal basis", True),
    ("learning_agenda_fit", "Fit to the learning agenda", True), ("fields_to_link", "Fields to link", True),
    ("applicable_laws", "Applicable laws", True), ("analysis_plan", "Analysis and reporting plan", True),
]


class SimpleTable(QWidget):
    """A small read-only table (the generic model/view) with an empty-state line."""

    def __init__(self, columns: list[Column], empty: str):
        super().__init__()
        self.model = RowTableModel(columns, parent=self)
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = DataTable()
        self.view.setModel(self.proxy)
        for n, c in enumerate(columns):
            if c.width:
                self.view.setColumnWidth(n, c.width)
        self.empty = QLabel(empty, objectName="muted", wordWrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty.setContentsMargins(4, 8, 4, 8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)

    def set_rows(self, rows, cache=None) -> None:  # noqa: ANN001 - as RowTableModel.set_rows
        self.model.set_rows(rows, cache)
        self.view.setVisible(bool(rows))
        self.empty.setVisible(not rows)

    def selected(self):
        index = self.view.currentIndex()
        return self.model.row_at(self.proxy.mapToSource(index).row()) if index.isValid() else None


def _decision(value) -> str:
    return humanise(str(getattr(value, "value", value)))


class RequestDetailPage(QWidget):
    watches = frozenset({"requests", "approvals", "agreements", "documents", "communications", "finance", "matchlog"})

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.window_ = window
        self.request_id: int | None = None
        self.detail = None
        self.title = "Request"
        desk_can_edit = context.can_edit

        back = QPushButton("← Requests")
        back.setAccessibleName("Back to requests")
        back.clicked.connect(lambda: window.show_screen("requests"))
        self.heading = QLabel(objectName="pageTitle")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.subheading = QLabel(objectName="muted")
        self.subheading.setTextFormat(Qt.TextFormat.PlainText)
        self.stage_bar = StageBar()
        self.transitions_bar = QHBoxLayout()
        self.transitions_bar.setSpacing(6)
        self.blocked = QLabel(objectName="blockedReason", wordWrap=True)
        self.blocked.setTextFormat(Qt.TextFormat.PlainText)
        self.blocked.setAccessibleName("Why this step is blocked")
        self.blocked.hide()

        top = QHBoxLayout()
        top.addWidget(back)
        top.addSpacing(8)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.heading)
        titles.addWidget(self.subheading)
        top.addLayout(titles, 1)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._build_overview(desk_can_edit)
        self._build_elements(desk_can_edit)
        self._build_approvals(desk_can_edit)
        self._build_agreement(desk_can_edit)
        self._build_documents(desk_can_edit)
        self._build_communications(desk_can_edit)
        self._build_fees(desk_can_edit)
        self._build_destruction(desk_can_edit)
        self._build_packages()
        self._build_history()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.stage_bar)
        if desk_can_edit or context.role == "hub":
            next_row = QHBoxLayout()
            next_row.addWidget(QLabel("Next step:"))
            next_row.addLayout(self.transitions_bar)
            next_row.addStretch(1)
            layout.addLayout(next_row)
        layout.addWidget(self.blocked)
        layout.addWidget(self.tabs, 1)

    # -- loading ------------------------------------------------------------------------------------------
    def load(self, request_id: int) -> None:
        self.request_id = request_id
        self.blocked.hide()
        self.refresh()

    def refresh(self) -> None:
        if self.request_id is None:
            return
        desk = self.context.desk
        ok, detail = call_service(self, lambda: desk.requests.get(self.request_id))
        if not ok:
            return
        self.detail = detail
        self.title = f"Request {detail.number or '(not logged)'}"
        self.heading.setText(f"{detail.number or 'Inquiry'} · {detail.title}")
        self.subheading.setText(
            f"{state_label(detail.state)} · received {detail.received_on.isoformat()} · "
            f"{humanise(detail.submission_type.value)} · {detail.recipient_name or 'no recipient named yet'}"
        )
        stages = [LABELS[s] for s in MAIN_LINE]
        shown_state = detail.held_from if detail.held_from is not None else detail.state
        current = MAIN_LINE.index(shown_state) if shown_state in MAIN_LINE else len(MAIN_LINE)
        note = "" if detail.state in MAIN_LINE else state_label(detail.state)
        if detail.state not in MAIN_LINE and detail.history:
            last_main = next((h.from_state for h in reversed(detail.history) if h.from_state in MAIN_LINE), None)
            current = MAIN_LINE.index(last_main) if last_main is not None else 0
        self.stage_bar.set_stages(stages, current, note)
        self._load_transitions()
        self._load_overview(detail)
        self._apply_editable(detail)
        self._load_elements(detail)
        self._load_approvals()
        self._load_agreement()
        self._load_documents()
        self._load_communications()
        self._load_fees()
        self._load_destruction()
        if self.packages is not None:
            self.packages.request_number = detail.number
            self.packages.refresh()
        self._load_history(detail)

    # -- transitions --------------------------------------------------------------------------------------
    def _load_transitions(self) -> None:
        clear_layout(self.transitions_bar)
        self.transition_buttons: dict[str, QPushButton] = {}
        if not (self.context.can_edit or self.context.role == "hub"):
            return
        ok, options = call_service(self, lambda: self.context.desk.requests.transitions(self.request_id))
        if not ok:
            return
        for option in options:
            button = QPushButton(option.label)
            button.setAccessibleName(f"Move to {option.label}")
            if option.ok:
                button.setProperty("primary", option.target in MAIN_LINE)
                button.setToolTip(f"Move the request to {option.label}")
            else:
                button.setToolTip(f"Blocked: {option.reason}")
                button.setText(f"{option.label} ⚠")
            button.clicked.connect(lambda _=False, o=option: self.move(o))
            self.transitions_bar.addWidget(button)
            self.transition_buttons[option.label] = button
        if not options:
            self.transitions_bar.addWidget(QLabel("none — this request is finished.", objectName="muted"))

    def move(self, option) -> bool:
        """Ask the service to move the request to ``option.target``; show its reason if it refuses."""
        note = ""
        if option.needs_note:
            note, accepted = QInputDialog.getText(self, option.label, f"Reason for {option.label.lower()}:")
            if not accepted:
                return False
        try:
            self.context.desk.requests.move(self.request_id, option.target, note=note)
        except Exception as error:  # ServiceError: the reason is the message
            message = getattr(error, "message", None)
            if message is None:
                raise
            self.blocked.setText(message)  # the service's sentence already says what and why
            self.blocked.show()
            return False
        self.blocked.hide()
        self.window_.statusBar().showMessage(f"Moved to {option.label}.", 5000)
        self.refresh()  # the broadcast refreshes lists; this screen reloads its own request at once
        return True

    # -- overview -----------------------------------------------------------------------------------------
    def _build_overview(self, can_edit: bool) -> None:
        page = QWidget()
        form = QFormLayout()
        self.overview_errors = FormErrors()
        self.overview_edits: dict[str, QLineEdit | QPlainTextEdit] = {}
        for field, label, multiline in OVERVIEW_FIELDS:
            edit = QPlainTextEdit() if multiline else QLineEdit()
            if multiline:
                edit.setMaximumHeight(52)
            edit.setReadOnly(not can_edit)
            self.overview_errors.add_row(form, label, field, edit)
            self.overview_edits[field] = edit
        self.save_overview = QPushButton("Save changes")
        self.save_overview.setProperty("primary", True)
        self.save_overview.clicked.connect(self.save)
        self.save_overview.setVisible(can_edit)
        self.people = QLabel(wordWrap=True)
        self.people.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("Data users named", self.people)
        self.review = QLabel()
        self.review.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("Disclosure review", self.review)
        column = QVBoxLayout(page)
        column.addLayout(form)
        column.addWidget(self.overview_errors.general)
        row = QHBoxLayout()
        self.content_buttons: list[QPushButton] = []  # enabled only while the request's content may change
        if can_edit:
            name_users = QPushButton("Name data users…")
            name_users.clicked.connect(self.name_users)
            review = QPushButton("Record disclosure review…")
            review.clicked.connect(self.record_review)
            row.addWidget(name_users)
            row.addWidget(review)
            self.content_buttons.append(name_users)
        row.addStretch(1)
        row.addWidget(self.save_overview)
        column.addLayout(row)
        column.addStretch(1)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(page)
        self.tabs.addTab(scroll, "Overview")
        self._loaded_overview: dict[str, str] = {}

    def _apply_editable(self, detail) -> None:
        # The services' own list of states in which a request's content may still change.
        editable = self.context.can_edit and detail.state in EDITABLE
        for button in self.content_buttons:
            button.setEnabled(editable)
            button.setToolTip("" if editable else "The request's content is settled; record changes as a DSA amendment.")
        for edit in self.overview_edits.values():
            edit.setReadOnly(not editable)
        self.save_overview.setVisible(editable)

    def _load_overview(self, detail) -> None:
        users = {u.id: u for u in self.context.desk.recipients.users(detail.recipient_id)} if detail.recipient_id else {}
        named = [users[i] for i in detail.user_ids if i in users]
        self.people.setText(", ".join(f"{u.name} (NDA {'on file' if u.nda_received_on else 'missing'})" for u in named)
                            or "none yet")
        self.review.setText(f"{detail.disclosure_reviewed_on.isoformat()} by {detail.disclosure_reviewer}"
                            if detail.disclosure_reviewed_on else "not recorded")
        if self.has_unsaved_changes():
            return  # never overwrite what the user is typing; they save or discard first
        self._loaded_overview = {field: getattr(detail, field) or "" for field, _, _ in OVERVIEW_FIELDS}
        for field, edit in self.overview_edits.items():
            text = self._loaded_overview[field]
            edit.setPlainText(text) if isinstance(edit, QPlainTextEdit) else edit.setText(text)
        self.overview_errors.clear()

    def _overview_values(self) -> dict[str, str]:
        return {f: (e.toPlainText() if isinstance(e, QPlainTextEdit) else e.text()) for f, e in self.overview_edits.items()}

    def has_unsaved_changes(self) -> bool:
        return bool(self._loaded_overview) and self._overview_values() != self._loaded_overview

    def save(self) -> bool:
        changes = {k: v for k, v in self._overview_values().items() if v != self._loaded_overview.get(k)}
        if not changes:
            return True
        ok, _ = call_service(self, lambda: self.context.desk.requests.update(self.request_id, **changes),
                             errors=self.overview_errors)
        if ok:
            self._loaded_overview = {}
            self.refresh()
        return ok

    def name_users(self) -> bool:
        detail = self.detail
        users = self.context.desk.recipients.users(detail.recipient_id) if detail.recipient_id else []

        def submit(dialog: FormDialog) -> None:
            self.context.desk.requests.name_users(self.request_id, dialog.users.checked_ids())

        dialog = FormDialog(self, "Data users named on the request", submit)
        dialog.users = CheckList((f"{user.name} — {user.title or 'data user'}", user.id, user.id in detail.user_ids)
                                 for user in users if user.departed_on is None)
        dialog.row("Data users of the recipient", "user_ids", dialog.users)
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_review(self) -> bool:
        def submit(dialog: FormDialog) -> None:
            self.context.desk.requests.record_disclosure_review(self.request_id, dialog.on.date().toPython(),
                                                                dialog.by.text())

        dialog = FormDialog(self, "Disclosure review of the outputs", submit)
        dialog.on = dialog.row("Reviewed on", "on", date_edit())
        dialog.by = dialog.row("Reviewer", "reviewer", QLineEdit(self.context.display_name))
        self.last_dialog = dialog
        return bool(dialog.exec())

    # -- data elements ------------------------------------------------------------------------------------
    def _build_elements(self, can_edit: bool) -> None:
        page = QWidget()
        self.elements_table = SimpleTable([
            Column("agency", "Agency", "agency", width=90),
            Column("name", "Data element", "name", width=200),
            Column("justification", "Justification", "justification", width=540),
            Column("struck", "Struck", lambda e: f"Struck: {e.struck_reason}" if e.struck else "", width=200),
        ], "No data elements requested yet.")
        column = QVBoxLayout(page)
        self.agencies_label = QLabel(wordWrap=True)
        self.agencies_label.setTextFormat(Qt.TextFormat.PlainText)
        column.addWidget(self.agencies_label)
        column.addWidget(self.elements_table, 1)
        if can_edit:
            row = QHBoxLayout()
            add = QPushButton("Add data element…")
            add.clicked.connect(self.add_element)
            strike = QPushButton("Strike selected…")
            strike.clicked.connect(self.strike_element)
            self.content_buttons += [add, strike]
            row.addWidget(add)
            row.addWidget(strike)
            row.addStretch(1)
            column.addLayout(row)
        self.tabs.addTab(page, "Agencies && data")

    def _load_elements(self, detail) -> None:
        codes = {a.agency_id: a.code for a in detail.agencies}
        self.agencies_label.setText("Agencies: " + (", ".join(f"{a.code} ({a.name})" for a in detail.agencies) or "none"))
        rows = [_Element(codes.get(e.agency_id, "?"), e) for e in detail.elements]
        self.elements_table.set_rows(rows)

    def add_element(self) -> int | None:
        detail = self.detail

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.requests.add_element(
                self.request_id, dialog.agency.currentData(), dialog.name.text(), dialog.justification.toPlainText())

        dialog = FormDialog(self, "Add data element", submit)
        dialog.agency = QComboBox()
        for a in detail.agencies:
            dialog.agency.addItem(f"{a.code} — {a.name}", a.agency_id)
        dialog.row("Agency", "agency_id", dialog.agency)
        dialog.name = dialog.row("Data element", "name", QLineEdit())
        dialog.justification = QTextEdit()
        dialog.justification.setAcceptRichText(False)
        dialog.row("Why it is needed", "justification", dialog.justification)
        self.last_dialog = dialog
        return dialog.result_value if dialog.exec() else None

    def strike_element(self) -> None:
        element = self.elements_table.selected()
        if element is None:
            return
        reason, accepted = QInputDialog.getText(self, "Strike data element", f"Why strike {element.name}?")
        if accepted:
            call_service(self, lambda: self.context.desk.requests.strike_element(element.id, reason))

    # -- approvals ----------------------------------------------------------------------------------------
    def _build_approvals(self, can_edit: bool) -> None:
        page = QWidget()
        self.approvals_table = SimpleTable([
            Column("agency", "Agency", "agency_code", width=90),
            Column("data", "Data", "data_decision", display=_decision, width=110),
            Column("users", "Data users", "users_decision", display=_decision, width=110),
            Column("on", "Decided on", "decided_on", width=100),
            Column("by", "Decided by", "decided_by", width=180),
            Column("note", "Note", "note", width=300),
        ], "No agencies on this request yet.")
        column = QVBoxLayout(page)
        column.addWidget(QLabel("Every agency whose data is involved approves its data and the named users.",
                                objectName="muted"))
        column.addWidget(self.approvals_table, 1)
        if can_edit:
            record = QPushButton("Record decision…")
            record.clicked.connect(lambda: self.record_approval())
            row = QHBoxLayout()
            row.addWidget(record)
            row.addStretch(1)
            column.addLayout(row)
        self.tabs.addTab(page, "Approvals")

    def _load_approvals(self) -> None:
        ok, rows = call_service(self, lambda: self.context.desk.approvals.for_request(self.request_id))
        self.approvals_table.set_rows(rows if ok else [])

    def record_approval(self, agency_id: int | None = None) -> bool:
        from app.models import Decision

        detail = self.detail

        def submit(dialog: FormDialog) -> None:
            self.context.desk.approvals.record(
                self.request_id, dialog.agency.currentData(), data=dialog.data.currentData(),
                users=dialog.users.currentData(), decided_on=dialog.on.date().toPython(),
                decided_by=dialog.by.text(), note=dialog.note.text())

        dialog = FormDialog(self, "Record an agency's decision", submit)
        dialog.agency = QComboBox()
        for a in detail.agencies:
            dialog.agency.addItem(a.code, a.agency_id)
        if agency_id is not None:
            dialog.agency.setCurrentIndex(max(0, dialog.agency.findData(agency_id)))
        dialog.row("Agency", "agency_id", dialog.agency)
        dialog.data = dialog.row("Data", "data", enum_combo(Decision, Decision.APPROVED))
        dialog.users = dialog.row("Data users", "users", enum_combo(Decision, Decision.APPROVED))
        dialog.on = dialog.row("Decided on", "decided_on", date_edit())
        dialog.by = dialog.row("Decided by", "decided_by", QLineEdit())
        dialog.note = dialog.row("Note (required for a denial)", "note", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    # -- agreement ----------------------------------------------------------------------------------------
    def _build_agreement(self, can_edit: bool) -> None:
        page = QWidget()
        self.dsa_summary = QLabel(wordWrap=True)
        self.dsa_summary.setTextFormat(Qt.TextFormat.PlainText)
        self.parties_table = SimpleTable([
            Column("party", "Party", "label", width=320),
            Column("kind", "Role", "kind", width=140),
            Column("signatory", "Signed by", "signatory", width=320),
            Column("signed", "Signed on", "signed_on", width=110),
        ], "No DSA drafted yet.")
        column = QVBoxLayout(page)
        column.addWidget(self.dsa_summary)
        column.addWidget(self.parties_table, 1)
        self.dsa_buttons = QHBoxLayout()
        if can_edit:
            self.draft_button = QPushButton("Draft DSA…")
            self.draft_button.clicked.connect(self.draft_dsa)
            self.sign_button = QPushButton("Record signature…")
            self.sign_button.clicked.connect(self.sign_selected_party)
            self.exhibit_button = QPushButton("Add exhibit…")
            self.exhibit_button.clicked.connect(self.add_exhibit)
            self.amend_button = QPushButton("Amend…")
            self.amend_button.clicked.connect(self.amend_dsa)
            for button in (self.draft_button, self.sign_button, self.exhibit_button, self.amend_button):
                self.dsa_buttons.addWidget(button)
        self.dsa_buttons.addStretch(1)
        column.addLayout(self.dsa_buttons)
        self.tabs.addTab(page, "Agreement")

    def _load_agreement(self) -> None:
        ok, dsa = call_service(self, lambda: self.context.desk.agreements.for_request(self.request_id))
        self.dsa = dsa if ok else None
        if self.dsa is None:
            self.dsa_summary.setText("No data sharing agreement yet. Draft one once the board has approved.")
            self.parties_table.set_rows([])
        else:
            d = self.dsa
            exhibits = ", ".join(humanise(e.kind.value) for e in d.exhibits) or "none"
            self.dsa_summary.setText(
                f"{d.number} · effective {d.effective_on or '—'} · destroy by {d.destroy_by or '—'} · "
                f"executed {d.executed_on or 'not yet'}\nExhibits: {exhibits} · NDAs received "
                f"{d.ndas_received} of {d.ndas_needed} · amendments: {len(d.amendments)}")
            self.parties_table.set_rows(list(d.parties))
        if hasattr(self, "draft_button"):
            self.draft_button.setVisible(self.dsa is None)
            for button in (self.sign_button, self.exhibit_button):
                button.setVisible(self.dsa is not None and self.dsa.executed_on is None)
            self.amend_button.setVisible(self.dsa is not None and self.dsa.executed_on is not None)

    def draft_dsa(self) -> bool:
        def submit(dialog: FormDialog) -> int:
            return self.context.desk.agreements.draft(
                self.request_id, effective_on=dialog.effective.date().toPython(),
                destroy_by=dialog.destroy.date().toPython())

        dialog = FormDialog(self, "Draft data sharing agreement", submit)
        dialog.effective = dialog.row("Effective on", "effective_on", date_edit())
        dialog.destroy = dialog.row("Recipient destroys data by", "destroy_by", date_edit(QDate.currentDate().addYears(3)))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def sign_selected_party(self) -> bool:
        party = self.parties_table.selected()
        if party is None:
            QMessageBox.information(self, "Record signature", "Select the party that signed.")
            return False

        def submit(dialog: FormDialog) -> None:
            self.context.desk.agreements.sign(party.id, signatory=dialog.who.text(),
                                              signed_on=dialog.on.date().toPython())

        dialog = FormDialog(self, f"Signature of {party.label}", submit)
        dialog.who = dialog.row("Signed by", "signatory", QLineEdit())
        dialog.on = dialog.row("Signed on", "signed_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def add_exhibit(self) -> bool:
        from app.models import ExhibitKind

        if self.dsa is None:
            return False
        documents = self.context.desk.documents.list(self.request_id)

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.agreements.add_exhibit(self.dsa.id, dialog.kind.currentData(), dialog.name.text(),
                                                            document_id=dialog.document.currentData())

        dialog = FormDialog(self, f"Exhibit to {self.dsa.number}", submit)
        dialog.kind = dialog.row("Exhibit", "kind", enum_combo(ExhibitKind))
        dialog.name = dialog.row("Title", "title", QLineEdit())
        dialog.document = QComboBox()
        dialog.document.addItem("(no attached document)", None)
        for document in documents:
            dialog.document.addItem(document.name, document.id)
        dialog.row("Document", "document_id", dialog.document)
        self.last_dialog = dialog
        return bool(dialog.exec())

    def amend_dsa(self) -> bool:
        if self.dsa is None:
            return False

        def submit(dialog: FormDialog) -> int:
            new_date = dialog.destroy.date().toPython() if dialog.extend.currentData() else None
            return self.context.desk.agreements.amend(self.dsa.id, effective_on=dialog.on.date().toPython(),
                                                      description=dialog.what.toPlainText(), new_destroy_by=new_date)

        dialog = FormDialog(self, f"Amend {self.dsa.number}", submit)
        dialog.on = dialog.row("Effective on", "effective_on", date_edit())
        dialog.what = QTextEdit()
        dialog.what.setAcceptRichText(False)
        dialog.what.setMaximumHeight(90)
        dialog.row("What changes", "description", dialog.what)
        dialog.extend = QComboBox()
        dialog.extend.addItem("Destroy-by date unchanged", False)
        dialog.extend.addItem("New destroy-by date below", True)
        dialog.row("Destroy-by date", "extend", dialog.extend)
        dialog.destroy = dialog.row("New destroy-by date", "new_destroy_by",
                                    date_edit(self.dsa.destroy_by or QDate.currentDate().toPython()))
        self.last_dialog = dialog
        return bool(dialog.exec())

    # -- match log and destruction ------------------------------------------------------------------------
    def _build_destruction(self, can_edit: bool) -> None:
        page = QWidget()
        self.match_table = SimpleTable([
            Column("file", "File", "file_name", width=200),
            Column("sender", "From", "sender_agency", width=80),
            Column("received", "Received", "files_received_on", width=95),
            Column("matched", "Matched", "matched_on", width=95),
            Column("sent", "ID matrix sent", "id_matrix_sent_on", width=110),
            Column("destroyed", "Inputs destroyed", "inputs_destroyed_on", width=120),
        ], "No matching files logged yet (the hub records them).")
        self.certificates_table = SimpleTable([
            Column("kind", "Certificate", "kind", width=200),
            Column("destroyed", "Destroyed on", "destroyed_on", width=110),
            Column("by", "Certified by", "certified_by", width=200),
            Column("received", "Received on", "received_on", width=110),
            Column("notes", "Notes", "notes", width=300),
        ], "No destruction certificates on file.")
        column = QVBoxLayout(page)
        column.addWidget(heading("Match log"))
        column.addWidget(self.match_table, 1)
        column.addWidget(heading("Destruction certificates"))
        column.addWidget(self.certificates_table, 1)
        if can_edit or self.context.role == "hub":
            row = QHBoxLayout()
            certify = QPushButton("File destruction certificate…")
            certify.clicked.connect(self.file_certificate)
            row.addWidget(certify)
            row.addStretch(1)
            column.addLayout(row)
        self.tabs.addTab(page, "Destruction")

    def _load_destruction(self) -> None:
        desk = self.context.desk
        ok, entries = call_service(self, lambda: desk.matchlog.page(request_id=self.request_id, limit=10_000))
        self.match_table.set_rows(entries if ok else [])
        ok, certificates = call_service(self, lambda: desk.matchlog.certificates(self.request_id))
        self.certificates_table.set_rows(certificates if ok else [])

    def file_certificate(self) -> bool:
        from app.models import CertificateKind

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.matchlog.certify_destruction(
                self.request_id, dialog.kind.currentData(), destroyed_on=dialog.destroyed.date().toPython(),
                certified_by=dialog.by.text(), received_on=dialog.received.date().toPython(),
                notes=dialog.notes.text())

        dialog = FormDialog(self, "File a destruction certificate", submit)
        dialog.kind = dialog.row("Certificate", "kind", enum_combo(CertificateKind, CertificateKind.RECIPIENT_DATA))
        dialog.destroyed = dialog.row("Data destroyed on", "destroyed_on", date_edit())
        dialog.by = dialog.row("Certified by", "certified_by", QLineEdit())
        dialog.received = dialog.row("Certificate received on", "received_on", date_edit())
        dialog.notes = dialog.row("Notes", "notes", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def _build_packages(self) -> None:
        # Sealed packages to and from the hub (exchange area), when that part is in this build.
        try:
            from app.views.exchange_dialogs import PackageHistory
        except ModuleNotFoundError:
            self.packages = None
            return
        self.packages = PackageHistory(self.context, None, self)
        self.tabs.addTab(self.packages, "Packages")

    # -- documents ----------------------------------------------------------------------------------------
    def _build_documents(self, can_edit: bool) -> None:
        page = QWidget()
        self.documents_table = SimpleTable([
            Column("name", "Name", "name", width=300),
            Column("type", "Type", "media_type", width=160),
            Column("size", "Size", "size", display=_size, width=90),
            Column("at", "Attached", "uploaded_at", width=140),
            Column("by", "By", "uploaded_by", width=120),
        ], "No documents attached. Attached files are stored encrypted inside the store.")
        self.documents_table.view.doubleClicked.connect(lambda *_: self.open_document())
        column = QVBoxLayout(page)
        column.addWidget(self.documents_table, 1)
        column.addLayout(button_row(([("Attach file…", self.attach_dialog)] if can_edit else [])
                                    + [("Open", self.open_document), ("Save a copy…", self.save_document)]))
        self.tabs.addTab(page, "Documents")

    def _load_documents(self) -> None:
        ok, rows = call_service(self, lambda: self.context.desk.documents.list(self.request_id))
        self.documents_table.set_rows(rows if ok else [])

    def attach_dialog(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Attach a file to this request", str(Path.home()))
        if chosen:
            self.attach(Path(chosen))

    def attach(self, path: Path) -> int | None:
        """Store the file's bytes encrypted in the store with this request."""
        try:
            content = path.read_bytes()
        except OSError as error:
            QMessageBox.warning(self, "Not attached", f"Could not read {path.name}: {error.strerror or error}.")
            return None
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        ok, document_id = call_service(
            self, lambda: self.context.desk.documents.attach(self.request_id, path.name, content, media_type=media),
            title="Not attached")
        return document_id if ok else None

    def open_document(self) -> QDialog | None:
        """Show a document inside the application (PDF, text, images): its plaintext never touches disk."""
        document = self.documents_table.selected()
        if document is None:
            return None
        ok, content = call_service(self, lambda: self.context.desk.documents.content(document.id))
        if not ok:
            return None
        viewer = DocumentViewer(document.name, document.media_type, content, self)
        viewer.show()
        return viewer

    def save_document(self) -> None:
        document = self.documents_table.selected()
        if document is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(self, "Save a copy (not encrypted)", str(Path.home() / document.name))
        if not chosen:
            return
        ok, content = call_service(self, lambda: self.context.desk.documents.content(document.id))
        if ok:
            try:
                Path(chosen).write_bytes(content)
            except OSError as error:
                QMessageBox.warning(self, "Not saved", f"Could not write the copy: {error.strerror or error}.")

    # -- communications -----------------------------------------------------------------------------------
    def _build_communications(self, can_edit: bool) -> None:
        page = QWidget()
        self.communications_table = SimpleTable([
            Column("at", "When", "occurred_at", width=130),
            Column("direction", "Direction", "direction", width=90),
            Column("channel", "Channel", "channel", width=90),
            Column("with", "With", "counterpart", width=170),
            Column("subject", "Subject", "subject", width=260),
            Column("summary", "Summary", "summary", width=300),
        ], "No communications logged for this request.")
        column = QVBoxLayout(page)
        column.addWidget(self.communications_table, 1)
        if can_edit:
            add = QPushButton("Log communication…")
            add.clicked.connect(self.log_communication)
            row = QHBoxLayout()
            row.addWidget(add)
            row.addStretch(1)
            column.addLayout(row)
        self.tabs.addTab(page, "Communications")

    def _load_communications(self) -> None:
        ok, rows = call_service(self, lambda: self.context.desk.communications.page(request_id=self.request_id, limit=10_000))
        self.communications_table.set_rows(rows if ok else [])

    def log_communication(self) -> bool:
        from app.models import Channel, Direction

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.communications.log(
                occurred_at=datetime.now(UTC), direction=dialog.direction.currentData(),
                channel=dialog.channel.currentData(), subject=dialog.subject.text(),
                summary=dialog.summary.toPlainText(), counterpart=dialog.counterpart.text(),
                request_id=self.request_id)

        dialog = FormDialog(self, "Log a communication", submit)
        dialog.direction = dialog.row("Direction", "direction", enum_combo(Direction))
        dialog.channel = dialog.row("Channel", "channel", enum_combo(Channel))
        dialog.counterpart = dialog.row("With", "counterpart", QLineEdit())
        dialog.subject = dialog.row("Subject", "subject", QLineEdit())
        dialog.summary = QTextEdit()
        dialog.summary.setAcceptRichText(False)
        dialog.row("Summary", "summary", dialog.summary)
        self.last_dialog = dialog
        return bool(dialog.exec())

    # -- fees ---------------------------------------------------------------------------------------------
    def _build_fees(self, can_edit: bool) -> None:
        page = QWidget()
        self.fees_table = SimpleTable([
            Column("number", "Invoice", "number", width=120),
            Column("status", "Status", "status", width=80),
            Column("issued", "Issued", "issued_on", width=95),
            Column("due", "Due", "due_on", width=95),
            Column("basis", "Basis", lambda i: f"{i.analyst_hours} h · {i.data_sets} data sets · cohort {i.cohort_size:,}",
                   width=240),
            Column("total", "Total", "total_cents", display=cents, width=100),
            Column("paid", "Paid", "paid_cents", display=cents, width=100),
            Column("outstanding", "Outstanding", "outstanding_cents", display=cents, width=100),
        ], "No invoices for this request. Fees are invoiced under the DSA once the request is approved.")
        column = QVBoxLayout(page)
        column.addWidget(self.fees_table, 1)
        if can_edit:
            column.addLayout(button_row((("New invoice…", self.new_invoice), ("Issue…", self.issue_invoice),
                                        ("Record payment…", self.record_payment))))
        self.tabs.addTab(page, "Fees")

    def _load_fees(self) -> None:
        if self.dsa is None:
            self.fees_table.set_rows([])
            return
        ok, rows = call_service(self, lambda: self.context.desk.finance.invoices(dsa_id=self.dsa.id))
        self.fees_table.set_rows(rows if ok else [])

    def new_invoice(self) -> bool:
        if self.dsa is None:
            QMessageBox.information(self, "New invoice", "Draft the DSA first: fees are invoiced under it.")
            return False

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.finance.create_invoice(
                self.dsa.id, analyst_hours=dialog.hours.value(), data_sets=dialog.sets.value(),
                cohort_size=dialog.cohort.value())

        dialog = FormDialog(self, f"New invoice under {self.dsa.number}", submit)
        dialog.hours = dialog.row("Analyst hours", "analyst_hours", QSpinBox(maximum=100_000))
        dialog.sets = dialog.row("Data sets", "data_sets", QSpinBox(maximum=1_000))
        dialog.cohort = dialog.row("Cohort size", "cohort_size", QSpinBox(maximum=100_000_000))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def issue_invoice(self) -> bool:
        invoice = self.fees_table.selected()
        if invoice is None:
            return False

        def submit(dialog: FormDialog) -> None:
            self.context.desk.finance.issue_invoice(invoice.id, dialog.issued.date().toPython(),
                                                   dialog.due.date().toPython())

        dialog = FormDialog(self, f"Issue {invoice.number}", submit)
        dialog.issued = dialog.row("Issued on", "issued_on", date_edit(QDate.currentDate()))
        dialog.due = dialog.row("Due on", "due_on", date_edit(QDate.currentDate().addDays(30)))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_payment(self) -> bool:
        invoice = self.fees_table.selected()
        if invoice is None:
            return False

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.finance.record_receipt(
                invoice.id, received_on=dialog.on.date().toPython(),
                amount_cents=round(dialog.amount.value() * 100), reference=dialog.reference.text())

        dialog = FormDialog(self, f"Payment against {invoice.number}", submit)
        dialog.amount = QDoubleSpinBox(maximum=10_000_000, decimals=2, prefix="$")
        dialog.amount.setValue(invoice.outstanding_cents / 100)
        dialog.row("Amount", "amount_cents", dialog.amount)
        dialog.on = dialog.row("Received on", "received_on", date_edit(QDate.currentDate()))
        dialog.reference = dialog.row("Reference", "reference", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    # -- history ------------------------------------------------------------------------------------------
    def _build_history(self) -> None:
        self.history_table = SimpleTable([
            Column("on", "On", "on", width=100),
            Column("from", "From", "from_state", display=state_label, width=140),
            Column("to", "To", "to_state", display=state_label, width=140),
            Column("actor", "By", "actor", width=120),
            Column("note", "Note", "note", width=360),
        ], "No stage changes yet.")
        self.tabs.addTab(self.history_table, "History")

    def _load_history(self, detail) -> None:
        self.history_table.set_rows(list(reversed(detail.history)))


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:,.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


class _Element:
    """An element row with its agency code (the service gives the agency id)."""

    __slots__ = ("agency", "id", "justification", "name", "struck", "struck_reason")

    def __init__(self, agency: str, element):
        self.agency = agency
        self.id, self.name, self.justification = element.id, element.name, element.justification
        self.struck, self.struck_reason = element.struck, element.struck_reason


class DocumentViewer(QDialog):
    """Shows a stored document from memory: PDFs with Qt PDF, text as plain text, images as images."""

    def __init__(self, name: str, media_type: str, content: bytes, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(name)
        self.resize(820, 900)
        layout = QVBoxLayout(self)
        if media_type == "application/pdf" or name.lower().endswith(".pdf"):
            from PySide6.QtPdf import QPdfDocument
            from PySide6.QtPdfWidgets import QPdfView

            self._bytes = QByteArray(content)
            self._buffer = QBuffer(self._bytes, self)
            self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
            self.pdf = QPdfDocument(self)
            self.pdf.load(self._buffer)
            view = QPdfView(self)
            view.setDocument(self.pdf)
            view.setPageMode(QPdfView.PageMode.MultiPage)
            view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
            layout.addWidget(view)
        elif media_type.startswith("image/"):
            from PySide6.QtGui import QPixmap

            pixmap = QPixmap()
            label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
            if pixmap.loadFromData(content):
                label.setPixmap(pixmap)
            else:
                label.setTextFormat(Qt.TextFormat.PlainText)
                label.setText(f"{name} is not a readable image.")
            scroll = QScrollArea()
            scroll.setWidget(label)
            layout.addWidget(scroll)
        elif media_type.startswith("text/") or media_type in ("application/json", "application/xml"):
            text = QPlainTextEdit(readOnly=True)
            text.setPlainText(content.decode("utf-8", errors="replace"))
            layout.addWidget(text)
        else:
            layout.addWidget(QLabel(f"{name} ({media_type}) cannot be shown here. Use “Save a copy…” to open it "
                                    "in another program (the copy is not encrypted).", wordWrap=True,
                                    textFormat=Qt.TextFormat.PlainText))
