"""Background jobs: work off the GUI thread, progress and ETA, cancel, failures shown by their message."""
from __future__ import annotations

import threading

from PySide6.QtWidgets import QMessageBox, QWidget

from app.jobs import Job, JobCancelled, describe_eta, estimate_remaining
from app.services.errors import RuleViolation


def test_success_runs_on_the_gui_thread_with_progress(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = {}
    reports = []

    def work(ctx):
        seen["worker"] = threading.get_ident()
        for i in range(5):
            ctx.progress((i + 1) / 5, f"step {i + 1}")
        return 42

    job = Job(parent, work).success(lambda value: seen.update(result=value, callback=threading.get_ident()))
    job.progressed.connect(lambda fraction, message, eta: reports.append((fraction, message)))
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.run_in_background()
    assert seen["result"] == 42
    assert seen["worker"] != threading.get_ident()
    assert seen["callback"] == threading.get_ident()
    assert reports and reports[-1] == (1.0, "step 5")  # the last report always gets through


def test_cancel_stops_the_work_and_shows_nothing(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    started = threading.Event()
    failures = []

    def work(ctx):
        started.set()
        while True:
            ctx.check()
            ctx.cancel_event.wait(0.01)

    job = Job(parent, work).failure(failures.append)
    job.run_in_background()
    assert started.wait(5)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.cancel()
    assert len(failures) == 1 and isinstance(failures[0], JobCancelled)
    assert not job.is_running


def test_failure_shows_the_services_message(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    job = Job(parent, lambda ctx: (_ for _ in ()).throw(RuleViolation("The DSA is not executed.")), title="Distribute")
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.run_in_background()
    boxes = [w for w in parent.findChildren(QMessageBox)]
    assert boxes and boxes[-1].text() == "The DSA is not executed."
    assert isinstance(job.error, RuleViolation)


def test_eta_needs_evidence_before_guessing():
    assert estimate_remaining(0.01, 10.0) is None
    assert estimate_remaining(0.5, 0.1) is None
    assert estimate_remaining(0.25, 10.0) == 30.0
    assert describe_eta(None) == "estimating time left…"
    assert describe_eta(30.0) == "about 30 s left"
    assert describe_eta(600.0) == "about 10 min left"
