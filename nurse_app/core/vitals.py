"""Plausible ranges and abnormal-value flags for vital signs (``resources/vitals.toml``).

Two different questions, kept apart on purpose:

* :func:`check_plausible` - *can* this value be right?  A value outside the plausible
  range is a typing or unit mistake and the record refuses it (:class:`InputError`).
* :func:`flag_value` / :func:`flag_reading` - *is* this value worrying?  An abnormal
  value is stored as typed and returned as a :class:`VitalFlag` so the screen and the
  visit summary can warn.

Nothing here knows about Qt or SQLite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_number, fmt_qty, fmt_range
from nurse_app.core.resources import load_toml, validate

LOCAL_POLICY = "local policy default"
PUMP_MAX_FROM = "limits.toml pump.max_rate_ml_per_h"
# The record depends on these measures; the file must define every one.
MEASURE_IDS = (
    "temperature",
    "heart_rate",
    "systolic",
    "diastolic",
    "respiratory_rate",
    "spo2",
    "weight",
    "height",
    "infusion_rate",
)


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    unit: str
    minimum: float
    maximum: float
    range_basis: str  # "sourced" or "local policy default"
    range_sources: tuple[str, ...]
    flag_low: float | None
    flag_high: float | None
    flag_change: float | None  # absolute change from baseline, either direction
    flag_change_percent: float | None
    flag_basis: str
    flag_sources: tuple[str, ...]
    note: str

    def describe(self, value: float, decimals: int | None = None) -> str:
        try:
            shown = fmt_qty(value, self.unit, decimals)
        except (ValueError, ArithmeticError):  # absurd typed values such as 1e27
            shown = f"{value:g} {self.unit}"
        return f"{self.label} {shown}"


@dataclass(frozen=True)
class VitalFlag:
    measure: str
    value: float
    kind: str  # "low", "high" or "change"
    message: str


def _measure(m: dict[str, Any], pump_max: float | None) -> Measure:
    flag_sources = tuple(m.get("flag_sources", ()))
    return Measure(
        id=m["id"],
        label=m["label"],
        unit=m["unit"],
        minimum=m["min"],
        maximum=pump_max if "max_from" in m and pump_max is not None else m["max"],
        range_basis=m.get("range_basis", "sourced"),
        range_sources=tuple(m.get("range_sources", ())),
        flag_low=m.get("flag_low"),
        flag_high=m.get("flag_high"),
        flag_change=m.get("flag_change"),
        flag_change_percent=m.get("flag_change_percent"),
        flag_basis=m.get("flag_basis", "sourced"),
        flag_sources=flag_sources,
        note=" ".join(n for n in (m.get("range_note", ""), m.get("flag_note", "")) if n),
    )


@lru_cache(maxsize=1)
def vital_measures() -> dict[str, Measure]:
    """All measures from ``resources/vitals.toml``, validated (cached for the process)."""
    data, file = load_toml("vitals.toml")
    measures = data.get("measure") if isinstance(data, dict) else None
    pump_max = None
    if isinstance(measures, list) and any(isinstance(m, dict) and "max_from" in m for m in measures):
        # One limit, one source: the pump/record maximum rate lives in limits.toml [pump], which
        # the dose engine's ladder is capped at, so the record accepts every rate the plan proposes.
        from nurse_app.core.catalogue import load_catalogue

        pump_max = load_catalogue().limits.pump_max_ml_per_h
    validate("vitals.toml", data, file, pump_max=pump_max)
    return {m["id"]: _measure(m, pump_max) for m in data["measure"]}


def measure(measure_id: str) -> Measure:
    return vital_measures()[measure_id]


def check_plausible(measure_id: str, value: Any, field: str | None = None) -> float:
    """``value`` as a float, or :class:`InputError` if it is not a possible value.

    The message names the measure and the accepted range, e.g. "SpO2 120 % is not
    possible: enter a value from 0 to 100 %."
    """
    m = measure(measure_id)
    field = field or measure_id
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{m.label} must be a number, not {value!r}.", field=field)
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{m.label} must be a finite number.", field=field)
    if not m.minimum <= number <= m.maximum:
        # Up to 3 decimals: the refused value as typed, not rounded into something else.
        message = (
            f"{m.describe(number, 3)} is not possible: enter a value from "
            f"{fmt_range(m.minimum, m.maximum, m.unit)}."
        )
        if m.unit == "cm" and m.minimum <= number * 100 <= m.maximum:
            message += f" For {fmt_qty(number, 'm', 3)}, type {fmt_number(number * 100, 1)}."
        raise InputError(message, field=field)
    return number


def flag_value(measure_id: str, value: float, baseline: float | None = None) -> list[VitalFlag]:
    """Warnings for one value (empty when unremarkable)."""
    m = measure(measure_id)
    flags = []
    if m.flag_low is not None and value < m.flag_low:
        flags.append(
            VitalFlag(
                m.id, value, "low", f"{m.describe(value)} is low (below {fmt_qty(m.flag_low, m.unit)})."
            )
        )
    if m.flag_high is not None and value > m.flag_high:
        flags.append(
            VitalFlag(
                m.id, value, "high", f"{m.describe(value)} is high (above {fmt_qty(m.flag_high, m.unit)})."
            )
        )
    if baseline is not None:
        change = value - baseline
        limit = m.flag_change
        if m.flag_change_percent is not None and baseline:
            limit = abs(baseline) * m.flag_change_percent / 100
        # A tiny tolerance so 37.8 - 36.8 (0.99999...) still counts as a change of 1.
        if limit is not None and abs(change) >= limit - 1e-9:
            direction = "up" if change > 0 else "down"
            flags.append(
                VitalFlag(
                    m.id,
                    value,
                    "change",
                    f"{m.describe(value)} is {direction} "
                    f"{fmt_qty(abs(change), m.unit)} from the baseline "
                    f"{fmt_qty(baseline, m.unit)}.",
                )
            )
    return flags


def flag_reading(
    reading: Mapping[str, float | None], baseline: Mapping[str, float | None] | None = None
) -> list[VitalFlag]:
    """Warnings for a set of values keyed by measure id (missing or None values skipped)."""
    flags: list[VitalFlag] = []
    for measure_id in MEASURE_IDS:
        value = reading.get(measure_id)
        if value is None:
            continue
        base = baseline.get(measure_id) if baseline else None
        flags.extend(flag_value(measure_id, value, base))
    return flags


def vital_baselines(readings: Sequence[Mapping[str, float | None]]) -> dict[str, float]:
    """The baseline of each measure: its value in the FIRST reading that has that value.

    This is the one baseline rule for the flowsheet, the store, the visit summary and FHIR.
    Per value, not "the first reading", because a home visit's first reading is often
    partial (a temperature and pulse taken at the door, the blood pressure or SpO2 a few
    minutes later, the pulse oximeter only suggested by the checklist): with the
    first-reading rule a measure missing from it would never be compared with anything,
    and a fall in blood pressure or SpO2 during the infusion would go unflagged.  The
    first value the nurse charted for a measure is the pre-infusion value it is
    compared with.  ``readings`` are keyed by measure id and in time order.
    """
    baseline: dict[str, float] = {}
    for reading in readings:
        for measure_id in MEASURE_IDS:
            value = reading.get(measure_id)
            if value is not None and measure_id not in baseline:
                baseline[measure_id] = value
    return baseline


def flag_series(readings: Sequence[Mapping[str, float | None]]) -> list[list[VitalFlag]]:
    """Warnings for each reading of a visit (in time order), abnormal values and changes
    from the baseline of :func:`vital_baselines`.  A baseline value is never compared
    with itself: a measure's first value only gets the low/high flags."""
    seen: dict[str, float] = {}
    result: list[list[VitalFlag]] = []
    for reading in readings:
        flags: list[VitalFlag] = []
        for measure_id in MEASURE_IDS:
            value = reading.get(measure_id)
            if value is None:
                continue
            flags.extend(flag_value(measure_id, value, seen.get(measure_id)))
            seen.setdefault(measure_id, value)
        result.append(flags)
    return result


# The vitals table's columns holding one measure each: column -> measure id.
VITAL_MEASURES = {
    "temperature_c": "temperature",
    "heart_rate": "heart_rate",
    "systolic_mmhg": "systolic",
    "diastolic_mmhg": "diastolic",
    "respiratory_rate": "respiratory_rate",
    "spo2_percent": "spo2",
    "infusion_rate_ml_h": "infusion_rate",
}


def reading_measures(row: Mapping[str, Any]) -> dict[str, float | None]:
    """A stored vitals row keyed by measure id (for :mod:`nurse_app.core.vitals`)."""
    return {measure_id: row.get(column) for column, measure_id in VITAL_MEASURES.items()}
