"""A handheld carton scanner in keyboard mode, recognised wherever the focus is.

A USB or Bluetooth scanner "types" the code it read: a burst of characters, much faster than
a person types, ending in Enter.  While its page is shown, :class:`ScannerBurst` watches every
key press of the application.  A key that can begin a carton code (``]d2``, ``01``, ``(01)``:
:func:`nurse_app.core.carton.looks_like_scan_start`) is held back; the keys that follow within
:data:`GAP_MS` of each other join it.  A burst that ends in Enter is a scan: it is emitted as
:attr:`ScannerBurst.scanned` and never reaches the field that had the focus.  Anything else (a
person typing ``0`` in a count, slowly) is handed on to that field unchanged, a moment later.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from nurse_app.core.carton import looks_like_scan_start

# A scanner sends a key every few milliseconds; a fast typist needs 60-120 ms a key.
GAP_MS = 40
# The shortest GS1 carton code: AI 01 + 14 digits, AI 17 + 6 digits, AI 10 + one character.
SHORTEST_SCAN = 2 + 14 + 2 + 6 + 2 + 1
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ScannerBurst(QObject):
    """Recognises scanner bursts while ``page`` is visible; emits :attr:`scanned` with the code."""

    scanned = Signal(str)

    def __init__(self, page: QWidget):
        super().__init__(page)
        self.page = page
        self._held: list[tuple[QObject, int, Qt.KeyboardModifier, str]] = []
        self._last = 0.0
        self._replaying = False
        self._installed = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(GAP_MS * 2)
        self._flush_timer.timeout.connect(self._give_back)

    # -- the page calls these from its showEvent/hideEvent
    def start(self) -> None:
        app = QCoreApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True

    def stop(self) -> None:
        app = QCoreApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
            self._installed = False
        self._give_back()

    @property
    def buffer(self) -> str:
        return "".join(text for _target, _key, _mods, text in self._held)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self._replaying or event.type() != QEvent.Type.KeyPress:
            return False
        # a key press is offered to the window first, then to the focus widget: act once, there
        focus = QApplication.focusWidget()
        if (
            obj is not focus
            or focus is None
            or not self.page.isVisible()
            or not self.page.isAncestorOf(focus)
        ):
            return False
        assert isinstance(event, QKeyEvent)
        now = time.monotonic() * 1000
        if self._held and now - self._last > GAP_MS:
            self._give_back()
        if event.key() in _ENTER:
            code = self.buffer
            if self._held and len(code) >= SHORTEST_SCAN:
                self._held.clear()
                self._flush_timer.stop()
                self.scanned.emit(code)
                return True
            self._give_back()
            return False
        text = event.text()
        printable = bool(text) and (text.isprintable() or text == "\x1d")
        ctrl_only = event.modifiers() & ~(
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        )
        if printable and (not ctrl_only or text == "\x1d") and looks_like_scan_start(self.buffer + text):
            self._held.append((obj, event.key(), event.modifiers(), text))
            self._last = now
            self._flush_timer.start()
            return True
        self._give_back()
        return False

    def _give_back(self) -> None:
        """Hand the held keys on to where they were going: it was not a scan."""
        self._flush_timer.stop()
        held, self._held = self._held, []
        self._replaying = True
        try:
            for target, key, mods, text in held:
                QCoreApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, key, mods, text))
                QCoreApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyRelease, key, mods, text))
        finally:
            self._replaying = False
