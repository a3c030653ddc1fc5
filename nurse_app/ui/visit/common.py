"""Shared pieces of the visit tabs: the context object, time formatting, error display, row removal."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton, QTableWidget, QWidget

from nurse_app.core.errors import NurseAppError
from nurse_app.core.visit_record import VisitRecord
from nurse_app.store import Store, to_local
from nurse_app.store.times import now_utc  # the one clock of the record (re-exported for the tabs)
from nurse_app.ui.visit.model import VisitModel
from nurse_app.ui.widgets import error_label

__all__ = [
    "EntryFormTab",
    "RowRemoval",
    "VisitContext",
    "attempt",
    "enter_pressed_in",
    "error_label",
    "local_time",
    "now_utc",
]


class VisitContext(QObject):
    """The open visit, shared by every tab: its :class:`VisitModel` (the record, read once) and
    ``changed``, which a tab emits after a write with the part it changed.  The record is read
    again first (the first slot connected), then every tab renders the new record."""

    changed = Signal(str)  # what changed: "visit", "checklist", "vitals", "lots", "reactions", "events"

    def __init__(self, store: Store, visit_id: int):
        super().__init__()
        self.store = store  # for the tabs' writes; reads come from the record
        self.visit_id = visit_id
        self.model = VisitModel(store, visit_id, parent=self)  # NotFoundError: no such visit
        self.changed.connect(self.model.reload)

    @property
    def record(self) -> VisitRecord:
        return self.model.record

    @property
    def visit(self) -> dict:
        return self.model.record.visit

    @property
    def product(self):
        """The visit's product (catalogue Product): the order's, else the calculation's; None
        when neither names a known product."""
        from nurse_app.core.catalogue import load_catalogue

        visit, order = self.visit, self.record.order
        product_id = order["product_id"] if order else (visit.get("calculation") or {}).get("product")
        return load_catalogue().products.get(product_id) if product_id else None

    @property
    def signed(self) -> bool:
        """Read-only: signed, or voided (entered by mistake; kept as it was)."""
        return self.model.record.read_only


def local_time(text: str | None, with_date: bool = False) -> str:
    """Stored UTC text as local wall-clock time, e.g. ``09:42`` or ``24 Nov 2026 09:42``."""
    if not text:
        return ""
    moment = to_local(text)
    from nurse_app.core.formatting import fmt_date

    return f"{fmt_date(moment)} {moment:%H:%M}" if with_date else moment.strftime("%H:%M")


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


class RowRemoval(QObject):
    """Remove the selected row of a draft visit's table: a button, and the Delete key in the table.

    A mistyped reading, lot or reaction must be removable while the visit is a draft; the nurse is
    asked first (No is the default), and the store keeps the removal in the audit log.  Signed
    visits are read-only: the store refuses, and :meth:`set_enabled` turns the controls off.
    ``describe(row)`` names the entry in the question; ``delete(row)`` removes it from the store.
    """

    def __init__(
        self,
        ctx: VisitContext,
        table: QTableWidget,
        button: QPushButton,
        error: QLabel,
        changed: str,
        describe: Callable[[int], str],
        delete: Callable[[int], None],
    ):
        super().__init__(table)
        self.ctx, self.table, self.button, self.error = ctx, table, button, error
        self.changed, self.describe, self.delete = changed, describe, delete
        button.clicked.connect(self.remove_selected)
        self.shortcut = QShortcut(
            QKeySequence(QKeySequence.StandardKey.Delete), table, context=Qt.ShortcutContext.WidgetShortcut
        )
        self.shortcut.activated.connect(self.remove_selected)
        table.itemSelectionChanged.connect(self._update)
        self._update()

    def _selected_row(self) -> int:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()} or (
            {self.table.currentRow()} if self.table.currentItem() is not None else set()
        )
        return next(iter(rows)) if len(rows) == 1 else -1

    def _update(self) -> None:
        self.button.setEnabled(self.shortcut.isEnabled() and self._selected_row() >= 0)

    def set_enabled(self, enabled: bool) -> None:
        self.shortcut.setEnabled(enabled)
        self._update()

    def remove_selected(self) -> bool:
        row = self._selected_row()
        if row < 0 or not self.shortcut.isEnabled():
            return False
        answer = QMessageBox.question(
            self.table.window(),
            "Remove entry",
            f"Remove {self.describe(row)}?\n\nUse this for an entry made by mistake; the record's audit "
            f"log keeps what was removed, by whom and when.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        if attempt(self.error, lambda: self.delete(row)):
            self.ctx.changed.emit(self.changed)
            return True
        return False


class EntryFormTab(QWidget):
    """A visit tab with an entry form (``form_box``, submitted by ``_add``) above a table of the
    entries made (``removal``, a :class:`RowRemoval`): Enter in any field of the form submits it,
    as in a dialog, and a signed visit turns both off."""

    form_box: QWidget
    removal: RowRemoval

    def _add(self) -> None:  # pragma: no cover - every tab defines it
        raise NotImplementedError

    def keyPressEvent(self, event) -> None:
        if enter_pressed_in(event, self.form_box):
            self._add()
            return
        super().keyPressEvent(event)

    def set_read_only(self, read_only: bool) -> None:
        # A signed visit shows what was recorded, not an empty form that looks fillable.
        self.form_box.setEnabled(not read_only)
        self.form_box.setVisible(not read_only)
        self.removal.set_enabled(not read_only)
