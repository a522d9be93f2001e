"""The main window: navigation sidebar, one stacked page per screen, menus, shortcuts and status bar.

Screens are built on first visit (a cold start builds only the Dashboard). Each screen may declare
``watches`` (kinds of data, see ``app.services.base.Kind``) and ``refresh()``; when a service change is
broadcast the visible screen refreshes at once and hidden ones on their next visit — views never poll and
never reach into each other.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.views.context import DeskContext


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    title: str
    target: str  # "module:Class"; the class takes (context, window)
    shortcut: str = ""
    roles: frozenset[str] = frozenset()  # roles that see it in the navigation; empty: everyone


SCREENS: list[ScreenSpec] = [
    ScreenSpec("dashboard", "Dashboard", "app.views.dashboard:DashboardPage", "Ctrl+1"),
    ScreenSpec("requests", "Requests", "app.views.requests_page:RequestsPage", "Ctrl+2"),
    ScreenSpec("agencies", "Agencies", "app.views.agencies_page:AgenciesPage", "Ctrl+3"),
    ScreenSpec("recipients", "Recipients", "app.views.recipients_page:RecipientsPage", "Ctrl+4"),
    ScreenSpec("agreements", "Agreements", "app.views.agreements_page:AgreementsPage", "Ctrl+5"),
    ScreenSpec("meetings", "Meetings & Votes", "app.views.meetings_page:MeetingsPage", "Ctrl+6"),
    ScreenSpec("budget", "Budget & Fees", "app.views.budget_page:BudgetPage", "Ctrl+7"),
    ScreenSpec("reports", "Reports", "app.views.reports_page:ReportsPage", "Ctrl+8"),
    ScreenSpec("audit", "Audit log", "app.views.audit_page:AuditPage", "Ctrl+9"),
    ScreenSpec("settings", "Settings", "app.views.settings_page:SettingsPage", "Ctrl+0"),
    ScreenSpec("hub", "Hub workspace", "app.views.hub.page:HubPage", "Ctrl+Shift+H", frozenset({"hub", "admin"})),
]


def _load(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class UnavailableScreen(QWidget):
    """Shown when a screen's module is not part of this build yet, instead of a crash."""

    def __init__(self, title: str, why: str):
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(QLabel(title, objectName="pageTitle"))
        note = QLabel(why, objectName="muted", wordWrap=True)
        layout.addWidget(note)
        layout.addStretch(1)


class MainWindow(QMainWindow):
    """Signals: ``lock_requested()`` and ``switch_user_requested()`` are handled by the application."""

    lock_requested = Signal()
    switch_user_requested = Signal()

    def __init__(self, context: DeskContext):
        super().__init__()
        self.context = context
        self.setWindowTitle(f"P20 WIN Desk — {context.store_path.stem}" + (" (demo data)" if context.demo else ""))
        self.setMinimumSize(960, 600)
        self._pages: dict[str, QWidget] = {}
        self._stale: set[str] = set()
        self._specs = {spec.key: spec for spec in SCREENS}

        self.navigation = QListWidget(objectName="navigation")
        self.navigation.setAccessibleName("Navigation")
        self.navigation.setFixedWidth(200)
        for spec in SCREENS:
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(f"{spec.title} ({spec.shortcut})")
            self.navigation.addItem(item)
            item.setHidden(bool(spec.roles) and context.role not in spec.roles)
        self.navigation.currentItemChanged.connect(
            lambda item, _: item is not None and self.show_screen(item.data(Qt.ItemDataRole.UserRole))
        )
        # A click on the highlighted entry (e.g. "Requests" while a request is open) goes back to its list.
        self.navigation.itemClicked.connect(lambda item: self.show_screen(item.data(Qt.ItemDataRole.UserRole)))
        brand = QLabel("P20 WIN Desk", objectName="brand")
        brand.setFixedWidth(200)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(0)
        side.addWidget(brand)
        side.addWidget(self.navigation, 1)

        self.stack = QStackedWidget()
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        if context.demo:
            banner = QLabel("Demo data — not real requests, people or money. Nothing here is sent anywhere.",
                            objectName="demoBanner")
            banner.setAccessibleName("Demo data banner")
            right.addWidget(banner)
        right.addWidget(self.stack, 1)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(side)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self._build_status_bar()
        context.changed.connect(self._on_change)
        self._restore_geometry()
        self.navigation.setCurrentRow(0)

    # -- screens ------------------------------------------------------------------------------------------
    def page(self, key: str) -> QWidget:
        """The screen ``key``, built on first use."""
        page = self._pages.get(key)
        if page is None:
            spec = self._specs[key]
            try:
                page = _load(spec.target)(*self._arguments(spec))
            except ModuleNotFoundError as missing:
                if missing.name != spec.target.partition(":")[0]:
                    raise  # a bug inside the screen, not a screen left out of this build
                page = UnavailableScreen(spec.title, "This screen is not part of this build.")
            page.setAccessibleName(spec.title)
            self._pages[key] = page
            self.stack.addWidget(page)
        return page

    def _arguments(self, spec: ScreenSpec) -> tuple[Any, ...]:
        # The Reports screen (reports area) takes the services facade; our screens take the context.
        return (self.context.desk, self) if spec.key == "reports" else (self.context, self)

    def show_screen(self, key: str) -> QWidget:
        """Bring screen ``key`` forward (refreshing it if data changed while it was hidden) and return it."""
        page = self.page(key)
        if key in self._stale:
            self._stale.discard(key)
            _refresh(page)
        self.stack.setCurrentWidget(page)
        row = next((i for i, s in enumerate(SCREENS) if s.key == key), None)
        if row is not None and self.navigation.currentRow() != row:
            self.navigation.blockSignals(True)
            self.navigation.setCurrentRow(row)
            self.navigation.blockSignals(False)
        self.statusBar().clearMessage()
        return page

    def show_widget(self, key: str, widget: QWidget, *, under: str | None = None) -> None:
        """Show a secondary screen (e.g. a request's detail) that lives in the stack beside the main ones;
        ``under`` names the main screen highlighted in the navigation meanwhile."""
        old = self._pages.get(key)
        if old is not None and old is not widget:
            self.stack.removeWidget(old)
            old.deleteLater()
        self._pages[key] = widget
        if self.stack.indexOf(widget) < 0:
            self.stack.addWidget(widget)
        self.stack.setCurrentWidget(widget)
        row = next((i for i, s in enumerate(SCREENS) if s.key == under), None)
        if row is not None:
            self.navigation.blockSignals(True)
            self.navigation.setCurrentRow(row)
            self.navigation.blockSignals(False)

    def open_request(self, request_id: int) -> QWidget:
        """Open one request's detail screen."""
        from app.views.request_detail import RequestDetailPage

        detail = self._pages.get("request")
        if not isinstance(detail, RequestDetailPage):
            detail = RequestDetailPage(self.context, self)
        self.show_widget("request", detail, under="requests")
        detail.load(request_id)
        return detail

    def _on_change(self, kinds: frozenset[str]) -> None:
        current = self.stack.currentWidget()
        for key, page in self._pages.items():
            watches = getattr(page, "watches", None)
            if watches is None or not (set(watches) & kinds):
                continue
            if page is current:
                _refresh(page)
            else:
                self._stale.add(key)

    # -- menus --------------------------------------------------------------------------------------------
    def _action(self, menu, text: str, slot: Callable[[], Any], shortcut: QKeySequence | str | None = None,
                *, edit: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if edit and not self.context.can_edit:
            action.setEnabled(False)
            action.setVisible(False)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.new_request_action = self._action(file, "&New request…", self._new_request, QKeySequence.StandardKey.New,
                                               edit=True)
        file.addSeparator()
        self._action(file, "Export list to &CSV…", lambda: self._on_list("export_dialog", "csv"), "Ctrl+E")
        self._action(file, "Export list to E&xcel…", lambda: self._on_list("export_dialog", "xlsx"), "Ctrl+Shift+E")
        self._action(file, "&Print list…", lambda: self._on_list("print_dialog"), QKeySequence.StandardKey.Print)
        file.addSeparator()
        self._exchange_actions(file)
        self._action(file, "&Lock", self.lock_requested.emit, "Ctrl+L")
        self._action(file, "S&witch user…", self.switch_user_requested.emit, "Ctrl+Shift+U")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        go = bar.addMenu("&Go")
        for spec in SCREENS:
            if not spec.roles or self.context.role in spec.roles:
                self._action(go, spec.title, lambda k=spec.key: self.show_screen(k), spec.shortcut)
        go.addSeparator()
        self._action(go, "&Refresh", self._refresh_current, QKeySequence.StandardKey.Refresh)

        tools = bar.addMenu("&Tools")
        self._action(tools, "&Verify audit chain", lambda: self.show_screen("audit").verify_chain())  # type: ignore[attr-defined]
        self._action(tools, "&Back up store now", lambda: self.show_screen("settings").backup_now(), edit=True)  # type: ignore[attr-defined]

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self._show_shortcuts, QKeySequence.StandardKey.HelpContents)
        self._action(help_menu, "&About P20 WIN Desk", self._about)

    def _exchange_actions(self, menu) -> None:
        # The exchange engineer's dialogs (app/views/exchange_dialogs.py) plug in here when present.
        try:
            exchange = importlib.import_module("app.views.exchange_dialogs")
        except ImportError:
            return
        add = getattr(exchange, "add_menu_actions", None)
        if add is not None:
            add(menu, self.context, self)
            menu.addSeparator()

    def _on_list(self, method: str, *args: Any) -> None:
        page = self.stack.currentWidget()
        target = getattr(page, "list_page", page)
        action = getattr(target, method, None)
        if action is None:
            self.statusBar().showMessage("This screen has no list to export or print.", 5000)
            return
        action(*args)

    def _new_request(self) -> None:
        page = self.show_screen("requests")
        page.new_request()  # type: ignore[attr-defined]

    def _refresh_current(self) -> None:
        _refresh(self.stack.currentWidget())

    def _show_shortcuts(self) -> None:
        lines = [f"{spec.shortcut}\t{spec.title}" for spec in SCREENS]
        lines += ["Ctrl+N\tNew request", "Ctrl+F\tSearch the list", "Enter\tOpen the selected row",
                  "Ctrl+E / Ctrl+Shift+E\tExport list to CSV / Excel", "Ctrl+P\tPrint list", "F5\tRefresh",
                  "Ctrl+L\tLock", "Ctrl+Shift+U\tSwitch user", "Ctrl+Q\tQuit"]
        box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", "\n".join(lines),
                          QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    def _about(self) -> None:
        QMessageBox.about(self, "About P20 WIN Desk",
                          f"P20 WIN Desk {__version__}\nRequests, agreements, boards, budget and record linkage "
                          "for Connecticut's P20 WIN data-sharing network.\nData is kept in an encrypted store "
                          "on this computer.")

    # -- status bar ---------------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        status = self.statusBar()
        who = QLabel(f"{self.context.display_name} · {self.context.role}", textFormat=Qt.TextFormat.PlainText)
        who.setAccessibleName("Signed-in user")
        where = QLabel(f"Store: {self.context.store_path.name} (encrypted)")
        where.setToolTip(str(self.context.store_path))
        status.addPermanentWidget(who)
        status.addPermanentWidget(where)
        if self.context.role == "auditor":  # hub staff edit their own workspace, so only auditors only read
            status.addPermanentWidget(QLabel("Read-only"))

    # -- window state -------------------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def unsaved_pages(self) -> list[str]:
        return [getattr(p, "title", k) for k, p in self._pages.items() if getattr(p, "has_unsaved_changes", lambda: False)()]

    def busy(self) -> bool:
        """A screen is in the middle of work that an idle lock would throw away (a match being scored)."""
        return any(getattr(p, "busy", lambda: False)() for p in self._pages.values())

    def stop_work(self) -> None:
        """Stop the screens' background work before the store closes (lock, switch user, quit)."""
        for page in self._pages.values():
            getattr(page, "stop_work", lambda: None)()

    def save_state(self) -> None:
        QSettings().setValue("window/geometry", self.saveGeometry())
        for page in self._pages.values():
            for target in (page, getattr(page, "list_page", None)):
                if target is not None and hasattr(target, "save_state"):
                    target.save_state()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.confirm_discard():
            event.ignore()
            return
        self.save_state()
        self.stop_work()
        event.accept()

    def confirm_discard(self) -> bool:
        """Ask before losing typed edits; True when nothing is unsaved or the user chose to discard."""
        unsaved = self.unsaved_pages()
        if not unsaved:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes",
            f"You have unsaved changes in: {', '.join(unsaved)}.\nDiscard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard


def _refresh(page: QWidget | None) -> None:
    refresh = getattr(page, "refresh", None)
    if refresh is not None:
        refresh()
