"""Running long work (demo data, backups) off the GUI thread with a progress dialog.

SQLite connections cannot cross threads, so the work function receives what it needs
to open its own connection (e.g. the record's path), never a live Store.
"""

from __future__ import annotations

import gc
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from nurse_app.core.errors import NurseAppError


_RUNNING: set = set()   # jobs started by run_in_background that have not reported yet


class _Signals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)


class _Job(QRunnable):
    def __init__(self, work: Callable[[Callable[[int, int], None]], Any]):
        super().__init__()
        # Python owns the job until it has reported back on the GUI thread: the pool must not
        # delete it on the worker (its signals object belongs to the GUI thread).
        self.setAutoDelete(False)
        self.work = work
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.work(lambda done, total: self.signals.progress.emit(done, total))
        except NurseAppError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # shown to the nurse as a sentence, never a traceback
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.signals.finished.emit(result)


def start_job(job: QRunnable) -> None:
    """Start ``job`` on the global pool after collecting garbage on the GUI thread.

    Python's cycle collector runs on whichever thread happens to allocate: if it ran on
    a worker while deleted widgets were waiting in reference cycles, it would destroy Qt
    widgets off the GUI thread and crash. Collecting here first leaves it nothing to do.
    """
    gc.collect()
    QThreadPool.globalInstance().start(job)


def run_in_background(parent: QWidget, title: str, label: str,
                      work: Callable[[Callable[[int, int], None]], Any],
                      on_done: Callable[[Any], None] | None = None) -> _Job:
    """Run ``work(progress)`` on the thread pool; a modal progress dialog shows meanwhile."""
    dialog = QProgressDialog(label, None, 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(200)
    dialog.setAutoClose(False)
    job = _Job(work)

    def progress(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    def release() -> None:   # on the GUI thread, once the job has reported
        dialog.close()
        dialog.deleteLater()
        # Let go of the job after this slot has returned (never while its signal is delivered).
        QTimer.singleShot(0, lambda: _RUNNING.discard(job))

    def finished(result: Any) -> None:
        release()
        if on_done:
            on_done(result)

    def failed(message: str) -> None:
        release()
        QMessageBox.warning(parent, title, message)

    job.signals.progress.connect(progress)
    job.signals.finished.connect(finished)
    job.signals.failed.connect(failed)
    _RUNNING.add(job)   # keep the job and its signals object alive until it has reported
    start_job(job)
    return job
