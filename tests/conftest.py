"""Shared test set-up: Qt runs offscreen, never on the developer's screen.

Every test ends with a deterministic Qt teardown, so nothing a Qt test leaves behind (a window,
a dialog, a running timer, a handout or PDF job on the thread pool, a widget waiting for
deleteLater) lives on into the next test, where it would be destroyed or fire at a random moment
(inside another test's qtbot.wait, or while pytest-qt processes events for a test that has no
Qt at all). See ``_finish_qt_work`` for the order of the steps.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
import sys

import pytest

POOL_WAIT_MS = 30_000   # a handout/summary PDF started by a test finishes well within this
UNANSWERED_DIALOG_S = 20  # a modal dialog nobody answers within this is closed and fails the test


class _UnansweredDialogGuard:
    """Never let a test wait forever on a modal dialog nobody answers (for example the "An
    infusion is running. Quit anyway?" question when a window closes mid-infusion).

    A timer, running in the dialog's own event loop, rejects a modal dialog still open after
    ``UNANSWERED_DIALOG_S`` seconds and remembers its title; the test then fails with it.
    """

    def __init__(self):
        self.timer = None
        self.seen = {}          # id(dialog) -> first seen (monotonic)
        self.closed: list[str] = []

    def start(self) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        if QApplication.instance() is None:
            return
        if self.timer is None:
            self.timer = QTimer()
            self.timer.setInterval(500)
            self.timer.timeout.connect(self._check)
        self.timer.start()

    def stop(self) -> list[str]:
        if self.timer is not None:
            self.timer.stop()
        closed, self.closed, self.seen = self.closed, [], {}
        return closed

    def _check(self) -> None:
        import time
        from PySide6.QtWidgets import QApplication
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            self.seen.clear()
            return
        first = self.seen.setdefault(id(dialog), time.monotonic())
        if time.monotonic() - first > UNANSWERED_DIALOG_S:
            self.closed.append(dialog.windowTitle() or type(dialog).__name__)
            self.seen.pop(id(dialog), None)
            dialog.reject()


_dialog_guard = _UnansweredDialogGuard()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if "PySide6.QtWidgets" in sys.modules:
        _dialog_guard.start()
    yield


QUIT_DURING_INFUSION = "An infusion is running"   # the main window's question (ui/main_window.py)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """The test is over: a main window that pytest-qt or a fixture closes now, with an infusion
    still running on its open visit, is quit (its "Quit anyway?" question answered Yes).
    Only that question: any other dialog in teardown is left to the unanswered-dialog guard.
    Tests of the question itself answer it in the test body (tests/test_ui_infusion_record.py)."""
    if "PySide6.QtWidgets" not in sys.modules:
        yield
        return
    import inspect
    from PySide6.QtWidgets import QMessageBox
    saved = inspect.getattr_static(QMessageBox, "question")    # the real one, or a test's own patch
    original = QMessageBox.question

    def question(parent, title, *args, **kwargs):
        if title == QUIT_DURING_INFUSION:
            return QMessageBox.StandardButton.Yes
        return original(parent, title, *args, **kwargs)
    QMessageBox.question = question
    try:
        yield
    finally:   # a test's monkeypatch, undone during teardown, restored the real one itself
        if inspect.getattr_static(QMessageBox, "question") is question:
            setattr(QMessageBox, "question", saved)


def _finish_qt_work() -> None:
    """Run on the GUI thread after a test (and after pytest-qt closed and deleteLater'd its widgets).

    1. wait for the global thread pool: a job that reports back after the window is gone would
       emit into deleted receivers; its results are then delivered (step 2) while the test's
       objects still exist;
    2. deliver every posted event (queued signals, zero timers);
    3. close every top-level widget still open (a message box, a progress dialog, a window a test
       did not register with qtbot) and schedule it for deletion;
    4. delete everything scheduled with deleteLater now, on this thread, instead of in the next
       test's event loop;
    5. collect garbage cycles here, on the GUI thread (a worker thread's collection would destroy
       widgets off the GUI thread), then deliver what the deletions posted.
    """
    if "PySide6.QtWidgets" not in sys.modules:   # a test without Qt: nothing to finish
        return
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    from nurse_app.ui import gc_guard
    gc_guard.install(app)
    _dialog_guard.start()
    QThreadPool.globalInstance().waitForDone(POOL_WAIT_MS)
    app.processEvents()
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible():
            widget.close()
        if widget.parent() is None:
            widget.deleteLater()
    for _ in range(3):   # a deletion can post further deferred deletes (children, dialogs)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
        app.processEvents()


@pytest.fixture(autouse=True)
def _deterministic_qt_teardown():
    """After each test: no Qt object, timer or pool job of it survives (see ``_finish_qt_work``)."""
    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication
        if QApplication.instance() is not None:   # a test that makes the app installs it in teardown
            from nurse_app.ui import gc_guard
            gc_guard.install()
    yield
    _finish_qt_work()
    gc.collect()
    unanswered = _dialog_guard.stop()
    if unanswered:
        pytest.fail(f"modal dialog(s) left unanswered for {UNANSWERED_DIALOG_S} s and closed: "
                    f"{unanswered} (a test that opens one must answer it, e.g. with qt_helpers.run_in_dialog)")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave the test process without Python's interpreter finalisation once Qt was used.

    After the last test has run and pytest has printed its summary, tearing down the
    interpreter destroys PySide6's wrappers in an arbitrary order; with PySide6 6.12 this
    occasionally aborted the process ("bool_dealloc: deallocating True or False", exit 134)
    after a fully green run (seen twice this session, never during a test). The result is
    already decided, so exit with it directly: stdout/stderr are flushed first and the exit
    status is pytest's own. A run that never imported Qt exits normally.
    """
    if "PySide6.QtWidgets" not in sys.modules:
        return
    session = getattr(config, "_nurse_app_session", None)
    status = int(getattr(session, "exitstatus", 0)) if session is not None else 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    session.config._nurse_app_session = session
