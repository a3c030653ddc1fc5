"""Plain-text rendering of a calculation (CLI table; reused wherever text is needed)."""

from __future__ import annotations

from nurse_app.core.catalogue import CONFIRM_WITH_INSERT
from nurse_app.core.dosing import DoseResult
from nurse_app.core.formatting import fmt_minutes, fmt_number, fmt_qty


def vial_plan_text(result: DoseResult) -> str:
    plan = result.vial_plan
    if plan is None:
        return f"no vial sizes in the catalogue ({CONFIRM_WITH_INSERT})"
    parts = " + ".join(f"{n} × {fmt_qty(v.grams, 'g')}" for v, n in plan.counts)
    diff = plan.difference_g
    extra = (
        "exactly the daily dose" if abs(diff) < 1e-9 else f"{fmt_qty(diff, 'g', 3)} more than the daily dose"
    )
    text = f"{parts} = {fmt_qty(plan.dispensed_g, 'g')} ({extra})"
    if not plan.verified:
        text += f" [{CONFIRM_WITH_INSERT}]"
    return text


def result_lines(result: DoseResult) -> list[str]:
    w = result.weight
    p = result.product
    lines = [f"{p.brand} ({fmt_qty(p.concentration_percent, '%')}, {p.manufacturer})"]
    if result.regimen:
        lines.append(f"Regimen: {result.regimen.name}")
    lines += ["", "Weights"]
    lines.append(f"  Actual      {fmt_qty(w.actual_kg, 'kg')}")
    lines.append(f"  Ideal       {fmt_qty(w.ideal_kg, 'kg') if w.ideal_kg is not None else 'not computable'}")
    lines.append(
        f"  Adjusted    {fmt_qty(w.adjusted_kg, 'kg') if w.adjusted_kg is not None else 'not computable'}"
    )
    lines.append(f"  BMI         {fmt_qty(w.bmi, 'kg/m²') if w.bmi is not None else 'needs height'}")
    lines.append(f"  Dosing      {fmt_qty(w.dosing_kg, 'kg')} ({w.basis}): {w.reason}")
    lines += ["", "Dose"]
    lines.append(f"  Ordered     {result.course_and_daily_text}")
    lines.append(
        f"  Course      {fmt_qty(result.dose_g_per_kg, 'g/kg')} × {fmt_qty(w.dosing_kg, 'kg')} = "
        f"{fmt_qty(result.total_dose_g, 'g')} over {result.days} day{'s' if result.days != 1 else ''}"
    )
    lines.append(
        f"  Each day    {fmt_qty(result.daily_dose_g, 'g')} = {fmt_qty(result.daily_volume_ml, 'mL')}"
    )
    lines.append(f"  Vials/day   {vial_plan_text(result)}")
    if result.rounding_option:
        lines.append(
            f"  Option      {fmt_qty(result.rounding_option.dispensed_g, 'g')} per day in whole vials "
            f"(not applied; the prescriber decides)"
        )
    if result.rate_row.label_text:
        lines += [
            "",
            f"Label rates ({'/'.join(result.rate_row.indications).upper()} row, as the label prints them): "
            f"{result.rate_row.label_text} [{', '.join(result.rate_row.sources)}]",
        ]
    rates_mark = "" if result.rates_verified else f"  [{CONFIRM_WITH_INSERT}]"
    lines += [
        "",
        f"Rates (for {fmt_qty(w.dosing_kg, 'kg')}; up to {fmt_qty(result.rate_ceiling_mg_kg_min, 'mg/kg/min')}: "
        f"{result.rate_ceiling_reason}){rates_mark}",
    ]
    label_unit = result.rate_row.label_unit
    extra = label_unit != "mg/kg/min"  # also show the label's own unit (e.g. Gammagard mL/kg/h)
    lines.append(f"  {'Start':>8}  {'mg/kg/min':>10}  {'mL/h':>8}" + (f"  {label_unit:>10}" if extra else ""))
    for s in result.rate_steps:
        lines.append(
            f"  {fmt_number(s.start_min, 0) + ' min':>8}  {fmt_number(s.mg_per_kg_min, 2):>10}  "
            f"{fmt_number(s.ml_per_h, 1):>8}"
            + (f"  {fmt_number(result.in_label_unit(s.mg_per_kg_min), 3):>10}" if extra else "")
        )
    lines.append(f"  Estimated infusion time per day: {fmt_minutes(result.infusion_minutes_per_day)}")
    lines += ["", "Contraindications (confirm before the order is accepted)"]
    lines += [
        f"  x {c.text}{'' if c.verified else f' [{CONFIRM_WITH_INSERT}]'} [{', '.join(c.sources)}]"
        for c in p.contraindications
    ] or ["  None listed."]
    lines += ["", "Cautions"]
    lines += [
        f"  * {c.text}{'' if c.verified else f' [{CONFIRM_WITH_INSERT}]'} [{', '.join(c.sources)}]"
        for c in p.cautions
    ] or ["  None listed."]
    if result.warnings:
        lines += ["", "Warnings (each must be acknowledged)"]
        lines += [f"  ! {x.message}" for x in result.warnings]
    if result.notes:
        lines += ["", "Notes"]
        lines += [f"  - {n}" for n in result.notes]
    return lines
