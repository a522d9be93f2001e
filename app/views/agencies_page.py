"""The Agencies screen: participating agencies, their status, E-MOU, data stewards and contacts."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QWidget

from app.models import AgencyRole, AgencyStatus, ContactKind
from app.views.list_page import ListPage
from app.views.request_detail import SimpleTable
from app.views.style import LATE_COLOUR
from app.views.table import Column, humanise
from app.views.widgets import FormDialog, call_service, date_edit, enum_combo, heading, list_over_detail

AGENCY_COLUMNS = [
    Column("code", "Code", "code", width=75),
    Column("name", "Name", "name", width=320),
    Column("status", "Status", "status", filterable=True, width=95),
    Column("roles", "Roles", lambda a: ", ".join(sorted(humanise(r.value) for r in a.roles)), width=150),
    Column("emou", "E-MOU signed", "emou_signed_on", width=100),
    Column("stewards", "Stewards", "stewards", width=75,
           foreground=lambda n: LATE_COLOUR if n is not None and n < 2 else None),
    Column("window", "24 h rule", "short_destruction_window", width=75,
           tooltip=lambda a: "Data destroyed within 24 hours of the match (independent colleges)"
           if a.short_destruction_window else "Data destroyed within 5 business days of the match"),
    Column("warnings", "Attention", lambda a: " ".join(a.warnings), width=300,
           foreground=lambda text: LATE_COLOUR if text else None),
]


class AgenciesPage(QWidget):
    watches = frozenset({"agencies", "meetings"})
    title = "Agencies"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.list_page = ListPage("Agencies", AGENCY_COLUMNS, settings_key="agencies",
                                  empty_text="No agencies. The first-run set-up adds the participating agencies.")
        if context.can_edit:
            self.list_page.add_action("New agency…", self.new_agency)
        self.detail_title = heading("Select an agency to see its contacts.")
        self.contacts = SimpleTable([
            Column("kind", "Role", "kind", width=170),
            Column("name", "Name", "name", width=200),
            Column("title", "Title", "title", width=200),
            Column("email", "E-mail", "email", width=220),
            Column("phone", "Phone", "phone", width=120),
            Column("active", "In post", "active", width=70),
        ], "No contacts recorded for this agency.")
        actions = (("Add contact…", self.add_contact), ("Record E-MOU…", self.record_emou),
                   ("Change status…", self.change_status)) if context.can_edit else ()
        list_over_detail(self, self.list_page, [self.detail_title, self.contacts], actions, (520, 220))
        self.list_page.selection_changed.connect(self._show_selected)
        self.refresh()

    def refresh(self) -> None:
        self.list_page.set_rows(self.context.desk.agencies.list())
        self._show_selected()

    def selected(self):
        return self.list_page.current_row()

    def _show_selected(self) -> None:
        agency = self.selected()
        if agency is None:
            self.detail_title.setText("Select an agency to see its contacts.")
            self.contacts.set_rows([])
            return
        self.detail_title.setText(f"{agency.code} — {agency.name}")
        ok, contacts = call_service(self, lambda: self.context.desk.agencies.contacts(agency.id))
        self.contacts.set_rows(contacts if ok else [])

    def new_agency(self) -> bool:
        def submit(dialog: FormDialog) -> int:
            roles = [AgencyRole.PARTICIPATING] + ([AgencyRole.HUB] if dialog.hub.isChecked() else [])
            return self.context.desk.agencies.create(dialog.code.text(), dialog.name.text(), roles=roles)

        dialog = FormDialog(self, "New agency (onboarding)", submit)
        dialog.code = dialog.row("Code", "code", QLineEdit(placeholderText="e.g. DPH"))
        dialog.name = dialog.row("Name", "name", QLineEdit())
        dialog.hub = dialog.row("Data integration hub", "roles", QCheckBox("This agency hosts the hub"))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def add_contact(self) -> bool:
        agency = self.selected()
        if agency is None:
            return False

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.agencies.add_contact(
                agency.id, dialog.kind.currentData(), dialog.name.text(), title=dialog.job.text(),
                email=dialog.email.text(), phone=dialog.phone.text())

        dialog = FormDialog(self, f"New contact at {agency.code}", submit)
        dialog.kind = dialog.row("Role", "kind", enum_combo(ContactKind))
        dialog.name = dialog.row("Name", "name", QLineEdit())
        dialog.job = dialog.row("Title", "title", QLineEdit())
        dialog.email = dialog.row("E-mail", "email", QLineEdit())
        dialog.phone = dialog.row("Phone", "phone", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_emou(self) -> bool:
        agency = self.selected()
        if agency is None:
            return False
        dialog = FormDialog(self, f"E-MOU signed by {agency.code}",
                            lambda d: self.context.desk.agencies.record_emou(agency.id, d.on.date().toPython()))
        dialog.on = dialog.row("Signed on", "signed_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def change_status(self) -> bool:
        agency = self.selected()
        if agency is None:
            return False
        dialog = FormDialog(self, f"Status of {agency.code}",
                            lambda d: self.context.desk.agencies.set_status(agency.id, d.status.currentData()))
        dialog.status = dialog.row("Status", "status", enum_combo(AgencyStatus, agency.status))
        dialog.form.addRow(QLabel("Admission and suspension need a passed Executive Board vote.", objectName="muted"))
        self.last_dialog = dialog
        return bool(dialog.exec())
