"""Shared test set-up: Qt runs offscreen, never on the developer's screen.

Every test that used Qt ends with a deterministic Qt teardown, so nothing it leaves behind (a window,
a dialog, a running timer, a handout or PDF job on the thread pool, a widget waiting for
deleteLater) lives on into the next test, where it would be destroyed or fire at a random moment
(inside another test's qtbot.wait, or while pytest-qt processes events for a test that has no
Qt at all). See ``_finish_qt_work`` for the order of the steps.
"""

import gc
import os
import shutil
import sys
import tempfile

import property_settings
import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Property tests run the derandomised "ci" profile unless pytest is given
# --hypothesis-profile=thorough (tests/property_settings.py).
hypothesis_settings.load_profile(property_settings.DEFAULT_PROFILE)
# Every record in the suite is encrypted (issue 13) with this test passphrase; commands
# run as subprocesses read it from the environment, like a nurse's script would.
TEST_PASSPHRASE = "test-suite passphrase 4 records"
os.environ["NURSE_APP_PASSPHRASE"] = TEST_PASSPHRASE

# The user's config, cache and data folders (QSettings, the content fingerprint stamp, the default
# record and policy paths) are this test process's own: nothing a test saves there reaches the
# developer's real settings, another test run, or another pytest-xdist worker (each worker is its
# own process with its own folders).  Child processes the tests start inherit them.
_USER_DIRS = tempfile.mkdtemp(prefix="nurse-app-tests-")
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")):
    os.environ[_var] = os.path.join(_USER_DIRS, _sub)
# The template records (store_helpers.new_record) live there too and go with them.
os.environ["NURSE_APP_TEST_TEMPLATES"] = os.path.join(_USER_DIRS, "templates")

POOL_WAIT_MS = 30_000  # a handout/summary PDF started by a test finishes well within this
UNANSWERED_DIALOG_S = 20  # a modal dialog nobody answers within this is closed and fails the test


class _UnansweredDialogGuard:
    """Never let a test wait forever on a modal dialog nobody answers (for example the "An
    infusion is running. Quit anyway?" question when a window closes mid-infusion).

    A timer, running in the dialog's own event loop, rejects a modal dialog still open after
    ``UNANSWERED_DIALOG_S`` seconds and remembers its title; the test then fails with it.
    """

    def __init__(self):
        self.timer = None
        self.seen = {}  # id(dialog) -> first seen (monotonic)
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


QUIT_DURING_INFUSION = "An infusion is running"  # the main window's question (ui/main_window.py)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """The test is over: a main window that pytest-qt or a fixture closes now, with an infusion
    still running on its open visit, is quit (its "Quit anyway?" question answered Yes).
    Only that question: any other dialog in teardown is left to the unanswered-dialog guard.
    Tests of the question itself answer it in the test body (tests/ui/visit/test_infusion_tab.py)."""
    if "PySide6.QtWidgets" not in sys.modules:
        yield
        return
    import inspect

    from PySide6.QtWidgets import QMessageBox

    saved = inspect.getattr_static(QMessageBox, "question")  # the real one, or a test's own patch
    original = QMessageBox.question

    def question(parent, title, *args, **kwargs):
        if title == QUIT_DURING_INFUSION:
            return QMessageBox.StandardButton.Yes
        return original(parent, title, *args, **kwargs)

    QMessageBox.question = question
    try:
        yield
    finally:  # a test's monkeypatch, undone during teardown, restored the real one itself
        if inspect.getattr_static(QMessageBox, "question") is question:
            QMessageBox.question = saved


# Fixtures that give a test the Qt application: a test that asks for one (itself or through
# another fixture) used Qt.
QT_FIXTURES = frozenset({"qtbot", "qapp"})


def _qt_application():
    """The QApplication of this test process, or None (Qt never imported, or no app yet)."""
    if "PySide6.QtWidgets" not in sys.modules:
        return None
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


def _used_qt(item, app_was_there: bool) -> bool:
    """Did the test use Qt, so that something of it may live on (see ``_finish_qt_work``)?

    Yes if it asked for ``qtbot`` or ``qapp``, made the QApplication, left a top-level widget
    (shown or not), or left a job on the thread pool or in the background-job registry.
    Anything a test can leave behind hangs off one of these; a test that did none of them has
    nothing for the teardown to finish, and pays nothing for it.
    """
    if QT_FIXTURES.intersection(item.fixturenames) or not app_was_there:
        return True
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    if QApplication.topLevelWidgets() or QThreadPool.globalInstance().activeThreadCount():
        return True
    tasks = sys.modules.get("nurse_app.ui.tasks")
    return bool(tasks is not None and getattr(tasks, "_RUNNING", None))


def _finish_qt_work(app) -> None:
    """Run on the GUI thread after a test that used Qt (after pytest-qt closed and
    deleteLater'd its widgets).

    1. wait for the global thread pool: a job that reports back after the window is gone would
       emit into deleted receivers; its results are then delivered (step 2) while the test's
       objects still exist;
    2. deliver every posted event (queued signals, zero timers);
    3. close every top-level widget still open (a message box, a progress dialog, a window a test
       did not register with qtbot) and schedule it for deletion;
    4. delete everything scheduled with deleteLater now, on this thread, instead of in the next
       test's event loop (a deletion can post further deferred deletes: children, dialogs);
    5. collect garbage cycles once, here, on the GUI thread (a worker thread's collection would
       destroy widgets off the GUI thread), then delete and deliver what that freeing posted.
    """
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool
    from PySide6.QtWidgets import QApplication

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

    def deliver_deletes() -> None:
        for _ in range(3):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            app.processEvents()

    deliver_deletes()
    gc.collect()
    deliver_deletes()


@pytest.fixture(autouse=True)
def _unlocked_with_the_test_passphrase():
    """Records open with the suite's passphrase (a test that locks or changes it is undone).

    The key is derived with SQLCipher's full KDF once per file salt in this process and
    kept in memory (nurse_app.store.keys), as the app does after unlocking.
    """
    _reset_keys()
    yield
    _reset_keys()  # also before a module/session fixture of the next test


def _reset_keys() -> None:
    from nurse_app.store import keys

    if keys._passphrase != TEST_PASSPHRASE or keys._alternates:
        keys.lock()
        keys.unlock(TEST_PASSPHRASE)


_reset_keys()


@pytest.fixture(autouse=True)
def _deterministic_qt_teardown(request):
    """After a test that used Qt: no Qt object, timer or pool job of it survives (see
    ``_finish_qt_work``).  A test without Qt skips it (``_used_qt``)."""
    app = _qt_application()
    if app is not None:  # a test that makes the app installs the collector in teardown
        from nurse_app.ui import gc_guard

        gc_guard.install(app)
    yield
    now = _qt_application()
    if now is not None and _used_qt(request.node, app_was_there=app is not None):
        _finish_qt_work(now)
    unanswered = _dialog_guard.stop()
    if unanswered:
        pytest.fail(
            f"modal dialog(s) left unanswered for {UNANSWERED_DIALOG_S} s and closed: "
            f"{unanswered} (a test that opens one must answer it, e.g. with qt_helpers.run_in_dialog)"
        )


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
    shutil.rmtree(_USER_DIRS, ignore_errors=True)
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


# ----------------------------------------------------------------------------- shared fixtures


@pytest.fixture
def bare_store(tmp_path):
    """A new record file with no nurse profile yet (the first start): a copy of the record the
    real code made once in this test process (``store_helpers.new_record``)."""
    from store_helpers import new_record

    from nurse_app.store import Store

    with Store.open(new_record(tmp_path / "record.db")) as store:
        yield store


@pytest.fixture
def store(bare_store):
    """A new record file whose nurse profile is set ("Ana Núñez, RN"): what most tests need."""
    from store_helpers import NURSE_CREDENTIALS, NURSE_NAME

    bare_store.set_nurse_profile(NURSE_NAME, NURSE_CREDENTIALS)
    return bare_store


@pytest.fixture(scope="module")
def module_store(tmp_path_factory):
    """One record (nurse profile set) shared by a module's tests: for property tests that
    add their own rows and never rely on the record being empty."""
    from store_helpers import open_store

    with open_store(tmp_path_factory.mktemp("record") / "record.db") as store:
        yield store


@pytest.fixture
def toronto_time(monkeypatch):
    """Local time is America/Toronto (EST in March 2025: UTC-5) for the test."""
    import time

    monkeypatch.setenv("TZ", "America/Toronto")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def export_store(tmp_path, toronto_time):
    """A record with the export nurse profile and agency details (visit_export_helpers), in
    Toronto local time: for the visit summary and FHIR tests."""
    from store_helpers import new_record
    from visit_export_helpers import open_record

    with open_record(new_record(tmp_path / "record.db")) as store:
        yield store


# ----------------------------------------------------------------------------- the command line


class CliResult:
    """What one ``nurse-app`` run left: exit status, stdout and stderr (like CompletedProcess)."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self) -> str:
        return f"CliResult(returncode={self.returncode!r}, stdout={self.stdout!r}, stderr={self.stderr!r})"


# Environment variables the command reads; an in-process run starts without them unless given.
CLI_ENV = ("NURSE_APP_DB", "NURSE_APP_POLICY")


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``nurse-app ARGS`` in this process through ``nurse_app.cli.main`` (the entry point).

    ``cli("calc", "--product", ..., env={"NURSE_APP_DB": path}, stdin="text")`` returns a
    ``CliResult``; the exit status is main's return value or the code of the SystemExit that
    argparse raises (usage errors, --version, --help).  The environment variables the command
    reads are cleared first, and the agency policy caches are reset after the run, so one test's
    command line leaves nothing for the next.
    """
    import io

    from nurse_app.cli import main
    from nurse_app.core import policy

    def run(*args, env: dict | None = None, stdin: str | None = None) -> CliResult:
        for name in CLI_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, str(value))
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()  # only this run's output
        policy.reload()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        finally:
            policy.reload()
        out = capsys.readouterr()
        return CliResult(int(code), out.out, out.err)

    yield run
    policy.reload()
