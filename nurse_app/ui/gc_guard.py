"""Python's cycle collector runs on the GUI thread only, never on a worker.

CPython starts a collection on whichever thread happens to allocate once the generation
counts pass their thresholds. Worker threads (the handout and visit-summary PDFs, demo data,
backups) allocate a lot, so a collection would often start there; if the garbage holds a
widget in a reference cycle (a closed page, a dialog pytest-qt or the nurse closed), its
last reference goes on the worker, which then destroys Qt widgets off the GUI thread: a
segmentation fault, at once or later somewhere unrelated.

``install()`` turns the automatic collector off and runs the same collections from a timer
on the GUI thread instead, with CPython's own thresholds (the well-known recipe for Qt apps).
Collecting by hand (``gc.collect()``) still works anywhere.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

CHECK_INTERVAL_MS = 250

_OBJECT_NAME = "nurse_app_gc_guard"


class GuiThreadCollector(QObject):
    """Owned by the application; checks the collector's counts every CHECK_INTERVAL_MS."""

    def __init__(self, app: QCoreApplication):
        super().__init__(app)
        self.setObjectName(_OBJECT_NAME)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        app.aboutToQuit.connect(self.collect_now)

    def check(self) -> None:
        """Collect what CPython would have collected by now (the same generation it would choose)."""
        counts = gc.get_count()
        generation = -1
        for gen in range(3):
            if counts[gen] > self.thresholds[gen]:
                generation = gen
        if generation >= 0:
            gc.collect(generation)

    def collect_now(self) -> None:
        gc.collect()


def install(app: QCoreApplication | None = None) -> GuiThreadCollector | None:
    """Move cycle collection to the GUI thread of ``app`` (the running application); idempotent.

    Call from the GUI thread once the QApplication exists. Returns the collector (None without an app).
    """
    app = app or QCoreApplication.instance()
    if app is None:
        return None
    if QThread.currentThread() != app.thread():
        raise RuntimeError("gc_guard.install() must run on the GUI thread")
    existing = app.findChild(GuiThreadCollector, _OBJECT_NAME)
    if existing is not None:
        gc.disable()  # someone turned it back on: the GUI thread still does the collecting
        return existing
    return GuiThreadCollector(app)


def installed(app: QCoreApplication | None = None) -> bool:
    app = app or QCoreApplication.instance()
    return app is not None and app.findChild(GuiThreadCollector, _OBJECT_NAME) is not None
