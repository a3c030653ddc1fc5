"""Dose tab: today's weight, the calculation from the active order, saved with the visit."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from nurse_app.core.formatting import fmt_number
from nurse_app.core.visit_logic import RISK_LABELS
from nurse_app.ui.calculator_page import CalculatorPage
from nurse_app.ui.visit.common import VisitContext, attempt, error_label


class DoseTab(QWidget):
    def __init__(self, ctx: VisitContext, parent=None):
        super().__init__(parent)
        self.setObjectName("dose_tab")
        self.ctx = ctx
        self.intro = QLabel()
        self.intro.setObjectName("dose_intro")
        self.intro.setWordWrap(True)
        self.error = error_label("dose_error")
        # Course day: worked out from earlier visits on the order, correctable (e.g. day 1 given in clinic).
        self.course_day = QSpinBox()
        self.course_day.setObjectName("course_day")
        self.course_day.setAccessibleName("Course day")
        self.course_day.setKeyboardTracking(False)  # saved once the number is complete
        day_label = QLabel("&Course day")
        day_label.setBuddy(self.course_day)
        self.course_days_label = QLabel()
        day_row = QHBoxLayout()
        day_row.addWidget(day_label)
        day_row.addWidget(self.course_day)
        day_row.addWidget(self.course_days_label)
        day_row.addStretch(1)
        self.calculator = CalculatorPage()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.intro)
        layout.addLayout(day_row)
        layout.addWidget(self.error)
        layout.addWidget(self.calculator, 1)
        self._loading = True
        self._load()
        self._loading = False
        self.course_day.valueChanged.connect(self._save_course_day)
        self.calculator.result_changed.connect(self._save)
        self.calculator.acknowledgements_changed.connect(lambda: self._save(self.calculator.result))

    def _load(self) -> None:
        visit = self.ctx.visit
        self.course_day.setRange(1, visit["course_days"])
        self.course_day.setValue(visit["course_day"])
        self.course_days_label.setText(
            f"of {visit['course_days']} (worked out from earlier visits on this order; "
            f"correct it if a day was given elsewhere)"
        )
        plan = self.ctx.record.dose_plan  # a signed visit: the order as signed
        if plan.request is None:
            self.intro.setText(
                "This visit has no IVIG order: the calculator below is free to use, "
                "but its result is not saved with the visit."
            )
            return
        first = plan.first_infusion
        self.calculator.lock_request(plan.request)
        risks = ", ".join(RISK_LABELS[r] for r in sorted(plan.order_risks)) or "none"
        first_text = (
            "<br><b>First infusion of this product for the patient</b> (no earlier signed visit with "
            "it): first-infusion is set automatically."
            if first
            else ""
        )
        self.intro.setText(
            "Weigh the patient and type today's weight: the dose from the order is worked out and "
            "saved with this visit as you type, and the weight is compared with the baseline the "
            "order was written for. Acknowledge every warning."
            f"<br>Risk flags from the order: <b>{risks}</b> (change them in the order, not here)."
            + first_text
        )
        if visit.get("weight_kg"):
            self.calculator.weight.edit.setText(fmt_number(visit["weight_kg"], 2))
            self.calculator.recalculate()
        snapshot = visit.get("calculation") or {}
        if snapshot.get("acknowledgements"):
            self.calculator.restore_acknowledgements(snapshot["acknowledgements"])
        self.set_read_only(self.ctx.signed)

    def _save(self, result) -> None:
        if self._loading or self.ctx.signed or result is None or not self.ctx.visit.get("order_id"):
            return
        snapshot = result.to_dict()
        snapshot["acknowledgements"] = self.calculator.acknowledgements()
        if attempt(
            self.error,
            lambda: self.ctx.store.update_visit(
                self.ctx.visit_id, weight_kg=result.weight.actual_kg, calculation=snapshot
            ),
        ):
            self.ctx.changed.emit("visit")

    def _save_course_day(self, day: int) -> None:
        if self._loading or self.ctx.signed or day == self.ctx.visit["course_day"]:
            return
        if attempt(self.error, lambda: self.ctx.store.update_visit(self.ctx.visit_id, course_day=day)):
            self.ctx.changed.emit("visit")

    def set_read_only(self, read_only: bool) -> None:
        self.calculator.setEnabled(not read_only)
        self.course_day.setEnabled(not read_only)
