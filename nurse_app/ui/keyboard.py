"""Alt+letter never types its letter into a field.

Why it did: Qt delivers Alt+letter to the focused widget as a key press carrying the
letter's text when no shortcut takes it (a letter that is no button's or label's
mnemonic, e.g. Alt+X on the calculator).  Text inputs accept any key press with text
unless Ctrl is held, so "x" landed in the weight.  Mnemonics and menu shortcuts are
matched before that (as shortcut overrides), so swallowing the leftover key press in
text inputs loses nothing.  macOS is left alone: there Option+letter types accented
characters on purpose.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit

_TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox, QComboBox)


# The window's own shortcuts that a text field would otherwise take for itself (on X11, Ctrl+E
# moves a line edit's cursor to the end of the line, so Export FHIR did nothing from a field).
WINDOW_SHORTCUTS_OVER_FIELDS = frozenset({(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)})


class AltLetterGuard(QObject):
    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(obj, _TEXT_INPUTS):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if (Qt.Key(event.key()), mods) in WINDOW_SHORTCUTS_OVER_FIELDS:
                event.ignore()  # not overridden: the window's shortcut runs
                return True
        if event.type() == QEvent.Type.KeyPress and isinstance(obj, _TEXT_INPUTS):
            mods = event.modifiers()
            if (
                mods & Qt.KeyboardModifier.AltModifier
                and not mods & Qt.KeyboardModifier.ControlModifier
                and event.text()
                and event.text().isprintable()
            ):
                QApplication.beep()  # a mnemonic that does not exist here: nothing typed
                return True
        return False


_guard: AltLetterGuard | None = None


def install_alt_letter_guard() -> None:
    """Install once for the application (idempotent)."""
    global _guard
    app = QApplication.instance()
    if app is None or _guard is not None or sys.platform == "darwin":
        return
    _guard = AltLetterGuard(app)
    app.installEventFilter(_guard)
