"""The GUI's entry point: first-run wizard, unlock, demo store, idle lock and switch user.

Locking closes the store (the data key leaves memory) and the main window; unlocking opens it again
with the passphrase. So an idle lock protects the data as well as the screen.
"""
from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QIcon, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.resources import resource_path
from app.store import PRODUCTION_KDF, KdfParams, Store, StoreError, keycache
from app.store.paths import DEMO_PASSPHRASE, DEMO_USER, default_store_path, demo_store_path

log = logging.getLogger(__name__)

DEFAULT_IDLE_MINUTES = 15


def idle_minutes() -> int:
    """Minutes of no keyboard or mouse input before the desk locks (Settings; 0 turns it off)."""
    value = QSettings().value("security/idle_minutes", DEFAULT_IDLE_MINUTES)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES


def passphrase_strength(passphrase: str) -> tuple[int, str]:
    """A rough 0..100 score and a word for the strength meter. The store's own rule decides what is
    accepted; this only helps a person pick a good one (length counts most: prefer several words)."""
    if not passphrase:
        return 0, ""
    pool = 0
    pool += 26 if any(c.islower() for c in passphrase) else 0
    pool += 26 if any(c.isupper() for c in passphrase) else 0
    pool += 10 if any(c.isdigit() for c in passphrase) else 0
    pool += 33 if any(not c.isalnum() for c in passphrase) else 0
    distinct = len(set(passphrase))
    bits = min(len(passphrase), distinct * 2) * math.log2(max(pool, 2))
    score = int(min(100, bits * 100 / 90))
    word = "weak" if bits < 45 else "fair" if bits < 65 else "good" if bits < 85 else "strong"
    return score, word


def _open_desk(store: Store, username: str):
    from app.services import Desk

    return Desk(store, username)


# ---------------------------------------------------------------------------------------------------------
# First run
# ---------------------------------------------------------------------------------------------------------
class _AdminPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard):
        super().__init__()
        self._wizard = wizard
        self.setTitle("The first administrator")
        self.setSubTitle("You will sign in with this name and passphrase. The passphrase encrypts the store: "
                         "choose several words you will remember.")
        self.username = QLineEdit(placeholderText="e.g. jsmith")
        self.display_name = QLineEdit(placeholderText="e.g. Jordan Smith")
        self.passphrase = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        for widget, name in [(self.username, "User name"), (self.display_name, "Full name"),
                             (self.passphrase, "Passphrase"), (self.confirm, "Repeat passphrase")]:
            widget.setAccessibleName(name)
        self.meter = QProgressBar(maximum=100, textVisible=False)
        self.meter.setFixedHeight(6)
        self.meter.setAccessibleName("Passphrase strength")
        self.meter_label = QLabel(objectName="muted")
        self.error = QLabel(objectName="fieldError", wordWrap=True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.passphrase.textChanged.connect(self._update_meter)
        form = QFormLayout(self)
        form.addRow("User name", self.username)
        form.addRow("Full name", self.display_name)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("", self.meter)
        form.addRow("", self.meter_label)
        form.addRow("Repeat passphrase", self.confirm)
        form.addRow("", self.error)
        self.location = QLabel(objectName="muted", wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        form.addRow("Store file", self.location)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self.location.setText(str(self._wizard.store_path))

    def _update_meter(self, text: str) -> None:
        score, word = passphrase_strength(text)
        self.meter.setValue(score)
        self.meter_label.setText(f"Strength: {word}" if word else "")

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if not self.username.text().strip():
            return self._fail("Give a user name.")
        if self.passphrase.text() != self.confirm.text():
            return self._fail("The two passphrases differ. Type the same passphrase twice.")
        try:
            store, code = self._wizard.create_store(
                self.username.text().strip(), self.passphrase.text(), self.display_name.text().strip()
            )
        except StoreError as error:
            return self._fail(error.message)
        except Exception as error:  # a service error (ValidationFailed...) also carries .message
            if getattr(error, "message", None):
                return self._fail(error.message)
            raise
        from app.services.users import check_username  # the name as the store keeps it (lower case)

        self._wizard.store, self._wizard.recovery_code = store, code
        self._wizard.username = check_username(self.username.text())
        self.passphrase.clear()
        self.confirm.clear()
        return True

    def _fail(self, message: str) -> bool:
        self.error.setText(message)
        return False


class _RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard):
        super().__init__()
        self._wizard = wizard
        self.setTitle("Your recovery code")
        self.setSubTitle("If every passphrase is forgotten, this code is the only way into the store. It is "
                         "shown once. Print it or save it somewhere safe, away from this computer.")
        self.code = QLabel(textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.setAccessibleName("Recovery code")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSize(14)
        mono.setWeight(QFont.Weight.DemiBold)
        self.code.setFont(mono)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setWordWrap(True)
        print_button = QPushButton("Print…")
        save_button = QPushButton("Save to file…")
        print_button.clicked.connect(self._print)
        save_button.clicked.connect(self._save)
        self.kept = QCheckBox("I have printed or saved the recovery code")
        self.kept.toggled.connect(self.completeChanged)
        self.remember = QCheckBox("Remember me on this computer (no passphrase needed to unlock)")
        self.remember.setVisible(keycache.available())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(print_button)
        buttons.addWidget(save_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addSpacing(12)
        layout.addWidget(self.code)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(1)
        layout.addWidget(self.kept)
        layout.addWidget(self.remember)
        self.saved_to: Path | None = None

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        self.code.setText(self._wizard.recovery_code or "")

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.kept.isChecked()

    def _text(self) -> str:
        return (f"P20 WIN Desk recovery code\nStore: {self._wizard.store_path}\n\n{self._wizard.recovery_code}\n\n"
                "Keep this somewhere safe. Anyone with this code and the store file can read the store.\n")

    def _print(self) -> None:
        printer = QPrinter()
        if QPrintDialog(printer, self).exec() == QDialog.DialogCode.Accepted:
            document = QTextDocument()
            document.setPlainText(self._text())
            document.print_(printer)

    def _save(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save recovery code", str(Path.home() / "p20win-recovery-code.txt"),
                                                "Text file (*.txt)")
        if chosen:
            self.save_to(Path(chosen))

    def save_to(self, path: Path) -> None:
        try:
            path.write_text(self._text(), encoding="utf-8")
        except OSError as error:
            QMessageBox.warning(self, "Not saved", f"Could not write {path.name}: {error.strerror or error}.")
            return
        self.saved_to = path
        self.kept.setChecked(True)


class FirstRunWizard(QWizard):
    """Creates the store (``initialise_store``), the first admin and shows the recovery code once.

    After ``exec()`` returns Accepted, ``store`` and ``username`` are set (the store is open).
    """

    def __init__(self, store_path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.store_path = store_path
        self.store: Store | None = None
        self.recovery_code: str | None = None
        self.username = ""
        self.setWindowTitle("Set up P20 WIN Desk")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        welcome = QWizardPage()
        welcome.setTitle("Welcome to P20 WIN Desk")
        welcome.setSubTitle("This computer has no P20 WIN store yet. The next steps create one: an encrypted "
                            "file that holds requests, agreements, meetings, budget and the audit trail.")
        text = QLabel("You will choose the first administrator's name and passphrase, then receive a recovery "
                      "code to keep safe. Participating agencies from the P20 WIN manual are added for you.",
                      wordWrap=True)
        QVBoxLayout(welcome).addWidget(text)
        self.admin_page = _AdminPage(self)
        self.recovery_page = _RecoveryPage(self)
        self.addPage(welcome)
        self.addPage(self.admin_page)
        self.addPage(self.recovery_page)
        self.resize(620, 480)

    def create_store(self, username: str, passphrase: str, display_name: str) -> tuple[Store, str]:
        from app.services.setup import initialise_store

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return initialise_store(self.store_path, username, passphrase, display_name or username)
        finally:
            QApplication.restoreOverrideCursor()

    def accept(self) -> None:
        if self.store is not None and self.recovery_page.remember.isChecked():
            keycache.remember(self.store)
        super().accept()

    def reject(self) -> None:
        if self.store is not None:  # created, but the code was not confirmed: it must not be lost silently
            answer = QMessageBox.question(self, "Recovery code", "The store is created. Leave without keeping "
                                          "the recovery code? It cannot be shown again.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().reject()


# ---------------------------------------------------------------------------------------------------------
# Unlock
# ---------------------------------------------------------------------------------------------------------
class UnlockDialog(QDialog):
    """Asks for user name and passphrase; ``store`` is set when it was accepted."""

    def __init__(self, store_path: Path, *, username: str = "", reason: str = "", parent: QWidget | None = None,
                 kdf: KdfParams = PRODUCTION_KDF):
        super().__init__(parent)
        self.store_path = store_path
        self.kdf = kdf
        self.store: Store | None = None
        self.setWindowTitle("Unlock P20 WIN Desk")
        title = QLabel("Unlock P20 WIN Desk", objectName="pageTitle")
        where = QLabel(f"Store: {store_path}", objectName="muted", wordWrap=True,
                       textFormat=Qt.TextFormat.PlainText)
        self.reason = QLabel(reason, objectName="muted", wordWrap=True)
        self.reason.setVisible(bool(reason))
        self.username = QLineEdit(username or str(QSettings().value("unlock/last_user", "")))
        self.username.setAccessibleName("User name")
        self.passphrase = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        self.remember = QCheckBox("Remember me on this computer")
        self.remember.setVisible(keycache.available())
        self.error = QLabel(objectName="fieldError", wordWrap=True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setAccessibleName("Unlock error")
        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("", self.remember)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.unlock_button = buttons.addButton("Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.unlock_button.setDefault(True)
        buttons.accepted.connect(self.try_unlock)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addWidget(self.reason)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)
        (self.passphrase if self.username.text() else self.username).setFocus()

    def try_unlock(self) -> None:
        username = self.username.text().strip()
        if not username:
            self.error.setText("Type your user name.")
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            store = Store.open(self.store_path, username, self.passphrase.text(), kdf=self.kdf)
        except StoreError as error:
            self.error.setText(error.message)
            self.passphrase.selectAll()
            self.passphrase.setFocus()
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.passphrase.clear()
        if self.remember.isChecked():
            keycache.remember(store)
        QSettings().setValue("unlock/last_user", username)
        self.store = store
        self.accept()


# ---------------------------------------------------------------------------------------------------------
# Idle lock
# ---------------------------------------------------------------------------------------------------------
class IdleWatcher(QObject):
    """Emits ``idle()`` after ``minutes`` without keyboard or mouse input anywhere in the application."""

    idle = Signal()
    _INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel})

    def __init__(self, minutes: int, parent: QObject | None = None):
        super().__init__(parent)
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(self.idle)
        self.set_minutes(minutes)

    def set_minutes(self, minutes: int) -> None:
        self.minutes = minutes
        if minutes > 0:
            self.timer.start(minutes * 60_000)
        else:
            self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in self._INPUT and self.minutes > 0:
            self.timer.start()
        return False


# ---------------------------------------------------------------------------------------------------------
# The session controller
# ---------------------------------------------------------------------------------------------------------
class DeskApplication(QObject):
    """Holds the one open store and main window; handles lock, unlock and switch user."""

    def __init__(self, store_path: Path, *, demo: bool = False):
        super().__init__()
        self.store_path = store_path
        self.demo = demo
        self.store: Store | None = None
        self.window = None
        self.idle = IdleWatcher(0 if demo else idle_minutes(), self)
        self.idle.idle.connect(self._idle_lock)
        app = QApplication.instance()
        app.installEventFilter(self.idle)
        app.idle_watcher = self.idle  # Settings changes the idle time of the running session through it

    def start_session(self, store: Store, username: str) -> None:
        """Open the main window for ``username`` on the open ``store``."""
        from app.views.context import DeskContext
        from app.views.main_window import MainWindow

        self.store = store
        context = DeskContext(_open_desk(store, username), self.store_path, demo=self.demo)
        window = MainWindow(context)
        window.lock_requested.connect(lambda: self.lock("Locked."))
        window.switch_user_requested.connect(self.switch_user)
        self.window = window
        window.show()
        if not self.demo:
            self.idle.set_minutes(idle_minutes())

    def end_session(self, *, ask: bool = True) -> bool:
        """Close the window and the store; False if the user kept unsaved edits."""
        window = self.window
        if window is not None:
            if ask and not window.confirm_discard():
                return False
            window.save_state()
            window.stop_work()
            window.context.changed.disconnect()
            window.hide()
            window.deleteLater()
            self.window = None
        if self.store is not None:
            self.store.close()
            self.store = None
        return True

    def _idle_lock(self) -> None:
        if self.window is not None and self.window.busy():   # a match being scored: ask again after another period
            self.idle.timer.start()
            return
        self.lock("Locked after a period of inactivity.")

    def lock(self, reason: str) -> None:
        """Close the store and ask for the passphrase again (auto-lock discards unsaved form edits)."""
        if self.window is None:
            return
        username = self.window.context.username
        self.end_session(ask=False)
        self._unlock(username=username, reason=reason)

    def switch_user(self) -> None:
        if self.window is None or not self.end_session():
            return
        self._unlock(username="", reason="Sign in as another user.")

    def _unlock(self, *, username: str, reason: str) -> bool:
        dialog = UnlockDialog(self.store_path, username=username, reason=reason)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.store is None:
            QApplication.instance().quit()
            return False
        self.start_session(dialog.store, dialog.username.text().strip())
        return True

    def open_first(self) -> bool:
        """First run, demo, remembered key or unlock dialog; False when the user gave up."""
        if self.demo:
            store = open_demo_store(self.store_path)
            self.start_session(store, DEMO_USER)
            return True
        if not self.store_path.exists():
            wizard = FirstRunWizard(self.store_path)
            if wizard.exec() != QDialog.DialogCode.Accepted or wizard.store is None:
                if wizard.store is not None:
                    wizard.store.close()
                return False
            QSettings().setValue("unlock/last_user", wizard.username)
            self.start_session(wizard.store, wizard.username)
            return True
        last = str(QSettings().value("unlock/last_user", ""))
        if last:
            try:
                store = keycache.open_remembered(self.store_path, last)
            except StoreError as error:
                log.info("remembered key not used: %s", error.message)
                store = None
            if store is not None:
                self.start_session(store, last)
                return True
        dialog = UnlockDialog(self.store_path)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.store is None:
            return False
        self.start_session(dialog.store, dialog.username.text().strip())
        return True


def open_demo_store(path: Path) -> Store:
    """Open the demo store at ``path`` as user ``demo``, creating and filling it first when absent (that takes
    a while: it runs as a job behind a progress dialog). Raises StoreError."""
    if path.exists():
        return Store.open(path, DEMO_USER, DEMO_PASSPHRASE)
    from app.jobs import Job

    def build(ctx) -> Store:
        from app.services.demo import create_demo_store

        return create_demo_store(path)[0]

    loop = QEventLoop()
    job = Job(None, build, title="Creating the demo store (first run only)", cancellable=False)
    job.failure(lambda error: None).finished.connect(loop.quit)
    job.run_in_background()
    loop.exec()
    if job.error is not None:
        raise job.error
    return job.result


def make_qapplication(argv: list[str] | None = None) -> QApplication:
    """The QApplication with names (for QSettings), high-DPI rounding and the style applied."""
    from PySide6.QtGui import QGuiApplication

    from app.views.style import apply_style

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName("P20 WIN")
    app.setApplicationName("P20 WIN Desk")
    app.setApplicationDisplayName("P20 WIN Desk")
    app.setWindowIcon(QIcon(str(resource_path("icons", "p20win.png"))))
    apply_style(app)
    return app


def run_gui(store_path: Path | None, demo: bool = False, *, self_test: bool = False) -> int:
    """Start the desktop application; returns the process exit code. ``demo`` opens (creating when absent)
    the demo store at the default location as user ``demo``. ``self_test`` quits as soon as the main window
    is up and idle (exit 0, one line on stdout): how an installed copy is checked without a person."""
    app = make_qapplication()
    path = demo_store_path() if demo and store_path is None else Path(store_path or default_store_path())
    controller = DeskApplication(path, demo=demo)
    try:
        if not controller.open_first():
            return 0
    except StoreError as error:
        QMessageBox.critical(None, "P20 WIN Desk", error.message)
        return 1
    app.setQuitOnLastWindowClosed(True)
    if self_test:
        QTimer.singleShot(0, lambda: _finish_self_test(controller))
    code = app.exec()
    QThreadPool.globalInstance().waitForDone()  # a background read must not outlive the store it reads
    controller.end_session(ask=False)
    return code


def _finish_self_test(controller: DeskApplication) -> None:
    from app import __version__

    window = controller.window
    shown = window is not None and window.isVisible()
    print(f"self-test: P20 WIN Desk {__version__}, store {controller.store_path.name}: "
          + ("main window shown" if shown else "no main window"), flush=True)
    QApplication.instance().exit(0 if shown else 1)
