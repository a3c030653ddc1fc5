"""The one place that turns a clinical number into text (ISMP rules).

ISMP's list of error-prone notations asks for:

* a leading zero before a decimal point: ``0.5``, never ``.5``;
* no trailing zero after a decimal point: ``5``, never ``5.0`` (misread as 50);
* commas in numbers of 1,000 and more: ``1,250``;
* the unit always written, with a space, in safe notation: ``mL`` not ``cc``,
  ``mcg`` not ``µg``.

Every dose, volume, weight and rate shown in the GUI, the CLI and the PDFs goes
through :func:`fmt_qty` (or :func:`fmt_number` where the unit is a column header).
The value itself is never changed: only its text is limited to ``decimals``
places, chosen per unit below to be finer than any measuring device used in a home.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as _dt

# Display precision per unit: far finer than a pump (0.1 mL/h) or a scale (0.1 kg).
DEFAULT_DECIMALS = {
    "g": 2,
    "g/kg": 3,
    "g/kg/day": 3,
    "mg/kg/min": 2,
    "mL/kg/min": 4,
    "mL": 1,
    "mL/h": 1,
    "kg": 2,
    "lb": 1,
    "cm": 1,
    "in": 1,
    "kg/m²": 1,
    "%": 1,
    "min": 0,
    "h": 1,
    "days": 0,
    "day": 0,
    "vials": 0,
    "°C": 1,
    "/min": 0,
    "mmHg": 0,
}

# Notations ISMP lists as error-prone, mapped to the safe form.
UNSAFE_UNITS = {
    "cc": "mL",
    "µg": "mcg",
    "μg": "mcg",
    "ug": "mcg",
    "mL/hr": "mL/h",
    "ml": "mL",
    "ml/h": "mL/h",
    "ml/hr": "mL/h",
}


def fmt_number(value: float | int | Decimal, decimals: int = 2) -> str:
    """``0.5``, ``5``, ``1,250``, ``-0.25``; rounds half up at ``decimals`` places.

    Raises ``ValueError`` for NaN, infinity or magnitudes of 10**15 and more: such a
    number must never reach a screen (callers show the raw text in their error message).
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    quantum = Decimal(1).scaleb(-decimals)
    d = Decimal(str(value))
    if abs(d) >= Decimal(10) ** 15:
        raise ValueError(f"not a plausible clinical number: {value!r}")
    d = d.quantize(quantum, rounding=ROUND_HALF_UP)
    if d == 0:
        d = Decimal(0)  # no "-0"
    text = f"{d:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_as_entered(value: float | int, unit: str) -> str:
    """A typed value named in a refusal, never hidden by rounding or by an implausible size:
    ``fmt_qty`` where it shows the value faithfully, else the number's own digits
    (``1e-320 g/kg``, ``0.0004 g/kg``, ``1e+308 g/kg``) so a message never says "0 g/kg" for a non-zero entry."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} {unit}"
    try:
        shown = fmt_qty(value, unit)
    except ValueError:
        return f"{float(value)!r} {unit}"
    if value != 0 and round_as_shown(value, DEFAULT_DECIMALS.get(unit, 2)) == 0:
        return f"{float(value)!r} {unit}"
    return shown


# Measured values keep the precision they are measured to (a thermometer reads to 0.1 °C, so
# 37.0 °C stays 37.0): the ISMP no-trailing-zero rule is for doses, not for readings.
MEASURED_DECIMALS = {"°C": 1}


def fmt_measured(value: float | int | Decimal, unit: str) -> str:
    """A reading as measured: ``37.0`` for °C; other units as :func:`fmt_number` at their places."""
    decimals = MEASURED_DECIMALS.get(unit)
    if decimals is None:
        return fmt_number(value, DEFAULT_DECIMALS.get(unit, 1))
    text = fmt_number(value, decimals)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(decimals, '0')}" if decimals > 0 else whole


def round_as_shown(value: float, decimals: int) -> float:
    """``value`` rounded exactly as :func:`fmt_number` shows it (half up at ``decimals`` places).

    A rule that compares a displayed figure with a threshold (BMI 30.0 is not over 30) compares
    this, so a float such as 30.000000000000004 never decides differently from what is shown.
    """
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def fmt_qty(value: float | int | Decimal, unit: str, decimals: int | None = None) -> str:
    """A number with its unit: ``fmt_qty(0.5, "g") == "0.5 g"``, ``fmt_qty(336.0, "mL/h") == "336 mL/h"``."""
    if unit in UNSAFE_UNITS:
        raise ValueError(f"unit {unit!r} is an error-prone abbreviation; use {UNSAFE_UNITS[unit]!r}")
    if decimals is None:
        decimals = DEFAULT_DECIMALS.get(unit, 2)
    number = fmt_number(value, decimals)
    if unit == "%":
        return f"{number} %"
    return f"{number} {unit}"


def fmt_change(value: float | int | Decimal, unit: str, decimals: int | None = None) -> str:
    """A change with its sign: ``+11.7 %``, ``−3.2 kg``; one that rounds to zero has none (``0 %``)."""
    shown = fmt_qty(-value if value < 0 else value, unit, decimals)
    if shown == fmt_qty(0, unit, decimals):
        return shown
    return ("+" if value > 0 else "−") + shown


def fmt_count(n: int | float, word: str, plural: str | None = None) -> str:
    """A count with its noun: ``fmt_count(1, "day") == "1 day"``, ``fmt_count(3, "day") == "3 days"``."""
    return f"{fmt_number(n, 0)} {word if n == 1 else (plural or word + 's')}"


def fmt_range(low: float, high: float, unit: str, decimals: int | None = None) -> str:
    """``fmt_range(2, 4, "weeks") == "2 to 4 weeks"`` (a dash can be misread as a minus)."""
    if decimals is None:
        decimals = DEFAULT_DECIMALS.get(unit, 2)
    return f"{fmt_number(low, decimals)} to {fmt_qty(high, unit, decimals)}"


def fmt_minutes(minutes: float) -> str:
    """Duration for people: ``95`` -> ``"1 h 35 min"``; ``40`` -> ``"40 min"``."""
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"not a duration: {minutes!r}")
    total = int(Decimal(str(minutes)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    hours, mins = divmod(total, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


# Month abbreviations in English whatever the system locale (``%b`` would follow it): the record,
# the PDF and the screens read the same.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt_date(value: _dt.date | str | None) -> str:
    """The one date format of every page, PDF and dialog: ``4 Mar 2025`` (no day/month order to
    misread).  Takes a ``date``/``datetime`` or ISO text (``2025-03-04``, with or without a time);
    empty for None or ""; text that is not a date is returned unchanged."""
    import datetime as _dt

    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = _dt.date.fromisoformat(text.strip()[:10])
        except ValueError:
            return text
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


_TERMINAL_KEEP = frozenset("\n\t")


def terminal_safe(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``):
    what a command prints can never move the cursor, clear the screen, retitle the
    terminal or reverse the text after it (a name planted in the record with ESC
    sequences).  Line breaks and tabs stay."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _TERMINAL_KEEP:
            out.append(ch)
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in _BIDI_AND_LINE_CONTROLS:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


_BIDI_AND_LINE_CONTROLS = frozenset(
    (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)
)
