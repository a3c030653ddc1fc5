"""The one way the UI runs slow work off the GUI thread (demo data, backups, the handout and
visit-summary PDFs, the FHIR export, printing).

:func:`run_job` starts ``work(progress)`` on the global thread pool and calls back ON THE GUI
THREAD: ``on_done(result)``, or ``on_failed(message)`` with a sentence for the nurse (never a
traceback), and ``on_progress(done, total)`` as the work reports it.  :func:`run_in_background`
adds a modal progress dialog.

Lifecycle guarantees (a segmentation fault was fixed here; keep them):

* a job is owned by Python (``setAutoDelete(False)``) and kept in :data:`_RUNNING` from the
  moment it starts until it has reported back: the pool never deletes it on the worker, and
  its signals object (which belongs to the GUI thread) outlives every emission;
* results reach the GUI thread through a receiver object living there (queued connections),
  so callbacks never run on the worker;
* the job is released on the GUI thread, from a zero timer AFTER the reporting slot has
  returned (never while its signal is being delivered);
* garbage is collected on the GUI thread before a job starts (see :mod:`nurse_app.ui.gc_guard`):
  a collection on the worker would destroy widgets off the GUI thread.

The test teardown (``tests/conftest.py``) waits for the pool, then delivers the reports and
the zero timers, so no job outlives its test.

SQLite connections cannot cross threads, so the work function receives what it needs to open
its own connection (e.g. the record's path), never a live Store.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from nurse_app.core.errors import NurseAppError

Progress = Callable[[int, int], None]
Work = Callable[[Progress], Any]

_RUNNING: dict[int, Job] = {}  # jobs started that have not reported yet (by key)
_keys = itertools.count(1)


class _Signals(QObject):
    """Emitted on the worker thread; owned by the GUI thread."""

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)


class _Receiver(QObject):
    """Lives on the GUI thread, so the worker's signals reach these slots queued, on the GUI
    thread.  Holds the callbacks and the job's key (not the job: no reference cycle)."""

    def __init__(
        self,
        key: int,
        on_done: Callable[[Any], Any] | None,
        on_failed: Callable[[str], Any] | None,
        on_progress: Progress | None,
    ):
        super().__init__()
        self._key = key
        self._on_done, self._on_failed, self._on_progress = on_done, on_failed, on_progress

    @Slot(int, int)
    def progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

    @Slot(object)
    def done(self, result: object) -> None:
        self._report(self._on_done, result)

    @Slot(str)
    def failed(self, message: str) -> None:
        self._report(self._on_failed, message)

    def _report(self, callback: Callable[[Any], Any] | None, value: object) -> None:
        try:
            if callback is not None:
                callback(value)
        finally:
            key = self._key
            # Let go of the job after this slot has returned (never while its signal is delivered).
            QTimer.singleShot(0, lambda: _RUNNING.pop(key, None))


class Job(QRunnable):
    """``work(progress)`` on a pool thread; its result or failure comes back on the GUI thread.

    ``failure``: the start of the message when an unexpected error occurs ("Could not create
    the handout: ..."); without it the exception's class name is used.  A
    :class:`~nurse_app.core.errors.NurseAppError` is reported as its own sentence.
    """

    def __init__(
        self,
        work: Work,
        *,
        on_done: Callable[[Any], Any] | None = None,
        on_failed: Callable[[str], Any] | None = None,
        on_progress: Progress | None = None,
        failure: str | None = None,
    ):
        super().__init__()
        # Python owns the job until it has reported back on the GUI thread: the pool must not
        # delete it on the worker (its signals object belongs to the GUI thread).
        self.setAutoDelete(False)
        self.key = next(_keys)
        self.work, self.failure = work, failure
        self.signals = _Signals()
        self._receiver = _Receiver(self.key, on_done, on_failed, on_progress)
        self.signals.progress.connect(self._receiver.progress)
        self.signals.done.connect(self._receiver.done)
        self.signals.failed.connect(self._receiver.failed)

    def run(self) -> None:
        try:
            result = self.work(self.signals.progress.emit)
        except NurseAppError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the nurse as a sentence, never a traceback
            prefix = self.failure or type(exc).__name__
            self.signals.failed.emit(f"{prefix}: {exc}")
        else:
            self.signals.done.emit(result)


def start_job(job: Job) -> Job:
    """Keep ``job`` until it reports, and start it on the global pool after collecting garbage
    on the GUI thread.

    Python's cycle collector runs on whichever thread happens to allocate: if it ran on
    a worker while deleted widgets were waiting in reference cycles, it would destroy Qt
    widgets off the GUI thread and crash. Collecting here first leaves it nothing to do.
    """
    _RUNNING[job.key] = job
    gc.collect()
    QThreadPool.globalInstance().start(job)
    return job


def run_job(
    work: Work,
    *,
    on_done: Callable[[Any], Any] | None = None,
    on_failed: Callable[[str], Any] | None = None,
    on_progress: Progress | None = None,
    failure: str | None = None,
) -> Job:
    """Start ``work(progress)`` off the GUI thread; the callbacks run on the GUI thread."""
    return start_job(
        Job(work, on_done=on_done, on_failed=on_failed, on_progress=on_progress, failure=failure)
    )


def run_in_background(
    parent: QWidget, title: str, label: str, work: Work, on_done: Callable[[Any], None] | None = None
) -> Job:
    """Run ``work(progress)`` on the thread pool; a modal progress dialog shows meanwhile."""
    dialog = QProgressDialog(label, None, 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModal)
    dialog.setMinimumDuration(200)
    dialog.setAutoClose(False)

    def progress(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    def release() -> None:  # on the GUI thread, once the job has reported
        dialog.close()
        dialog.deleteLater()

    def finished(result: Any) -> None:
        release()
        if on_done:
            on_done(result)

    def failed(message: str) -> None:
        release()
        QMessageBox.warning(parent, title, message)

    return run_job(work, on_done=finished, on_failed=failed, on_progress=progress)
