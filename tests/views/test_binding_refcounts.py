"""The Qt binding must not leak references to Python's singletons.

PySide6 6.12's abi3 build on Python 3.11 dropped a reference to ``True`` on every Python-side ``emit()`` and
to ``None`` on every void Qt call; the interpreter aborts once a count reaches zero, so a long session (or a
1M-row match reporting progress) crashed. This guards the pinned version and any upgrade.
"""
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    flag = Signal(bool)
    text = Signal(str)


def test_emit_and_void_calls_keep_singleton_refcounts(qtbot):
    emitter = _Emitter()
    received = []
    emitter.flag.connect(received.append)
    emitter.text.connect(received.append)
    label = QLabel()
    qtbot.addWidget(label)

    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(500):
        emitter.flag.emit(True)
        emitter.text.emit("x")
        label.setText(str(i))  # a void call: returns None to Python
    assert len(received) == 1000
    received.clear()
    # A leak shows as -500 or worse; a few references may come and go elsewhere in the interpreter.
    assert abs(sys.getrefcount(True) - true_before) < 10
    assert abs(sys.getrefcount(None) - none_before) < 10
