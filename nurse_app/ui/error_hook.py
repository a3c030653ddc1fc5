"""The global exception hook: an unexpected error is never swallowed nor fatal.

Any exception that reaches the event loop (a slot, a timer, a worker thread) is written
with its traceback to ``errors.log`` in the app's data folder, and the nurse sees
"Something went wrong — everything you entered is saved" with the log's path.  Qt's own
critical and fatal messages go to the same log.  The log holds the exception type, its
traceback (file, line, function) and Qt's message, never the exception's own text:
that text may quote a value the nurse typed (a name, a lot number), which is patient
information.  Every entry is saved the moment it is typed, so the data is safe.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QtMsgType, Signal, Slot, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

TITLE = "Something went wrong"
HEADLINE = "Something went wrong — everything you entered is saved."
_LOGGER_NAME = "nurse_app.errors"


def scrubbed_traceback(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    """The traceback with the exception's type but without its message (which may hold PHI)."""
    frames = "".join(traceback.format_tb(tb))
    chain = []
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 5:
        chain.append(f"  caused by {type(cause).__module__}.{type(cause).__qualname__}")
        cause = cause.__cause__ or cause.__context__
    return f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}\n" + "".join(
        c + "\n" for c in chain
    )


class _MainThreadCall(QObject):
    """Runs ``fn`` on the thread that made this object (the GUI thread), from any thread.

    A queued signal: portable to PySide6 6.6 (the floor), which has no
    ``QTimer.singleShot(msec, context, callable)``.
    """

    requested = Signal()

    def __init__(self, fn):
        super().__init__()
        self._fn = fn
        self.requested.connect(self._run, Qt.QueuedConnection)

    @Slot()
    def _run(self) -> None:
        self._fn()


class ErrorHook:
    def __init__(self, log_path: Path):
        self.log_path = Path(log_path)
        self.logger = logging.getLogger(_LOGGER_NAME)
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self._handler: logging.Handler | None = None
        self._previous = None
        self._previous_thread = None
        self._showing = False
        self._in_gui_thread: _MainThreadCall | None = None
        self.count = 0  # errors seen (tests and the status bar)

    # ------------------------------------------------------------------ logging
    def _ensure_handler(self) -> None:
        if self._handler is not None:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(self.log_path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger.addHandler(handler)
        self._handler = handler

    def log(self, text: str, level: int = logging.ERROR) -> None:
        try:
            self._ensure_handler()
            self.logger.log(level, text)
            self._handler.flush()
        except OSError:
            sys.stderr.write(text + "\n")

    # ------------------------------------------------------------------ hooks
    def install(self) -> ErrorHook:
        self._previous = sys.excepthook
        self._previous_thread = threading.excepthook
        self._in_gui_thread = _MainThreadCall(lambda: self.show())  # made here, on the GUI thread
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)
        qInstallMessageHandler(self.qt_message)
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            threading.excepthook = self._previous_thread
            qInstallMessageHandler(None)
            self._previous = None
        if self._handler is not None:
            self.logger.removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    def handle(self, kind, exc, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            if self._previous:
                self._previous(kind, exc, tb)
            return
        self.count += 1
        self.log("Unexpected error\n" + scrubbed_traceback(kind, exc, tb))
        if threading.current_thread() is threading.main_thread():
            self.show()
        elif QApplication.instance() is not None:
            self._in_gui_thread.requested.emit()

    def qt_message(self, mode, context, message) -> None:
        if mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            where = f"{context.file}:{context.line}" if context and context.file else "Qt"
            self.log(f"Qt {mode.name} at {where}: {message}")
        elif mode == QtMsgType.QtWarningMsg:
            sys.stderr.write(f"{message}\n")

    def message_text(self) -> str:
        return (
            f"{HEADLINE}\n\nThe app hit an unexpected problem and carried on. Every entry is "
            f"saved as you type, so nothing is lost; check the screen you were on.\n\n"
            f"Details for support were written to:\n{self.log_path}"
        )

    def show(self) -> None:
        if self._showing or QApplication.instance() is None:
            return  # one box at a time: an error while it shows is only logged
        self._showing = True
        try:
            box = QMessageBox(
                QMessageBox.Warning, TITLE, self.message_text(), QMessageBox.Ok, QApplication.activeWindow()
            )
            box.setObjectName("error_hook_box")
            box.exec()
        finally:
            self._showing = False


_installed: ErrorHook | None = None


def install(log_path: Path | None = None) -> ErrorHook:
    """Install the hook once (again: replaces the previous one)."""
    global _installed
    if _installed is not None:
        _installed.uninstall()
    if log_path is None:
        from nurse_app.store.location import error_log_path

        log_path = error_log_path()
    _installed = ErrorHook(log_path).install()
    return _installed


def installed() -> ErrorHook | None:
    return _installed
