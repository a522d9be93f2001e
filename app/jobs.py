"""Long work off the GUI thread, in the shape of Anki's ``CollectionOp``.

    Job(parent, lambda ctx: desk.audit.verify(progress=ctx.progress, cancel=ctx.cancel_event),
        title="Verifying the audit chain").success(show_result).run_in_background()

The work function runs on a ``QThreadPool`` thread and receives a :class:`JobContext` to report progress and
notice a cancel request. Success and failure callbacks always run on the GUI thread. With ``title`` set, a
progress dialog with an ETA and a Cancel button appears after a short delay (quick jobs never flash one).
A failure whose exception has ``.message`` (StoreError, ServiceError) is shown as is; anything else is logged
with its traceback and shown as a plain sentence, so no traceback reaches a user.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

log = logging.getLogger(__name__)

# Jobs shorter than this never show a progress dialog.
PROGRESS_DELAY_MS = 300


class JobCancelled(Exception):
    """Raised inside a job's work by :meth:`JobContext.check` once the user pressed Cancel."""

    message = "Cancelled."


class JobContext:
    """What a job's work function receives. Safe to use from the worker thread."""

    def __init__(self, job: Job):
        self._job = job
        self.cancel_event = threading.Event()

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress, ``fraction`` in 0..1. Cheap enough to call often; the dialog updates at most ~20/s."""
        self._job._report(fraction, message)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        """Raise :class:`JobCancelled` when the user asked to cancel; call between chunks of work."""
        if self.cancel_event.is_set():
            raise JobCancelled()


def estimate_remaining(fraction: float, elapsed: float) -> float | None:
    """Seconds left at a constant rate, or None while too little is done to guess honestly."""
    if fraction < 0.02 or elapsed < 0.5:
        return None
    return max(0.0, elapsed * (1.0 - fraction) / fraction)


def describe_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def error_text(error: BaseException) -> str:
    """The sentence to show for an error: its ``.message`` when it has one, else a generic line."""
    message = getattr(error, "message", None)
    if isinstance(message, str) and message:
        return message
    return "Something went wrong and the action was not completed. Details are in the log file."


class _Signals(QObject):
    # Emitted from the worker thread; Qt queues them to the GUI thread where the Job lives.
    progressed = Signal(float, str)
    done = Signal(object, object)  # result, error


class _Runnable(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.setAutoDelete(True)
        self._job = job

    def run(self) -> None:  # worker thread
        job = self._job
        try:
            result = job._work(job.context)
        except BaseException as error:  # noqa: BLE001 - every failure must reach the GUI thread
            job._signals.done.emit(None, error)
        else:
            job._signals.done.emit(result, None)


_running: set[Job] = set()  # keeps Python wrappers alive until their callbacks have run


class Job(QObject):
    """One piece of background work. Configure with the chaining methods, then :meth:`run_in_background`."""

    progressed = Signal(float, str, object)  # fraction, message, seconds left (float | None)
    finished = Signal()  # after the success/failure callback ran

    def __init__(self, parent: QWidget | None, work: Callable[[JobContext], Any], *, title: str = "",
                 cancellable: bool = True):
        """``cancellable=False`` for work that cannot stop half-way: the dialog then has no Cancel button."""
        super().__init__(parent)
        self._parent_widget = parent
        self._work = work
        self._title = title
        self._cancellable = cancellable
        self._on_success: Callable[[Any], None] | None = None
        self._on_failure: Callable[[BaseException], None] | None = None
        self._signals = _Signals()
        self._signals.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._signals.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self.context = JobContext(self)
        self._started = 0.0
        self._last_report = 0.0
        self._dialog: QProgressDialog | None = None
        self._dialog_timer: QTimer | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.is_running = False

    def success(self, callback: Callable[[Any], None]) -> Job:
        """Call ``callback(result)`` on the GUI thread when the work returns."""
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> Job:
        """Call ``callback(error)`` on the GUI thread instead of showing the default error box."""
        self._on_failure = callback
        return self

    def run_in_background(self, pool: QThreadPool | None = None) -> Job:
        self._started = time.monotonic()
        self.is_running = True
        _running.add(self)
        if self._title:
            self._dialog_timer = QTimer(self)
            self._dialog_timer.setSingleShot(True)
            self._dialog_timer.timeout.connect(self._show_dialog)
            self._dialog_timer.start(PROGRESS_DELAY_MS)
        (pool or QThreadPool.globalInstance()).start(_Runnable(self))
        return self

    def cancel(self) -> None:
        """Ask the work to stop; it does so at its next :meth:`JobContext.check`."""
        self.context.cancel_event.set()
        if self._dialog is not None:
            self._dialog.setLabelText("Cancelling…")

    # -- worker side --------------------------------------------------------------------------------------
    def _report(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_report < 0.05:
            return
        self._last_report = now
        self._signals.progressed.emit(float(fraction), message)

    # -- GUI side -----------------------------------------------------------------------------------------
    def _show_dialog(self) -> None:
        if not self.is_running:
            return
        dialog = QProgressDialog(self._title, "Cancel", 0, 0, self._parent_widget)  # busy until progress comes
        if not self._cancellable:
            dialog.setCancelButton(None)
        dialog.setWindowTitle(self._title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setAccessibleName(f"{self._title} progress")
        dialog.canceled.connect(self.cancel)
        dialog.show()
        self._dialog = dialog

    def _on_progress(self, fraction: float, message: str) -> None:
        eta = estimate_remaining(fraction, time.monotonic() - self._started)
        self.progressed.emit(fraction, message, eta)
        if self._dialog is not None and not self.context.cancelled:
            self._dialog.setMaximum(1000)
            self._dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
            label = message or self._title
            self._dialog.setLabelText(f"{label}\n{describe_eta(eta)}")

    def _on_done(self, result: Any, error: BaseException | None) -> None:
        self.is_running = False
        if self._dialog_timer is not None:
            self._dialog_timer.stop()
        if self._dialog is not None:
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None
        self.result, self.error = result, error
        try:
            if error is None:
                if self._on_success is not None:
                    self._on_success(result)
            elif self._on_failure is not None:
                self._on_failure(error)
            elif not isinstance(error, JobCancelled):
                show_error(self._parent_widget, self._title or "Action failed", error)
        finally:
            _running.discard(self)
            self.finished.emit()


def show_error(parent: QWidget | None, title: str, error: BaseException) -> None:
    """Show an error to the user: the ``.message`` of known errors, a generic line (and a log entry) otherwise."""
    if getattr(error, "message", None) is None:
        log.error("unexpected error in %s", title, exc_info=(type(error), error, error.__traceback__))
    box = QMessageBox(QMessageBox.Icon.Warning, title, error_text(error), QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote user text such as "<b>"
    box.open() if parent is not None else box.exec()
