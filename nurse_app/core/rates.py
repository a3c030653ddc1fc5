"""Infusion-rate titration: the ladder of steps from the label's initial rate to its cap.

mL/h = mg/kg/min × kg × 60 ÷ concentration (mg/mL).  The ladder comes from the label row
(explicit steps, a fixed increment, or, where the label only says "increase as tolerated",
the local policy default in ``limits.toml``: doubling every 30 min).  It stops at the
lowest applicable ceiling: label maximum, at-risk ceiling, or the prescriber's cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from nurse_app.core.catalogue import RateRow


@dataclass(frozen=True)
class RateStep:
    start_min: float
    mg_per_kg_min: float
    ml_per_kg_min: float
    ml_per_h: float


def ml_per_hour(mg_per_kg_min: float, weight_kg: float, conc_mg_per_ml: float) -> float:
    return mg_per_kg_min * weight_kg * 60 / conc_mg_per_ml


def ladder_rates(row: RateRow, ceiling: float, policy_method: str) -> list[float]:
    """The mg/kg/min values from the initial rate up to ``ceiling`` (inclusive)."""
    initial = row.initial_mg_kg_min
    if ceiling <= initial:
        return [ceiling]
    top = min(row.max_mg_kg_min, ceiling)
    if row.steps_mg_kg_min is not None:
        rising = list(row.steps_mg_kg_min)
    elif row.increment_mg_kg_min is not None:
        rising, k = [], 1
        while round(initial + k * row.increment_mg_kg_min, 9) < row.max_mg_kg_min:
            rising.append(round(initial + k * row.increment_mg_kg_min, 9))
            k += 1
    else:
        assert policy_method == "double"
        rising, value = [], initial * 2
        while value < row.max_mg_kg_min:
            rising.append(value)
            value *= 2
    values = [initial] + [v for v in rising if initial < v < top]
    if values[-1] < top:
        values.append(top)
    return values


def build_schedule(
    row: RateRow,
    ceiling: float,
    weight_kg: float,
    conc_mg_per_ml: float,
    policy_method: str,
    policy_step_minutes: float,
) -> list[RateStep]:
    hold = row.initial_minutes if row.initial_minutes is not None else policy_step_minutes
    step = row.step_minutes if row.step_minutes is not None else policy_step_minutes
    steps, start = [], 0.0
    for i, rate in enumerate(ladder_rates(row, ceiling, policy_method)):
        if i:
            start += hold if i == 1 else step
        steps.append(
            RateStep(
                start_min=start,
                mg_per_kg_min=rate,
                ml_per_kg_min=rate / conc_mg_per_ml,
                ml_per_h=ml_per_hour(rate, weight_kg, conc_mg_per_ml),
            )
        )
    return steps


def infusion_minutes(steps: list[RateStep], volume_ml: float) -> float:
    """Time to run ``volume_ml`` if every step is tolerated and taken on time."""
    remaining, elapsed = volume_ml, 0.0
    for i, step in enumerate(steps):
        is_last = i == len(steps) - 1
        duration = None if is_last else steps[i + 1].start_min - step.start_min
        if duration is not None:
            volume = step.ml_per_h * duration / 60
            if volume < remaining:
                remaining -= volume
                elapsed += duration
                continue
        return elapsed + remaining / step.ml_per_h * 60
    return elapsed
