"""The Week page: today and the next 7 days, and what is late or missed, in time order.

Rows come from :func:`nurse_app.services.schedule.build_schedule` (the same items as the
week sheet, the .ics and ``nurse-app schedule``).  Enter or a double-click on a row
starts the visit (or reopens the one on record), or opens the follow-up call form.
"""

from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core import schedule as core
from nurse_app.core.errors import NurseAppError
from nurse_app.services import schedule as service
from nurse_app.ui.widgets import ATTENTION_COLOUR, ERROR_COLOUR, OK_COLOUR, text_colour

PHI_WARNING = (
    "The file contains patient information: save it only where your agency allows, and do not share it."
)
_COLUMNS = ("Date", "Status", "Kind", "Patient", "What", "Expected dose")
_STATUS_COLOURS = {
    core.LATE: ERROR_COLOUR,
    core.MISSED: ERROR_COLOUR,
    core.DUE: ATTENTION_COLOUR,
    core.PARTIAL: ATTENTION_COLOUR,
    core.DONE: OK_COLOUR,
}
_OVERDUE = "overdue"


class WeekPage(QWidget):
    start_visit_requested = Signal(int)  # patient id
    open_visit_requested = Signal(int)  # visit id
    late_count_changed = Signal(int)
    status_message = Signal(str)

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.setObjectName("week_page")
        self.store = store
        self.schedule: service.Schedule | None = None
        self.shown: list[service.ScheduleItem] = []

        self.title = QLabel()
        self.title.setObjectName("week_title")
        self.filter = QComboBox()
        self.filter.setObjectName("week_filter")
        self.filter.setAccessibleName("Show")
        for data, text in (
            (None, "Everything"),
            (core.COURSE_DAY, "Visits"),
            ("rash-check-call", "Rash check calls"),
            ("response-review", "Response reviews"),
            ("lab", "Lab checks"),
            (service.ORDER_CHECK, "Orders to confirm"),
            (_OVERDUE, "Late or missed only"),
        ):
            self.filter.addItem(text, data)
        self.filter.currentIndexChanged.connect(self._fill)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.refresh)
        self.print_button = QPushButton("Week &sheet (PDF)…")
        self.print_button.setObjectName("week_sheet_button")
        self.print_button.clicked.connect(self.save_week_sheet)
        self.ics_button = QPushButton("&Calendar (.ics)…")
        self.ics_button.setObjectName("week_ics_button")
        self.ics_button.clicked.connect(self.save_calendar)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.filter)
        top.addWidget(refresh)
        top.addWidget(self.print_button)
        top.addWidget(self.ics_button)

        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("week_table")
        self.table.setAccessibleName("Visits, calls and reviews")
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col in range(len(_COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.Stretch)
        # Double-click and Enter, each handled once (not also through itemActivated, which
        # some platforms emit for the same click or key).
        self.table.cellDoubleClicked.connect(lambda row, _col: self.activate_row(row))
        for key in (Qt.Key_Return, Qt.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.WidgetShortcut)
            shortcut.activated.connect(lambda: self.activate_row(self.table.currentRow()))
        self.empty = QLabel()
        self.empty.setObjectName("week_empty")
        self.empty.setWordWrap(True)
        hint = QLabel(
            "Enter or double-click: start or reopen the visit, or open the call form. "
            "Late: past its window and not yet done; missed: the next one came due."
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)
        self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self, today: _dt.date | None = None) -> None:
        try:
            self.schedule = service.build_schedule(self.store, today=today)
        except NurseAppError as exc:
            self.schedule = None
            self.title.setText("<h2>This week</h2>")
            self.empty.setText(f"The schedule could not be worked out: {exc}")
            self.empty.show()
            self.table.setRowCount(0)
            return
        s = self.schedule
        last = s.end - _dt.timedelta(days=1)
        self.title.setText(
            f"<h2>This week</h2>{s.start:%A %d %B} to {last:%A %d %B %Y}: "
            f"{len(s.items)} items, <b>{s.late_count} late or missed</b>"
        )
        self._fill()
        self.late_count_changed.emit(s.late_count)

    def _fill(self, *_args) -> None:
        wanted = self.filter.currentData()
        items = self.schedule.items if self.schedule else []
        if wanted == _OVERDUE:
            items = [i for i in items if i.overdue]
        elif wanted is not None:
            items = [i for i in items if i.kind == wanted]
        self.shown = items
        self.table.setRowCount(len(items))
        today = self.schedule.today if self.schedule else None
        for row, item in enumerate(items):
            day = f"{item.date:%a %d %b}" + (" (today)" if item.date == today else "")
            what = item.label.split(": ", 1)[-1]
            if item.expected_dose:
                what = what.replace(f", {item.expected_dose}", "")
            cells = (
                day,
                service.STATUS_LABELS[item.status],
                "Visit" if item.kind == core.COURSE_DAY else (item.title or item.kind),
                f"{item.patient_name} ({item.mrn})",
                what,
                item.expected_dose,
            )
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 1 and item.status in _STATUS_COLOURS:
                    cell.setForeground(QBrush(QColor(text_colour(_STATUS_COLOURS[item.status]))))
                if col == 4:
                    cell.setToolTip(what + (f"\n{item.detail}" if item.detail else ""))
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()
        if not items:
            self.empty.setText(
                "Nothing to do in these days."
                if not self.schedule or not self.schedule.items
                else "Nothing of this kind in these days."
            )
        self.empty.setVisible(not items)
        if items:
            first = next((r for r, i in enumerate(items) if i.date >= (today or i.date)), 0)
            self.table.setCurrentCell(first, 0)

    def focus_filter(self) -> None:
        self.filter.setFocus()

    # ------------------------------------------------------------------ actions
    def activate_row(self, row: int) -> None:
        if not 0 <= row < len(self.shown):
            return
        item = self.shown[row]
        if item.kind == service.ORDER_CHECK:
            QMessageBox.information(
                self,
                "Order may be inactive",
                f"{item.label}\n\nConfirm with the pharmacy whether this order is still active; "
                "change or end it on the patient's order form.",
            )
            return
        if item.kind == core.COURSE_DAY:
            if item.visit_id is not None:
                self.open_visit_requested.emit(item.visit_id)
            else:
                self.start_visit_requested.emit(item.patient_id)
            return
        self.open_call(item)

    def open_call(self, item: service.ScheduleItem) -> None:
        from nurse_app.ui.followup_call_dialog import FollowupCallDialog

        try:
            call_id = service.start_call(self.store, item)
        except NurseAppError as exc:
            QMessageBox.warning(self, "Cannot open the call form", str(exc))
            return
        FollowupCallDialog(self.store, call_id, self).exec()
        self.refresh()

    def _ask_file(self, title: str, default: str, pattern: str) -> str:
        target, _ = QFileDialog.getSaveFileName(self, title, default, pattern)
        return target

    def save_week_sheet(self) -> None:
        from nurse_app.reports.week_sheet import write_week_sheet

        if self.schedule is None:
            return
        if (
            QMessageBox.question(self, "Week sheet", f"{PHI_WARNING}\n\nSave the week sheet?")
            != QMessageBox.Yes
        ):
            return
        target = self._ask_file("Save the week sheet", f"week-{self.schedule.start}.pdf", "PDF (*.pdf)")
        if not target:
            return
        nurse = (self.store.nurse_profile() or {}).get("display", "")
        try:
            pages = write_week_sheet(self.schedule, target, nurse=nurse)
        except NurseAppError as exc:
            QMessageBox.warning(self, "Week sheet", str(exc))
            return
        self.status_message.emit(
            f"Week sheet saved to {target} ({pages} pages); it contains patient information."
        )

    def save_calendar(self) -> None:
        from nurse_app.reports.week_calendar import write_calendar

        if self.schedule is None:
            return
        box = QMessageBox(
            QMessageBox.Question,
            "Calendar (.ics)",
            f"{PHI_WARNING}\n\nEvents name patients by initials and MRN unless you choose full names.",
            QMessageBox.Save | QMessageBox.Cancel,
            self,
        )
        box.setObjectName("ics_warning")
        full = QCheckBox("Use full names")
        full.setObjectName("ics_full_names")
        box.setCheckBox(full)
        if box.exec() != QMessageBox.Save:
            return
        target = self._ask_file("Save the calendar", f"visits-{self.schedule.start}.ics", "iCalendar (*.ics)")
        if not target:
            return
        try:
            count = write_calendar(self.schedule, target, full_names=full.isChecked())
        except NurseAppError as exc:
            QMessageBox.warning(self, "Calendar", str(exc))
            return
        self.status_message.emit(
            f"Calendar saved to {target} ({count} events); it contains patient information."
        )
