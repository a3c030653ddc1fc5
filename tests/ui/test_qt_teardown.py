"""The crash-free Qt lifecycle: nothing of one test lives into the next, and Python's cycle
collector never destroys objects on a worker thread (a rare segmentation fault in full runs)."""

import gc
import threading

import shiboken6
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from nurse_app.ui import gc_guard
from nurse_app.ui.app import get_app
from nurse_app.ui.tasks import Job, start_job

_left_behind: dict = {}


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


def test_a_qt_test_leaves_windows_timers_and_deferred_deletes_behind(qtbot):
    """(Part 1 of 2) Leaves what a careless test or a crashed one would: the next test checks."""
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
    _left_behind.update(window=window, stray=stray, orphan=orphan, fired=fired)


def test_the_next_test_starts_with_nothing_of_the_previous_one(qapp):
    """(Part 2 of 2) Everything the previous test left was deleted in its own teardown."""
    assert _left_behind, "runs after the previous test"
    for name in ("window", "stray", "orphan"):
        assert not shiboken6.isValid(_left_behind[name]), f"{name} still alive"
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == []
    count = len(_left_behind["fired"])
    qapp.processEvents()
    assert len(_left_behind["fired"]) == count, "a timer of a deleted window still fires"
    _left_behind.clear()


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
