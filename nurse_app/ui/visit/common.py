"""Shared pieces of the visit tabs: the context object, time formatting, error display."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from nurse_app.core.errors import NurseAppError
from nurse_app.store import Store, to_local
from nurse_app.ui.widgets import error_label

__all__ = ["VisitContext", "attempt", "enter_pressed_in", "error_label", "local_time", "now_utc"]


class VisitContext(QObject):
    """The open visit, shared by every tab.  ``changed`` tells the others to refresh."""

    changed = Signal(str)     # what changed: "visit", "checklist", "vitals", "lots", "reactions", "events"

    def __init__(self, store: Store, visit_id: int):
        super().__init__()
        self.store = store
        self.visit_id = visit_id

    @property
    def visit(self) -> dict:
        return self.store.get_visit(self.visit_id)

    @property
    def signed(self) -> bool:
        return self.visit["status"] == "signed"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def local_time(text: str | None, with_date: bool = False) -> str:
    """Stored UTC text as local wall-clock time, e.g. ``09:42`` or ``24 Nov 2026 09:42``."""
    if not text:
        return ""
    moment = to_local(text)
    return moment.strftime("%d %b %Y %H:%M" if with_date else "%H:%M")


def attempt(label: QLabel, action) -> bool:
    """Run a store call; show its message in ``label`` instead of raising. True on success."""
    try:
        action()
    except NurseAppError as exc:
        label.setText(str(exc))
        label.show()
        return False
    label.hide()
    return True


def enter_pressed_in(event: QKeyEvent, form: QWidget) -> bool:
    """True for Enter pressed in a field of ``form``, seen by the form's page: line edits, spin boxes,
    date edits, combo boxes and buttons pass Enter on to their parent, so one handler on the page
    makes Enter submit from any field, as it does in a dialog."""
    focus = QApplication.focusWidget()
    return event.key() in (Qt.Key_Return, Qt.Key_Enter) and focus is not None and form.isAncestorOf(focus)
