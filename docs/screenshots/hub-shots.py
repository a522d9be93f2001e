"""Retake the hub workspace screenshots (docs/screenshots/hub-*.png) by walking the whole hub path.

    xvfb-run -s "-screen 0 1920x1080x24" uv run python docs/screenshots/hub-shots.py [NAME ...]

With names (e.g. ``hub-5b-results``) only those pictures are written; the whole path is walked regardless.

Builds a throw-away store (a request with an executed DSA, as in the services' tests) and generated
matching files (bench/generate.py, seed 7, 5,000 rows a side) in a temporary folder; nothing is kept but the
pictures.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt, QThreadPool  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait(app: QApplication, done, timeout: float = 300) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the screen did not finish in time")
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from app.views.application import make_qapplication
    app = make_qapplication()

    from app.services import Desk
    from app.services.setup import initialise_store
    from app.store import KdfParams
    from app.views.context import DeskContext
    from app.views.main_window import MainWindow
    from bench.generate import generate
    from tests.services.service_world import S, World

    folder = Path(tempfile.mkdtemp(prefix="hub-shots-"))
    store, _ = initialise_store(folder / "hub.p20store", "admin", "admin-passphrase", "Admin",
                                kdf=KdfParams(n=2**10, r=8, p=1))
    world = World(store)
    rid = world.new_request(("SDE", "DOL"))
    world.to(rid, S.DSA_EXECUTED)
    paths = generate("full", 5000, seed=7).write(folder / "transfer")
    # A few lines a steward's export might really hold, so the validation table has something to show.
    with open(paths["right"], "a", encoding="utf-8") as f:
        f.write("GARCIA\t\tMARIA\t20011345\tF\t070123\tHALL HS\t\t123456789\tP9999991\n")
        f.write("TOO\tFEW\tFIELDS\n")

    window = MainWindow(DeskContext(Desk(store, "hank"), store.path))
    window.resize(1280, 800)
    window.show()
    page = window.show_screen("hub")
    page.select_request(rid)

    only = set(sys.argv[1:])

    def shot(name: str) -> None:
        if only and name not in only:
            return
        settle(app)
        window.grab().save(str(HERE / f"{name}.png"))
        print(f"wrote docs/screenshots/{name}.png")

    intake = page.intake
    for role, agency in (("left", "SDE"), ("right", "DOL")):
        intake.path.setText(str(paths[role]))
        intake.check_button.click()
        wait(app, lambda: intake.register_button.isEnabled())
        intake.sender.setCurrentIndex(intake.sender.findData(world.ag[agency]))
        intake.steward.setText(f"{agency} data steward")
        intake.register_button.click()
    shot("hub-1-intake")

    page.tabs.setCurrentWidget(page.match)
    page.match.two_person.setChecked(False)
    page.match.go(1)
    shot("hub-2-match-preview")
    page.match.go(2)
    page.match.run_button.click()
    wait(app, lambda: 150 < page.match.progress.value() < 950 or not page.match.running)
    shot("hub-3-match-running")
    wait(app, lambda: page.match.waiting and page.match.write_button.isEnabled())  # the model's cut-offs
    shot("hub-4a-match-choose")
    page.match.write_button.click()
    wait(app, lambda: not page.match.running)
    shot("hub-4-match-results")

    page.tabs.setCurrentWidget(page.review)
    from PySide6.QtTest import QTest
    for key in (Qt.Key.Key_Y, Qt.Key.Key_N):
        QTest.keyClick(page.review.panel, key)
    shot("hub-5-review")

    page.tabs.setCurrentWidget(page.results)
    results = page.results.results
    wait(app, lambda: results.pairs.model.rowCount() > 0)
    results.pairs.view.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # the weakest links: the why is telling
    results.pairs.view.selectRow(0)
    shot("hub-5b-results")

    page.tabs.setCurrentWidget(page.deliver)
    page.deliver.dest.setText(str(folder / "outgoing"))
    page.deliver.deliver_button.click()
    wait(app, lambda: page.deliver.deliver_button.isEnabled())   # the check runs in a job
    shot("hub-6-deliver")

    page.tabs.setCurrentWidget(page.log)
    page.log.log.view.selectRow(0)
    page.log.confirm()
    page.log.log.view.selectRow(1)
    page.log.confirm()
    page.log.understood.setChecked(True)
    shot("hub-7-log-due")
    page.log.destroy_button.click()
    wait(app, lambda: page.log.certificate_path is not None)
    shot("hub-8-destroyed")
    QThreadPool.globalInstance().waitForDone(30_000)
    window.close()
    store.close()


if __name__ == "__main__":
    main()
