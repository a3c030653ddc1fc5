"""Reading quantities typed by people: ``"70kg"``, ``"154 lb"``, ``"5' 9\\""`` is not accepted.

Conversion factors here are exact definitions (1 lb = 0.45359237 kg, 1 in = 2.54 cm),
not clinical numbers, so they live in code.
"""

from __future__ import annotations

import math
import re
import unicodedata

from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_number

KG_PER_LB = 0.45359237
CM_PER_IN = 2.54

WEIGHT_UNITS = {"kg": 1.0, "lb": KG_PER_LB, "lbs": KG_PER_LB}
HEIGHT_UNITS = {"cm": 1.0, "in": CM_PER_IN, "inch": CM_PER_IN, "inches": CM_PER_IN}

_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([a-zA-Z]*)\s*$", re.ASCII)


def ascii_digits(text: str, field: str, label: str) -> str:
    """``text`` with decimal digits of any one script made ASCII ("٧٠" -> "70").

    Decided rule, the same in every number field of the GUI and the CLI: a number typed
    with the digits of one script (Arabic-Indic, Persian, Devanagari, full-width...) is
    read as that number and always shown back with 0-9; a number that mixes digits of
    two scripts ("7٠") is refused, since it is a typing slip or a spoof, never a number
    a nurse meant.
    """
    scripts = set()
    out = []
    for ch in text:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            try:
                digit = unicodedata.decimal(ch)
            except ValueError:  # superscripts, circled digits: not plain digits
                raise InputError(
                    f"{label} {text.strip()!r} is not a number: use plain digits.", field=field
                ) from None
            scripts.add(ord(ch) - digit)  # each script's 0-9 are consecutive code points
            out.append(str(digit))
        else:
            if "0" <= ch <= "9":
                scripts.add(ord("0"))
            out.append("." if ch == "\u066b" else ch)  # Arabic decimal separator
    if len(scripts) > 1:
        raise InputError(
            f"{label} {text.strip()!r} mixes digits of different scripts: type it "
            f"again with one kind of digits.",
            field=field,
        )
    return "".join(out)


def parse_number(text: str | float | int, field: str, label: str) -> float:
    """A plain positive-or-zero decimal number, accepting a decimal comma (and the digits
    of one script, see :func:`ascii_digits`)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        cleaned = ascii_digits(str(text), field, label).strip().replace(",", ".")
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


def parse_quantity(
    text: str, units: dict[str, float], default_unit: str | None, field: str, label: str
) -> tuple[float, str]:
    """``"154lb"`` -> ``(154.0, "lb")``; a bare number takes ``default_unit``."""
    text = ascii_digits(str(text), field, label)
    match = _QUANTITY.match(text)
    if not match:
        if not str(text).strip():
            raise InputError(f"{label} is empty: type a number.", field=field)
        raise InputError(
            f"{label} {str(text).strip()!r} is not a number with a unit (for example 70kg).", field=field
        )
    number, unit = match.groups()
    unit = unit.lower()
    if not unit:
        if default_unit is None:
            raise InputError(
                f"{label} needs a unit: {' or '.join(sorted(set(units) & {'kg', 'lb', 'cm', 'in'}))}.",
                field=field,
            )
        unit = default_unit
    if unit not in units:
        raise InputError(
            f"{label}: unknown unit {unit!r}; use {' or '.join(k for k in ('kg', 'lb', 'cm', 'in') if k in units)}.",
            field=field,
        )
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


# Temperatures: °C is stored.  °F is converted by definition (°C = (°F - 32) × 5/9).
TEMPERATURE_UNITS = {"c": "C", "°c": "C", "degc": "C", "f": "F", "°f": "F", "degf": "F"}
# A bare number above this cannot be a body temperature in °C, so it was typed in °F.
_HIGHEST_CELSIUS = 45.0
_TEMPERATURE = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(°?\s*[a-zA-Z]*)\s*$")


def fahrenheit_to_celsius(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


def parse_temperature(
    text: str, field: str = "temperature_c", label: str = "Temperature"
) -> tuple[float, str | None]:
    """``"38.2"``, ``"38.2C"``, ``"100.4F"``, ``"100.4 °F"`` -> (°C to 0.1, how it was read).

    The second value says what was converted (``"100.4 °F = 38 °C"``) or is None for °C.
    A bare number above 45 cannot be °C and is read as °F (and said so).
    """
    match = _TEMPERATURE.match(str(text))
    if not match:
        if not str(text).strip():
            raise InputError(f"{label} is empty: type a number.", field=field)
        raise InputError(
            f"{label} {str(text).strip()!r} is not a temperature (for example 38.2 or 100.4F).", field=field
        )
    number, unit = match.groups()
    value = parse_number(number, field, label)
    key = unit.replace(" ", "").lower()
    if key and key not in TEMPERATURE_UNITS:
        raise InputError(f"{label}: unknown unit {unit.strip()!r}; use C or F.", field=field)
    scale = TEMPERATURE_UNITS.get(key) or ("F" if value > _HIGHEST_CELSIUS else "C")
    if scale == "C":
        return round(value, 1), None
    celsius = round(fahrenheit_to_celsius(value), 1)
    return celsius, f"{fmt_number(value, 1)} °F = {fmt_number(celsius, 1)} °C"


def whole_number(text: str, field: str, label: str) -> int:
    """A whole number typed as digits only (any one script, see :func:`ascii_digits`).

    Python's ``int`` would also read "1_0" as 10 and "+5" as 5: neither is a number a
    person types, so both raise ``ValueError`` (the caller says what was expected).
    """
    digits = ascii_digits(text, field, label).strip()
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(text)
    return int(digits)
