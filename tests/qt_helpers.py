"""Helpers shared by the pytest-qt tests."""

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication


def run_in_dialog(qtbot, action):
    """Run ``action(dialog)`` on the next modal dialog (opened with exec()); never leave it hanging.

    An exception in ``action`` surfaces through pytest-qt's Qt-event-loop check and fails the test.
    Returns a dict that holds the dialog under ``"dialog"`` once it has run.
    """
    seen = {}
    tries = {"left": 250}  # a busy() wait before exec() may run this timer early: look again (5 s)

    def run():
        dialog = QApplication.activeModalWidget()
        if dialog is None and tries["left"] > 0:
            tries["left"] -= 1
            QTimer.singleShot(20, run)
            return
        seen["dialog"] = dialog
        try:
            action(dialog)
        finally:
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, run)
    return seen


def click_when_shown(qtbot, widget, *, near_left_edge: bool = False):
    """Click ``widget`` once Qt has shown it (at its centre, or 5 px in from its left edge).

    A widget added to a visible layout is shown by a queued call, so a box built by the recalculation
    that a wait just observed may still be hidden, with no final geometry yet; a click on it would be
    lost (as it would for a nurse, who cannot click what is not on the screen).
    """
    qtbot.waitUntil(widget.isVisible, timeout=2000)
    pos = QPoint(5, widget.height() // 2) if near_left_edge else widget.rect().center()
    qtbot.mouseClick(widget, Qt.LeftButton, pos=pos)


def type_text(qtbot, widget, text):
    """Type like a keyboard would; QTest cannot click non-ASCII keys, so those are sent as key
    events carrying the character (what an input method delivers)."""
    for ch in text:
        if ch.isascii():
            qtbot.keyClick(widget, ch)
        else:
            for kind in (QEvent.KeyPress, QEvent.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key_unknown, Qt.NoModifier, ch))


def open_main_window(qtbot, path, tmp_path):
    """The real main window on the record at ``path`` (1366×768, active), and its store."""
    from PySide6.QtCore import QSettings

    from nurse_app.store import Store
    from nurse_app.ui.main_window import MainWindow

    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    return window, store
