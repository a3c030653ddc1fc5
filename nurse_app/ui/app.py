"""Starting the GUI: the QApplication, content validation at start, the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from nurse_app import __version__
from nurse_app.core.errors import NurseAppError

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
    return app


def run_gui(args) -> int:
    app = get_app()
    from nurse_app.core.content import validate_all
    try:
        validate_all()
    except NurseAppError as exc:
        QMessageBox.critical(None, "IVIG Nurse Companion cannot start",
                             f"The app's clinical content failed its checks, so it will not open:\n\n{exc}")
        return 1
    store = open_record(getattr(args, "db", None))
    if store is None:
        return 1
    from nurse_app.ui.main_window import MainWindow
    window = MainWindow(store=store)
    window.show()
    if store.nurse_profile() is None:
        QMessageBox.information(window, "Welcome", "Welcome. Before the first visit, enter your name and "
                                "credentials: they stamp every entry and signature, and your agency's "
                                "contact details go on patient handouts.")
        window.edit_profile()
    try:
        return app.exec()
    finally:
        store.close()


def open_record(path):
    """Open the record file, or explain in a message box why not (and offer a backup)."""
    from nurse_app.store import CorruptDatabaseError, Store, restore_backup
    try:
        return Store.open(path)
    except CorruptDatabaseError as exc:
        backups = exc.backups
        if not backups:
            QMessageBox.critical(None, "The record cannot be opened", str(exc))
            return None
        newest = backups[0]
        answer = QMessageBox.question(
            None, "The record cannot be opened",
            f"{exc}\n\nRestore the newest backup ({newest.path.name}, {newest.created_at})? The damaged file is "
            f"kept beside it, unchanged.", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return None
        try:
            restore_backup(exc.path, newest.path)
            return Store.open(exc.path)
        except NurseAppError as again:
            QMessageBox.critical(None, "Restore failed", str(again))
            return None
    except NurseAppError as exc:
        QMessageBox.critical(None, "The record cannot be opened", str(exc))
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
