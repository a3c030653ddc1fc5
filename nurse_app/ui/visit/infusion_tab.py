"""Infusion tab: the rate plan with the current step, a running clock, rate-change buttons,
vital-signs prompts, and the vitals flowsheet with quick entry."""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core import infusion_record as record
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_measured, fmt_minutes, fmt_number, fmt_qty
from nurse_app.core.late_entry import check_care_time, is_late, parse_clock_time
from nurse_app.core.monitoring import load_monitoring, vitals_due
from nurse_app.core.units import parse_number, parse_temperature
from nurse_app.core.visit_logic import (
    END,
    EVENT_LABELS,
    PAUSE,
    RATE_CHANGE,
    RESUME,
    START,
    STOP,
    infusion_progress,
    suggested_rate_ml_h,
)
from nurse_app.core.vitals import flag_series
from nurse_app.services.infusion import check_rate, latest_flags, record_infusion_event, start_missing
from nurse_app.store import to_local
from nurse_app.store.fields import reading_measures
from nurse_app.ui.visit.common import RowRemoval, VisitContext, attempt, error_label, local_time, now_utc
from nurse_app.ui.widgets import ATTENTION_COLOUR, ERROR_COLOUR, OK_COLOUR, Section, text_colour, two_panes

# Flowsheet columns: (store field, vitals.toml measure id, header)
VITAL_FIELDS = (
    ("temperature_c", "temperature", "Temp °C"),
    ("heart_rate", "heart_rate", "HR /min"),
    ("systolic_mmhg", "systolic", "BP sys"),
    ("diastolic_mmhg", "diastolic", "BP dia"),
    ("respiratory_rate", "respiratory_rate", "RR /min"),
    ("spo2_percent", "spo2", "SpO2 %"),
    ("infusion_rate_ml_h", "infusion_rate", "Rate mL/h"),
)

# The label above each entry field, with its Alt shortcut (the words of the printed summary).
# Alt+T is Temp: no shortcut on this tab stops, pauses or finishes the infusion.
VITAL_LABELS = {
    "temperature_c": "&Temp °C",
    "heart_rate": "&Pulse /min",
    "systolic_mmhg": "&BP sys",
    "diastolic_mmhg": "BP &dia",
    "respiratory_rate": "&Resp /min",
    "spo2_percent": "Sp&O2 %",
    "infusion_rate_ml_h": "Rat&e mL/h",
}

# The unit shown inside each empty field (its label above already names the measure; a
# placeholder repeating it no longer fits the field in a 1280×720 window).
VITAL_UNITS = {
    "temperature_c": "°C or °F",
    "heart_rate": "/min",
    "systolic_mmhg": "mmHg",
    "diastolic_mmhg": "mmHg",
    "respiratory_rate": "/min",
    "spo2_percent": "%",
    "infusion_rate_ml_h": "mL/h",
}

# What each value is called in a message ("Heart rate '7a' is not a number", not "HR /min ...").
VITAL_NAMES = {
    "temperature_c": "Temperature",
    "heart_rate": "Heart rate",
    "systolic_mmhg": "Systolic blood pressure",
    "diastolic_mmhg": "Diastolic blood pressure",
    "respiratory_rate": "Respiratory rate",
    "spo2_percent": "SpO2",
    "infusion_rate_ml_h": "Infusion rate",
}


class RateBox(QDoubleSpinBox):
    """The new-rate box shows ``42 mL/h``, never ``42.0 mL/h`` (ISMP: no trailing zero)."""

    def textFromValue(self, value: float) -> str:
        return fmt_number(value, self.decimals()).replace(",", "")  # no thousands separator to type over


class VolumeDialog(QDialog):
    """Stop or Finish: the volume infused (pump reading, prefilled from the timeline's
    estimate) and, when it is less than planned, why."""

    def __init__(self, kind: str, estimate_ml: float, calc: dict | None, parent=None):
        super().__init__(parent)
        self.setObjectName("volume_dialog")
        self.calc = calc
        self.setWindowTitle("Stop the infusion" if kind == STOP else "Finish the infusion")
        planned = record.planned_volume_ml(calc)
        intro = QLabel(
            f"Enter the volume infused as the pump shows it. Estimated from the rates and times "
            f"recorded: {fmt_qty(estimate_ml, 'mL', 0)}"
            + (f" of {fmt_qty(planned, 'mL', 0)} planned." if planned else ".")
        )
        intro.setWordWrap(True)
        self.volume = QLineEdit(fmt_number(round(estimate_ml), 0).replace(",", ""))
        self.volume.setObjectName("volume_ml")
        self.volume.setAccessibleName("Volume infused in mL")
        self.grams = QLabel()
        self.grams.setObjectName("volume_grams")
        self.reason = QLineEdit()
        self.reason.setObjectName("volume_reason")
        self.reason.setAccessibleName("Reason less than planned was given")
        self.reason.setPlaceholderText("e.g. stopped for a reaction; patient declined the rest")
        self.error = error_label("volume_error")
        form = QFormLayout()
        form.addRow("&Volume infused (mL)", self.volume)
        form.addRow("", self.grams)
        form.addRow("&Reason if less than planned", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText("Record" if kind == END else "Record stop")
        self.ok_button.setAutoDefault(False)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.volume.textChanged.connect(self._update)
        self.volume.setFocus()
        self.volume.selectAll()
        self.resize(460, self.sizeHint().height())
        self._update()
        self.volume_ml: float | None = None

    def _parsed(self) -> float:
        return parse_number(self.volume.text(), "volume_ml", "Volume infused")

    def _update(self, *_) -> None:
        try:
            volume = self._parsed()
        except InputError:
            self.grams.setText("")
            return
        grams = record.grams_given(volume, self.calc)
        short = record.needs_reason(volume, self.calc)
        self.grams.setText(
            (f"= {fmt_qty(grams, 'g', 2)} given" if grams is not None else "")
            + (" (less than planned: say why)" if short else "")
        )
        self.error.hide()

    def _accept(self) -> None:
        try:
            volume = self._parsed()
        except InputError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        if record.needs_reason(volume, self.calc) and not self.reason.text().strip():
            self.error.setText("Less than the planned volume was given: enter the reason.")
            self.error.show()
            self.reason.setFocus()
            return
        self.volume_ml = volume
        self.accept()


class InfusionTab(QWidget):
    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("infusion_tab")
        self.ctx = ctx
        self.rules = load_monitoring()

        # --- left: plan, clock, controls
        self.status = QLabel()
        self.status.setObjectName("infusion_status")
        self.status.setWordWrap(True)
        font = self.status.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.status.setFont(font)
        self.due = QLabel()
        self.due.setObjectName("vitals_due")
        self.due.setWordWrap(True)
        self.due.setStyleSheet(
            f"background: {ATTENTION_COLOUR}; color: white; padding: 6px; border-radius: 4px;"
        )
        self.due.hide()
        self.plan = QTableWidget(0, 4)
        self.plan.setObjectName("rate_plan")
        self.plan.setAccessibleName("Rate plan")
        self.plan.setHorizontalHeaderLabels(["From", "mg/kg/min", "mL/h", ""])
        self.plan.verticalHeader().hide()
        self.plan.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.plan.setSelectionMode(QAbstractItemView.NoSelection)
        self.plan.setFocusPolicy(Qt.NoFocus)  # display only: no Tab stop (it trapped Tab in its cells)
        self.plan.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.plan.horizontalHeader().setStretchLastSection(True)
        self.plan.verticalHeader().setDefaultSectionSize(self.plan.fontMetrics().height() + 6)
        self.plan.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.new_rate = RateBox()
        self.new_rate.setObjectName("new_rate")
        self.new_rate.setAccessibleName("New rate in mL/h")
        self.new_rate.setDecimals(1)
        # Any typed number is kept and checked by the store against resources/vitals.toml (with a message):
        # a tight spin-box range would silently refuse keystrokes or revert the value instead.
        self.new_rate.setRange(0, 99999)
        self.new_rate.setSuffix(" mL/h")
        self.buttons: dict[str, QPushButton] = {}
        controls = QGridLayout()
        for i, (kind, label) in enumerate(
            (
                # Pause, Stop and Finish have no Alt shortcut: a key meant for a field never halts
                # the infusion (Stop and Finish also ask for the volume first).
                (START, "&Start infusion"),
                (RATE_CHANGE, "Rate &changed"),
                (PAUSE, "Pause"),
                (RESUME, "Resu&me"),
                (STOP, "Stop (reaction)…"),
                (END, "Finish infusion…"),
            )
        ):
            b = QPushButton(label)
            b.setObjectName(f"event_{kind}")
            b.setMinimumHeight(36)
            b.clicked.connect(lambda _=False, k=kind: self._event(k))
            self.buttons[kind] = b
            controls.addWidget(b, i // 3, i % 3)  # three across: the timeline gets the height
        self.rate_hint = QLabel()
        self.rate_hint.setObjectName("rate_hint")  # the typed rate in mg/kg/min
        self.event_error = error_label("event_error")
        self.events_table = QTableWidget(0, 2)
        self.events_table.setObjectName("events_table")
        self.events_table.setAccessibleName("Infusion timeline")
        self.events_table.setHorizontalHeaderLabels(["Time", "Event"])
        self.events_table.verticalHeader().hide()
        self.events_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.events_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.events_table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.events_table.setTabKeyNavigation(False)
        self.events_table.setWordWrap(True)
        self.events_table.setMinimumHeight(120)
        header = self.events_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.events_table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # details wrap instead
        # rows grow when the window narrows the Event column (a reason is never cut to "…")
        self.events_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.correct_button = QPushButton("Stri&ke through selected event…")
        self.correct_button.setObjectName("correct_event")
        self.correct_button.setToolTip(
            "For an event recorded by mistake: it stays on the record, struck through, with who, when and why"
        )
        self.correct_button.clicked.connect(self._correct_selected)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.status)
        lv.addWidget(self.due)
        plan_box = Section("Rate plan (from this visit's calculation)")
        plan_box.body.addWidget(self.plan)
        lv.addWidget(plan_box, 1)
        rate_row = QHBoxLayout()
        rate_label = QLabel("&New rate:")
        rate_label.setBuddy(self.new_rate)
        rate_row.addWidget(rate_label)
        rate_row.addWidget(self.new_rate, 1)
        rate_row.addWidget(self.rate_hint)
        control_box = Section("Infusion")
        control_box.body.addLayout(rate_row)
        control_box.body.addLayout(controls)
        control_box.body.addWidget(self.event_error)
        self.control_box = control_box
        lv.addWidget(control_box)
        timeline_box = Section("Infusion timeline")
        timeline_box.body.addWidget(self.events_table, 1)
        timeline_box.body.addWidget(self.correct_button, 0, Qt.AlignRight)
        lv.addWidget(timeline_box, 1)

        # --- right: vitals flowsheet
        self.sheet = QTableWidget(0, len(VITAL_FIELDS) + 2)
        self.sheet.setObjectName("vitals_table")
        self.sheet.setAccessibleName("Vital signs flowsheet")
        # "Temp\n°C": two-line headers, so the nine columns fit the pane at 1280×720 (no sideways scrolling)
        self.sheet.setHorizontalHeaderLabels(
            ["Time"] + [h.replace(" ", "\n", 1) for _, _, h in VITAL_FIELDS] + ["Note"]
        )
        self.sheet.verticalHeader().hide()
        self.sheet.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.sheet.setTabKeyNavigation(False)  # Tab leaves the flowsheet (arrows move in it)
        self.sheet.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.sheet.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.sheet.horizontalHeader().setStretchLastSection(True)
        self.inputs: dict[str, QLineEdit] = {}
        entry = QGridLayout()
        from nurse_app.core.policy import help_text

        for col, (field, _measure, header) in enumerate(VITAL_FIELDS):
            edit = QLineEdit()
            edit.setObjectName(f"vital_{field}")
            edit.setAccessibleName(header)
            edit.setPlaceholderText(VITAL_UNITS[field])  # the label above names the measure
            flags_help = help_text(f"vitals.{_measure}")  # the flag thresholds in force and their origin
            if flags_help:
                edit.setToolTip(flags_help)
                edit.setStatusTip(flags_help.replace("\n", "; "))
            edit.returnPressed.connect(self._add_vitals)
            edit.textChanged.connect(self._entry_edited)
            self.inputs[field] = edit
            if field == "temperature_c":  # °F accepted: "100.4F" (core.units)
                edit.setPlaceholderText("°C or °F")
                edit.setToolTip("Type °C (38.2) or °F (100.4F); °F is converted to °C.")
                edit.textChanged.connect(self._temperature_typed)
                self.temperature_understood = QLabel()
                self.temperature_understood.setObjectName("temperature_understood")
                entry.addWidget(self.temperature_understood, 2, col, 1, 3)
            label = QLabel(VITAL_LABELS[field])
            label.setBuddy(edit)
            entry.addWidget(label, 0, col)
            entry.addWidget(edit, 1, col)
        # Charting after the fact: the time the reading was taken (blank: now), within the visit.
        self.vital_time = QLineEdit()
        self.vital_time.setObjectName("vital_taken_at")
        self.vital_time.setAccessibleName("Reading taken at (HH:MM, blank for now)")
        self.vital_time.setPlaceholderText("now")
        self.vital_time.setToolTip(
            "Blank: the reading is timed now. A reading taken earlier: type the time it was taken "
            "(HH:MM, within this visit, never later than now); the record also keeps when you entered it."
        )
        self.vital_time.setMaximumWidth(self.vital_time.fontMetrics().horizontalAdvance("00:00") * 3)
        self.vital_time.returnPressed.connect(self._add_vitals)
        self.vital_note = QLineEdit()
        self.vital_note.setObjectName("vital_note")
        self.vital_note.setPlaceholderText("Note (optional)")
        self.vital_note.returnPressed.connect(self._add_vitals)
        self.add_vitals_button = QPushButton("&Add reading")
        self.add_vitals_button.setObjectName("add_vitals")
        self.add_vitals_button.clicked.connect(self._add_vitals)
        note_row = QHBoxLayout()
        time_label = QLabel("Taken at (&when)")
        time_label.setBuddy(self.vital_time)
        note_row.addWidget(time_label)
        note_row.addWidget(self.vital_time)
        note_row.addWidget(self.vital_note, 1)
        note_row.addWidget(self.add_vitals_button)
        self.vitals_error = error_label("vitals_error")
        self.flags_label = QLabel()
        self.flags_label.setObjectName("vitals_flags")
        self.flags_label.setWordWrap(True)
        self.flags_label.setStyleSheet(f"color: {text_colour(ERROR_COLOUR)};")
        sheet_box = Section("Vital signs")
        sheet_box.body.addWidget(self.sheet, 1)
        self.remove_vitals_button = QPushButton("Remove selected reading…")
        self.remove_vitals_button.setObjectName("remove_vitals")
        self.remove_vitals_button.setToolTip(
            "For a reading entered by mistake (or press Delete in the flowsheet)"
        )
        sheet_box.body.addWidget(self.remove_vitals_button, 0, Qt.AlignRight)
        self.entry_box = QWidget()
        eb = QVBoxLayout(self.entry_box)
        eb.setContentsMargins(0, 0, 0, 0)
        eb.addLayout(entry)
        eb.addLayout(note_row)
        sheet_box.body.addWidget(self.entry_box)
        sheet_box.body.addWidget(self.vitals_error)
        sheet_box.body.addWidget(self.flags_label)
        timing = QLabel(f"<small>When: {self.rules.note}</small>")
        timing.setWordWrap(True)
        sheet_box.body.addWidget(timing)

        layout = QVBoxLayout(self)
        layout.addWidget(two_panes(left, sheet_box, stretch=(1, 1), sizes=(560, 600)))
        # Tab goes through the reading first (Temp is the first stop), then the infusion controls.
        chain = [self.inputs[f] for f, _m, _h in VITAL_FIELDS]
        chain += [self.vital_time, self.vital_note, self.add_vitals_button]
        chain += [self.new_rate, *self.buttons.values()]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

        # The box is filled with the plan's next rate, but never over a rate the nurse typed: the clock
        # used to refill it every second, so a typed rate became the plan's as soon as she tabbed to
        # "Rate changed", and that was recorded.
        self._suggested_rate: float | None = None
        self._rate_typed = False
        self._filling_rate = False
        self.new_rate.valueChanged.connect(self._rate_edited)
        self.clock = QTimer(self, interval=1000)
        self.clock.timeout.connect(lambda: self._tick() if self.isVisible() else None)
        self.clock.start()
        self.vitals_removal = RowRemoval(
            ctx,
            self.sheet,
            self.remove_vitals_button,
            self.vitals_error,
            "vitals",
            describe=lambda row: f"the reading taken at {local_time(self._vitals[row]['recorded_at'])}",
            delete=lambda row: ctx.store.delete_vitals(self._vitals[row]["id"]),
        )
        ctx.changed.connect(
            lambda what: self.refresh() if what in ("visit", "vitals", "events", "reactions") else None
        )
        self.refresh()

    # ------------------------------------------------------------------ data
    def _steps(self) -> list[dict]:
        calc = self.ctx.visit.get("calculation") or {}
        return calc.get("rate_steps") or []

    def _events(self) -> list[dict]:
        """Every event, struck-through ones included (the timeline shows them)."""
        return [
            {**e, "at": to_local(e["occurred_at"])}
            for e in self.ctx.store.visit_infusion_events(self.ctx.visit_id)
        ]

    def _live(self) -> list[dict]:
        """The events that count (not struck through)."""
        return [e for e in self._event_rows if record.counts(e)]

    def _calc(self) -> dict | None:
        return self.ctx.visit.get("calculation")

    def refresh(self) -> None:
        visit = self.ctx.visit
        # A signed or voided visit's clock stands still at its signature or void: it never counts on.
        stamp = None if visit["status"] == "draft" else visit.get("voided_at") or visit.get("signed_at")
        self._frozen_at = to_local(stamp) if stamp else None
        self._start_missing = None if self.ctx.signed else start_missing(self.ctx.store, self.ctx.visit_id)
        self._vitals = self.ctx.store.visit_vitals(self.ctx.visit_id)
        self._entered = self.ctx.store.entered_times("vitals", self.ctx.visit_id)
        self._event_rows = self._events()
        steps = self._steps()
        self.plan.setRowCount(len(steps))
        for i, s in enumerate(steps):
            for col, text in enumerate(
                [
                    fmt_qty(s["start_min"], "min"),
                    fmt_number(s["mg_per_kg_min"], 2),
                    fmt_number(s["ml_per_h"], 1),
                    "",
                ]
            ):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.plan.setItem(i, col, item)
        self._fit_plan()
        self._fill_sheet()
        self._fill_timeline()
        self._tick()
        self.set_read_only(self.ctx.signed)

    def _fit_plan(self) -> None:
        """The rate plan asks for the height of all its steps (up to six), so at 1280×720 it is
        not squeezed to two rows and a scroll bar beside the timeline."""
        rows = min(self.plan.rowCount(), 6)
        self.plan.setMinimumHeight(
            self.plan.horizontalHeader().sizeHint().height()
            + rows * self.plan.verticalHeader().defaultSectionSize()
            + 2 * self.plan.frameWidth()
        )

    def _fill_sheet(self) -> None:
        self.sheet.setRowCount(len(self._vitals))
        series = flag_series([reading_measures(row) for row in self._vitals])  # the one baseline rule
        for r, row in enumerate(self._vitals):
            flagged = {}
            for f in series[r]:
                flagged[f.measure] = (
                    f"{flagged[f.measure]} {f.message}" if f.measure in flagged else f.message
                )
            care = to_local(row["recorded_at"])
            entered = self._entered.get(row["id"])
            when = local_time(row["recorded_at"])
            if is_late(care, entered):  # late entry: the time of care and the time it was entered
                when += f" (entered {entered.astimezone():%H:%M})"
            self.sheet.setItem(r, 0, QTableWidgetItem(when))
            for c, (field, measure, _) in enumerate(VITAL_FIELDS, start=1):
                value = row.get(field)
                # a reading as measured (37.0 °C), not a dose's no-trailing-zero form
                if value is None:
                    shown = ""
                elif field == "temperature_c":
                    shown = fmt_measured(value, "°C")
                else:
                    shown = fmt_number(value, 1)
                item = QTableWidgetItem(shown)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if measure in flagged:
                    item.setBackground(QBrush(QColor(ERROR_COLOUR)))
                    item.setForeground(QBrush(QColor("white")))
                    item.setToolTip(flagged[measure])
                    item.setData(Qt.AccessibleDescriptionRole, "abnormal")
                self.sheet.setItem(r, c, item)
            self.sheet.setItem(r, len(VITAL_FIELDS) + 1, QTableWidgetItem(row.get("note") or ""))
        if self._vitals:
            self.sheet.scrollToBottom()

    def _fill_timeline(self) -> None:
        rows = record.timeline(
            self._event_rows, self._calc(), time_text=lambda at: at.astimezone().strftime("%H:%M")
        )
        self.events_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            details = "; ".join(t for t in (row.detail, row.corrected) if t)
            texts = [row.at.astimezone().strftime("%H:%M"), row.label + (f"\n{details}" if details else "")]
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if row.corrected:
                    font = item.font()
                    font.setStrikeOut(True)
                    item.setFont(font)
                    item.setToolTip(row.corrected)
                    item.setData(Qt.AccessibleDescriptionRole, "struck through")
                self.events_table.setItem(r, c, item)
        self.events_table.resizeRowsToContents()
        if rows:
            self.events_table.scrollToBottom()

    def progress(self):
        return infusion_progress(
            self._live(),
            [to_local(v["recorded_at"]) for v in self._vitals],
            self._steps(),
            self._frozen_at or now_utc(),
        )

    def held_flags(self) -> list:
        """The flags of the latest reading while the infusion runs: the titration is held."""
        return latest_flags(self._vitals) if self._vitals else []

    def _tick(self) -> None:
        p = self.progress()
        steps = self._steps()
        closed = p.ended or p.halted_by == STOP  # no "now"/"next" once it was stopped or finished
        for i in range(self.plan.rowCount()):
            marker = ""
            if closed:
                pass
            elif p.current_step == i:
                marker = "◀ now"
            elif p.next_step == i and p.started:
                marker = "next"
            item = self.plan.item(i, 3)
            if item:
                item.setText(marker)
            for c in range(4):
                cell = self.plan.item(i, c)
                if cell:
                    current = p.current_step == i and not closed
                    cell.setBackground(QBrush(QColor(OK_COLOUR)) if current else QBrush())
                    cell.setForeground(QBrush(QColor("white")) if current else QBrush())
        calc = self._calc()
        held = self.held_flags() if p.started and not p.ended else []
        if not p.started:
            self.status.setText(
                self._start_missing or "Not started. Take baseline vital signs, then press Start infusion."
            )
        elif p.ended or p.halted_by == STOP:
            outcome = record.infusion_outcome(self._live(), record.planned_volume_ml(calc))
            total = record.total_minutes(self._live())
            text = (
                f"Infusion finished after {fmt_minutes(total)}."
                if p.ended
                else f"Stopped after {fmt_minutes(total)} at {record.rate_text(p.current_rate_ml_h, calc)}."
            )
            if outcome.volume_ml is not None:
                grams = record.grams_given(outcome.volume_ml, calc)
                text += (
                    f" Given: {fmt_qty(outcome.volume_ml, 'mL', 0)}"
                    + (f" ({fmt_qty(grams, 'g', 2)})" if grams is not None else "")
                    + (f" of {fmt_qty(outcome.planned_ml, 'mL', 0)} planned." if outcome.planned_ml else ".")
                )
            self.status.setText(text)
        else:
            state = "Running" if p.running else ("Stopped" if p.halted_by == STOP else "Paused")
            rate = record.rate_text(p.current_rate_ml_h, calc) if p.current_rate_ml_h else "no rate"
            text = f"{state} for {fmt_minutes(p.elapsed_min)} at {rate}."
            if p.current_step is None and p.current_rate_ml_h:
                text += " (Not a step of the plan.)"
            if held:
                text += f" Titration held: the last vital signs are flagged ({record.flagged_text(held)})."
            elif p.next_increase_in_min is not None and p.next_step is not None:
                target = record.rate_text(steps[p.next_step]["ml_per_h"], calc)
                if p.next_increase_in_min > 0:
                    text += f" Next step to {target} in {fmt_minutes(p.next_increase_in_min)}, if tolerated."
                else:
                    text += f" Step to {target} is due now, if tolerated."
            self.status.setText(text)
        self._show_rate_hint()
        if not self.new_rate.hasFocus():
            target = suggested_rate_ml_h(p, steps)
            if held and p.running:
                target = None  # flagged vital signs: the next step is not offered
                if not self._rate_typed and p.current_rate_ml_h:
                    self._filling_rate = True
                    self.new_rate.setValue(round(p.current_rate_ml_h, 1))
                    self._filling_rate = False
                    self._suggested_rate = None
            if target and target != self._suggested_rate and not self._rate_typed:
                self._suggested_rate = target
                self._filling_rate = True
                self.new_rate.setValue(round(target, 1))
                self._filling_rate = False
            elif (
                not target
                and not self._rate_typed
                and p.started
                and not p.ended
                and p.current_rate_ml_h
                and self.new_rate.value() == 0
            ):  # no next step (at the top of the plan, or reopened): the running rate, never 0
                self._filling_rate = True
                self.new_rate.setValue(round(p.current_rate_ml_h, 1))
                self._filling_rate = False
        rate_field = self.inputs["infusion_rate_ml_h"]
        if p.running and p.current_rate_ml_h and not rate_field.text() and not rate_field.hasFocus():
            rate_field.setText(fmt_number(p.current_rate_ml_h, 1))  # the next reading's rate, ready
        message, since = self.due_message(p)
        self.due.setText(f"{message} (due since {since.astimezone().strftime('%H:%M')})" if message else "")
        self.due.setVisible(bool(message))  # no emoji: not every laptop font has one
        self.buttons[START].setEnabled(not self.ctx.signed and not p.started and not self._start_missing)
        live = not self.ctx.signed and p.started and not p.ended
        for kind in (RATE_CHANGE, PAUSE):  # only while it runs: no second pause
            self.buttons[kind].setEnabled(live and p.running)
        self.buttons[STOP].setEnabled(live and p.halted_by != STOP)
        self.buttons[END].setEnabled(live)
        self.buttons[RESUME].setEnabled(live and not p.running)

    def due_message(self, p=None):
        """(sentence, since when) if vital signs are due now (core.monitoring), else (None, None).

        Shown here and in the main window's header strip and title, wherever the nurse is."""
        if self.ctx.signed:
            return None, None
        p = p or self.progress()
        message = vitals_due(p.state, self.rules)
        if not message:
            self._due_key = None
            return None, None
        if getattr(self, "_due_key", None) != message:
            self._due_key, self._due_at = message, now_utc()
        return message, self._due_at

    def running(self) -> bool:
        """Started and not finished or stopped (the quit question)."""
        if self.ctx.signed:
            return False
        p = self.progress()
        return p.started and not p.ended and p.halted_by != STOP

    def _show_rate_hint(self) -> None:
        mg = record.mg_per_kg_min(self.new_rate.value(), self._calc())
        self.rate_hint.setText(f"= {fmt_number(mg, 2)} mg/kg/min" if mg is not None else "")

    # ------------------------------------------------------------------ actions
    def record_event(self, kind: str, rate: float | None = None, note: str = "") -> bool:
        """Record an event from elsewhere (the Reactions tab: slowed, paused or stopped for a
        reaction) with the same checks as the buttons here; True when recorded."""
        return self._event(kind, rate=rate, note=note)

    def _event(self, kind: str, rate: float | None = None, note: str = "") -> bool:
        if rate is None:
            rate = self.new_rate.value() if kind in (START, RATE_CHANGE, RESUME) else None
        store, vid = self.ctx.store, self.ctx.visit_id
        acknowledged: tuple[str, ...] = ()
        volume = reason = None
        if rate is not None:
            check = check_rate(store, vid, kind, rate)  # the service's checks, before asking
            if check.refused:
                self.event_error.setText(check.refused)
                self.event_error.show()
                self.new_rate.setFocus()
                return False
            if check.warnings:
                if not self._acknowledge(check.warnings):
                    return False
                acknowledged = check.warnings
        elif kind in (STOP, END):
            estimate = record.estimated_volume_ml(self._live(), until=now_utc())
            dialog = VolumeDialog(kind, estimate, self._calc(), self)
            if dialog.exec() != QDialog.Accepted:
                return False
            volume = dialog.volume_ml
            reason = dialog.reason.text().strip() or None

        if attempt(
            self.event_error,
            lambda: record_infusion_event(
                store,
                vid,
                kind,
                rate_ml_h=rate,
                acknowledged=acknowledged,
                note=note,
                volume_ml=volume,
                reason=reason,
            ),
        ):
            self._rate_typed = False  # recorded: the box may show the plan's next rate again
            self.ctx.changed.emit("events")
            if kind in (RATE_CHANGE, RESUME, END):
                # Prompt for a reading at every rate change: the entry row is ready, rate filled in.
                self.inputs["infusion_rate_ml_h"].setText(fmt_number(rate, 1) if rate else "")
                self.inputs["temperature_c"].setFocus()
            return True
        return False

    def _acknowledge(self, warnings) -> bool:
        """A soft limit: recorded only after an explicit acknowledgement (kept with the event)."""
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Warning,
            "Check this rate",
            "This rate is outside the plan:\n\n"
            + "\n".join(f"• {w}" for w in warnings)
            + "\n\nRecord it anyway? Your acknowledgement is kept with the event.",
            parent=self,
        )
        box.setObjectName("rate_ack")
        ack = box.addButton("Acknowledge and record", QMessageBox.AcceptRole)
        cancel = box.addButton("Cancel", QMessageBox.RejectRole)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is ack

    def _correct_selected(self) -> None:
        row = self.events_table.currentRow()
        if row < 0 or row >= len(self._event_rows):
            self.event_error.setText("Select the event to strike through in the timeline first.")
            self.event_error.show()
            return
        event = self._event_rows[row]
        if event.get("corrected_at"):
            self.event_error.setText("That event is already struck through.")
            self.event_error.show()
            return
        what = f"{EVENT_LABELS[event['kind']]} at {local_time(event['occurred_at'])}"
        reason, ok = QInputDialog.getText(
            self,
            "Strike through an event",
            f"Why is \u201c{what}\u201d wrong? It stays on the record, struck through.",
        )
        if not ok:
            return
        if attempt(self.event_error, lambda: self.ctx.store.correct_infusion_event(event["id"], reason)):
            self.ctx.changed.emit("events")

    def _rate_edited(self, _value: float) -> None:
        self._show_rate_hint()
        if not self._filling_rate:
            self._rate_typed = True

    def _entry_edited(self, _text: str = "") -> None:
        """An error about the reading goes once its values are cleared (nothing left to correct)."""
        rate = self.inputs["infusion_rate_ml_h"].text()
        others = [e.text() for f, e in self.inputs.items() if f != "infusion_rate_ml_h"]
        if not any(t.strip() for t in others) and (not rate.strip() or self._rate_prefilled(rate)):
            self.vitals_error.hide()

    def _rate_prefilled(self, text: str) -> bool:
        if getattr(self, "_vitals", None) is None:
            return False  # still being built
        rate = self.progress().current_rate_ml_h
        return bool(rate) and text.strip() == fmt_number(rate, 1)

    def _temperature_typed(self, text: str) -> None:
        """A °F temperature shows its °C value as it is typed."""
        try:
            _celsius, converted = parse_temperature(text) if text.strip() else (None, None)
        except InputError:
            converted = None
        self.inputs["temperature_c"].setToolTip(
            converted or "Type °C (38.2) or °F (100.4F); °F is converted to °C."
        )
        self.temperature_understood.setText(converted or "")

    def _add_vitals(self) -> None:
        values = {}
        try:
            for field, _measure, _header in VITAL_FIELDS:
                text = self.inputs[field].text().strip()
                if text and field == "temperature_c":
                    values[field] = parse_temperature(text, field, VITAL_NAMES[field])[0]
                elif text:
                    values[field] = parse_number(text, field, VITAL_NAMES[field])
        except InputError as exc:
            self.vitals_error.setText(str(exc))
            self.vitals_error.show()
            self.inputs[exc.field].setFocus()  # straight to the value to correct
            self.inputs[exc.field].selectAll()
            return
        if set(values) == {"infusion_rate_ml_h"} and self._rate_prefilled(
            self.inputs["infusion_rate_ml_h"].text()
        ):
            values = {}  # only the running rate, filled in for the nurse: no reading yet
        if not values:
            self.vitals_error.setText("Type at least one value.")
            self.vitals_error.show()
            return
        p = self.progress()
        if "infusion_rate_ml_h" not in values and p.running and p.current_rate_ml_h:
            values["infusion_rate_ml_h"] = p.current_rate_ml_h
        note = self.vital_note.text().strip()
        try:
            now = now_utc()
            taken_at = parse_clock_time(self.vital_time.text(), now)
            if taken_at is not None:  # charted after the fact: within the visit, never in the future
                visit = self.ctx.visit
                start = visit.get("started_at") or visit.get("created_at")
                check_care_time(taken_at, to_local(start) if start else None, now)
        except InputError as exc:
            self.vitals_error.setText(str(exc))
            self.vitals_error.show()
            self.vital_time.setFocus()
            self.vital_time.selectAll()
            return
        if attempt(
            self.vitals_error,
            lambda: self.ctx.store.add_vitals(self.ctx.visit_id, recorded_at=taken_at, note=note, **values),
        ):
            for edit in self.inputs.values():
                edit.clear()
            self.vital_note.clear()
            self.vital_time.clear()
            self.ctx.changed.emit("vitals")
            flags = latest_flags(self._vitals)
            self.flags_label.setText(" ".join(f.message for f in flags))
            self.inputs["temperature_c"].setFocus()

    def focus_first_field(self) -> None:
        """The cursor in Temp, the first value of a reading (when the visit takes readings)."""
        if self.entry_box.isVisible() and self.entry_box.isEnabled():
            self.inputs["temperature_c"].setFocus()

    def stop(self) -> None:
        """Stop the clock (the window is closing and the record is about to close)."""
        self.clock.stop()

    def set_read_only(self, read_only: bool) -> None:
        # A signed visit shows its record (plan, timeline, flowsheet), not controls and an empty
        # reading form that look usable; hiding them also gives the plan and the sheet the room.
        # Its clock stops: nothing on it changes with time any more.
        if read_only:
            self.clock.stop()
        elif not self.clock.isActive():
            self.clock.start()
        self.entry_box.setVisible(not read_only)
        self.control_box.setVisible(not read_only)
        self.entry_box.setEnabled(not read_only)
        self.new_rate.setEnabled(not read_only)
        self.correct_button.setEnabled(not read_only)
        self.vitals_removal.set_enabled(not read_only)
