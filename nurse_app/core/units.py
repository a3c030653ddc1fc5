"""Reading quantities typed by people: ``"70kg"``, ``"154 lb"``, ``"5' 9\\""`` is not accepted.

Conversion factors here are exact definitions (1 lb = 0.45359237 kg, 1 in = 2.54 cm),
not clinical numbers, so they live in code.
"""

from __future__ import annotations

import math
import re

from nurse_app.core.errors import InputError

KG_PER_LB = 0.45359237
CM_PER_IN = 2.54

WEIGHT_UNITS = {"kg": 1.0, "lb": KG_PER_LB, "lbs": KG_PER_LB}
HEIGHT_UNITS = {"cm": 1.0, "in": CM_PER_IN, "inch": CM_PER_IN, "inches": CM_PER_IN}

_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([a-zA-Z]*)\s*$")


def parse_number(text: str | float | int, field: str, label: str) -> float:
    """A plain positive-or-zero decimal number, accepting a decimal comma."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        cleaned = str(text).strip().replace(",", ".")
        if not cleaned:
            raise InputError(f"{label} is empty: type a number.", field=field)
        try:
            value = float(cleaned)
        except ValueError:
            raise InputError(f"{label} {str(text).strip()!r} is not a number.", field=field) from None
    if not math.isfinite(value):
        raise InputError(f"{label} must be a real number.", field=field)
    if value < 0:
        raise InputError(f"{label} cannot be negative.", field=field)
    return value


def parse_quantity(text: str, units: dict[str, float], default_unit: str | None,
                   field: str, label: str) -> tuple[float, str]:
    """``"154lb"`` -> ``(154.0, "lb")``; a bare number takes ``default_unit``."""
    match = _QUANTITY.match(str(text))
    if not match:
        if not str(text).strip():
            raise InputError(f"{label} is empty: type a number.", field=field)
        raise InputError(f"{label} {str(text).strip()!r} is not a number with a unit "
                         f"(for example 70kg).", field=field)
    number, unit = match.groups()
    unit = unit.lower()
    if not unit:
        if default_unit is None:
            raise InputError(f"{label} needs a unit: {' or '.join(sorted(set(units) & {'kg', 'lb', 'cm', 'in'}))}.",
                             field=field)
        unit = default_unit
    if unit not in units:
        raise InputError(f"{label}: unknown unit {unit!r}; use {' or '.join(k for k in ('kg', 'lb', 'cm', 'in') if k in units)}.",
                         field=field)
    value = parse_number(number, field, label)
    return value, unit


def weight_to_kg(value: float, unit: str) -> float:
    return value * WEIGHT_UNITS[unit]


def height_to_cm(value: float, unit: str) -> float:
    return value * HEIGHT_UNITS[unit]


def parse_weight_kg(text: str, default_unit: str | None = "kg") -> float:
    value, unit = parse_quantity(text, WEIGHT_UNITS, default_unit, "weight", "Weight")
    return weight_to_kg(value, unit)


def parse_height_cm(text: str, default_unit: str | None = "cm") -> float:
    value, unit = parse_quantity(text, HEIGHT_UNITS, default_unit, "height", "Height")
    return height_to_cm(value, unit)
