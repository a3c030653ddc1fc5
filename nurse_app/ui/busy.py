"""While a page or dialog opens: a busy cursor, and no click or key acts twice.

Opening a visit (or the order form) runs on the GUI thread. Input the nurse gives meanwhile
is queued by the window system and delivered only once the new page is up, so a second
click on "Start visit" used to land on whatever the new page shows at that spot. ``busy()``
shows the wait cursor and drops keyboard and mouse input given while the work runs: at its
end, the events queued meanwhile are delivered and dropped before input counts again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import ClassVar

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication


class _InputDrain(QObject):
    INPUT: ClassVar[frozenset[QEvent.Type]] = frozenset(
        {
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
            QEvent.Type.KeyPress,
            QEvent.Type.KeyRelease,
            QEvent.Type.Shortcut,
            QEvent.Type.ShortcutOverride,
        }
    )

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.depth = 0
        self.dropped = 0
        self.active = False
        app.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if self.active and event.type() in self.INPUT:
            self.dropped += 1
            return True
        return False


_drain: _InputDrain | None = None


def drain() -> _InputDrain | None:
    return _drain


@contextlib.contextmanager
def busy() -> Iterator[None]:
    """Wait cursor and no input while the body runs (nor input queued while it ran)."""
    global _drain
    app = QApplication.instance()
    if app is None:
        yield
        return
    if _drain is None:
        _drain = _InputDrain(app)
    drain_ = _drain
    drain_.depth += 1
    drain_.active = True
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        if drain_.depth == 1:
            QApplication.processEvents()  # what was queued meanwhile arrives now, and is dropped
        QApplication.restoreOverrideCursor()
        drain_.depth -= 1
        drain_.active = drain_.depth > 0
