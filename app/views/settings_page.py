"""Settings: users and roles (administrators only), idle lock, backups, fee schedules and holidays."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.jobs import Job
from app.models import FeeRuleKind, RecipientType, Role
from app.services.errors import ValidationFailed
from app.store import StoreError
from app.store.keyslots import check_new_passphrase
from app.views.application import DEFAULT_IDLE_MINUTES, idle_minutes
from app.views.request_detail import SimpleTable
from app.views.style import scheme_preference, set_scheme_preference
from app.views.table import Column, cents, humanise
from app.views.widgets import FormDialog, button_row, call_service, date_edit, enum_combo, heading


def _rule_amount(rule) -> str:
    if rule.kind is FeeRuleKind.EXEMPTION:
        return f"{rule.percent_off}% off"
    return cents(rule.amount_cents)


def _band(rule) -> str:
    if rule.min_cohort is None and rule.max_cohort is None:
        return ""
    low = f"{rule.min_cohort:,}" if rule.min_cohort is not None else "0"
    high = f"{rule.max_cohort:,}" if rule.max_cohort is not None else "∞"
    return f"{low} – {high}"


class SettingsPage(QWidget):
    watches = frozenset({"users", "finance", "calendar"})
    title = "Settings"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.backup_job: Job | None = None
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        if context.is_admin:
            self.tabs.addTab(self._users_tab(), "Users && roles")
        self.tabs.addTab(self._security_tab(), "Lock, backup && colours")
        self.tabs.addTab(self._fees_tab(), "Fee schedule")
        self.tabs.addTab(self._holidays_tab(), "Holidays")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(QLabel("Settings", objectName="pageTitle"))
        layout.addWidget(self.tabs, 1)
        self.refresh()

    def refresh(self) -> None:
        desk = self.context.desk
        if self.context.is_admin:
            self._keyed = {name.casefold() for name in desk.store.usernames()}
            self.users.set_rows(desk.users.list())
        self.schedules = desk.finance.fee_schedules()
        chosen = self.schedule.currentData()
        self.schedule.blockSignals(True)
        self.schedule.clear()
        for schedule in self.schedules:
            until = schedule.effective_to.isoformat() if schedule.effective_to else "open-ended"
            self.schedule.addItem(f"{schedule.name} ({schedule.effective_from.isoformat()} – {until})", schedule.id)
        self.schedule.setCurrentIndex(max(0, self.schedule.findData(chosen)))
        self.schedule.blockSignals(False)
        self._show_rules()
        self.holidays.set_rows([_Holiday(day, name) for day, name in desk.calendar.holidays()])

    # -- users --------------------------------------------------------------------------------------------
    def _users_tab(self) -> QWidget:
        page = QWidget()
        self.users = SimpleTable([
            Column("username", "User name", "username", width=140),
            Column("name", "Name", "display_name", width=220),
            Column("role", "Role", "role", width=120),
            Column("active", "Active", "active", width=70),
            Column("key", "Has a passphrase", lambda u: u.username.casefold() in self._keyed, width=130,
                   tooltip=lambda u: None if u.username.casefold() in self._keyed else
                   "No key slot: this user cannot unlock the store until “Add user…” gives a passphrase"),
            Column("created", "Since", "created_at", width=140),
        ], "No users.")
        column = QVBoxLayout(page)
        column.addWidget(QLabel("Coordinators run requests; hub staff match and destroy; auditors only read; "
                                "administrators also manage users.", objectName="muted", wordWrap=True))
        column.addWidget(self.users, 1)
        column.addLayout(button_row((("Add user…", self.add_user), ("Set passphrase…", self.set_passphrase),
                                    ("Change role…", self.change_role),
                                    ("Deactivate / reactivate", self.toggle_active))))
        return page

    def add_user(self) -> bool:
        store = self.context.desk.store

        def submit(dialog: FormDialog) -> int:
            if dialog.passphrase.text() != dialog.repeat.text():
                raise ValidationFailed({"repeat": "differs from the passphrase"})
            try:
                check_new_passphrase(dialog.passphrase.text())  # before the user exists: nothing half-done
            except StoreError as error:
                raise ValidationFailed({"passphrase": error.message}) from None
            user_id = self.context.desk.users.add(dialog.username.text(), dialog.name.text(), dialog.role.currentData())
            store.add_key_slot(dialog.username.text().strip().lower(), dialog.passphrase.text())
            return user_id

        dialog = FormDialog(self, "New desk user", submit)
        dialog.username = dialog.row("User name", "username", QLineEdit())
        dialog.name = dialog.row("Full name", "display_name", QLineEdit())
        dialog.role = dialog.row("Role", "role", enum_combo(Role, Role.COORDINATOR))
        dialog.passphrase = dialog.row("First passphrase", "passphrase", QLineEdit(echoMode=QLineEdit.EchoMode.Password))
        dialog.repeat = dialog.row("Repeat passphrase", "repeat", QLineEdit(echoMode=QLineEdit.EchoMode.Password))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def set_passphrase(self) -> bool:
        """Give the selected user a new passphrase (or a first one), e.g. after they forgot theirs."""
        user = self.users.selected()
        if user is None:
            return False
        store = self.context.desk.store

        def submit(dialog: FormDialog) -> None:
            if dialog.passphrase.text() != dialog.repeat.text():
                raise ValidationFailed({"repeat": "differs from the passphrase"})
            try:
                store.set_passphrase(user.username, dialog.passphrase.text())
            except StoreError as error:
                raise ValidationFailed({"passphrase": error.message}) from None
            self.refresh()  # the key file is not audited data, so no change broadcast comes

        dialog = FormDialog(self, f"Passphrase for {user.username}", submit)
        dialog.passphrase = dialog.row("New passphrase", "passphrase", QLineEdit(echoMode=QLineEdit.EchoMode.Password))
        dialog.repeat = dialog.row("Repeat passphrase", "repeat", QLineEdit(echoMode=QLineEdit.EchoMode.Password))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def change_role(self) -> bool:
        user = self.users.selected()
        if user is None:
            return False
        dialog = FormDialog(self, f"Role of {user.username}",
                            lambda d: self.context.desk.users.set_role(user.username, d.role.currentData()))
        dialog.role = dialog.row("Role", "role", enum_combo(Role, user.role))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def toggle_active(self) -> bool:
        user = self.users.selected()
        if user is None:
            return False
        ok, _ = call_service(self, lambda: self.context.desk.users.set_active(user.username, not user.active))
        return ok

    # -- lock and backup ----------------------------------------------------------------------------------
    def _security_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.idle = QSpinBox(minimum=0, maximum=240, suffix=" min")
        self.idle.setSpecialValueText("never")
        self.idle.setValue(idle_minutes())
        self.idle.setAccessibleName("Lock after idle minutes")
        self.idle.valueChanged.connect(self._save_idle)
        form.addRow("Lock after no input for", self.idle)
        form.addRow("", QLabel(f"Locking closes the store; unlocking needs the passphrase again (default "
                               f"{DEFAULT_IDLE_MINUTES} min).", objectName="muted", wordWrap=True))
        self.scheme = QComboBox()
        self.scheme.setAccessibleName("Colours")
        for key, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.scheme.addItem(label, key)
        self.scheme.setCurrentIndex(max(0, self.scheme.findData(scheme_preference())))
        self.scheme.currentIndexChanged.connect(lambda _: set_scheme_preference(self.scheme.currentData()))
        form.addRow("Colours", self.scheme)
        self.backup_folder = QLineEdit(str(QSettings().value("backup/folder", str(Path.home()))))
        self.backup_folder.setAccessibleName("Backup folder")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_backup_folder)
        row = QHBoxLayout()
        row.addWidget(self.backup_folder, 1)
        row.addWidget(browse)
        form.addRow("Backup folder", row)
        self.backup_button = QPushButton("Back up now")
        self.backup_button.clicked.connect(self.backup_now)
        self.backup_button.setVisible(self.context.can_edit)
        self.backup_result = QLabel(objectName="muted", wordWrap=True)
        self.backup_result.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("", self.backup_button)
        form.addRow("", self.backup_result)
        return page

    def _save_idle(self, minutes: int) -> None:
        QSettings().setValue("security/idle_minutes", minutes)
        watcher = getattr(QApplication.instance(), "idle_watcher", None)
        if watcher is not None:
            watcher.set_minutes(minutes)

    def _choose_backup_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Backup folder", self.backup_folder.text())
        if chosen:
            self.backup_folder.setText(chosen)
            QSettings().setValue("backup/folder", chosen)

    def backup_now(self) -> Job:
        """Write an encrypted backup into the backup folder as a background job."""
        folder = Path(self.backup_folder.text()).expanduser()
        QSettings().setValue("backup/folder", str(folder))
        store = self.context.desk.store
        name = f"{store.path.stem}-{datetime.now():%Y%m%d-%H%M%S}.p20backup"
        self.backup_button.setEnabled(False)
        self.backup_result.setText("Backing up…")

        def done(path: Path) -> None:
            self.backup_button.setEnabled(True)
            self.backup_result.setText(f"Backup written: {path}")

        def failed(error: BaseException) -> None:
            self.backup_button.setEnabled(True)
            self.backup_result.setText(getattr(error, "message", None) or f"Backup failed: {error}")

        self.backup_job = (Job(self, lambda ctx: store.backup(folder / name), title="Backing up the store")
                           .success(done).failure(failed).run_in_background())
        return self.backup_job

    # -- fee schedule -------------------------------------------------------------------------------------
    def _fees_tab(self) -> QWidget:
        page = QWidget()
        self.schedule = QComboBox()
        self.schedule.setAccessibleName("Fee schedule")
        self.schedule.currentIndexChanged.connect(lambda _: self._show_rules())
        self.rules = SimpleTable([
            Column("position", "#", "position", width=40),
            Column("kind", "Rule", "kind", width=150),
            Column("description", "Description", "description", width=260),
            Column("amount", "Amount", _rule_amount, width=110),
            Column("band", "Cohort band", _band, width=140),
            Column("for", "Applies to", lambda r: humanise(r.recipient_type.value) if r.recipient_type else "Everyone",
                   width=140),
        ], "No rules in this schedule: requests would be free.")
        top = QHBoxLayout()
        top.addWidget(QLabel("Schedule"))
        top.addWidget(self.schedule, 1)
        column = QVBoxLayout(page)
        column.addLayout(top)
        column.addWidget(heading("Rules, applied in order"))
        column.addWidget(self.rules, 1)
        if self.context.can_edit:
            column.addLayout(button_row((("New schedule…", self.new_schedule), ("Add rule…", self.add_rule),
                                        ("Remove rule", self.remove_rule))))
        return page

    def _show_rules(self) -> None:
        schedule = next((s for s in getattr(self, "schedules", []) if s.id == self.schedule.currentData()), None)
        self.rules.set_rows(list(schedule.rules) if schedule else [])

    def new_schedule(self) -> bool:
        dialog = FormDialog(self, "New fee schedule", lambda d: self.context.desk.finance.create_fee_schedule(
            d.name.text(), d.start.date().toPython(), notes=d.notes.text()))
        dialog.name = dialog.row("Name", "name", QLineEdit())
        dialog.start = dialog.row("In force from", "effective_from", date_edit())
        dialog.notes = dialog.row("Notes", "notes", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def add_rule(self) -> bool:
        schedule_id = self.schedule.currentData()
        if schedule_id is None:
            return False

        def optional(box: QSpinBox) -> int | None:
            return box.value() if box.value() >= 0 else None

        def submit(dialog: FormDialog) -> int:
            kind = dialog.kind.currentData()
            return self.context.desk.finance.add_fee_rule(
                schedule_id, kind, amount_cents=round(dialog.amount.value() * 100), description=dialog.description.text(),
                min_cohort=optional(dialog.low), max_cohort=optional(dialog.high),
                percent_off=dialog.percent.value() if kind is FeeRuleKind.EXEMPTION else None,
                recipient_type=dialog.who.currentData())

        dialog = FormDialog(self, "New fee rule", submit)
        dialog.kind = dialog.row("Rule", "kind", enum_combo(FeeRuleKind))
        dialog.description = dialog.row("Description", "description", QLineEdit())
        dialog.amount = dialog.row("Amount", "amount_cents", QDoubleSpinBox(maximum=1_000_000, decimals=2, prefix="$ "))
        dialog.low = QSpinBox(minimum=-1, maximum=100_000_000)
        dialog.low.setSpecialValueText("none")
        dialog.low.setValue(-1)
        dialog.row("Cohort from", "min_cohort", dialog.low)
        dialog.high = QSpinBox(minimum=-1, maximum=100_000_000)
        dialog.high.setSpecialValueText("none")
        dialog.high.setValue(-1)
        dialog.row("Cohort up to", "max_cohort", dialog.high)
        dialog.percent = dialog.row("Percent off", "percent_off", QSpinBox(minimum=0, maximum=100, suffix=" %"))
        dialog.who = dialog.row("Applies to", "recipient_type", enum_combo(RecipientType, allow_none="Everyone"))
        self.last_dialog = dialog
        return bool(dialog.exec())

    def remove_rule(self) -> bool:
        rule = self.rules.selected()
        if rule is None:
            return False
        ok, _ = call_service(self, lambda: self.context.desk.finance.remove_fee_rule(rule.id))
        return ok

    # -- holidays -----------------------------------------------------------------------------------------
    def _holidays_tab(self) -> QWidget:
        page = QWidget()
        self.holidays = SimpleTable([
            Column("day", "Day", "day", width=110),
            Column("name", "Holiday", "name", width=300),
        ], "No holidays recorded: destruction deadlines count every weekday.")
        column = QVBoxLayout(page)
        column.addWidget(QLabel("State holidays are skipped when counting the hub's 5 business days to destroy "
                                "input files.", objectName="muted", wordWrap=True))
        column.addWidget(self.holidays, 1)
        if self.context.can_edit:
            column.addLayout(button_row((("Add holiday…", self.add_holiday), ("Remove", self.remove_holiday))))
        return page

    def add_holiday(self) -> bool:
        dialog = FormDialog(self, "Holiday", lambda d: self.context.desk.calendar.add_holiday(
            d.day.date().toPython(), d.name.text()))
        dialog.day = dialog.row("Day", "day", date_edit())
        dialog.name = dialog.row("Name", "name", QLineEdit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def remove_holiday(self) -> bool:
        holiday = self.holidays.selected()
        if holiday is None:
            return False
        ok, _ = call_service(self, lambda: self.context.desk.calendar.remove_holiday(holiday.day))
        return ok


class _Holiday:
    __slots__ = ("day", "name")

    def __init__(self, day, name):
        self.day, self.name = day, name
