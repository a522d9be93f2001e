"""The Requests screen: every data request, with a "New request" form."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.lifecycle import LABELS
from app.views.list_page import ListPage
from app.views.table import Column, humanise
from app.views.widgets import FormDialog, date_edit


def state_label(state) -> str:
    return LABELS.get(state, humanise(str(getattr(state, "value", state))))


REQUEST_COLUMNS = [
    Column("number", "Number", "number", display=lambda n: n or "—", width=75,
           tooltip=lambda r: None if r.number else "An inquiry gets its number when it is logged"),
    Column("title", "Title", "title", width=250),
    Column("state", "Stage", "state", display=state_label, filterable=True, width=125),
    Column("agencies", "Agencies", "agencies", width=125),
    Column("recipient", "Recipient", "recipient", filterable=True, width=190),
    Column("type", "Type", "submission_type", filterable=True, width=85),
    Column("received", "Received", "received_on", width=90),
    Column("decided", "Decided", "decision_on", width=90),
]


class RequestsPage(QWidget):
    """Lists requests (``desk.requests.page``); double-click opens the detail screen."""

    watches = frozenset({"requests", "approvals", "agreements"})
    title = "Requests"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.window_ = window
        self.list_page = ListPage("Requests", REQUEST_COLUMNS, settings_key="requests",
                                  empty_text="No requests yet. Record an inquiry with “New request”.")
        if context.can_edit:
            self.new_button = self.list_page.add_action("New request…", self.new_request, primary=True)
        self.list_page.activated.connect(lambda row: window.open_request(row.id))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list_page)
        self.refresh()

    def refresh(self) -> None:
        requests = self.context.desk.requests
        self.list_page.set_rows(requests.page(limit=max(1, requests.count())))

    def new_request(self) -> int | None:
        """Ask for an inquiry's title, agencies and recipient; returns the new request's id (or None)."""
        desk = self.context.desk
        agencies = [a for a in desk.agencies.list() if str(a.status.value) in ("active", "onboarding")]
        recipients = desk.recipients.list()

        def submit(dialog: FormDialog) -> int:
            chosen = [item.data(Qt.ItemDataRole.UserRole) for item in dialog.agency_list.selectedItems()]
            recipient = dialog.recipient.currentData()
            received = dialog.received.date().toPython()
            return desk.requests.create(dialog.title_edit.text(), chosen, recipient_id=recipient,
                                        received_on=received, purpose=dialog.purpose.toPlainText())

        dialog = FormDialog(self, "New request (inquiry)", submit)
        dialog.title_edit = dialog.row("Title", "title", QLineEdit())
        dialog.agency_list = QListWidget()
        dialog.agency_list.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        dialog.agency_list.setMaximumHeight(150)
        for agency in agencies:
            item = QListWidgetItem(f"{agency.code} — {agency.name}")
            item.setData(Qt.ItemDataRole.UserRole, agency.id)
            dialog.agency_list.addItem(item)
        dialog.row("Agencies whose data is needed", "agency_ids", dialog.agency_list)
        dialog.recipient = QComboBox()
        dialog.recipient.addItem("(not yet known)", None)
        for recipient in recipients:
            dialog.recipient.addItem(recipient.name, recipient.id)
        dialog.row("Data recipient", "recipient_id", dialog.recipient)
        dialog.received = dialog.row("Received on", "received_on", date_edit())
        dialog.purpose = QTextEdit()
        dialog.purpose.setAcceptRichText(False)
        dialog.purpose.setMaximumHeight(90)
        dialog.row("Purpose (1–2 page proposal summary)", "purpose", dialog.purpose)
        self.last_dialog = dialog
        if dialog.exec() and dialog.result_value is not None:
            self.window_.open_request(dialog.result_value)
            return dialog.result_value
        return None

