"""The patient form and the IVIG order form.

Both are thin: the patient form checks each field with the store's own field rules
(:mod:`nurse_app.store.fields`) as the nurse leaves it, so a typo is marked under its
field at once and the rules live in one place; the order form runs the dose engine
(:func:`nurse_app.core.dosing.calculate`) on every change with the patient's latest
weight, height and sex, so its hard limits refuse the order inline, its warnings
each need a tick before Save is enabled, and the nurse sees the grams and volume the
order means before saving it.  No clinical number lives here.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core.acknowledgements import AcknowledgementLog
from nurse_app.core.catalogue import Catalogue, Regimen, load_catalogue
from nurse_app.core.dosing import DoseRequest, DoseResult, ack_label, calculate
from nurse_app.core.errors import InputError, NurseAppError
from nurse_app.core.formatting import fmt_number, fmt_qty
from nurse_app.core.labels import BASIS_LABELS, SEX_LABELS, days_text
from nurse_app.core.units import height_to_cm, parse_number, weight_to_kg
from nurse_app.core.visit_logic import RISK_LABELS, order_risks, request_from_order
from nurse_app.services.orders import save_order, shown_orders
from nurse_app.store import Store
from nurse_app.store.fields import PATIENT, SEXES
from nurse_app.store.times import today_local
from nurse_app.store.validation import clean
from nurse_app.ui.forms import FormDialog, MessageBanner, editor_of, notes_box
from nurse_app.ui.timers import call_soon
from nurse_app.ui.widgets import CUSTOM_REGIMEN, FieldWithError, Section, Tile, WithError


def _combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(f"{name}_combo")
    # Long regimen names must not widen the form: elided in the box, in full in the list.
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(24)
    combo.currentIndexChanged.connect(lambda *_: combo.setToolTip(combo.currentText()))
    return combo


def _select_or_keep(combo: QComboBox, value: str) -> None:
    """Select ``value``; a stored id this catalogue lacks is kept and shown, never swapped for
    the first item (the dose check then refuses it by name)."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(f"{value} (not in this version's catalogue)", value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


def _text_of(field: QWidget) -> str:
    editor = editor_of(field)
    if hasattr(editor, "toPlainText"):
        return editor.toPlainText().strip()
    return editor.text().strip()


# =============================================================================== patient


class PatientDialog(FormDialog):
    """New patient (``patient_id=None``) or edit one; ``patient_id`` holds the saved id."""

    def __init__(
        self, store: Store, patient_id: int | None = None, parent=None, catalogue: Catalogue | None = None
    ):
        super().__init__("Edit patient" if patient_id else "New patient", parent)
        self.setObjectName("patient_dialog")
        self.store = store
        self.catalogue = catalogue or load_catalogue()
        self.patient_id = patient_id

        self.name = FieldWithError("name", "as on the chart")
        self.mrn = FieldWithError("mrn", "medical record number")
        self.date_of_birth = FieldWithError("date_of_birth", "YYYY-MM-DD")
        self.sex = _combo("sex")
        self.sex.addItem("Choose…", None)
        for key in SEXES:
            self.sex.addItem(SEX_LABELS.get(key, key), key)
        self.height = FieldWithError("height", "optional; for ideal and adjusted weight", units=("cm", "in"))
        self.allergies = FieldWithError("allergies", "e.g. penicillin (rash); or 'none known'")
        self.indication = _combo("indication")
        self.indication.addItem("Not set", None)
        for regimen in self.catalogue.regimens.values():
            self.indication.addItem(regimen.name, regimen.id)
        self.prescriber = FieldWithError("prescriber", "e.g. Dr. R. Patel")
        self.notes = notes_box("notes")

        self.add_row("&Name", "name", self.name)
        self.add_row("&MRN", "mrn", self.mrn)
        self.add_row("&Date of birth", "date_of_birth", self.date_of_birth)
        self.add_row("Se&x", "sex", WithError("sex", self.sex))
        self.add_row("&Height", "height_cm", self.height)
        self.add_row("&Allergies", "allergies", self.allergies)
        self.add_row("&Indication", "indication", WithError("indication", self.indication))
        self.add_row("&Prescriber", "prescriber", self.prescriber)
        self.add_row("N&otes", "notes", self.notes)
        self.finish_layout()
        self.setMinimumWidth(520)

        # A field is checked when the nurse leaves it, and re-checked as she fixes it.
        for name in ("name", "mrn", "date_of_birth", "height_cm", "allergies", "prescriber"):
            field = self.fields[name]
            field.edit.editingFinished.connect(lambda n=name: self._check_if_filled(n))
            field.changed.connect(lambda n=name: self._recheck_if_marked(n))
        self.sex.currentIndexChanged.connect(lambda *_: self._recheck_if_marked("sex"))
        # The record as this form showed it: saving changes only what the nurse changed,
        # and only if no other window saved those fields meanwhile (else "changed elsewhere").
        self.loaded = store.get_patient(patient_id) if patient_id is not None else None
        if self.loaded is not None:
            self._load(self.loaded)
        self.mark_unmodified()

    def _load(self, row: dict) -> None:
        self.name.edit.setText(row["name"])
        self.mrn.edit.setText(row["mrn"])
        self.date_of_birth.edit.setText(row["date_of_birth"])
        self.sex.setCurrentIndex(max(self.sex.findData(row["sex"]), 0))
        if row["height_cm"] is not None:
            self.height.edit.setText(fmt_number(row["height_cm"], 1))
        self.allergies.edit.setText(row["allergies"])
        if row["indication"]:
            _select_or_keep(self.indication, row["indication"])
        self.prescriber.edit.setText(row["prescriber"])
        self.notes.editor.setPlainText(row["notes"])

    # ------------------------------------------------------------------ values
    def _value(self, name: str):
        """The value to give the store for field ``name`` (raises InputError for a bad height)."""
        if name == "sex":
            return self.sex.currentData()
        if name == "indication":
            return self.indication.currentData()
        if name == "height_cm":
            if not self.height.text():
                return None
            number = parse_number(self.height.text(), "height_cm", "Height")
            return height_to_cm(number, self.height.unit_text())
        return _text_of(self.fields[name])

    def values(self) -> dict:
        return {name: self._value(name) for name in PATIENT if name in self.fields}

    def check_field(self, name: str) -> bool:
        """Check one field with the store's rule; mark it inline.  True if it is valid."""
        try:
            clean(PATIENT, {name: self._value(name)}, creating=False)
        except InputError as exc:
            self.set_field_error(name, str(exc))
            return False
        self.set_field_error(name, None)
        return True

    def _check_if_filled(self, name: str) -> None:
        if _text_of(self.fields[name]):
            self.check_field(name)

    def _recheck_if_marked(self, name: str) -> None:
        field = self.fields[name]
        if not field.error.isHidden():
            self.check_field(name)

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        self.banner.show_message(None)
        invalid = [name for name in self.fields if not self.check_field(name)]
        if invalid:
            editor_of(self.fields[invalid[0]]).setFocus()
            return False
        values = self.values()
        try:
            if self.patient_id is None:
                self.patient_id = self.store.create_patient(**values)
            else:
                shown = self.loaded
                cleaned = clean(PATIENT, values, creating=False)
                changes = {k: v for k, v in values.items() if cleaned[k] != shown[k]}
                if changes:
                    self.store.update_patient(
                        self.patient_id, **changes, if_unchanged={k: shown[k] for k in changes}
                    )
        except NurseAppError as exc:  # show_error marks the named field, else the banner
            self.show_error(exc)
            return False
        return True


# =============================================================================== order


class _RiskBoxes(QWidget):
    """The order's risk flags, one tick box each; ``changed`` when any is ticked or cleared."""

    changed = Signal()

    def __init__(self):
        super().__init__()
        self.setObjectName("order_risks")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.boxes: dict[str, QCheckBox] = {}
        for key, label in RISK_LABELS.items():
            box = QCheckBox(label)
            box.setObjectName(f"order_risk_{key.replace('-', '_')}")
            box.setToolTip(
                "Saved with the order and used for every visit under it: the rate ceiling, the "
                "first-infusion ladder and the checklist items depend on it."
            )
            box.toggled.connect(lambda *_: self.changed.emit())
            self.boxes[key] = box
            layout.addWidget(box)
        self.setFocusProxy(next(iter(self.boxes.values())))


class OrderDialog(FormDialog):
    """Add (``order_id=None``) or edit the patient's IVIG order, checked by the dose engine.

    A new order becomes the active one: the previous active order is set inactive in
    the same transaction (visits keep pointing at the order they were given under).
    """

    def __init__(
        self,
        store: Store,
        patient_id: int,
        order_id: int | None = None,
        parent=None,
        catalogue: Catalogue | None = None,
    ):
        super().__init__("Edit IVIG order" if order_id else "New IVIG order", parent)
        self.setObjectName("order_dialog")
        self.store = store
        self.catalogue = catalogue or load_catalogue()
        self.patient_id = patient_id
        self.order_id = order_id
        self.patient = store.get_patient(patient_id)
        weights = store.patient_weights(patient_id)
        self.latest_weight = weights[0] if weights else None
        self.result: DoseResult | None = None
        self._acks = AcknowledgementLog()
        self._current_warnings: list = []
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.recalculate)
        self._build()
        if order_id is not None:
            order = store.get_order(order_id)
            self._shown = {"updated_at": order["updated_at"]}  # what this form saves over
            self._load(order)
        else:
            self._shown = shown_orders(store, patient_id)
            self.prescriber.edit.setText(self.patient["prescriber"])
            self.start_date.edit.setText(today_local().isoformat())
            index = self.regimen.findData(self.patient["indication"])
            if index >= 0:
                self.regimen.setCurrentIndex(index)
        self._regimen_changed()
        self.recalculate()
        self.mark_unmodified()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.product = _combo("product")
        for p in sorted(self.catalogue.products.values(), key=lambda p: p.brand.lower()):
            label = p.display_name
            self.product.addItem(label, p.id)
        self.regimen = _combo("regimen")
        for r in self.catalogue.regimens.values():
            self.regimen.addItem(r.name, r.id)
        self.regimen.addItem("Other order: enter g/kg and days", CUSTOM_REGIMEN)
        self.regimen_detail = QLabel()
        self.regimen_detail.setObjectName("regimen_detail")
        self.regimen_detail.setWordWrap(True)
        self.regimen_detail.setEnabled(False)  # secondary text colour in both themes
        self.dose = FieldWithError("dose", "g/kg per course")
        self.days = FieldWithError("days", "days the course is divided over")
        self.basis = _combo("weight_basis")
        for key, label in BASIS_LABELS.items():
            self.basis.addItem(label, key)
        self.max_rate = FieldWithError("max_rate", "optional: the prescriber's cap")
        # The patient's risk flags, saved on the order and carried into every visit.
        risk_row = _RiskBoxes()
        self.risk_boxes = risk_row.boxes
        risk_row.changed.connect(self._schedule)
        self.interval = FieldWithError("interval", "repeat every … days")
        self.prescriber = FieldWithError("prescriber", "who signed the order")
        self.start_date = FieldWithError("start_date", "YYYY-MM-DD")
        self.notes = notes_box("order_notes")

        self.add_row("&Product", "product_id", WithError("product", self.product))
        self.add_row("&Regimen", "regimen_id", WithError("regimen", self.regimen))
        self.form.addRow("", self.regimen_detail)
        self.add_row("&Dose (g/kg per course)", "dose_g_per_kg", self.dose)
        self.add_row("Da&ys per course", "course_days", self.days)
        self.add_row("Weight &basis", "weight_basis", WithError("weight_basis", self.basis))
        self.add_row("&Max rate (mg/kg/min)", "max_rate_mg_kg_min", self.max_rate)
        self.add_row("Risk fla&gs", "risks", risk_row)
        self.add_row("Repeat &interval (days)", "interval_days", self.interval)
        self.add_row("Pres&criber", "prescriber", self.prescriber)
        self.add_row("S&tart date", "start_date", self.start_date)
        self.add_row("N&otes", "notes", self.notes)
        # The dose engine names its fields "dose", "days", "product", "regimen", "weight".
        self.fields["dose"] = self.dose
        self.fields["days"] = self.days
        self.fields["product"] = self.fields["product_id"]
        self.fields["regimen"] = self.fields["regimen_id"]
        self.fields["indication"] = self.fields["regimen_id"]
        self.fields["max_rate"] = self.max_rate

        self.weight: FieldWithError | None = None
        if self.latest_weight is None:
            self.weight = FieldWithError(
                "weight", "needed to check the dose; added to the weight history", units=("kg", "lb")
            )
            self.add_row("Patient's &weight", "weight", self.weight)
            self.fields["weight_kg"] = self.weight
            self.weight.changed.connect(self._schedule)

        self.columns.addSpacing(16)
        self.columns.addWidget(self._build_preview(), 1)
        self.finish_layout()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 150)

        self.product.currentIndexChanged.connect(self._schedule)
        self.basis.currentIndexChanged.connect(self._schedule)
        self.regimen.currentIndexChanged.connect(self._regimen_changed)
        for field in (self.dose, self.days, self.max_rate):
            field.changed.connect(self._schedule)
        for name in ("interval_days", "prescriber", "start_date"):
            self.fields[name].changed.connect(lambda n=name: self.set_field_error(n, None))

    def _build_preview(self) -> QWidget:
        box = Section("What this order means for this patient")
        box.setObjectName("order_preview")
        self.basis_label = QLabel()
        self.basis_label.setObjectName("basis_label")
        self.basis_label.setWordWrap(True)
        box.body.addWidget(self.basis_label)
        tiles = QHBoxLayout()
        self.tile_course = Tile("course_total", "Course total")
        self.tile_daily = Tile("daily_dose", "Each day")
        self.tile_volume = Tile("daily_volume", "Volume each day")
        for tile in (self.tile_course, self.tile_daily, self.tile_volume):
            tiles.addWidget(tile)
        box.body.addLayout(tiles)
        self.preview_banner = MessageBanner("preview_banner")
        box.body.addWidget(self.preview_banner)
        self.warnings_box = QWidget()
        self.warnings_box.setObjectName("order_warnings")
        self.warning_rows = QVBoxLayout(self.warnings_box)
        self.warning_rows.setContentsMargins(0, 0, 0, 0)
        box.body.addWidget(self.warnings_box)
        box.body.addStretch(1)
        return box

    def _load(self, order: dict) -> None:
        _select_or_keep(self.product, order["product_id"])
        if order["regimen_id"]:
            _select_or_keep(self.regimen, order["regimen_id"])
        else:
            self.regimen.setCurrentIndex(self.regimen.findData(CUSTOM_REGIMEN))
        if order["dose_g_per_kg"] is not None:
            self.dose.edit.setText(fmt_number(order["dose_g_per_kg"], 3))
        if order["course_days"] is not None:
            self.days.edit.setText(str(order["course_days"]))
        if order["interval_days"] is not None:
            self.interval.edit.setText(str(order["interval_days"]))
        _select_or_keep(self.basis, order.get("weight_basis") or "auto")
        if order.get("max_rate_mg_kg_min") is not None:
            self.max_rate.edit.setText(fmt_number(order["max_rate_mg_kg_min"], 2))
        for key, box in self.risk_boxes.items():
            box.setChecked(key in order_risks(order))
        self.prescriber.edit.setText(order["prescriber"])
        self.start_date.edit.setText(order["start_date"])
        self.notes.editor.setPlainText(order["notes"])

    # ------------------------------------------------------------------ behaviour
    def _schedule(self, *_) -> None:
        self._timer.start()

    def _regimen(self) -> Regimen | None:
        """The chosen regimen; None for an order written out in g/kg and days."""
        regimen_id = self.regimen.currentData()
        if regimen_id in (None, CUSTOM_REGIMEN):
            return None
        return self.catalogue.regimen(regimen_id)  # InputError if no longer in the catalogue

    def _regimen_changed(self, *_) -> None:
        try:
            regimen = self._regimen()
        except InputError:
            self.regimen_detail.setText("")
            self._schedule()
            return
        if regimen is None:
            self.regimen_detail.setText("Enter the order as written: g/kg per course and days.")
            self.dose.edit.setPlaceholderText("g/kg per course (required)")
            self.days.edit.setPlaceholderText("days (required)")
            self.interval.edit.setPlaceholderText("repeat every … days")
        else:
            self.regimen_detail.setText(f"{regimen.repeat_note} ({regimen.label_status})")
            if regimen.course_g_per_kg is not None:
                self.dose.edit.setPlaceholderText(f"usual {fmt_qty(regimen.course_g_per_kg, 'g/kg')}")
            else:
                low, high = regimen.dose_range_g_per_kg
                self.dose.edit.setPlaceholderText(f"required: {fmt_number(low)} to {fmt_qty(high, 'g/kg')}")
            self.days.edit.setPlaceholderText(f"usual {days_text(regimen.days)}")
            if regimen.repeat_min_days is None:
                self.interval.edit.setPlaceholderText("no fixed cycle: leave empty or as ordered")
            elif regimen.repeat_min_days == regimen.repeat_max_days:
                self.interval.edit.setPlaceholderText(f"usual {days_text(regimen.repeat_min_days)}")
            else:
                self.interval.edit.setPlaceholderText(
                    f"usual {fmt_number(regimen.repeat_min_days)} to "
                    f"{fmt_qty(regimen.repeat_max_days, 'days')}"
                )
        self._schedule()

    def _weight_kg(self) -> float | None:
        """The patient's latest weight, or the one typed here when none is on record."""
        if self.latest_weight is not None:
            return self.latest_weight["weight_kg"]
        if not self.weight.text():
            return None
        return weight_to_kg(parse_number(self.weight.text(), "weight", "Weight"), self.weight.unit_text())

    def _number(self, field: FieldWithError, name: str, label: str, whole: bool = False):
        if not field.text():
            return None
        value = parse_number(field.text(), name, label)
        if whole and value != int(value):
            raise InputError(f"{label} must be a whole number of days.", field=name)
        return int(value) if whole else value

    def risks(self) -> frozenset[str]:
        return frozenset(k for k, box in self.risk_boxes.items() if box.isChecked())

    def request(self) -> DoseRequest:
        """The dose engine request for the order as typed (raises InputError), built by the one
        builder every visit uses (``visit_logic.request_from_order``)."""
        regimen = self._regimen()
        weight = self._weight_kg()
        if weight is None:
            raise InputError(
                "Enter the patient's weight: the dose limits are checked against it.", field="weight"
            )
        order = {
            "product_id": self.product.currentData(),
            "regimen_id": regimen.id if regimen else None,
            "dose_g_per_kg": self._number(self.dose, "dose", "Dose"),
            "course_days": self._number(self.days, "days", "Days", whole=True),
            "weight_basis": self.basis.currentData(),
            "max_rate_mg_kg_min": self._number(self.max_rate, "max_rate", "Maximum rate"),
        }
        return request_from_order(order, self.patient, weight, on=today_local(), risks=self.risks())

    def recalculate(self) -> None:
        """Run the dose engine; mark hard-limit errors inline, list warnings to acknowledge."""
        self._timer.stop()
        for name in ("dose", "days", "product", "regimen", "weight"):
            self.set_field_error(name, None)
        self.preview_banner.show_message(None)
        result, hint = None, ""
        try:
            result = calculate(self.request(), self.catalogue)
        except InputError as exc:
            field = self.fields.get(exc.field or "")
            typed = field is not None and (not isinstance(field, FieldWithError) or field.text())
            if typed and self.set_field_error(exc.field, str(exc)):
                hint = "Fix the field marked in red to check the order."
            elif field is not None:
                hint = str(exc)  # a field not filled in yet: a hint, not an error
            else:  # the patient's weight or height on record
                self.preview_banner.show_message(
                    f"{exc} Correct the patient's record (weight history or Edit patient)."
                )
        except NurseAppError as exc:
            self.preview_banner.show_message(str(exc))
        self.result = result
        self._show_result(result, hint)

    def _show_result(self, r: DoseResult | None, hint: str) -> None:
        if r is None:
            for tile in (self.tile_course, self.tile_daily, self.tile_volume):
                tile.set("–", "")
            self.basis_label.setText(hint)
            self._show_warnings(())
            return
        w = r.weight
        where = f"weighed {self.latest_weight['measured_on']}" if self.latest_weight else "as typed above"
        self.basis_label.setText(f"Checked for {fmt_qty(w.actual_kg, 'kg')} ({where}). {w.reason}")
        self.tile_course.set(fmt_qty(r.total_dose_g, "g"), r.course_and_daily_text)
        self.tile_daily.set(
            fmt_qty(r.daily_dose_g, "g"),
            f"{fmt_qty(r.dose_g_per_kg / r.days, 'g/kg')} per day × {days_text(r.days)}",
        )
        self.tile_volume.set(fmt_qty(r.daily_volume_ml, "mL"), f"of {r.product.display_name}")
        self._show_warnings(r.warnings)

    def _show_warnings(self, warnings) -> None:
        while self.warning_rows.count():
            widget = self.warning_rows.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # out of the dialog and its tab chain at once
                widget.deleteLater()
        self._current_warnings = [w for w in warnings if w.needs_ack]
        self.warnings_box.setVisible(bool(self._current_warnings))
        boxes: list[QCheckBox] = []
        for w in self._current_warnings:
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            text = QLabel(f"⚠ {w.message}")
            text.setWordWrap(True)
            text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
            box = QCheckBox(ack_label(w))  # contraindications: "Checked: not present"
            box.setObjectName(f"ack_{w.code}")
            box.setAccessibleName(f"Acknowledge: {w.message}")
            box.setChecked(self._acks.is_acknowledged(w))
            box.toggled.connect(lambda checked, w=w: self._acknowledge(w, checked))
            h.addWidget(text, 1)
            h.addWidget(box, 0, Qt.AlignTop)
            self.warning_rows.addWidget(row)
            boxes.append(box)
        # Tab goes from the last field through the acknowledgements to Save, not past Cancel.
        last_field = self.weight.edit if self.weight is not None else self.notes.editor
        chain = [last_field, *boxes, self.save_button, self.buttons.button(QDialogButtonBox.Cancel)]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self._update_save_state()
        if self.isVisible():
            call_soon(self, self.grow_to_fit)

    def _acknowledge(self, warning, checked: bool) -> None:
        self._acks.set(warning, checked)
        self._update_save_state()

    def pending_warnings(self) -> list:
        return self._acks.pending(self._current_warnings)

    def acknowledgements(self) -> list[dict]:
        """Acknowledged warnings of the current check, with when each was ticked (UTC)."""
        return self._acks.records(self._current_warnings)

    def _update_save_state(self) -> None:
        pending = len(self.pending_warnings())
        self.save_button.setEnabled(self.result is not None and not pending)
        if self.result is None:
            self.save_button.setToolTip("The order can be saved once the dose check passes.")
        elif pending:
            self.preview_banner.show_message(
                f"Tick {'the warning' if pending == 1 else f'each of the {pending} warnings'} below "
                f"to confirm you have read {'it' if pending == 1 else 'them'}; then Save is enabled.",
                "attention",
            )
            self.save_button.setToolTip("Acknowledge every warning first.")
        else:
            self.preview_banner.show_message(None)
            self.save_button.setToolTip("Save (Enter or Ctrl+Enter)")

    # ------------------------------------------------------------------ saving
    def values(self) -> dict:
        """Store values: the dose and days as the engine resolved them, so the order is explicit."""
        regimen = self._regimen()
        return {
            "product_id": self.product.currentData(),
            "regimen_id": regimen.id if regimen else None,
            "dose_g_per_kg": self.result.dose_g_per_kg,
            "course_days": self.result.days,
            "weight_basis": self.basis.currentData(),
            "max_rate_mg_kg_min": self.result.request.max_rate_mg_kg_min,
            "risks": sorted(self.risks()),
            "interval_days": self._number(self.interval, "interval_days", "Repeat interval", whole=True),
            "start_date": self.start_date.text() or None,
            "prescriber": self.prescriber.text(),
            "notes": _text_of(self.notes),
            "acknowledgements": {
                "warnings": self.acknowledgements(),
                "weight_kg": self.result.weight.actual_kg,
            },
        }

    def save(self) -> bool:
        self.recalculate()
        if self.result is None or self.pending_warnings():
            return False
        try:
            values = self.values()
            self.order_id = save_order(
                self.store,
                self.patient_id,
                values,
                order_id=self.order_id,
                weight_kg=self._weight_kg() if self.weight is not None else None,
                if_unchanged=self._shown,
            )
            self._shown = {"updated_at": self.store.get_order(self.order_id)["updated_at"]}
        except NurseAppError as exc:  # show_error marks the named field, else the banner
            self.show_error(exc)
            return False
        return True
