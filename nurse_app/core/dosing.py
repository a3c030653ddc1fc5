"""The IVIG dose and infusion-rate engine.

``calculate(DoseRequest) -> DoseResult``.  Pure Python: no Qt, no SQLite.

* Hard limits (``limits.toml``) raise :class:`HardLimitError`; soft limits and other
  things the nurse must look at come back as :class:`Warning` objects with
  ``needs_ack=True``; the GUI asks for an explicit acknowledgement and the visit
  record stores it.
* The ordered dose is never rounded: the vial plan shows what is dispensed and the
  difference, and an optional rounding *option* is shown beside the ordered dose.
* Rates use the dosing weight (never more than the actual weight), and the label row
  chosen by the regimen's indication (or the most conservative row when the label does
  not cover it).
* The ladder stops at the lowest of: label maximum, the indication's own ceiling
  (``regimens.toml [[indication_rate_limit]]``: dermatomyositis 4 mg/kg/min with every product),
  at-risk ceiling, prescriber's cap and the pump/record maximum in ``limits.toml [pump]`` (the
  flowsheet validates against the same value, so it accepts every rate proposed here). A first
  infusion starts at the initial rate and climbs the label ladder as tolerated (no hold); a day
  longer than ``limits.toml [visit]`` warns with its duration.
* An ordered course other than the regimen's usual one names both figures (g/kg per course and
  per day) and one equal to the regimen's per-day dose says it looks like the per-day dose; a
  product's own day split (``[[regimen.product_days]]``) sets its default days and is checked.
* The order floor (``limits.toml [order_dose_floor]``) refuses at every entry point; a number no
  check can use (1e308, 10**20 days) is refused in one line.
* The label's population per product row (``min_age_years``) warns for a younger patient.
* A course divided over other days than the regimen's label/guideline days is not refused
  (the prescriber's order wins, and e.g. EU product information allows ITP 0.8 to 1 g/kg on
  one day) but needs an acknowledgement whose text names the regimen's days.
* The product's contraindications come first among the warnings: each must be acknowledged
  before the order or the calculation is used.
* Age (when known): child vs adult single-day courses, the over-65 renal prompt, and the
  fluid load in mL/kg for small patients.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field, replace
from typing import Any, overload

from nurse_app.core.age_rules import over_renal_risk_age
from nurse_app.core.catalogue import (
    CONFIRM_WITH_INSERT,
    Catalogue,
    Limits,
    Product,
    Range,
    RateRow,
    Regimen,
    load_catalogue,
)
from nurse_app.core.errors import HardLimitError, InputError
from nurse_app.core.formatting import fmt_as_entered, fmt_count, fmt_minutes, fmt_number, fmt_qty
from nurse_app.core.rates import RateStep, build_schedule, infusion_minutes, ml_per_hour
from nurse_app.core.vials import VialPlan, plan_vials
from nurse_app.core.weights import DosingWeight, choose_dosing_weight

RISKS = ("renal", "thrombosis", "first-infusion")


@dataclass(frozen=True)
class DoseRequest:
    product_id: str
    weight_kg: float
    height_cm: float | None = None
    sex: str | None = None
    regimen_id: str | None = None
    dose_g_per_kg: float | None = None  # per course; overrides the regimen's usual dose
    days: int | None = None  # overrides the regimen's usual days
    indication: str | None = None  # used when no regimen is given
    weight_basis: str = "auto"
    max_rate_mg_kg_min: float | None = None
    risks: frozenset[str] = frozenset()
    offer_vial_rounding: bool = True
    # The weight the order was written for (see visit_logic.baseline_weight): a change of
    # limits.weight_change_notify_percent or more warns "tell the prescriber".  Never changes the dose.
    baseline_weight_kg: float | None = None
    baseline_weighed_on: str | None = None  # ISO date, shown in the warning
    # Age in years (from the date of birth): child vs adult limits, over-65 renal prompt,
    # fluid load in small patients.  None: unknown (the age rules are not applied).
    age_years: float | None = None


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    needs_ack: bool = True


@dataclass(frozen=True)
class DoseResult:
    request: DoseRequest
    product: Product
    regimen: Regimen | None
    indication: str | None
    rate_row: RateRow
    rate_row_on_label: bool
    weight: DosingWeight
    dose_g_per_kg: float
    days: int
    total_dose_g: float
    daily_dose_g: float
    daily_volume_ml: float
    vial_plan: VialPlan | None
    rounding_option: VialPlan | None
    rate_ceiling_mg_kg_min: float
    rate_ceiling_reason: str
    rate_steps: tuple[RateStep, ...]
    infusion_minutes_per_day: float
    warnings: tuple[Warning, ...]
    notes: tuple[str, ...]
    formulas: tuple[str, ...] = field(default=())
    pump_max_ml_per_h: float | None = None
    # The disease's own rate ceiling (regimens.toml [[indication_rate_limit]]), whatever the product.
    indication_max_mg_kg_min: float | None = None
    indication_max_reason: str = ""

    @property
    def course_and_daily_text(self) -> str:
        """``2 g/kg per course = 0.4 g/kg per day × 5 days``: both figures side by side."""
        return course_and_daily_text(self.dose_g_per_kg, self.days)

    def in_label_unit(self, mg_per_kg_min: float) -> float:
        """A rate in the unit the label prints (mg/kg/min, mL/kg/min or mL/kg/h)."""
        unit = self.rate_row.label_unit
        conc = self.product.concentration_mg_per_ml
        if unit == "mL/kg/min":
            return mg_per_kg_min / conc
        if unit == "mL/kg/h":
            return mg_per_kg_min * 60 / conc
        return mg_per_kg_min

    @property
    def label_max_mg_kg_min(self) -> float:
        """The label's maximum for this row, lowered by the label's at-risk ceiling when it applies."""
        top = self.rate_row.max_mg_kg_min
        if {"renal", "thrombosis"} & set(
            self.request.risks
        ) and self.product.at_risk_max_mg_kg_min is not None:
            top = min(top, self.product.at_risk_max_mg_kg_min)
        return top

    @property
    def rates_verified(self) -> bool:
        return self.rate_row.verified

    def to_dict(self) -> dict[str, Any]:
        """JSON-able snapshot (numbers unrounded) used by ``calc --json`` and visit records."""
        w = self.weight
        plan = self.vial_plan
        return {
            "product": self.product.id,
            "product_brand": self.product.brand,
            "concentration_percent": self.product.concentration_percent,
            "regimen": self.regimen.id if self.regimen else None,
            "indication": self.indication,
            "dose_g_per_kg": self.dose_g_per_kg,
            "daily_dose_g_per_kg": self.dose_g_per_kg / self.days,
            "course_and_daily": self.course_and_daily_text,
            "days": self.days,
            "actual_weight_kg": w.actual_kg,
            "height_cm": w.height_cm,
            "sex": w.sex,
            "bmi": w.bmi,
            "baseline_weight_kg": self.request.baseline_weight_kg,
            "baseline_weighed_on": self.request.baseline_weighed_on,
            "weight_change_percent": weight_change_percent(w.actual_kg, self.request.baseline_weight_kg),
            "ideal_weight_kg": w.ideal_kg,
            "adjusted_weight_kg": w.adjusted_kg,
            "requested_weight_basis": w.requested_basis,
            "weight_basis": w.basis,
            "weight_basis_reason": w.reason,
            "dosing_weight_kg": w.dosing_kg,
            "rate_weight_kg": w.dosing_kg,
            "total_dose_g": self.total_dose_g,
            "daily_dose_g": self.daily_dose_g,
            "daily_volume_ml": self.daily_volume_ml,
            "vials": [
                {"size_g": v.grams, "size_ml": v.ml, "count": n, "verified": v.verified}
                for v, n in plan.counts
            ]
            if plan
            else [],
            "dispensed_g_per_day": plan.dispensed_g if plan else None,
            "dispensed_difference_g_per_day": plan.difference_g if plan else None,
            "vial_sizes_verified": self.product.vials_verified,
            "rounding_option_g_per_day": self.rounding_option.dispensed_g if self.rounding_option else None,
            "rate_row_indications": list(self.rate_row.indications),
            "rate_row_on_label": self.rate_row_on_label,
            "rates_verified": self.rate_row.verified,
            "rate_ceiling_mg_per_kg_min": self.rate_ceiling_mg_kg_min,
            "rate_ceiling_reason": self.rate_ceiling_reason,
            # The hard limits a recorded rate is checked against (core.infusion_record.hard_limit).
            "label_max_mg_per_kg_min": self.label_max_mg_kg_min,
            "indication_max_mg_per_kg_min": self.indication_max_mg_kg_min,
            "indication_max_reason": self.indication_max_reason or None,
            "order_max_rate_mg_per_kg_min": self.request.max_rate_mg_kg_min,
            "rate_steps": [
                {
                    "start_min": s.start_min,
                    "mg_per_kg_min": s.mg_per_kg_min,
                    "ml_per_kg_min": s.ml_per_kg_min,
                    "ml_per_h": s.ml_per_h,
                    "label_unit_value": self.in_label_unit(s.mg_per_kg_min),
                }
                for s in self.rate_steps
            ],
            "infusion_minutes_per_day": self.infusion_minutes_per_day,
            "risks": sorted(self.request.risks),
            "age_years": self.request.age_years,
            "label_rate_text": self.rate_row.label_text,
            "label_rate_unit": self.rate_row.label_unit,
            "label_rate_initial": self.rate_row.label_initial,
            "label_rate_max": self.rate_row.label_max,
            "pump_max_ml_per_h": self.pump_max_ml_per_h,
            "cautions": [
                {"kind": c.kind, "text": c.text, "sources": list(c.sources), "verified": c.verified}
                for c in self.product.cautions
            ],
            "contraindications": [
                {"kind": c.kind, "text": c.text, "sources": list(c.sources), "verified": c.verified}
                for c in self.product.contraindications
            ],
            "warnings": [x.message for x in self.warnings],
            "warning_details": [
                {"code": x.code, "message": x.message, "needs_acknowledgement": x.needs_ack}
                for x in self.warnings
            ],
            "notes": list(self.notes),
            "formulas": list(self.formulas),
        }


def course_and_daily_text(dose_g_per_kg: float, days: int) -> str:
    """The one way a course is named next to its daily share (order form, Dose tab, calculator, calc):
    ``2 g/kg per course = 0.4 g/kg per day × 5 days``."""
    per_day = f"{fmt_qty(dose_g_per_kg / days, 'g/kg')} per day × {fmt_count(days, 'day')}"
    return f"{fmt_qty(dose_g_per_kg, 'g/kg')} per course = {per_day}"


# Larger than any clinical figure: a typed number this big is a slip, refused before any arithmetic.
_PLAUSIBLE_MAX = 1e9


def _check_plausible(value: float | None, label: str, unit: str, field_name: str) -> None:
    """One clear line for a number no check can use (infinite, NaN, 1e308, 10**20 days)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{label} {value!r} is not a number.", field=field_name)
    if not math.isfinite(value) or abs(value) >= _PLAUSIBLE_MAX:
        raise HardLimitError(
            f"{label} {fmt_as_entered(value, unit)} is not a plausible value: check the number and its unit.",
            field=field_name,
        )


def age_in_years(born: _dt.date, on: _dt.date) -> float:
    """Age on ``on``: completed years plus the fraction of the current year (18 on the 18th birthday)."""
    if born > on:
        raise InputError(f"Date of birth {born.isoformat()} is after {on.isoformat()}.", field="dob")

    def birthday(year: int) -> _dt.date:
        try:
            return born.replace(year=year)
        except ValueError:  # 29 February in a common year
            return _dt.date(year, 3, 1)

    years = on.year - born.year - (1 if birthday(on.year) > on else 0)
    last = birthday(born.year + years)
    following = birthday(born.year + years + 1)
    return years + (on - last).days / (following - last).days


# --------------------------------------------------------------------------- checks


def _check_range(
    value: float, rng: Range, what: str, unit: str, field_name: str, warnings: list[Warning], code: str
) -> None:
    shown = fmt_as_entered(value, unit)
    if rng.hard_min is not None and value < rng.hard_min:
        raise HardLimitError(
            f"{what} {shown} is below the lowest value the calculator accepts "
            f"({fmt_qty(rng.hard_min, unit)}). Check the number and its unit.",
            field=field_name,
        )
    if rng.hard_max is not None and value > rng.hard_max:
        raise HardLimitError(
            f"{what} {shown} is above the highest value the calculator accepts "
            f"({fmt_qty(rng.hard_max, unit)}). Check the number and its unit.",
            field=field_name,
        )
    if rng.soft_min is not None and value < rng.soft_min:
        warnings.append(
            Warning(
                code,
                f"{what} {shown} is unusually low (below {fmt_qty(rng.soft_min, unit)}): "
                f"confirm it is right.",
            )
        )
    if rng.soft_max is not None and value > rng.soft_max:
        warnings.append(
            Warning(
                code,
                f"{what} {shown} is unusually high (above {fmt_qty(rng.soft_max, unit)}): "
                f"confirm it is right.",
            )
        )


@overload
def weight_change_percent(weight_kg: float, baseline_kg: float) -> float: ...
@overload
def weight_change_percent(weight_kg: float, baseline_kg: None) -> None: ...
def weight_change_percent(weight_kg: float, baseline_kg: float | None) -> float | None:
    """Change from the baseline weight in percent (unrounded; None without a baseline)."""
    if baseline_kg is None:
        return None
    return (weight_kg - baseline_kg) / baseline_kg * 100


def _check_weight_change(req: DoseRequest, lim: Limits, warnings: list[Warning]) -> None:
    if req.baseline_weight_kg is None:
        return
    if not math.isfinite(req.baseline_weight_kg):
        raise InputError("Baseline weight is not a number.", field="baseline_weight")
    # The same hard limits as today's weight; its soft limits were checked when it was recorded.
    _check_range(
        req.baseline_weight_kg,
        replace(lim.weight_kg, soft_min=None, soft_max=None),
        "Baseline weight",
        "kg",
        "baseline_weight",
        warnings,
        "baseline-weight",
    )
    notify_percent = lim.weight_change_notify_percent
    change = weight_change_percent(req.weight_kg, req.baseline_weight_kg)
    # Compare on the shown figure (1 decimal) so the warning never says "9.96 % ... 10 % or more".
    if round(abs(change), 1) < notify_percent:
        return
    when = f" (weighed {req.baseline_weighed_on})" if req.baseline_weighed_on else ""
    direction = "more" if change > 0 else "less"
    warnings.append(
        Warning(
            "weight-change",
            f"Weight {fmt_qty(req.weight_kg, 'kg')} is {fmt_qty(abs(change), '%', 1)} {direction} than the "
            f"baseline {fmt_qty(req.baseline_weight_kg, 'kg')}{when}. Tell the prescriber: the dose is "
            f"weight-based and a change of {fmt_qty(notify_percent, '%')} or more may need a new order. "
            f"The ordered dose is not changed here.",
        )
    )


def _resolve_course(
    req: DoseRequest, cat: Catalogue, regimen: Regimen | None, warnings: list[Warning], notes: list[str]
) -> tuple[float, int]:
    """The course (g/kg, days), checked: hard limits and the order floor refuse; a dose or a
    day split other than the regimen's (or the product's own split) warns and needs acknowledgement."""
    dose = (
        req.dose_g_per_kg if req.dose_g_per_kg is not None else (regimen.course_g_per_kg if regimen else None)
    )
    if dose is None:
        if regimen is not None and regimen.dose_range_g_per_kg is not None:
            lo, hi = regimen.dose_range_g_per_kg
            raise InputError(
                f"Regimen {regimen.id!r} has no fixed dose (usual range {fmt_number(lo)} to "
                f"{fmt_qty(hi, 'g/kg')}): enter the ordered dose in g/kg.",
                field="dose",
            )
        raise InputError("Enter a regimen, or the ordered dose in g/kg and the number of days.", field="dose")
    if dose <= 0:
        raise InputError("The dose must be more than 0 g/kg.", field="dose")
    floor = cat.limits.order_dose_floor_g_per_kg
    if floor is not None and dose < floor:
        raise HardLimitError(
            f"A course dose of {fmt_as_entered(dose, 'g/kg')} is below {fmt_qty(floor, 'g/kg')}, the smallest "
            f"order accepted ({cat.limits.order_dose_floor_basis}): check for a typing mistake.",
            field="dose",
        )
    split = regimen.days_for(req.product_id) if regimen is not None else None
    usual_days = regimen.usual_days(req.product_id) if regimen is not None else None
    days = req.days if req.days is not None else usual_days
    if days is None:
        raise InputError("Enter the number of days the course is divided over.", field="days")
    if int(days) != days:
        raise InputError(f"Days must be a whole number, not {fmt_number(days)}.", field="days")
    days = int(days)
    lim = cat.limits
    _check_range(days, lim.days, "A course divided over", "days", "days", warnings, "days")
    _check_range(dose, lim.course_dose_g_per_kg, "Course dose", "g/kg", "dose", warnings, "course-dose")
    _check_daily_dose(req, dose, days, regimen, lim, warnings, notes)
    if regimen is not None:
        _check_regimen_dose(regimen, regimen.usual_days(req.product_id), dose, days, warnings)
        if split is not None:
            if not split.days_min <= days <= split.days_max:
                span = (
                    f"exactly {fmt_count(split.days_min, 'day')}"
                    if split.days_min == split.days_max
                    else f"{split.days_min} to {split.days_max} days"
                )
                warnings.append(
                    Warning(
                        "product-days",
                        f"The order divides the course over {fmt_count(days, 'day')}, but {split.note} "
                        f"({span}) [{', '.join(split.sources)}]. Over {fmt_count(days, 'day')} each day is "
                        f"{fmt_qty(dose / days, 'g/kg/day')}. Confirm the number of days with the prescriber "
                        f"before giving; acknowledge only once the prescriber has confirmed it.",
                    )
                )
            elif req.days is None and split.days != regimen.days:
                notes.append(
                    f"{split.note} [{', '.join(split.sources)}]: the course is divided over "
                    f"{fmt_count(split.days, 'day')} for this product."
                )
        elif not regimen.days_min <= days <= regimen.days_max:
            span = (
                f"exactly {fmt_count(regimen.days_min, 'day')}"
                if regimen.days_min == regimen.days_max
                else f"{regimen.days_min} to {regimen.days_max} days"
            )
            how = regimen.days_note or f"over {span}"
            warnings.append(
                Warning(
                    "regimen-days",
                    f"The order divides the course over {fmt_count(days, 'day')}, but {regimen.name.split(':')[0]} "
                    f"is given as {how} ({span}). Over {fmt_count(days, 'day')} each day is "
                    f"{fmt_qty(dose / days, 'g/kg/day')}. Confirm the number of days with the prescriber "
                    f"before giving; acknowledge only once the prescriber has confirmed it.",
                )
            )
    return dose, days


def _check_regimen_dose(
    regimen: Regimen, usual_days_n: int, dose: float, days: int, warnings: list[Warning]
) -> None:
    """An ordered g/kg other than the regimen's usual course names both figures; an entry equal
    to the regimen's per-day dose (over its usual days, or the product's own split) says it looks
    like the per-day dose (the field is per course)."""
    title = regimen.name.split(":")[0]
    usual_days = fmt_count(usual_days_n, "day")
    entered = f"you entered {course_and_daily_text(dose, days)}"
    rng = regimen.dose_range_g_per_kg
    course = regimen.course_g_per_kg
    if rng is not None:
        outside = not rng[0] <= dose <= rng[1]
        usual = f"{fmt_number(rng[0])} to {fmt_qty(rng[1], 'g/kg')} per course over {usual_days}"
    else:
        assert course is not None, "the model requires a course dose or a range"
        outside = not math.isclose(dose, course, rel_tol=1e-9)
        usual = course_and_daily_text(course, usual_days_n)
    per_days = {course / n for n in {regimen.days, usual_days_n} if n > 1} if course is not None else set()
    looks_per_day = any(math.isclose(dose, per_day, rel_tol=1e-9) for per_day in per_days)
    if not outside and not looks_per_day:
        return
    message = f"Usual course for {title}: {usual}; {entered}."
    if looks_per_day:
        message += (
            f" {fmt_qty(dose, 'g/kg')} is the regimen's per-day dose: it looks like the per-day dose typed "
            f"as the course dose (the field is g/kg per course; the course is {fmt_qty(course or 0, 'g/kg')})."
        )
    message += " Confirm the dose with the prescriber before giving."
    warnings.append(Warning("regimen-dose", message))


def _is_child(req: DoseRequest, lim: Limits) -> bool | None:
    """True/False when the age is known, None when it is not."""
    if req.age_years is None or lim.age is None:
        return None
    return req.age_years < lim.age.adult_years


def _check_daily_dose(
    req: DoseRequest,
    dose: float,
    days: int,
    regimen: Regimen | None,
    lim: Limits,
    warnings: list[Warning],
    notes: list[str],
) -> None:
    """Hard and soft limits on g/kg/day, with the child/adult rules.

    Only Kawasaki disease (a childhood regimen) has a sourced 2 g/kg single-day course: a child
    on it gets no "unusually high" warning; an adult on a 1-day course above the soft limit is
    questioned by name (needs acknowledgement).
    """
    daily = dose / days
    rng = lim.daily_dose_g_per_kg
    child = _is_child(req, lim)  # True/False only when the age is known
    age, soft_max = req.age_years, rng.soft_max
    soft_exceeded = soft_max is not None and daily > soft_max
    if (
        child is True
        and age is not None
        and regimen is not None
        and regimen.population == "children"
        and soft_exceeded
    ):
        _check_range(
            daily, replace(rng, soft_max=None), "Daily dose", "g/kg/day", "dose", warnings, "daily-dose"
        )
        notes.append(
            f"{regimen.name.split(':')[0]}: {fmt_qty(daily, 'g/kg/day')} in one day is the sourced "
            f"regimen for a child (age {fmt_qty(age, 'years', 1)})."
        )
        return
    if child is False and age is not None and days == 1 and soft_max is not None and daily > soft_max:
        _check_range(
            daily, replace(rng, soft_max=None), "Daily dose", "g/kg/day", "dose", warnings, "daily-dose"
        )
        warnings.append(
            Warning(
                "adult-single-day",
                f"Adult patient (age {fmt_qty(age, 'years', 1)}) on a 1-day course of "
                f"{fmt_qty(daily, 'g/kg')}: the only sourced single-day course above "
                f"{fmt_qty(soft_max, 'g/kg/day')} is Kawasaki disease in children. Adult courses of this size "
                f"are divided over 2 to 5 days. Confirm the order with the prescriber.",
            )
        )
        return
    _check_range(daily, rng, "Daily dose", "g/kg/day", "dose", warnings, "daily-dose")


def _rate_ceiling(
    req: DoseRequest,
    product: Product,
    row: RateRow,
    cat: Catalogue,
    indication: str | None,
    warnings: list[Warning],
    notes: list[str],
) -> tuple[float, str]:
    ceiling = row.max_mg_kg_min
    reason = f"label maximum, {'/'.join(row.indications).upper()} row"
    disease = cat.indication_rate_limits.get(indication) if indication else None
    if disease is not None:
        name = cat.indications.get(disease.indication, disease.indication)
        why = f"{name}: never above {fmt_qty(disease.max_mg_kg_min, 'mg/kg/min')} with any product"
        full = f"{why}; {disease.reason} [{', '.join(disease.sources)}]."
        if disease.max_mg_kg_min < ceiling:
            # The product's own row would allow more: the disease's limit wins, and the nurse reads why.
            warnings.append(
                Warning(
                    "indication-rate-limit",
                    f"{product.brand}'s label row allows up to {fmt_qty(ceiling, 'mg/kg/min')}, but {full} "
                    f"The ladder stops at {fmt_qty(disease.max_mg_kg_min, 'mg/kg/min')}.",
                )
            )
            ceiling, reason = (
                disease.max_mg_kg_min,
                f"{name} maximum with any product, {disease.short_reason}",
            )
        else:
            notes.append(full)
    at_risk = {"renal", "thrombosis"} & set(req.risks)
    if at_risk:
        risk_text = " and ".join(sorted(at_risk))
        if product.at_risk_max_mg_kg_min is not None:
            if product.at_risk_max_mg_kg_min < ceiling:
                ceiling = product.at_risk_max_mg_kg_min
                reason = f"label ceiling for patients at {risk_text} risk"
            notes.append(
                f"{product.brand} label: in patients at {risk_text} risk do not exceed "
                f"{fmt_qty(product.at_risk_max_mg_kg_min, 'mg/kg/min')}."
            )
        else:
            warnings.append(
                Warning(
                    "at-risk-no-ceiling",
                    f"Patient at {risk_text} risk: the {product.brand} label gives no numeric rate "
                    f"ceiling; it asks for the minimum dose and rate practicable. Keep the rate as "
                    f"low as the order allows and make sure the patient is well hydrated.",
                )
            )
    if req.max_rate_mg_kg_min is not None:
        cap = req.max_rate_mg_kg_min
        _check_range(
            cap,
            cat.limits.user_max_rate_mg_kg_min,
            "Maximum rate",
            "mg/kg/min",
            "max_rate",
            warnings,
            "user-max-rate",
        )
        if cap < ceiling:
            ceiling, reason = cap, "maximum rate entered (order)"
            if cap < row.initial_mg_kg_min:
                warnings.append(
                    Warning(
                        "user-cap-below-initial",
                        f"The maximum rate entered ({fmt_qty(cap, 'mg/kg/min')}) is below the "
                        f"label's initial rate ({fmt_qty(row.initial_mg_kg_min, 'mg/kg/min')}): "
                        f"the whole infusion runs at {fmt_qty(cap, 'mg/kg/min')}.",
                    )
                )
        elif cap > ceiling:
            warnings.append(
                Warning(
                    "user-cap-above-label",
                    f"The maximum rate entered ({fmt_qty(cap, 'mg/kg/min')}) is above the "
                    f"{reason} ({fmt_qty(ceiling, 'mg/kg/min')}); the lower value is used.",
                )
            )
    return ceiling, reason


CONTRAINDICATION_CODE = "contraindication-"
CONTRAINDICATION_ACK = "Checked: not present"


def ack_label(warning: Warning) -> str:
    """What ticking the box means: a contraindication is screened for, a warning acknowledged."""
    return CONTRAINDICATION_ACK if warning.code.startswith(CONTRAINDICATION_CODE) else "Acknowledged"


def _contraindication_warnings(product: Product) -> list[Warning]:
    """Each contraindication is a warning to acknowledge before the order or calculation is used."""
    result = []
    for c in product.contraindications:
        mark = "" if c.verified else f" ({CONFIRM_WITH_INSERT})"
        result.append(
            Warning(
                f"{CONTRAINDICATION_CODE}{c.kind}",
                f"Contraindication ({product.brand}): {c.text}{mark} Confirm the patient does not "
                f"have this before the order is accepted.",
            )
        )
    return result


def _check_age(req: DoseRequest, regimen: Regimen | None, lim: Limits, warnings: list[Warning]) -> None:
    if req.age_years is None or lim.age is None:
        return
    age_text = fmt_qty(req.age_years, "years", 1)
    if regimen is not None and regimen.population == "children" and req.age_years >= lim.age.adult_years:
        warnings.append(
            Warning(
                "paediatric-regimen",
                f"{regimen.name.split(':')[0]} is a childhood regimen; this patient is {age_text} old. "
                f"Confirm the regimen with the prescriber.",
            )
        )
    if over_renal_risk_age(req.age_years, lim.age) and "renal" not in req.risks:
        warnings.append(
            Warning(
                "age-renal-risk",
                f"Age {age_text} is over {fmt_qty(lim.age.renal_risk_over_years, 'years')}, a risk factor for kidney "
                f"failure and thrombosis in the IVIG boxed warning. Tick the renal risk flag if it applies, use the "
                f"minimum dose and rate practicable and make sure the patient is well hydrated.",
            )
        )


def _check_label_population(
    req: DoseRequest,
    product: Product,
    row: RateRow,
    on_label: bool,
    cat: Catalogue,
    indication: str | None,
    warnings: list[Warning],
    notes: list[str],
) -> None:
    """The label's population for this product and indication (Asceniv PI: 12 years and over)."""
    if not on_label or row.min_age_years is None:
        return
    what = cat.indications.get(indication, indication) if indication else "this indication"
    population = (
        f"{product.brand} is labelled for {what} in {row.population} [{', '.join(row.population_sources)}]"
    )
    if req.age_years is None:
        notes.append(f"{population}: enter the age or date of birth to check it.")
        return
    if req.age_years < row.min_age_years:
        warnings.append(
            Warning(
                "label-age",
                f"{population}; this patient is {fmt_qty(req.age_years, 'years', 1)} old, outside the label's "
                f"population. Confirm the product with the prescriber before giving.",
            )
        )


def _check_visit_length(minutes: float, lim: Limits, warnings: list[Warning]) -> None:
    """A day's plan longer than the agency's longest visit warns with its duration."""
    if lim.visit_max_hours is None or minutes <= lim.visit_max_hours * 60:
        return
    warnings.append(
        Warning(
            "visit-length",
            f"This plan takes {fmt_minutes(minutes)} per day at the proposed rates, longer than the longest "
            f"home visit of {fmt_qty(lim.visit_max_hours, 'h')} ({lim.visit_basis}). Plan the visit with the "
            f"agency and the prescriber before starting.",
        )
    )


def _check_fluid_load(req: DoseRequest, volume_ml: float, lim: Limits, warnings: list[Warning]) -> None:
    fl = lim.fluid_load
    if fl is None:
        return
    small = req.weight_kg <= fl.applies_up_to_kg or _is_child(req, lim) is True
    per_kg = volume_ml / req.weight_kg
    if small and per_kg > fl.soft_max_ml_per_kg_day:
        warnings.append(
            Warning(
                "fluid-load",
                f"Fluid load: {fmt_qty(volume_ml, 'mL')} in one day is {fmt_qty(per_kg, 'mL/kg', 1)} for "
                f"{fmt_qty(req.weight_kg, 'kg')}, above {fmt_qty(fl.soft_max_ml_per_kg_day, 'mL/kg')} "
                f"(local policy default — confirm with your agency). Watch for volume overload (breathlessness, "
                f"raised blood pressure, swelling) and confirm the volume with the prescriber.",
            )
        )


def _first_infusion(
    req: DoseRequest,
    product: Product,
    row: RateRow,
    weight_kg: float,
    lim: Limits,
    ceiling: float,
    reason: str,
    notes: list[str],
) -> tuple[float, str]:
    """First infusion or brand switch: the ladder starts at the label's initial rate and climbs the
    label ladder only as tolerated (restart *at* the lowest rate, not stay there), following the
    label's own first-infusion schedule where it gives one; a label's own first-infusion ceiling
    (``first_infusion_max``) caps it."""
    if "first-infusion" not in req.risks:
        return ceiling, reason
    cap = row.first_infusion_max_mg_kg_min
    if cap is not None and cap < ceiling:
        ceiling, reason = cap, "first infusion or brand switch: the label's first-infusion maximum"
    mlh = ml_per_hour(row.initial_mg_kg_min, weight_kg, product.concentration_mg_per_ml)
    label = (
        f" {row.first_infusion_note} [{', '.join(row.first_infusion_sources)}]"
        if row.first_infusion_note
        else f" {product.brand}: the label gives no separate first-infusion schedule; its ladder applies."
    )
    notes.append(
        f"First infusion or brand switch: start at the initial rate {fmt_qty(row.initial_mg_kg_min, 'mg/kg/min')} "
        f"({fmt_qty(min(mlh, lim.pump_max_ml_per_h), 'mL/h')}) and go up each step only if the patient "
        f"tolerates it.{label} {lim.first_infusion_policy_note}"
    )
    return ceiling, reason


def _pump_cap(
    product: Product,
    row: RateRow,
    weight_kg: float,
    lim: Limits,
    ceiling: float,
    reason: str,
    notes: list[str],
) -> tuple[float, str]:
    """One limit, one source: no step above the pump/record maximum (limits.toml [pump])."""
    pump = lim.pump_max_ml_per_h
    top_mlh = ml_per_hour(ceiling, weight_kg, product.concentration_mg_per_ml)
    if top_mlh <= pump:
        return ceiling, reason
    cap = pump * product.concentration_mg_per_ml / (weight_kg * 60)
    notes.append(
        f"{fmt_qty(ceiling, 'mg/kg/min')} ({reason}) would be {fmt_qty(top_mlh, 'mL/h')} for "
        f"{fmt_qty(weight_kg, 'kg')}, above the pump and record maximum of {fmt_qty(pump, 'mL/h')}: the "
        f"ladder stops at {fmt_qty(pump, 'mL/h')} ({fmt_qty(cap, 'mg/kg/min')}). {lim.pump_note}"
    )
    return cap, f"pump and record maximum {fmt_qty(pump, 'mL/h')}"


def _titration_note(row: RateRow, lim: Limits, notes: list[str]) -> None:
    """Say which parts of the ladder are the label's and which are local policy, with the
    interval the ladder actually uses."""
    policy = fmt_qty(lim.titration_step_minutes, "min")
    if row.steps_mg_kg_min is None and row.increment_mg_kg_min is None:
        if row.step_minutes is not None:
            every = (
                f"every {fmt_qty(row.step_minutes, 'min')} (the label's step interval; doubling is a "
                f"local policy default)"
            )
        else:
            every = f"every {policy} (doubling and interval are local policy defaults)"
        notes.append(
            f"The label gives no step ladder ('increase as tolerated'): the proposed steps double the "
            f"rate {every}. Follow the order."
        )
    elif row.initial_minutes is None or row.step_minutes is None:
        notes.append(
            f"The label does not state the step timing: {policy} between steps is a local policy "
            f"default. Follow the order."
        )


def _check_duration(
    regimen: Regimen,
    product: Product,
    weight_kg: float,
    volume_ml: float,
    minutes: float,
    warnings: list[Warning],
    notes: list[str],
) -> None:
    """A regimen with a stated infusion time (Kawasaki: over 10 to 12 h) warns when the ladder
    would run the volume faster, and gives the rate that meets the stated time."""
    if regimen.infusion_hours is None:
        return
    lo, hi = regimen.infusion_hours
    fast, slow = volume_ml / lo, volume_ml / hi
    conc = product.concentration_mg_per_ml

    def mg(mlh: float) -> str:
        return fmt_qty(mlh * conc / (weight_kg * 60), "mg/kg/min")

    stated = f"over {fmt_number(lo)} to {fmt_qty(hi, 'h')}"
    sources = f" [{', '.join(regimen.infusion_hours_sources)}]" if regimen.infusion_hours_sources else ""
    if minutes < lo * 60:
        warnings.append(
            Warning(
                "infusion-duration",
                f"{regimen.name.split(':')[0]} is given {stated}{sources}, but this ladder would run "
                f"{fmt_qty(volume_ml, 'mL')} in {fmt_minutes(minutes)}. To meet the stated time the average rate is "
                f"{fmt_qty(slow, 'mL/h')} to {fmt_qty(fast, 'mL/h')} ({mg(slow)} to {mg(fast)}). Follow the order.",
            )
        )
    else:
        notes.append(
            f"{regimen.name.split(':')[0]}: {stated} the average rate is {fmt_qty(slow, 'mL/h')} to "
            f"{fmt_qty(fast, 'mL/h')}{sources}."
        )


def calculate(req: DoseRequest, catalogue: Catalogue | None = None) -> DoseResult:
    cat = catalogue or load_catalogue()
    product = cat.product(req.product_id)
    regimen = cat.regimen(req.regimen_id) if req.regimen_id else None
    unknown_risks = set(req.risks) - set(RISKS)
    if unknown_risks:
        raise InputError(
            f"Unknown risk flag(s): {', '.join(sorted(unknown_risks))}. Use {', '.join(RISKS)}.",
            field="risks",
        )
    indication = regimen.indication if regimen else req.indication
    if indication is not None and indication not in cat.indications:
        raise InputError(
            f"Unknown indication {indication!r}. Known: {', '.join(sorted(cat.indications))}.",
            field="indication",
        )

    warnings: list[Warning] = []
    notes: list[str] = []
    lim = cat.limits
    _check_plausible(req.weight_kg, "Weight", "kg", "weight")
    _check_plausible(req.height_cm, "Height", "cm", "height")
    _check_plausible(req.dose_g_per_kg, "Dose", "g/kg", "dose")
    _check_plausible(req.days, "A course over", "days", "days")
    _check_plausible(req.max_rate_mg_kg_min, "Maximum rate", "mg/kg/min", "max_rate")
    _check_plausible(req.baseline_weight_kg, "Baseline weight", "kg", "baseline_weight")
    if req.age_years is not None and (
        isinstance(req.age_years, bool)
        or not isinstance(req.age_years, (int, float))
        or not math.isfinite(req.age_years)
        or not 0 <= req.age_years <= 130
    ):
        raise InputError(
            f"Age {req.age_years!r} is not possible: enter an age from 0 to 130 years.", field="age"
        )
    # A known child is not "unusually light" below the adult plausibility range (hard limits still apply).
    weight_range = replace(lim.weight_kg, soft_min=None) if _is_child(req, lim) else lim.weight_kg
    _check_range(req.weight_kg, weight_range, "Weight", "kg", "weight", warnings, "weight")
    _check_weight_change(req, lim, warnings)
    if req.height_cm is not None:
        _check_range(req.height_cm, lim.height_cm, "Height", "cm", "height", warnings, "height")
    weight = choose_dosing_weight(
        req.weight_kg, req.height_cm, req.sex, req.weight_basis, lim.dosing_weight, indication
    )
    notes.extend(weight.notes)
    dose, days = _resolve_course(req, cat, regimen, warnings, notes)
    _check_age(req, regimen, lim, warnings)

    total = dose * weight.dosing_kg
    daily = total / days
    volume = daily * 1000 / product.concentration_mg_per_ml
    _check_fluid_load(req, volume, lim, warnings)

    # Vials.
    plan, option = plan_vials(
        daily, product.vials, lim.vial_rounding_tolerance_percent if req.offer_vial_rounding else None
    )
    if plan is None:
        warnings.append(
            Warning(
                "no-vial-sizes",
                f"{product.brand}: vial sizes are not confirmed in the catalogue "
                f"({CONFIRM_WITH_INSERT}). No vial plan is proposed.",
            )
        )
    elif not plan.verified:
        warnings.append(
            Warning(
                "vials-unverified",
                f"{product.brand}: the vial sizes used in the plan are not "
                f"confirmed for the US ({CONFIRM_WITH_INSERT}).",
            )
        )
    if option is not None:
        dev = (option.dispensed_g - daily) / daily * 100
        notes.append(
            f"Rounding option (not applied): {fmt_qty(option.dispensed_g, 'g')} per day in whole vials, "
            f"{'+' if dev >= 0 else ''}{fmt_number(dev, 1)} % from the ordered "
            f"{fmt_qty(daily, 'g')}. Only the prescriber can change the ordered dose."
        )

    # Rate row and ceiling.
    row, on_label = product.rate_row_for(indication)
    if not on_label:
        what = cat.indications.get(indication, indication) if indication else None
        if what:
            warnings.append(
                Warning(
                    "off-label-rates",
                    f"{product.brand} has no label rates for {what} (off-label use): using its most "
                    f"conservative labelled rates ({', '.join(row.indications).upper()} row).",
                )
            )
        else:
            warnings.append(
                Warning(
                    "no-indication",
                    f"No indication given: using the lowest labelled maximum rate of {product.brand} "
                    f"({', '.join(row.indications).upper()} row).",
                )
            )
    _check_label_population(req, product, row, on_label, cat, indication, warnings, notes)
    if not row.verified:
        warnings.append(
            Warning(
                "rates-unverified",
                f"{product.brand} infusion rates are not confirmed against the "
                f"label ({CONFIRM_WITH_INSERT}).",
            )
        )
    ceiling, ceiling_reason = _rate_ceiling(req, product, row, cat, indication, warnings, notes)
    disease = cat.indication_rate_limits.get(indication) if indication else None
    ceiling, ceiling_reason = _first_infusion(
        req, product, row, weight.dosing_kg, lim, ceiling, ceiling_reason, notes
    )
    ceiling, ceiling_reason = _pump_cap(product, row, weight.dosing_kg, lim, ceiling, ceiling_reason, notes)
    steps = build_schedule(
        row,
        ceiling,
        weight.dosing_kg,
        product.concentration_mg_per_ml,
        lim.titration_method,
        lim.titration_step_minutes,
    )
    # A step capped at the pump/record maximum runs at exactly that rate (never 1,000.0000001 or
    # 999.9999999 mL/h by float error).
    steps = [
        replace(s, ml_per_h=lim.pump_max_ml_per_h)
        if math.isclose(s.ml_per_h, lim.pump_max_ml_per_h, rel_tol=1e-9) or s.ml_per_h > lim.pump_max_ml_per_h
        else s
        for s in steps
    ]
    if len(steps) > 1:
        _titration_note(row, lim, notes)
    minutes = infusion_minutes(steps, volume)
    _check_visit_length(minutes, lim, warnings)
    if regimen is not None and regimen.infusion_hours is not None:
        _check_duration(regimen, product, weight.dosing_kg, volume, minutes, warnings, notes)
    if weight.dosing_kg != weight.actual_kg:
        notes.append(f"Rates use the dosing weight ({fmt_qty(weight.dosing_kg, 'kg')}).")
    if regimen is not None and regimen.label_status == "off-label":
        notes.append(
            f"IVIG for {cat.indications[regimen.indication]} is off-label for the US products listed."
        )

    formulas = (
        *weight.formulas,
        f"Total = {fmt_qty(dose, 'g/kg')} × {fmt_qty(weight.dosing_kg, 'kg')} = {fmt_qty(total, 'g')}",
        f"Daily = {fmt_qty(total, 'g')} ÷ {days} = {fmt_qty(daily, 'g')}",
        f"Volume = {fmt_qty(daily, 'g')} ÷ {fmt_qty(product.concentration_percent, '%')} "
        f"({fmt_number(product.concentration_mg_per_ml)} mg/mL) = {fmt_qty(volume, 'mL')}",
        f"mL/h = mg/kg/min × {fmt_qty(weight.dosing_kg, 'kg')} × 60 ÷ "
        f"{fmt_number(product.concentration_mg_per_ml)} mg/mL "
        f"(e.g. {fmt_qty(steps[-1].mg_per_kg_min, 'mg/kg/min')} = "
        f"{fmt_qty(ml_per_hour(steps[-1].mg_per_kg_min, weight.dosing_kg, product.concentration_mg_per_ml), 'mL/h')})",
        f"Estimated time per day on this ladder: {fmt_minutes(minutes)}",
    )
    return DoseResult(
        request=req,
        product=product,
        regimen=regimen,
        indication=indication,
        rate_row=row,
        rate_row_on_label=on_label,
        weight=weight,
        dose_g_per_kg=dose,
        days=days,
        total_dose_g=total,
        daily_dose_g=daily,
        daily_volume_ml=volume,
        vial_plan=plan,
        rounding_option=option,
        rate_ceiling_mg_kg_min=ceiling,
        rate_ceiling_reason=ceiling_reason,
        rate_steps=tuple(steps),
        infusion_minutes_per_day=minutes,
        warnings=tuple(_contraindication_warnings(product) + warnings),
        notes=tuple(notes),
        formulas=formulas,
        pump_max_ml_per_h=lim.pump_max_ml_per_h,
        indication_max_mg_kg_min=disease.max_mg_kg_min if disease else None,
        indication_max_reason=disease.reason if disease else "",
    )


def check_course(
    dose_g_per_kg: float | None,
    days: int | None,
    regimen_id: str | None = None,
    catalogue: Catalogue | None = None,
    product_id: str = "",
) -> tuple[float, int, list[Warning]]:
    """The course an order resolves to (dose in g/kg, days), checked against the same hard
    limits as :func:`calculate` (raises InputError), without needing a weight: used by the
    store so an order saved through any door (form, CLI, demo data) meets them."""
    cat = catalogue or load_catalogue()
    regimen = cat.regimen(regimen_id) if regimen_id else None
    warnings: list[Warning] = []
    request = DoseRequest(
        product_id=product_id, weight_kg=0.0, regimen_id=regimen_id, dose_g_per_kg=dose_g_per_kg, days=days
    )
    _check_plausible(dose_g_per_kg, "Dose", "g/kg", "dose")
    _check_plausible(days, "A course over", "days", "days")
    dose, resolved_days = _resolve_course(request, cat, regimen, warnings, [])
    return dose, resolved_days, warnings
