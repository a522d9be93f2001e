"""The application's look: Fusion with a light or dark palette following the system, plus one style sheet."""
from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.resources import resource_path

LIGHT = {
    "window": "#f5f6f8", "base": "#ffffff", "alt": "#f3f5f8", "text": "#1d2330", "muted": "#5b6475",
    "line": "#d5d9e0", "header": "#eef0f4", "card": "#ffffff", "accent": "#1f5fa8",
    "sidebar": "#1e2a3a", "sidebar_text": "#c9d3e0", "sidebar_text_selected": "#ffffff",
    "sidebar_hover": "#2a3a50", "sidebar_selected": "#2f4560", "chip_bg": "#e6eef8",
    "danger": "#b3261e", "danger_bg": "#fbeaea", "warning_bg": "#fff3cd", "warning_text": "#5c4400",
    "info_bg": "#eaf2fb", "button": "#eceff3",
}
DARK = {
    "window": "#1b1f26", "base": "#232830", "alt": "#272d36", "text": "#e4e8ee", "muted": "#9aa4b4",
    "line": "#3a414d", "header": "#2b313b", "card": "#232830", "accent": "#4a8fe0",
    "sidebar": "#14181e", "sidebar_text": "#b5c0cf", "sidebar_text_selected": "#ffffff",
    "sidebar_hover": "#222a35", "sidebar_selected": "#2a3a50", "chip_bg": "#263447",
    "danger": "#f2766d", "danger_bg": "#3a2224", "warning_bg": "#4a3b12", "warning_text": "#ffe6a3",
    "info_bg": "#1f2b3a", "button": "#2d333d",
}

# Colours views use for states (also readable on both palettes).
OK_COLOUR = "#2e7d32"
LATE_COLOUR = "#c62828"


SCHEMES = ("system", "light", "dark")


class Appearance(QObject):
    """Emits ``changed()`` after the colours changed (system switch or the Settings choice)."""

    changed = Signal()


appearance = Appearance()


def scheme_preference() -> str:
    """"system" (follow the operating system), "light" or "dark" (Settings key ``appearance/scheme``)."""
    value = str(QSettings().value("appearance/scheme", "system"))
    return value if value in SCHEMES else "system"


def is_dark() -> bool:
    preference = scheme_preference()
    if preference != "system":
        return preference == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def set_scheme_preference(preference: str) -> None:
    """Remember the choice and restyle the running application at once."""
    QSettings().setValue("appearance/scheme", preference if preference in SCHEMES else "system")
    app = QApplication.instance()
    restyle = getattr(app, "p20_restyle", None)
    if restyle is not None:
        restyle()


def colours() -> dict[str, str]:
    """The active colour set (for charts and painted widgets that cannot use the style sheet)."""
    return DARK if is_dark() else LIGHT


def _palette(c: dict[str, str]) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, key in [
        (role.Window, "window"), (role.Base, "base"), (role.AlternateBase, "alt"), (role.Text, "text"),
        (role.WindowText, "text"), (role.ButtonText, "text"), (role.Button, "button"),
        (role.ToolTipBase, "base"), (role.ToolTipText, "text"), (role.PlaceholderText, "muted"),
        (role.Highlight, "accent"), (role.Link, "accent"), (role.Mid, "line"),
    ]:
        p.setColor(r, QColor(c[key]))
    p.setColor(role.HighlightedText, QColor("#ffffff"))
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(c["muted"]))
    return p


def apply_style(app: QApplication) -> None:
    """Style ``app`` now and again whenever the system switches between light and dark (once per app)."""
    if app.property("p20StyleApplied"):
        return
    app.setProperty("p20StyleApplied", True)
    app.setStyle("Fusion")  # same look on every Windows version; honours our palette fully
    template = resource_path("style", "app.qss").read_text(encoding="utf-8")

    def restyle(*_: object) -> None:
        c = colours()
        app.setPalette(_palette(c))
        sheet = template
        for key, value in c.items():
            sheet = sheet.replace(f"@{key}@", value)
        app.setStyleSheet(sheet)
        appearance.changed.emit()

    app.p20_restyle = restyle
    restyle()
    QGuiApplication.styleHints().colorSchemeChanged.connect(restyle)
