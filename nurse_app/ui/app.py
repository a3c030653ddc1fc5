"""Starting the GUI: the QApplication, content validation at start, the main window.

``nurse-app --smoke-test`` goes through exactly the same start (options, environment,
record, settings) but, instead of waiting for the nurse, waits until the first page is
painted and the event loop is idle, prints the time to ready and exits (0 on success;
one line on stderr and a non-zero status on any failure).  Modal prompts that would wait
for a person (the first-run welcome, "restore a backup?") are not shown in that mode:
the message they would show is the failure line instead.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from nurse_app import __version__
from nurse_app.core.errors import NurseAppError
from nurse_app.ui.timers import call_soon

APP_NAME = "nurse-app"
ORG_NAME = "IVIG Nurse Companion"


def get_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(ORG_NAME)
        QCoreApplication.setApplicationName(APP_NAME)
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(sys.argv[:1])
        app.setApplicationDisplayName("IVIG Nurse Companion")
        app.setDesktopFileName(APP_NAME)  # matches nurse-app.desktop (Wayland task bars)
        from nurse_app.ui.assets import app_icon, register_fonts

        register_fonts()
        app.setWindowIcon(app_icon())
        from nurse_app.ui import gc_guard

        gc_guard.install(app)  # widgets in garbage cycles are freed on the GUI thread, never a worker's
    from nurse_app.ui import none_guard

    none_guard.install(app)  # a binding that drops None's references never lets it reach zero
    return app


SMOKE_TIMEOUT_S = 60


def process_age() -> float:
    """Seconds since this process started (from /proc on Linux; else since Python started)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        start_ticks = int(stat[stat.rindex(b")") + 2 :].split()[19])
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED_AT + _IMPORT_AGE


_IMPORTED_AT = time.perf_counter()
_IMPORT_AGE = time.process_time()  # a lower bound of the time spent before this import


class ReadyProbe(QObject):
    """Calls ``on_ready`` once ``widget`` has been painted and the event loop then runs idle."""

    def __init__(self, widget, on_ready, on_timeout, timeout_s: float = SMOKE_TIMEOUT_S):
        super().__init__(widget)
        self._widget = widget
        self._on_ready = on_ready
        self._painted = False
        widget.installEventFilter(self)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(on_timeout)
        self._deadline.start(int(timeout_s * 1000))

    def eventFilter(self, obj, event) -> bool:
        if obj is self._widget and event.type() == QEvent.Paint and not self._painted:
            self._painted = True
            # A zero timer fires once every pending event has been processed: idle.
            call_soon(self, self._idle)
        return False

    def _idle(self) -> None:
        self._deadline.stop()
        self._widget.removeEventFilter(self)
        self._on_ready()


def _fail(smoke: bool, title: str, text: str) -> int:
    if smoke:
        print(f"nurse-app: smoke test failed: {title}: {' '.join(text.split())}", file=sys.stderr)
    else:
        QMessageBox.critical(None, title, text)
    return 1


def run_gui(args) -> int:
    smoke = bool(getattr(args, "smoke_test", False))
    app = get_app()
    if not smoke:
        from nurse_app.ui import error_hook

        error_hook.install()  # an unexpected error is logged and shown, never swallowed
    from nurse_app.core.content import check_content

    try:
        check_content()
    except NurseAppError as exc:
        return _fail(
            smoke,
            "IVIG Nurse Companion cannot start",
            f"The app's clinical content failed its checks, so it will not open:\n\n{exc}",
        )
    failures = _unlock_headless() if smoke else unlock_at_start(getattr(args, "db", None))
    if failures is None:
        return 1
    store = open_record(getattr(args, "db", None), smoke=smoke)
    if store is None:
        return 1
    from nurse_app.ui import run_marker

    previous = None
    if not smoke:
        previous = run_marker.begin()  # the last run's end, and faulthandler for this one
    try:
        from nurse_app.ui.main_window import MainWindow

        window = MainWindow(store=store, unlock_failures=failures)
        window.show_window()  # maximised the first time on this screen
        if smoke:
            return _smoke_wait(app, window)
        if previous is not None:
            window.report_unexpected_close(previous)
        from nurse_app.ui import record_windows

        if record_windows.take_demo_request() and not store.find_patients(""):
            window.load_demo_data()  # the separate demo record asked for from another window
    except BaseException:
        store.close()
        raise
    if store.nurse_profile() is None:
        QMessageBox.information(
            window,
            "Welcome",
            "Welcome. Before the first visit, enter your name and "
            "credentials: they stamp every entry and signature, and your agency's "
            "contact details go on patient handouts.",
        )
        window.edit_profile()
    try:
        return app.exec()
    finally:
        store.close()
        run_marker.end()


def _smoke_wait(app: QApplication, window) -> int:
    """Run the event loop until the first page is painted and the loop is idle; report."""
    outcome: dict[str, object] = {}

    def ready() -> None:
        outcome["ready"] = process_age()
        app.exit(0)

    def timeout() -> None:
        outcome["error"] = f"the window was not painted within {SMOKE_TIMEOUT_S} s"
        app.exit(1)

    page = window.stack.currentWidget() or window
    ReadyProbe(page, ready, timeout)
    try:
        app.exec()
    finally:
        window.store.close()
    if "ready" not in outcome:
        print(
            f"nurse-app: smoke test failed: {outcome.get('error', 'the event loop stopped early')}",
            file=sys.stderr,
        )
        return 1
    print(f"ready in {outcome['ready']:.3f} s (page {window.current_page()}, record {window.store.path})")
    return 0


def unlock_at_start(db) -> list[float] | None:
    """Ask for the record's passphrase (or a new one) before anything reads the record.

    Returns the times of wrong attempts (for the audit log once unlocked), or None if
    the nurse closed the window.
    """
    from nurse_app.store import keys, resolve_db_path
    from nurse_app.ui.lock import StartDialog

    dialog = StartDialog(resolve_db_path(db)[0])
    if not dialog.exec() or not dialog.passphrase:
        return None
    keys.unlock(dialog.passphrase)
    dialog.passphrase = None
    return dialog.form.take_failures() if dialog.mode == "unlock" else []


def _unlock_headless() -> list[float] | None:
    """--smoke-test has no one to ask: the passphrase comes from NURSE_APP_PASSPHRASE."""
    import os

    from nurse_app.store import keys

    value = os.environ.get("NURSE_APP_PASSPHRASE")
    if not value:
        print("nurse-app: smoke test needs the record's passphrase in NURSE_APP_PASSPHRASE", file=sys.stderr)
        return None
    keys.unlock(value)
    return []


def open_record(path, smoke: bool = False):
    """Open the record file, or explain in a message box why not (and offer a backup)."""
    from nurse_app.store import CorruptDatabaseError, Store, restore_backup

    try:
        return Store.open(path)
    except CorruptDatabaseError as exc:
        backups = exc.backups
        if smoke:
            _fail(smoke, "The record cannot be opened", str(exc))
            return None
        if not backups:
            QMessageBox.critical(None, "The record cannot be opened", str(exc))
            return None
        newest = backups[0]
        answer = QMessageBox.question(
            None,
            "The record cannot be opened",
            f"{exc}\n\nRestore the newest backup ({newest.path.name}, {newest.created_at})? The damaged file is "
            f"kept beside it, unchanged.",
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        if answer != QMessageBox.Yes:
            return None
        try:
            restore_backup(exc.path, newest.path)
            return Store.open(exc.path)
        except NurseAppError as again:
            QMessageBox.critical(None, "Restore failed", str(again))
            return None
    except NurseAppError as exc:
        _fail(smoke, "The record cannot be opened", str(exc))
        return None


def selftest_window() -> str:
    """Build the main window offscreen, run one calculation through the calculator page."""
    from nurse_app.core.formatting import fmt_qty
    from nurse_app.ui.main_window import MainWindow

    get_app()
    settings = QSettings(QSettings.IniFormat, QSettings.UserScope, ORG_NAME, "selftest")
    window = MainWindow(settings=settings)
    page = window.calculator
    page.set_inputs(product="privigen", regimen="pemphigus", weight="70", height="170", sex="female")
    if page.result is None:
        raise RuntimeError("the calculator page produced no result for a valid input")
    text = page.tile_daily.value.text()
    expected = fmt_qty(page.result.daily_dose_g, "g")
    if text != expected:
        raise RuntimeError(f"calculator shows {text!r}, expected {expected!r}")
    pages = ", ".join(window.pages)
    window.deleteLater()
    return f"pages {pages}; calculator shows {text} a day"
