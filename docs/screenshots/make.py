"""Retake the screenshots of every main screen from the demo store, at 1280x800.

    Xvfb :99 -screen 0 1920x1080x24 &
    DISPLAY=:99 uv run python docs/screenshots/make.py [--store PATH]

Uses the demo store of ``p20win --demo`` (created first when absent) unless --store names another demo store
(user ``demo``, passphrase ``demo-passphrase``). Writes docs/screenshots/NN-name.png.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # still works, but a real X server is the reference

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

SIZE = (1280, 800)


def settle(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, name: str, app: QApplication) -> None:
    settle(app)
    path = HERE / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(HERE.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()

    from app.views.application import DEMO_PASSPHRASE, DEMO_USER, make_qapplication, open_demo_store

    # Fresh settings, so remembered column widths of the person running this do not leak into the pictures.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = make_qapplication()

    from app.models import RequestState
    from app.services import Desk
    from app.store import Store
    from app.store.paths import demo_store_path
    from app.views.application import FirstRunWizard, UnlockDialog
    from app.views.context import DeskContext
    from app.views.main_window import SCREENS, MainWindow
    from app.views.style import set_scheme_preference

    path = args.store or demo_store_path()
    store = Store.open(path, DEMO_USER, DEMO_PASSPHRASE) if path.exists() else open_demo_store(path)
    try:
        window = MainWindow(DeskContext(Desk(store, DEMO_USER), path, demo=True))
        window.resize(*SIZE)
        window.show()
        dashboard = window.page("dashboard")
        while not dashboard.loaded:
            app.processEvents()
            time.sleep(0.02)
        # Screens for one role only (the hub workspace) belong to other areas, which take their own pictures.
        for number, spec in enumerate((s for s in SCREENS if not s.roles), start=1):
            page = window.show_screen(spec.key)
            list_page = getattr(page, "list_page", None)
            if list_page is not None and list_page.model.rowCount():
                # Master-detail screens show their detail pane filled: a meeting that voted, else the first row.
                rows = list_page.shown_rows()
                pick = next((i for i, r in enumerate(rows) if getattr(r, "motions", 0)), 0)
                list_page.table.selectRow(pick)
            if spec.key == "reports":  # show a rendered report, not an empty preview
                page.preview()
                deadline = time.monotonic() + 60
                while page.pdf_bytes is None and time.monotonic() < deadline:
                    app.processEvents()
                    time.sleep(0.02)
            save(window, f"{number:02d}-{spec.key}", app)

        desk = window.context.desk
        rows = desk.requests.page(limit=1000)
        chosen = next(r for r in rows if r.state is RequestState.DSA_EXECUTED)
        detail = window.open_request(chosen.id)
        for tab in range(detail.tabs.count()):
            detail.tabs.setCurrentIndex(tab)
            name = detail.tabs.tabText(tab).replace("&&", "and").replace(" ", "-").lower()
            save(window, f"11-request-{tab + 1}-{name}", app)
        # A request whose next step is blocked: clicking it shows the service's reason (nothing changes).
        blocked = next((r.id, o) for r in rows for o in desk.requests.transitions(r.id)
                       if not o.ok and o.target not in (RequestState.WITHDRAWN, RequestState.ON_HOLD))
        detail = window.open_request(blocked[0])
        detail.move(blocked[1])
        detail.tabs.setCurrentIndex(2)
        save(window, "12-request-blocked-transition", app)

        requests = window.show_screen("requests")
        requests.list_page.set_column_filter("state", "Board review")
        save(window, "13-requests-filtered", app)

        # The same desk in dark colours (it follows the system's scheme unless Settings says otherwise).
        set_scheme_preference("dark")
        window.show_screen("dashboard")
        save(window, "16-dashboard-dark", app)
        detail = window.open_request(chosen.id)
        detail.tabs.setCurrentIndex(0)
        save(window, "17-request-dark", app)
        set_scheme_preference("system")
        window.close()
    finally:
        store.close()

    with tempfile.TemporaryDirectory() as folder:
        wizard = FirstRunWizard(Path(folder) / "new.p20store")
        wizard.show()
        wizard.next()
        page = wizard.admin_page
        page.username.setText("jsmith")
        page.display_name.setText("Jordan Smith")
        page.passphrase.setText("harbour lantern quietly seventeen")
        save(wizard, "14-first-run-wizard", app)
        wizard.close()
    unlock = UnlockDialog(path, username=DEMO_USER)
    unlock.show()
    unlock.passphrase.setText("wrong passphrase")
    unlock.try_unlock()
    save(unlock, "15-unlock-wrong-passphrase", app)
    unlock.close()


if __name__ == "__main__":
    main()
