"""The open visit as a Qt object: :class:`VisitModel` holds its :class:`VisitRecord`.

The record is read once when the visit opens (:func:`nurse_app.services.visit_record.load_visit`,
one statement) and again only after a write: a tab saves through a service or the store, then
says what it changed (:meth:`VisitModel.reload`, or ``VisitContext.changed`` with the part's
name); the model reads the record again and emits ``changed(record, changes)``, and every tab
renders the new record.  Tabs read the record, never the store.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from nurse_app.core.visit_record import VisitRecord
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store

# The parts of a visit a write can change (what ``changed`` names).
PARTS = frozenset(
    {"visit", "checklist", "vitals", "lots", "reactions", "events", "addenda", "notes", "access", "handoff"}
)


class VisitModel(QObject):
    """One open visit: its record, read again after each write."""

    changed = Signal(object, object)  # (the new VisitRecord, frozenset of the parts changed)

    def __init__(self, store: Store, visit_id: int, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.visit_id = visit_id
        self.record: VisitRecord = load_visit(store, visit_id)

    def reload(self, *changes: str) -> VisitRecord:
        """Read the record again after a write that changed ``changes``, and say so."""
        self.record = load_visit(self.store, self.visit_id)
        self.changed.emit(self.record, frozenset(changes))
        return self.record
