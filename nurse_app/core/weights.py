"""Dosing weight: actual, ideal (Devine) and adjusted body weight, BMI, and the basis rule.

Rules (constants from ``resources/limits.toml`` [dosing_weight]):

* IBW (Devine) = base + kg_per_inch x (height_in - 60); base 50 kg for men, 45.5 kg for women.
  The formula is only defined from 60 in (152.4 cm): below that, IBW and adjusted
  weight are *not computable* and the patient is dosed on actual weight (Ontario).
* Adjusted = IBW + factor x (actual - IBW), factor 0.4.
* The dose is never based on a weight above the actual weight: when actual < IBW,
  the ideal and adjusted bases both give the actual weight, and the result says so.
* ``auto``: adjusted weight when BMI is over the obesity threshold (Ontario: BMI > 30),
  otherwise actual weight; the reason is returned with the choice.  The BMI is compared
  as shown (one decimal, half up): BMI 30.0 is not over 30.  Indications listed in
  ``actual_weight_indications`` (primary/secondary immunodeficiency: dose titrated to IgG
  trough levels) use actual weight in ``auto``, and say why.
* Pregnancy: the dosing weight is the pre-pregnancy weight; the rule is returned as a
  note wherever the basis is auto/ideal/adjusted and the patient may be female.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from nurse_app.core.catalogue import DosingWeightRules
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_number, fmt_qty, round_as_shown
from nurse_app.core.units import CM_PER_IN

BASES = ("actual", "ideal", "adjusted", "auto")
SEXES = ("female", "male")


@dataclass(frozen=True)
class DosingWeight:
    actual_kg: float
    height_cm: float | None
    sex: str | None
    bmi: float | None
    ideal_kg: float | None
    adjusted_kg: float | None
    requested_basis: str
    basis: str  # actual | ideal | adjusted: what the dose is based on
    dosing_kg: float
    reason: str  # one sentence a nurse reads: which weight and why
    formulas: tuple[str, ...]
    notes: tuple[str, ...] = ()


def bmi(actual_kg: float, height_cm: float) -> float:
    """kg / m², worked out in decimal arithmetic on the values as entered (``76.928`` kg and
    ``160`` cm give exactly 30.05, not the binary 30.049999999999994), so the figure shown and
    the figure the obesity rule compares are the same number."""
    metres = Decimal(repr(float(height_cm))) / 100
    return float(Decimal(repr(float(actual_kg))) / (metres * metres))


def ideal_body_weight(height_cm: float, sex: str, rules: DosingWeightRules) -> float | None:
    """Devine IBW in kg, or ``None`` below the formula's base height (60 in)."""
    height_in = height_cm / CM_PER_IN
    if height_in < rules.ibw_base_height_in:
        return None
    base = rules.ibw_male_base_kg if sex == "male" else rules.ibw_female_base_kg
    return base + rules.ibw_kg_per_inch * (height_in - rules.ibw_base_height_in)


def adjusted_body_weight(actual_kg: float, ideal_kg: float, rules: DosingWeightRules) -> float:
    return ideal_kg + rules.adjusted_factor * (actual_kg - ideal_kg)


BMI_DECIMALS = 1  # as shown everywhere (fmt_qty(..., "kg/m²"))


def _is_obese(bmi_value: float, rules: DosingWeightRules) -> bool:
    """The obesity rule on the BMI *as shown* (one decimal): 30.04 shows 30 and is not over 30."""
    bmi_value = round_as_shown(bmi_value, BMI_DECIMALS)
    if rules.obesity_threshold_inclusive:
        return bmi_value >= rules.obesity_bmi_threshold
    return bmi_value > rules.obesity_bmi_threshold


def choose_dosing_weight(
    actual_kg: float,
    height_cm: float | None,
    sex: str | None,
    basis: str,
    rules: DosingWeightRules,
    indication: str | None = None,
) -> DosingWeight:
    if basis not in BASES:
        raise InputError(f"Weight basis {basis!r} is not one of {', '.join(BASES)}.", field="weight_basis")
    if sex is not None and sex not in SEXES:
        raise InputError(f"Sex {sex!r} is not one of {', '.join(SEXES)}.", field="sex")

    bmi_value = bmi(actual_kg, height_cm) if height_cm else None
    ideal = adjusted = None
    formulas: list[str] = []
    base_cm = rules.ibw_base_height_in * CM_PER_IN
    if height_cm and sex:
        ideal = ideal_body_weight(height_cm, sex, rules)
        if ideal is not None:
            adjusted = adjusted_body_weight(actual_kg, ideal, rules)
            base = rules.ibw_male_base_kg if sex == "male" else rules.ibw_female_base_kg
            height_in = height_cm / CM_PER_IN
            formulas.append(
                f"Ideal (Devine, {sex}) = {fmt_qty(base, 'kg')} + {fmt_number(rules.ibw_kg_per_inch)} kg × "
                f"({fmt_number(height_in, 1)} in − {fmt_number(rules.ibw_base_height_in)} in) = {fmt_qty(ideal, 'kg')}"
            )
            formulas.append(
                f"Adjusted = ideal + {fmt_number(rules.adjusted_factor)} × (actual − ideal) = "
                f"{fmt_qty(ideal, 'kg')} + {fmt_number(rules.adjusted_factor)} × "
                f"({fmt_qty(actual_kg, 'kg')} − {fmt_qty(ideal, 'kg')}) = {fmt_qty(adjusted, 'kg')}"
            )
    if bmi_value is not None and height_cm is not None:
        formulas.append(
            f"BMI = {fmt_qty(actual_kg, 'kg')} / ({fmt_number(height_cm / 100, 2)} m)² = "
            f"{fmt_qty(bmi_value, 'kg/m²')}"
        )

    short = height_cm is not None and ideal is None and height_cm < base_cm
    threshold = (
        f"{'≥' if rules.obesity_threshold_inclusive else 'over'} {fmt_number(rules.obesity_bmi_threshold)}"
    )

    def need(what: str) -> None:
        if height_cm is None:
            raise InputError(f"Height is needed to work out {what} body weight.", field="height")
        if short:
            raise InputError(
                f"{what.capitalize()} body weight is not defined below {fmt_qty(base_cm, 'cm')} "
                f"({fmt_number(rules.ibw_base_height_in)} in): the Devine formula starts there. "
                f"Dose on actual weight (weight basis 'actual').",
                field="weight_basis",
            )
        if sex is None:
            raise InputError(
                f"Sex is needed to work out {what} body weight (the Devine formula "
                f"differs for men and women).",
                field="sex",
            )

    exempt = indication is not None and indication in rules.actual_weight_indications
    if basis == "auto" and exempt:
        chosen, reason = "actual", f"Actual weight: {rules.actual_weight_reason}."
        if bmi_value is not None and _is_obese(bmi_value, rules):
            reason += f" (BMI {fmt_number(bmi_value, BMI_DECIMALS)} is {threshold}; the exemption applies.)"
    elif basis == "auto":
        if bmi_value is None:
            chosen, reason = (
                "actual",
                "Actual weight: no height given, so the obesity rule (BMI) could not be checked.",
            )
        elif not _is_obese(bmi_value, rules):
            chosen, reason = (
                "actual",
                (
                    f"Actual weight: BMI {fmt_number(bmi_value, 1)} is not {threshold}, "
                    f"so the obesity rule does not apply."
                ),
            )
        elif short:
            chosen, reason = (
                "actual",
                (
                    f"Actual weight: BMI {fmt_number(bmi_value, 1)} is {threshold}, but the "
                    f"patient is shorter than {fmt_qty(base_cm, 'cm')}, where ideal weight "
                    f"is not defined (Ontario uses actual weight)."
                ),
            )
        else:
            need("adjusted")
            chosen, reason = (
                "adjusted",
                (
                    f"Adjusted weight: BMI {fmt_number(bmi_value, 1)} is {threshold} "
                    f"(obesity rule, Ontario IVIG calculator)."
                ),
            )
    else:
        if basis in ("ideal", "adjusted"):
            need(basis)
        chosen, reason = basis, f"{basis.capitalize()} weight, as chosen."

    weight = {"actual": actual_kg, "ideal": ideal, "adjusted": adjusted}[chosen]
    assert weight is not None, "need() refuses a basis whose weight could not be worked out"
    if weight > actual_kg:
        reason += (
            f" The {chosen} weight ({fmt_qty(weight, 'kg')}) is above the actual weight, "
            f"so the actual weight is used: the dose is never based on more than the patient weighs."
        )
        weight = actual_kg
        chosen = "actual"
    notes = []
    if (
        rules.pregnancy_note
        and sex != "male"
        and (basis in ("ideal", "adjusted") or (basis == "auto" and not exempt))
    ):
        notes.append(rules.pregnancy_note)
    return DosingWeight(
        actual_kg=actual_kg,
        height_cm=height_cm,
        sex=sex,
        bmi=bmi_value,
        ideal_kg=ideal,
        adjusted_kg=adjusted,
        requested_basis=basis,
        basis=chosen,
        dosing_kg=weight,
        reason=reason,
        formulas=tuple(formulas),
        notes=tuple(notes),
    )
