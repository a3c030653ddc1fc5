"""The crash-free Qt lifecycle: nothing of one test lives into the next, and Python's cycle
collector never destroys objects on a worker thread (a rare segmentation fault in full runs)."""

import gc
import os
import shutil
import subprocess
import sys
import threading

import pytest
import shiboken6
from PySide6.QtCore import QThreadPool
from repo_paths import ROOT

from nurse_app.ui import gc_guard
from nurse_app.ui.app import get_app
from nurse_app.ui.tasks import Job, start_job


class _Node:
    """A reference cycle that records which thread finally frees it."""

    def __init__(self, freed_on: list):
        self.freed_on = freed_on
        self.me = self

    def __del__(self):
        self.freed_on.append(threading.current_thread())


def test_the_app_collects_garbage_on_the_gui_thread_while_a_worker_allocates(qtbot):
    app = get_app()
    assert gc_guard.installed(app) and not gc.isenabled()
    freed_on: list = []
    garbage_made = threading.Event()
    allocated = []

    def work(_progress):
        assert garbage_made.wait(10)
        # Allocation on the worker: with CPython's automatic collector this starts a collection
        # here, on the worker, which frees the GUI thread's garbage (widgets included) here.
        allocated.append(len([[] for _ in range(20 * gc.get_threshold()[0])]))
        return None

    job = Job(work)
    start_job(job)
    _Node(freed_on)  # garbage made on the GUI thread while the job runs
    garbage_made.set()
    assert QThreadPool.globalInstance().waitForDone(20_000)
    assert allocated, "the job ran"
    assert threading.main_thread() is threading.current_thread()
    assert not freed_on or freed_on == [threading.main_thread()], "freed on a worker thread"
    # The GUI thread allocates past the collector's threshold: its timer collects, on this thread.
    busy = [[] for _ in range(3 * gc.get_threshold()[0])]
    qtbot.waitUntil(lambda: bool(freed_on), timeout=5000)
    del busy
    assert freed_on == [threading.main_thread()]


def test_install_is_idempotent_and_refuses_a_worker_thread(qapp):
    first = gc_guard.install(qapp)
    assert gc_guard.install(qapp) is first
    errors = []

    def from_worker():
        try:
            gc_guard.install(qapp)
        except RuntimeError as exc:
            errors.append(str(exc))

    worker = threading.Thread(target=from_worker)
    worker.start()
    worker.join()
    assert errors and "GUI thread" in errors[0]


# Run by the test below in a pytest of its own, in this order, with the suite's conftest.py: a
# Qt test leaves what a careless or crashed test would, a test without Qt follows (and pays no
# teardown), and the next Qt test finds nothing of the first.
_ONE_AFTER_THE_OTHER = """
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

import conftest

left_behind = {}
finished = []  # the app, each time the suite's Qt teardown ran
_finish = conftest._finish_qt_work


def _counted(app):
    finished.append(app)
    _finish(app)


conftest._finish_qt_work = _counted


def test_1_a_qt_test_leaves_windows_timers_and_deferred_deletes_behind(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    stray = QDialog()  # not registered with qtbot
    stray.show()
    orphan = QWidget()
    orphan.deleteLater()  # waits for an event loop
    fired = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: fired.append(1))
    timer.start(0)
    left_behind.update(window=window, stray=stray, orphan=orphan, fired=fired)


def test_2_a_test_without_qt():
    assert left_behind and len(finished) == 1


def test_3_the_next_qt_test_starts_with_nothing_of_the_first(qapp):
    assert len(finished) == 1, "the teardown ran after the Qt test only"
    for name in ("window", "stray", "orphan"):
        assert not shiboken6.isValid(left_behind[name]), f"{name} still alive"
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == []
    count = len(left_behind["fired"])
    qapp.processEvents()
    assert len(left_behind["fired"]) == count, "a timer of a deleted window still fires"
"""


@pytest.mark.slow
def test_nothing_of_a_qt_test_lives_into_the_next_and_a_test_without_qt_skips_the_teardown(tmp_path):
    """The suite's conftest.py, in a pytest run of its own (a subprocess, tests in file order)."""
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_one_after_the_other.py").write_text(_ONE_AFTER_THE_OTHER, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-p",
            "no:xdist",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3 passed" in done.stdout


def test_replaced_calculator_warning_rows_are_deleted_at_once_not_later(qtbot):
    """A deferred delete (deleteLater) of the replaced warning rows segfaulted PySide6 in
    QWidget::~QWidget about one run in four of the issue 9 age test; they are deleted at once."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QCheckBox

    from nurse_app.ui.calculator_page import CalculatorPage

    page = CalculatorPage()
    qtbot.addWidget(page)
    page.show()
    page.product.setCurrentIndex(page.product.findData("privigen"))
    page.regimen.setCurrentIndex(page.regimen.findData("pemphigus"))
    page.set_inputs(weight="70")
    page.age.edit.setText("72")
    page.recalculate()
    assert page.result is not None
    old_rows = [page.warning_rows.itemAt(i).widget() for i in range(page.warning_rows.count())]
    old_boxes = page.warnings_box.findChildren(QCheckBox)
    assert old_rows and old_boxes
    page.age.edit.setText("abc")
    page.recalculate()  # no result: every row goes
    assert page.result is None and not page.age.error.isHidden()
    assert not any(shiboken6.isValid(w) for w in old_rows + old_boxes), "rows left for a deferred delete"
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # nothing stale left to delete
    assert page.warnings_box.findChildren(QCheckBox) == []
