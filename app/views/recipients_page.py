"""The Recipients screen: requesting organisations and their data users, with NDA and departure tracking."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from app.models import RecipientType
from app.views.list_page import ListPage
from app.views.request_detail import SimpleTable
from app.views.style import LATE_COLOUR
from app.views.table import Column
from app.views.widgets import FormDialog, call_service, date_edit, enum_combo, heading, list_over_detail

RECIPIENT_COLUMNS = [
    Column("name", "Organisation", "name", width=330),
    Column("type", "Type", "recipient_type", filterable=True, width=140),
    Column("representative", "Authorized representative", "authorized_representative", width=220),
    Column("email", "E-mail", "representative_email", width=220),
    Column("users", "Data users", "users", width=90),
]


def _nda(user) -> str:
    if user.departed_on is not None:
        return "Left"
    return "Received" if user.nda_received_on else "Outstanding"


class RecipientsPage(QWidget):
    watches = frozenset({"recipients", "requests"})
    title = "Recipients"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.list_page = ListPage("Recipients", RECIPIENT_COLUMNS, settings_key="recipients",
                                  empty_text="No data recipients yet. Add the organisation that asks for data.")
        if context.can_edit:
            self.list_page.add_action("New recipient…", self.new_recipient)
        self.detail_title = heading("Select a recipient to see its data users.")
        self.users = SimpleTable([
            Column("name", "Data user", "name", width=190),
            Column("title", "Title", "title", width=160),
            Column("email", "E-mail", "email", width=200),
            Column("nda", "NDA", _nda, width=100, foreground=lambda v: LATE_COLOUR if v == "Outstanding" else None),
            Column("nda_on", "NDA received", "nda_received_on", width=110),
            Column("left", "Left on", "departed_on", width=100),
            Column("reported", "Departure reported", "departure_reported_on", width=130),
        ], "No data users named for this recipient.")
        actions = (("Add data user…", self.add_user), ("Record NDA…", self.record_nda),
                   ("Record departure…", self.record_departure)) if context.can_edit else ()
        list_over_detail(self, self.list_page, [self.detail_title, self.users], actions, (480, 260))
        self.list_page.selection_changed.connect(self._show_selected)
        self.refresh()

    def refresh(self) -> None:
        self.list_page.set_rows(self.context.desk.recipients.list())
        self._show_selected()

    def selected(self):
        return self.list_page.current_row()

    def _show_selected(self) -> None:
        recipient = self.selected()
        if recipient is None:
            self.detail_title.setText("Select a recipient to see its data users.")
            self.users.set_rows([])
            return
        self.detail_title.setText(f"Data users of {recipient.name}")
        ok, users = call_service(self, lambda: self.context.desk.recipients.users(recipient.id))
        self.users.set_rows(users if ok else [])

    def new_recipient(self) -> bool:
        agencies = self.context.desk.agencies.list()

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.recipients.create(
                dialog.name.text(), dialog.kind.currentData(), agency_id=dialog.agency.currentData(),
                authorized_representative=dialog.representative.text(), representative_email=dialog.email.text())

        dialog = FormDialog(self, "New data recipient", submit)
        dialog.name = dialog.row("Organisation", "name", QLineEdit())
        dialog.kind = dialog.row("Type", "recipient_type", enum_combo(RecipientType))
        dialog.agency = QComboBox()
        dialog.agency.addItem("(not a participating agency)", None)
        for agency in agencies:
            dialog.agency.addItem(f"{agency.code} — {agency.name}", agency.id)
        dialog.row("Is itself a source agency", "agency_id", dialog.agency)
        dialog.representative = dialog.row("Authorized representative", "authorized_representative", QLineEdit())
        dialog.email = dialog.row("Representative's e-mail", "representative_email", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def add_user(self) -> bool:
        recipient = self.selected()
        if recipient is None:
            return False

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.recipients.add_user(recipient.id, dialog.name.text(), title=dialog.job.text(),
                                                         email=dialog.email.text())

        dialog = FormDialog(self, f"New data user at {recipient.name}", submit)
        dialog.name = dialog.row("Name", "name", QLineEdit())
        dialog.job = dialog.row("Title", "title", QLineEdit())
        dialog.email = dialog.row("E-mail", "email", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_nda(self) -> bool:
        user = self.users.selected()
        if user is None:
            return False
        dialog = FormDialog(self, f"NDA signed by {user.name}",
                            lambda d: self.context.desk.recipients.record_nda(user.id, d.on.date().toPython()))
        dialog.on = dialog.row("Received on", "received_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_departure(self) -> bool:
        user = self.users.selected()
        if user is None:
            return False
        dialog = FormDialog(self, f"{user.name} left",
                            lambda d: self.context.desk.recipients.record_departure(
                                user.id, d.left.date().toPython(), d.reported.date().toPython()))
        dialog.left = dialog.row("Left on", "departed_on", date_edit())
        dialog.reported = dialog.row("Reported to us on", "reported_on", date_edit(date.today()))
        self.last_dialog = dialog
        return bool(dialog.exec())
