"""The calculator page: inputs on the left, live result on the right.

Thin by design: it turns the fields into a :class:`DoseRequest`, calls the core engine,
and shows the :class:`DoseResult`.  Every number on screen goes through the core's
formatting helper; no clinical number lives here.  Soft-limit warnings need a visible,
recorded acknowledgement (``acknowledgements()``), which the visit record stores.
"""

from __future__ import annotations

import html
from dataclasses import replace

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.acknowledgements import AcknowledgementLog
from nurse_app.core.calc_text import vial_plan_text
from nurse_app.core.catalogue import CONFIRM_WITH_INSERT, Catalogue, load_catalogue
from nurse_app.core.dosing import DoseRequest, DoseResult, ack_label, calculate, weight_change_percent
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_change, fmt_date, fmt_minutes, fmt_number, fmt_qty
from nurse_app.core.labels import BASIS_LABELS
from nurse_app.core.units import height_to_cm, parse_number, weight_to_kg
from nurse_app.core.visit_logic import RISK_LABELS, BaselineWeight  # risk names: one list in core
from nurse_app.ui.widgets import (
    ATTENTION_COLOUR,
    CUSTOM_REGIMEN,
    ERROR_COLOUR,
    OK_COLOUR,
    FieldWithError,
    Section,
    Tile,
    error_label,
    read_only_table,
    text_colour,
)


def _item(text: str, align=Qt.AlignRight | Qt.AlignVCenter) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(align)
    item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
    return item


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = read_only_table(name, headers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    table.setSizeAdjustPolicy(QAbstractItemView.AdjustToContents)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return table


def _point_labels_at_inputs(form: QFormLayout) -> None:
    """A label's mnemonic (Alt+W for Weight...) focuses the input itself: a row's field is a holder
    (input plus error line) that cannot take focus, so Qt's own buddy did nothing."""
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is None or field is None or field.widget() is None or not isinstance(label.widget(), QLabel):
            continue
        editor = field.widget().findChild(QLineEdit) or field.widget().findChild(QComboBox)
        if editor is not None:
            label.widget().setBuddy(editor)


def _fit_height(table: QTableWidget) -> None:
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(height)


class CalculatorPage(QWidget):
    """Dose & rate calculator.  ``result`` is the last valid result (or None)."""

    result_changed = Signal(object)  # DoseResult | None
    acknowledgements_changed = Signal()

    def __init__(self, catalogue: Catalogue | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("calculator_page")
        self.catalogue = catalogue or load_catalogue()
        self.result: DoseResult | None = None
        self._acks = AcknowledgementLog()
        self._baseline: BaselineWeight | None = None  # set in visit mode (lock_request)
        self._locked: DoseRequest | None = None  # visit mode: the order's request (lock_request)
        self._current_warnings: list = []
        self._timer = QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self.recalculate)
        self._build()
        self.recalculate()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        splitter = QSplitter(Qt.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        inputs = self._scroll(self._build_inputs(), 360)
        splitter.addWidget(inputs)
        splitter.addWidget(self._scroll(self._build_results(), 520))
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        # The form as wide as its fields and hints need (no field cut off at 1280×720).
        needed = inputs.widget().minimumSizeHint().width() + inputs.verticalScrollBar().sizeHint().width() + 4
        splitter.setSizes([max(400, needed), 800])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(splitter)

    @staticmethod
    def _scroll(widget: QWidget, min_width: int) -> QScrollArea:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.NoFrame)
        area.setWidget(widget)
        area.setMinimumWidth(min_width)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)  # never cut off without a way to see it
        area.setFocusPolicy(Qt.NoFocus)  # no empty Tab stop; it still scrolls to the focused field
        return area

    def _combo_with_error(self, name: str) -> tuple[QComboBox, QLabel, QWidget]:
        combo = QComboBox()
        combo.setObjectName(f"{name}_combo")
        # Long regimen names must not widen the form: elide in the box, full text in the list.
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(16)
        combo.view().setTextElideMode(Qt.ElideNone)
        combo.currentIndexChanged.connect(lambda *_: combo.setToolTip(combo.currentText()))
        combo.setAccessibleName(name.replace("_", " "))
        error = error_label(f"{name}_error")
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(combo)
        box.addWidget(error)
        combo.currentIndexChanged.connect(self._schedule)
        return combo, error, holder

    def _build_inputs(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 8, 0)

        order = Section("Order")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        order.body.addLayout(form)
        self.product, self.product_error, holder = self._combo_with_error("product")
        for p in sorted(self.catalogue.products.values(), key=lambda p: p.brand.lower()):
            label = p.display_name
            self.product.addItem(label, p.id)
        form.addRow("&Product", holder)
        self.regimen, self.regimen_error, holder = self._combo_with_error("regimen")
        for r in self.catalogue.regimens.values():
            self.regimen.addItem(r.name, r.id)
        self.regimen.addItem("Other order: enter g/kg, days and indication", CUSTOM_REGIMEN)
        self.regimen.currentIndexChanged.connect(self._regimen_changed)
        form.addRow("&Regimen", holder)
        self.regimen_detail = QLabel()
        self.regimen_detail.setObjectName("regimen_detail")
        self.regimen_detail.setWordWrap(True)
        self.regimen_detail.setEnabled(False)  # secondary text colour in light and dark themes
        form.addRow("", self.regimen_detail)
        self.dose = FieldWithError("dose", "g/kg per course")
        self.days = FieldWithError("days", "days")
        form.addRow("&Dose (g/kg per course)", self.dose)
        form.addRow("Da&ys", self.days)
        self.indication, self.indication_error, holder = self._combo_with_error("indication")
        self.indication.addItem("Not known (most conservative label rates)", None)
        for key, name in self.catalogue.indications.items():
            self.indication.addItem(name, key)
        form.addRow("&Indication", holder)
        self.max_rate = FieldWithError("max_rate", "optional, from the order")
        form.addRow("&Max rate (mg/kg/min)", self.max_rate)
        _point_labels_at_inputs(form)
        layout.addWidget(order)

        patient = Section("Patient")
        pform = QFormLayout()
        pform.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        patient.body.addLayout(pform)
        self.weight = FieldWithError("weight", "today's weight", units=("kg", "lb"))
        self.height = FieldWithError("height", "needed for BMI and ideal weight", units=("cm", "in"))
        pform.addRow("&Weight", self.weight)
        pform.addRow("H&eight", self.height)  # Alt+H is the Help menu
        self.age = FieldWithError("age", "optional: child/adult limits, over-65 renal prompt")
        pform.addRow("&Age (years)", self.age)
        self.sex, self.sex_error, holder = self._combo_with_error("sex")
        self.sex.addItem("Not given", None)
        self.sex.addItem("Female", "female")
        self.sex.addItem("Male", "male")
        pform.addRow("&Sex", holder)
        self.basis, self.weight_basis_error, holder = self._combo_with_error("weight_basis")
        for key, label in BASIS_LABELS.items():
            self.basis.addItem(label, key)
        pform.addRow("Weight &basis", holder)
        _point_labels_at_inputs(pform)
        self.risk_boxes: dict[str, QCheckBox] = {}
        for key, label in RISK_LABELS.items():
            box = QCheckBox(label)
            box.setObjectName(f"risk_{key.replace('-', '_')}")
            box.toggled.connect(self._schedule)
            self.risk_boxes[key] = box
            patient.body.addWidget(box)
        layout.addWidget(patient)

        self.product_cautions = QLabel()
        self.product_cautions.setObjectName("product_cautions")
        self.product_cautions.setWordWrap(True)
        self.product_cautions.setTextFormat(Qt.RichText)
        cautions = Section("Product contraindications and cautions")
        cautions.body.addWidget(self.product_cautions)
        layout.addWidget(cautions)
        layout.addStretch(1)

        for field in (self.dose, self.days, self.max_rate, self.weight, self.height, self.age):
            field.changed.connect(self._schedule)
        self.product.currentIndexChanged.connect(self._show_cautions)
        self._regimen_changed()
        self._show_cautions()
        return panel

    def _build_results(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.setSpacing(8)

        self.banner = QLabel()
        self.banner.setObjectName("ack_banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.error_banner = QLabel()
        self.error_banner.setObjectName("error_banner")
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet(f"color: {text_colour(ERROR_COLOUR)}; font-weight: bold;")
        self.error_banner.hide()
        layout.addWidget(self.error_banner)

        tiles = QHBoxLayout()
        self.tile_daily = Tile("daily_dose", "Each day")
        self.tile_volume = Tile("daily_volume", "Volume each day")
        self.tile_course = Tile("course", "Course total")
        self.tile_time = Tile("time", "Infusion time (estimate)")
        for t in (self.tile_daily, self.tile_volume, self.tile_course, self.tile_time):
            tiles.addWidget(t)
        layout.addLayout(tiles)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        rates = Section("Rate schedule")
        self.rate_caption = QLabel()
        self.rate_caption.setObjectName("rate_caption")
        self.rate_caption.setWordWrap(True)
        self.rate_table = _table("rate_table", ["Start", "mg/kg/min", "mL/kg/min", "mL/h"])
        from nurse_app.core.policy import help_text

        step_help = "\n".join(
            t for t in (help_text("rates.step_interval_minutes"), help_text("pump.max_rate_ml_per_h")) if t
        )
        self.rate_table.setToolTip(step_help)  # where the label gives no ladder: the interval in force
        self.rate_table.setStatusTip(step_help.replace("\n", "; "))
        rates.body.addWidget(self.rate_caption)
        rates.body.addWidget(self.rate_table)
        rates.body.addStretch(1)
        grid.addWidget(rates, 0, 0, 2, 1)

        vials = Section("Vial plan (one day)")
        self.vial_table = _table("vial_table", ["Vial", "Count", "Volume"])
        self.vial_summary = QLabel()
        self.vial_summary.setObjectName("vial_summary")
        self.vial_summary.setWordWrap(True)
        vials.body.addWidget(self.vial_table)
        vials.body.addWidget(self.vial_summary)
        grid.addWidget(vials, 0, 1)

        weights = Section("Dosing weight")
        self.weights_label = QLabel()
        self.weights_label.setObjectName("weights_label")
        self.weights_label.setWordWrap(True)
        self.weights_label.setTextFormat(Qt.RichText)
        self.weights_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        weights.body.addWidget(self.weights_label)
        grid.addWidget(weights, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)

        self.warnings_box = Section("Warnings: acknowledge each one")
        self.warnings_box.setObjectName("warnings_box")
        self.warning_rows = QVBoxLayout()
        self.warnings_box.body.addLayout(self.warning_rows)
        layout.addWidget(self.warnings_box)

        notes = Section("Notes and formulas")
        self.notes_label = QLabel()
        self.notes_label.setObjectName("notes_label")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.RichText)
        self.notes_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        notes.body.addWidget(self.notes_label)
        layout.addWidget(notes)
        layout.addStretch(1)
        return panel

    # ------------------------------------------------------------------ behaviour
    def _schedule(self, *_):
        self._timer.start()

    def _regimen_changed(self, *_):
        regimen_id = self.regimen.currentData()
        custom = regimen_id == CUSTOM_REGIMEN
        self.indication.setEnabled(custom)
        if custom:
            self.regimen_detail.setText("Enter the order as written: g/kg per course, days, indication.")
            self.dose.edit.setPlaceholderText("g/kg per course (required)")
            self.days.edit.setPlaceholderText("days (required)")
        else:
            r = self.catalogue.regimens[regimen_id]
            self.regimen_detail.setText(f"{r.repeat_note} ({r.label_status})")
            self.dose.edit.setPlaceholderText(
                f"usual {fmt_qty(r.course_g_per_kg, 'g/kg')}"
                if r.course_g_per_kg is not None
                else f"required: {fmt_number(r.dose_range_g_per_kg[0])} to {fmt_qty(r.dose_range_g_per_kg[1], 'g/kg')}"
            )
            self.days.edit.setPlaceholderText(f"usual {r.days}")
            index = self.indication.findData(r.indication)
            self.indication.setCurrentIndex(max(index, 0))
        self._schedule()

    def _show_cautions(self, *_):
        product = self.catalogue.products[self.product.currentData()]

        def listed(entries) -> str:
            items = []
            for c in entries:
                text = (
                    html.escape(c.text)
                    if c.verified
                    else (f"{html.escape(c.text)} <i>({CONFIRM_WITH_INSERT})</i>")
                )
                items.append(f"<li>{text}</li>")
            return f"<ul style='margin-left:-20px'>{''.join(items)}</ul>" if items else "<p>None listed.</p>"

        self.product_cautions.setText(
            f"<b>Contraindications</b>{listed(product.contraindications)}"
            f"<b>Cautions</b>{listed(product.cautions)}"
        )

    def load_regimen(self, regimen_id: str) -> None:
        """Select a regimen (e.g. from a guide's link); leaves patient fields as they are."""
        index = self.regimen.findData(regimen_id)
        if index >= 0:
            self.regimen.setCurrentIndex(index)
            self.dose.edit.clear()
            self.days.edit.clear()

    def set_inputs(
        self,
        *,
        product: str | None = None,
        regimen: str | None = None,
        weight: str | None = None,
        weight_unit: str = "kg",
        height: str | None = None,
        height_unit: str = "cm",
        sex: str | None = None,
        dose: str | None = None,
        days: str | None = None,
    ) -> None:
        """Fill fields programmatically (self-test, visit workflow); recalculates at once."""
        if product is not None:
            self.product.setCurrentIndex(self.product.findData(product))
        if regimen is not None:
            self.regimen.setCurrentIndex(self.regimen.findData(regimen))
        if weight is not None:
            self.weight.edit.setText(weight)
            self.weight.unit.setCurrentText(weight_unit)
        if height is not None:
            self.height.edit.setText(height)
            self.height.unit.setCurrentText(height_unit)
        if sex is not None:
            self.sex.setCurrentIndex(self.sex.findData(sex))
        if dose is not None:
            self.dose.edit.setText(dose)
        if days is not None:
            self.days.edit.setText(days)
        self.recalculate()

    def lock_request(self, request: DoseRequest) -> None:
        """Visit mode from THE order request (``services.orders.visit_dose_plan``): it is used as
        it is, never turned into field text and parsed back (no rounding of the dose or the
        rate cap on the way); only today's weight is typed and checked against the request's
        baseline (the weight the order was written for).  The order's fields, the patient's
        height, sex and age and the risk boxes show the request, disabled: they are display
        only, never read back."""
        self._locked = request
        self._baseline = (
            BaselineWeight(request.baseline_weight_kg, request.baseline_weighed_on or "")
            if request.baseline_weight_kg is not None
            else None
        )
        for key, box in self.risk_boxes.items():
            box.blockSignals(True)
            box.setChecked(key in request.risks)
            box.blockSignals(False)
            box.setEnabled(False)
        self.product.setCurrentIndex(self.product.findData(request.product_id))
        self.regimen.setCurrentIndex(self.regimen.findData(request.regimen_id or CUSTOM_REGIMEN))
        self.dose.edit.setText(
            fmt_number(request.dose_g_per_kg, 4) if request.dose_g_per_kg is not None else ""
        )
        self.days.edit.setText(str(request.days) if request.days is not None else "")
        if request.indication is not None:
            self.indication.setCurrentIndex(max(self.indication.findData(request.indication), 0))
        self.height.edit.setText(fmt_number(request.height_cm, 1) if request.height_cm else "")
        self.height.unit.setCurrentText("cm")
        self.sex.setCurrentIndex(max(self.sex.findData(request.sex), 0))
        self.basis.setCurrentIndex(max(self.basis.findData(request.weight_basis), 0))
        self.max_rate.edit.setText(
            fmt_number(request.max_rate_mg_kg_min, 2) if request.max_rate_mg_kg_min is not None else ""
        )
        self.max_rate.edit.setPlaceholderText("none in the order")
        if request.age_years is not None:
            self.age.edit.setText(fmt_number(request.age_years, 1))
        for widget in (
            self.product,
            self.regimen,
            self.dose.edit,
            self.days.edit,
            self.indication,
            self.height.edit,
            self.height.unit,
            self.sex,
            self.basis,
            self.max_rate.edit,
            self.age.edit,
        ):
            widget.setEnabled(False)
        self.recalculate()

    def restore_acknowledgements(self, acknowledgements: list[dict]) -> None:
        """Re-apply acknowledgements saved with a visit (same warning text only)."""
        self._acks.restore(acknowledgements)
        self._show_warnings(self.result.warnings if self.result else ())

    def _request(self) -> tuple[DoseRequest | None, dict[str, str]]:
        """The request, or None with errors (invalid values) and self._missing (empty required fields)."""
        errors: dict[str, str] = {}
        self._missing: list[str] = []

        def read(field, fn):
            try:
                return fn()
            except InputError as exc:
                errors[field] = str(exc)
                return None

        if self._locked is not None:  # visit mode: the order's request, today's weight
            if not self.weight.text():
                self._missing.append("today's weight")
                return None, errors
            weight = read(
                "weight",
                lambda: weight_to_kg(
                    parse_number(self.weight.text(), "weight", "Weight"), self.weight.unit_text()
                ),
            )
            return (None, errors) if weight is None else (replace(self._locked, weight_kg=weight), {})

        weight = None
        if not self.weight.text():
            self._missing.append("today's weight")
        else:
            weight = read(
                "weight",
                lambda: (parse_number(self.weight.text(), "weight", "Weight"), self.weight.unit_text()),
            )
        height = None
        if self.height.text():
            height = read(
                "height",
                lambda: (parse_number(self.height.text(), "height", "Height"), self.height.unit_text()),
            )
        regimen_id = self.regimen.currentData()
        custom = regimen_id == CUSTOM_REGIMEN
        dose = (
            read("dose", lambda: parse_number(self.dose.text(), "dose", "Dose")) if self.dose.text() else None
        )
        days = None
        if self.days.text():
            days = read("days", lambda: parse_number(self.days.text(), "days", "Days"))
            if days is not None and days != int(days):
                errors["days"] = "Days must be a whole number."
        if custom and dose is None and "dose" not in errors:
            self._missing.append("the ordered dose in g/kg")
        if custom and days is None and "days" not in errors:
            self._missing.append("the number of days")
        if not custom and dose is None and self.catalogue.regimens[regimen_id].course_g_per_kg is None:
            self._missing.append("the ordered dose in g/kg")
        age = None
        if self.age.text():
            age = read("age", lambda: parse_number(self.age.text(), "age", "Age"))
        max_rate = None
        if self.max_rate.text():
            max_rate = read(
                "max_rate", lambda: parse_number(self.max_rate.text(), "max_rate", "Maximum rate")
            )
        if errors or self._missing:
            return None, errors
        return DoseRequest(
            product_id=self.product.currentData(),
            weight_kg=weight_to_kg(*weight),
            height_cm=height_to_cm(*height) if height else None,
            sex=self.sex.currentData(),
            regimen_id=None if custom else regimen_id,
            dose_g_per_kg=dose,
            days=int(days) if days is not None else None,
            indication=self.indication.currentData() if custom else None,
            weight_basis=self.basis.currentData(),
            max_rate_mg_kg_min=max_rate,
            risks=frozenset(k for k, box in self.risk_boxes.items() if box.isChecked()),
            baseline_weight_kg=self._baseline.weight_kg if self._baseline else None,
            baseline_weighed_on=self._baseline.measured_on if self._baseline else None,
            age_years=age,
        ), {}

    def _show_errors(self, errors: dict[str, str]) -> None:
        fields = {
            "weight": self.weight,
            "height": self.height,
            "dose": self.dose,
            "days": self.days,
            "max_rate": self.max_rate,
            "age": self.age,
        }
        for name, field in fields.items():
            field.set_error(errors.get(name))
        labels = {
            "product": self.product_error,
            "regimen": self.regimen_error,
            "sex": self.sex_error,
            "weight_basis": self.weight_basis_error,
            "indication": self.indication_error,
        }
        for name, label in labels.items():
            label.setText(errors.get(name, ""))
            label.setVisible(name in errors)
        general = [m for k, m in errors.items() if k not in fields and k not in labels]
        self.error_banner.setText("\n".join(general))
        self.error_banner.setVisible(bool(general))

    def recalculate(self) -> None:
        self._timer.stop()
        request, errors = self._request()
        result = None
        if request is not None:
            try:
                result = calculate(request, self.catalogue)
            except InputError as exc:
                errors[exc.field or "general"] = str(exc)
        self._show_errors(errors)
        self.result = result
        self._show_result(result, errors)
        self.result_changed.emit(result)

    # ------------------------------------------------------------------ result display
    def _show_result(self, r: DoseResult | None, errors: dict[str, str]) -> None:
        if r is None:
            for t in (self.tile_daily, self.tile_volume, self.tile_course, self.tile_time):
                t.set("–", "")
            if errors:
                hint = "Fix the field marked in red to see the dose."
            else:
                hint = f"Enter {' and '.join(self._missing)} to see the dose."
            self.tile_daily.set("–", hint)
            self.rate_table.setRowCount(0)
            self.vial_table.setRowCount(0)
            self.rate_caption.setText("")
            self.vial_summary.setText("")
            self.weights_label.setText("")
            self.notes_label.setText("")
            self._show_warnings(())
            return
        w = r.weight
        self.tile_daily.set(
            fmt_qty(r.daily_dose_g, "g"),
            f"{fmt_qty(r.dose_g_per_kg / r.days, 'g/kg')} per day × {fmt_qty(w.dosing_kg, 'kg')}",
        )
        self.tile_volume.set(fmt_qty(r.daily_volume_ml, "mL"), f"of {r.product.display_name}")
        self.tile_course.set(fmt_qty(r.total_dose_g, "g"), r.course_and_daily_text)
        self.tile_time.set(fmt_minutes(r.infusion_minutes_per_day), "if every step is tolerated")

        unverified = (
            ""
            if r.rates_verified
            else f" <b style='color:{text_colour(ATTENTION_COLOUR)}'>{CONFIRM_WITH_INSERT}.</b>"
        )
        self.rate_caption.setText(
            f"For {fmt_qty(w.dosing_kg, 'kg')}, {r.product.brand}; up to "
            f"{fmt_qty(r.rate_ceiling_mg_kg_min, 'mg/kg/min')} ({r.rate_ceiling_reason}).{unverified}"
            + (
                f"<br>Label, as printed: {html.escape(r.rate_row.label_text)}"
                if r.rate_row.label_text
                else ""
            )
        )
        self.rate_table.setRowCount(len(r.rate_steps))
        for i, s in enumerate(r.rate_steps):
            cells = [
                fmt_qty(s.start_min, "min"),
                fmt_number(s.mg_per_kg_min, 2),
                fmt_number(s.ml_per_kg_min, 4),
                fmt_number(s.ml_per_h, 1),
            ]
            for col, text in enumerate(cells):
                item = _item(text)
                if not r.rates_verified:
                    item.setForeground(self.palette().placeholderText())
                    item.setToolTip(CONFIRM_WITH_INSERT)
                self.rate_table.setItem(i, col, item)
        _fit_height(self.rate_table)

        plan = r.vial_plan
        self.vial_table.setRowCount(len(plan.counts) if plan else 0)
        if plan:
            for i, (v, n) in enumerate(plan.counts):
                for col, text in enumerate(
                    [fmt_qty(v.grams, "g") + ("" if v.verified else " *"), str(n), fmt_qty(v.ml * n, "mL")]
                ):
                    self.vial_table.setItem(i, col, _item(text))
        _fit_height(self.vial_table)
        summary = vial_plan_text(r)
        if r.rounding_option:
            summary += (
                f"<br>Rounding option (not applied): {fmt_qty(r.rounding_option.dispensed_g, 'g')} "
                f"per day in whole vials; only the prescriber can change the dose."
            )
        if plan and not plan.verified:
            summary = summary.replace(f" [{CONFIRM_WITH_INSERT}]", "")
            summary += f"<br><span style='color:{text_colour(ATTENTION_COLOUR)}'>* {CONFIRM_WITH_INSERT} (vial size)</span>"
        self.vial_summary.setText(summary)

        def kg(value):
            return fmt_qty(value, "kg") if value is not None else "not computable"

        bmi = fmt_qty(w.bmi, "kg/m²") if w.bmi is not None else "needs height"
        self.weights_label.setText(
            f"<table cellspacing='2'>"
            f"<tr><td>Actual</td><td align='right'>{kg(w.actual_kg)}</td></tr>"
            f"<tr><td>Ideal</td><td align='right'>{kg(w.ideal_kg)}</td></tr>"
            f"<tr><td>Adjusted</td><td align='right'>{kg(w.adjusted_kg)}</td></tr>"
            f"<tr><td>BMI</td><td align='right'>{bmi}</td></tr>"
            f"{self._baseline_row(w.actual_kg)}"
            f"<tr><td><b>Dose on</b></td><td align='right'><b>{kg(w.dosing_kg)}</b></td></tr></table>"
            f"<p>{w.reason}</p>"
        )
        notes = "".join(f"<li>{n}</li>" for n in r.notes)
        formulas = "".join(f"<li>{f}</li>" for f in r.formulas)
        self.notes_label.setText(f"<ul style='margin-left:-20px'>{notes}{formulas}</ul>")
        self._show_warnings(r.warnings)

    def _baseline_row(self, actual_kg: float) -> str:
        if self._baseline is None:
            return ""
        change = fmt_change(weight_change_percent(actual_kg, self._baseline.weight_kg), "%", 1)
        return (
            f"<tr><td>Baseline</td><td align='right'>{fmt_qty(self._baseline.weight_kg, 'kg')} "
            f"({fmt_date(self._baseline.measured_on)}, {change})</td></tr>"
        )

    def _show_warnings(self, warnings) -> None:
        while self.warning_rows.count():
            widget = self.warning_rows.takeAt(0).widget()
            if widget is not None:
                # Deleted now, never with deleteLater(): the deferred delete of these rows (run
                # by the next processEvents) crashed PySide6 now and then, a segmentation fault in
                # QWidget::~QWidget (tests/ui/test_contraindications_ui.py, age test). Safe here: this runs
                # from a recalculation, never from a signal of a widget inside a row.
                widget.hide()
                shiboken6.delete(widget)
        self._current_warnings = [w for w in warnings if w.needs_ack]
        self.warnings_box.setVisible(bool(self._current_warnings))
        for i, w in enumerate(self._current_warnings):
            row = QWidget()
            row.setObjectName(f"warning_{i}")
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            box = QCheckBox(ack_label(w))
            box.setObjectName(f"ack_{w.code}")
            box.setAccessibleName(f"Acknowledge: {w.message}")
            box.setChecked(self._acks.is_acknowledged(w))
            box.toggled.connect(lambda checked, w=w: self._acknowledge(w, checked))
            text = QLabel(w.message)
            text.setWordWrap(True)
            text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
            h.addWidget(text, 1)
            h.addWidget(box, 0, Qt.AlignTop)
            self.warning_rows.addWidget(row)
        self._update_banner()

    def _acknowledge(self, warning, checked: bool) -> None:
        self._acks.set(warning, checked)
        self._update_banner()
        self.acknowledgements_changed.emit()

    def pending_warnings(self) -> list:
        return self._acks.pending(self._current_warnings)

    def acknowledgements(self) -> list[dict]:
        """Acknowledged warnings of the current result, with the time each was acknowledged (UTC)."""
        return self._acks.records(self._current_warnings)

    def _update_banner(self) -> None:
        pending = len(self.pending_warnings())
        total = len(self._current_warnings)
        if pending:
            self.banner.setText(
                f"⚠ {pending} warning{'s' if pending != 1 else ''} below need"
                f"{'s' if pending == 1 else ''} acknowledgement before this calculation is used."
            )
            self.banner.setStyleSheet(
                f"background: {ATTENTION_COLOUR}; color: white; padding: 6px; "
                f"border-radius: 4px; font-weight: bold;"
            )
            self.banner.show()
        elif total:
            self.banner.setText(
                "✓ The warning is acknowledged." if total == 1 else f"✓ All {total} warnings acknowledged."
            )
            self.banner.setStyleSheet(
                f"background: {OK_COLOUR}; color: white; padding: 6px; border-radius: 4px;"
            )
            self.banner.show()
        else:
            self.banner.hide()
