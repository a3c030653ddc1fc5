"""Access tab: the IV line (INS documentation) -- each attempt or existing line, its site
assessments before, during and after, the flushes, and the removal of a peripheral catheter.

The choices, the phlebitis and infiltration scales and the required fields come from
``resources/visit_proof.toml`` (:mod:`nurse_app.core.visit_proof`); the product's line rules
are the checklist's own items, shown here as the checklist holds them.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core import visit_proof
from nurse_app.core.checklists import load_template
from nurse_app.core.formatting import fmt_qty
from nurse_app.reports.visit_proof_text import (
    ACCESS_HEADERS,
    CHECK_HEADERS,
    check_rows,
    device_rows,
    line_rules,
)
from nurse_app.ui.visit.common import EntryFormTab, RowRemoval, VisitContext, attempt, error_label
from nurse_app.ui.widgets import ATTENTION_COLOUR, Section, text_colour

_YES_NO = (("Yes", True), ("No", False))


def _combo(name: str, items, empty: str | None = None) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    if empty is not None:
        combo.addItem(empty, None)
    for label, data in items:
        combo.addItem(label, data)
    return combo


def _choices(choices) -> list[tuple[str, str]]:
    return [(c.title, c.id) for c in choices]


def select_data(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


class AccessTab(EntryFormTab):
    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("access_tab")
        self.ctx = ctx
        rules = visit_proof.load_rules()
        self.rules = rules

        # --- the line rules (the checklist's items) and the scales' source
        self.rules_box = Section("Line rules for this product (from the visit checklist)")
        self.rules_text = QLabel()
        self.rules_text.setObjectName("line_rules")
        self.rules_text.setWordWrap(True)
        self.rules_text.setTextFormat(Qt.RichText)
        self.rules_box.body.addWidget(self.rules_text)

        # --- a new attempt or an existing line
        self.form_box = Section("Add an IV attempt or an existing line")
        grid = QGridLayout()
        self.device = _combo("access_device", [(d.title, d.id) for d in rules.devices])
        self.attempt = QSpinBox()
        self.attempt.setObjectName("access_attempt")
        self.attempt.setRange(1, rules.max_attempts)
        self.gauge = _combo("access_gauge", [(f"{g} G", g) for g in rules.gauges], "Gauge…")
        self.length = _combo("access_length", [(fmt_qty(x, "mm"), x) for x in rules.lengths_mm], "Length…")
        self.site = _combo("access_site", _choices(rules.sites), "Site…")
        self.side = _combo("access_side", _choices(rules.sides), "Side…")
        self.success = _combo("access_success", (("Successful", True), ("Unsuccessful", False)), "Result…")
        self.blood_return = _combo("access_blood_return", _YES_NO, "Not checked")
        self.patency = _combo("access_patency", _YES_NO, "Not checked")
        self.dressing = _combo("access_dressing", _choices(rules.dressings), "Dressing…")
        self.placed_at = QDateTimeEdit(QDateTime.currentDateTime())
        self.placed_at.setObjectName("access_placed_at")
        self.placed_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.note = QLineEdit()
        self.note.setObjectName("access_note")
        self.note.setPlaceholderText("optional note")
        cells = (
            ("De&vice", self.device),
            ("Attempt n&o.", self.attempt),
            ("Gauge", self.gauge),
            ("&Length", self.length),
            ("S&ite", self.site),
            ("Si&de", self.side),
            ("&Result", self.success),
            ("&Blood return", self.blood_return),
            ("&Patent", self.patency),
            ("Dr&essing", self.dressing),
            ("&Time placed", self.placed_at),
            ("&Note", self.note),
        )
        for i, (label, widget) in enumerate(cells):
            caption = QLabel(label)
            caption.setBuddy(widget)
            widget.setAccessibleName(label.replace("&", ""))
            grid.addWidget(caption, i // 3, (i % 3) * 2)
            grid.addWidget(widget, i // 3, (i % 3) * 2 + 1)
        for col in (1, 3, 5):
            grid.setColumnStretch(col, 1)
        self.form_box.body.addLayout(grid)
        self.add_button = QPushButton("&Add to the access record")
        self.add_button.setObjectName("add_access")
        self.add_button.clicked.connect(self._add)
        self.error = error_label("access_error")
        self.form_box.body.addWidget(self.error)
        self.form_box.body.addWidget(self.add_button, 0, Qt.AlignLeft)
        self.device.currentIndexChanged.connect(lambda *_: self._device_changed())

        # --- the record
        self.table = QTableWidget(0, len(ACCESS_HEADERS))
        self.table.setObjectName("access_table")
        self.table.setHorizontalHeaderLabels(list(ACCESS_HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(120)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table
        self.remove_button = QPushButton("Remove entry…")
        self.remove_button.setObjectName("remove_access")
        self._device_ids: list[int] = []
        self.removal = RowRemoval(
            ctx,
            self.table,
            self.remove_button,
            self.error,
            "access",
            lambda row: f"the access entry {self.table.item(row, 0).text()!r}",
            lambda row: ctx.store.delete_access_device(self._device_ids[row]),
        )
        self.table.itemSelectionChanged.connect(self._selection_changed)

        # --- checks of the selected device
        self.checks_box = Section("Site checks of the selected line")
        checks = QGridLayout()
        self.phase = _combo("check_phase", [(v, k) for k, v in visit_proof.PHASE_TITLES.items()])
        phlebitis, infiltration = rules.scales["phlebitis"], rules.scales["infiltration"]
        self.phlebitis = _combo("check_phlebitis", [(g, i) for i, g in enumerate(phlebitis.grades)])
        self.infiltration = _combo("check_infiltration", [(g, i) for i, g in enumerate(infiltration.grades)])
        for combo in (self.phlebitis, self.infiltration):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(28)
        self.assess_button = QPushButton("Add site chec&k")
        self.assess_button.setObjectName("add_assessment")
        self.assess_button.clicked.connect(self._assess)
        self.solution = _combo("flush_solution", _choices(rules.flushes))
        self.volume = QLineEdit()
        self.volume.setObjectName("flush_volume")
        self.volume.setPlaceholderText("mL")
        self.flush_button = QPushButton("Add flu&sh")
        self.flush_button.setObjectName("add_flush")
        self.flush_button.clicked.connect(self._flush)
        self.intact = _combo("removal_intact", _YES_NO, "Catheter intact?")
        self.condition = _combo("removal_condition", _choices(rules.removal_conditions), "Site condition…")
        self.remove_line_button = QPushButton("Record re&moval")
        self.remove_line_button.setObjectName("record_removal")
        self.remove_line_button.clicked.connect(self._removal)
        rows = (
            (("When", self.phase), (phlebitis.title, self.phlebitis), None),
            ((infiltration.title, self.infiltration), None, self.assess_button),
            (("Fl&ush with", self.solution), ("Volume (mL)", self.volume), self.flush_button),
            (("Catheter intact", self.intact), ("Site &condition", self.condition), self.remove_line_button),
        )
        for r, (a, b, button) in enumerate(rows):
            for col, cell in ((0, a), (2, b)):
                if cell is None:
                    continue
                label, widget = cell
                caption = QLabel(label)
                caption.setBuddy(widget)
                widget.setAccessibleName(label.replace("&", ""))
                checks.addWidget(caption, r, col)
                checks.addWidget(widget, r, col + 1)
            if button is not None:
                checks.addWidget(button, r, 4)
        checks.setColumnStretch(1, 1)
        checks.setColumnStretch(3, 1)
        self.checks_box.body.addLayout(checks)
        self.scale_note = QLabel()
        self.scale_note.setObjectName("scale_note")
        self.scale_note.setWordWrap(True)
        self.checks_box.body.addWidget(self.scale_note)
        self.check_error = error_label("access_check_error")
        self.checks_box.body.addWidget(self.check_error)
        self.check_table = QTableWidget(0, len(CHECK_HEADERS))
        self.check_table.setObjectName("access_checks_table")
        self.check_table.setHorizontalHeaderLabels(list(CHECK_HEADERS))
        self.check_table.verticalHeader().hide()
        self.check_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.check_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.check_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.check_table.horizontalHeader().setStretchLastSection(True)
        self.check_table.setMinimumHeight(100)
        self.check_table.setTabKeyNavigation(False)
        self.check_table.setFocusPolicy(Qt.NoFocus)
        self.problems = QLabel()
        self.problems.setObjectName("access_problems")
        self.problems.setWordWrap(True)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.rules_box)
        layout.addWidget(self.form_box)
        layout.addWidget(self.problems)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.checks_box)
        layout.addWidget(self.check_table)
        scroll = QScrollArea()
        scroll.setObjectName("access_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._device_changed()
        ctx.changed.connect(lambda what: self.refresh() if what in ("access", "visit") else None)
        self.refresh()

    # ------------------------------------------------------------------ state
    def _device_changed(self) -> None:
        device = self.rules.device(self.device.currentData())
        existing = bool(device and device.existing)
        for w in (self.attempt, self.gauge, self.length, self.success):
            w.setEnabled(not existing)
        for w in (self.patency, self.dressing):
            w.setEnabled(existing)

    def selected_device(self) -> dict | None:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        if len(rows) != 1:
            return None
        device_id = self._device_ids[next(iter(rows))]
        return next((d for d in self._devices if d["id"] == device_id), None)

    def _selection_changed(self) -> None:
        device = self.selected_device()
        info = self.rules.device(device["device_type"]) if device else None
        peripheral_in_place = bool(device and info and not info.existing and device.get("success"))
        self.checks_box.setEnabled(device is not None and not self.ctx.signed)
        self.remove_line_button.setEnabled(peripheral_in_place and not device.get("removed_at"))
        self.intact.setEnabled(self.remove_line_button.isEnabled())
        self.condition.setEnabled(self.remove_line_button.isEnabled())

    def refresh(self) -> None:
        record = self.ctx.record
        self._devices = list(record.access_devices)
        checks = list(record.access_checks)
        template = load_template(
            record.visit["checklist_template_id"], record.visit["checklist_template_version"]
        )
        self.rules_text.setText(
            "<ul>"
            + "".join(
                f"<li><b>{escape(t)}</b><br><small>{escape(h)}</small></li>" for t, h in line_rules(template)
            )
            + "</ul>"
        )
        self.scale_note.setText(
            " ".join(f"{s.title}: {s.note}" for s in self.rules.scales.values())
            + f" Alert from grade {self.rules.scales['phlebitis'].alert_from}: {visit_proof.LOCAL_POLICY_NOTE}."
        )
        selected = self.selected_device()
        self._device_ids = [d["id"] for d in self._devices]
        self._fill(self.table, device_rows(self._devices))
        self._fill(self.check_table, check_rows(self._devices, checks))
        if selected is not None and selected["id"] in self._device_ids:
            self.table.selectRow(self._device_ids.index(selected["id"]))
        problems = visit_proof.access_problems(self._devices, checks) + visit_proof.scale_alerts(checks)
        self.problems.setText(
            f"<span style='color:{text_colour(ATTENTION_COLOUR)}'>"
            + "<br>".join(escape(p) for p in problems)
            + "</span>"
            if problems
            else ("" if self._devices else "No IV access recorded yet.")
        )
        tried = [d["attempt_number"] for d in self._devices if self._is_new_line(d)]
        self.attempt.setValue(min(max(tried, default=0) + 1, self.rules.max_attempts))
        self.placed_at.setDateTime(QDateTime.currentDateTime())
        self._selection_changed()

    def _is_new_line(self, row: dict) -> bool:
        device = self.rules.device(row["device_type"])
        return device is not None and not device.existing

    @staticmethod
    def _fill(table: QTableWidget, rows) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(value))
        table.resizeRowsToContents()

    # ------------------------------------------------------------------ actions
    def _add(self) -> None:
        device = self.rules.device(self.device.currentData())
        existing = bool(device and device.existing)
        values = {
            "device_type": self.device.currentData(),
            "site": self.site.currentData(),
            "side": self.side.currentData(),
            "blood_return": self.blood_return.currentData(),
            "placed_at": self.placed_at.dateTime().toPython().astimezone(),
            "note": self.note.text(),
        }
        if existing:
            values.update(patency=self.patency.currentData(), dressing=self.dressing.currentData())
        else:
            values.update(
                attempt_number=self.attempt.value(),
                gauge=self.gauge.currentData(),
                length_mm=self.length.currentData(),
                success=self.success.currentData(),
            )
        if attempt(self.error, lambda: self.ctx.store.add_access_device(self.ctx.visit_id, **values)):
            self.note.clear()
            self.ctx.changed.emit("access")

    def _check(self, values: dict) -> None:
        device = self.selected_device()
        if device is None:
            self.check_error.setText("Choose the line in the table first.")
            self.check_error.show()
            return
        if attempt(self.check_error, lambda: self.ctx.store.add_access_check(device["id"], **values)):
            self.ctx.changed.emit("access")

    def _assess(self) -> None:
        self._check(
            {
                "kind": visit_proof.ASSESSMENT,
                "phase": self.phase.currentData(),
                "phlebitis_grade": self.phlebitis.currentData(),
                "infiltration_grade": self.infiltration.currentData(),
            }
        )

    def _flush(self) -> None:
        text = self.volume.text().strip().replace(",", ".")
        try:
            volume = float(text) if text else None
        except ValueError:
            self.check_error.setText(f"Flush volume {text!r} is not a number of mL.")
            self.check_error.show()
            return
        self._check({"kind": visit_proof.FLUSH, "solution": self.solution.currentData(), "volume_ml": volume})
        if self.check_error.isHidden():
            self.volume.clear()

    def _removal(self) -> None:
        device = self.selected_device()
        if device is None:
            return
        if self.intact.currentData() is None or self.condition.currentData() is None:
            self.check_error.setText("Say whether the catheter was intact and the site's condition.")
            self.check_error.show()
            return
        if attempt(
            self.check_error,
            lambda: self.ctx.store.remove_access_device(
                device["id"],
                catheter_intact=self.intact.currentData(),
                removal_condition=self.condition.currentData(),
            ),
        ):
            self.ctx.changed.emit("access")

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.checks_box.setVisible(not read_only)
        self.remove_button.setVisible(not read_only)


__all__ = ["AccessTab", "select_data"]
