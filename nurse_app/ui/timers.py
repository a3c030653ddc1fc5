"""Run a callable once the event loop is idle, tied to a Qt object's lifetime.

The QTimer.singleShot overload that takes a context object plus a Python callable is
not accepted by PySide6 6.6, the declared floor: it only takes ``(msec, callable)`` or
``(msec, receiver, b"slot()")``.  ``call_soon`` gives the same behaviour on every
supported version: the call is dropped when ``context`` is destroyed before it fires.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


def call_soon(context: QObject, fn: Callable[[], object], msec: int = 0) -> None:
    """Call ``fn`` once after ``msec`` ms (0: when pending events are processed).

    The timer is a child of ``context``: if ``context`` is deleted first, ``fn`` never runs.
    """
    timer = QTimer(context)
    timer.setSingleShot(True)
    timer.timeout.connect(fn)
    timer.timeout.connect(timer.deleteLater)
    timer.start(msec)
