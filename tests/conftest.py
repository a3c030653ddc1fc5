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
