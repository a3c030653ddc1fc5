"""Field rules for every record: what the store accepts, and how it is stored.

Each column a caller may set has a :class:`Rule` that turns the caller's value into the
stored value or raises :class:`RecordValueError` naming the field, e.g. "Date of birth
'2023-02-30' is not a real date: use YYYY-MM-DD." Vital-sign and body-measure ranges
come from ``resources/vitals.toml`` through :mod:`nurse_app.core.vitals`.

Text is stored in Unicode NFC form with surrounding whitespace removed, so the same
name typed on two keyboards is the same name; control characters are refused
(a pasted NUL or escape code would corrupt printouts).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nurse_app.core import vitals
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_number, fmt_qty
from nurse_app.store.errors import RecordValueError
from nurse_app.store.times import UTC, now_utc, today_local, utc_text

EARLIEST_DATE = _dt.date(1900, 1, 1)
LATEST_DATE = _dt.date(2200, 12, 31)
# A measurement or event time may be a little ahead of the laptop clock (typed "now"
# while the clock ticks on); anything further ahead is a typing mistake.
FUTURE_TOLERANCE = _dt.timedelta(minutes=10)
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_CONTROL_OK_MULTILINE = {"\n", "\t"}


@dataclass(frozen=True)
class Rule:
    """How one field is checked and stored; ``convert`` raises RecordValueError."""

    label: str
    convert: Callable[[str, str, Any], Any]
    required: bool = False
    default: Any = None


def _fail(field: str, message: str) -> RecordValueError:
    return RecordValueError(message, field=field)


def shown(value: float, unit: str | None = None) -> str:
    """A number for a message, via the ISMP formatting helper (absurd values: plain)."""
    try:
        return fmt_qty(value, unit) if unit else fmt_number(value)
    except (ValueError, ArithmeticError):
        return f"{value:g}" + (f" {unit}" if unit else "")


# ----------------------------------------------------------------------- converters

# Bidirectional embedding/override/isolate controls: pasted from web pages or used to
# make "evil.exe" read "exe.live"; they are removed from stored text.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Marks that show nothing even on a letter: the combining grapheme joiner, variation
# selectors, Mongolian free variation selectors and Khmer inherent vowels.
_EMPTY_MARKS = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def _invisible(ch: str, after_base: bool = False) -> bool:
    """A character that shows nothing (zero-width space, joiners, BOM, soft hyphen, fillers)
    or looks like a plain space without being one: refused in identifiers such as the MRN,
    where "MRN-1" and "MRN-\u200b1" would otherwise be two different patients.

    A combining mark is visible on the letter before it (``after_base``): the Hebrew shin
    dot of U+FB2A "\ufb2a", which NFC writes as U+05E9 U+05C1, is part of the letter.  On its
    own (first, or after a space) it shows nothing, and some marks never show.
    """
    category = unicodedata.category(ch)
    if category in ("Mn", "Me"):
        return not after_base or ch in _EMPTY_MARKS
    return category == "Cf" or (category == "Zs" and ch != " ") or ch in "\u115f\u1160\u3164\uffa0"


def invisible_characters(value: str) -> list[str]:
    """The characters of ``value`` that show nothing where they stand (:func:`_invisible`)."""
    found: list[str] = []
    after_base = False  # the last visible character was a letter (or a mark on one)
    for ch in value:
        mark = unicodedata.category(ch) in ("Mn", "Me")
        if _invisible(ch, after_base):
            found.append(ch)
            after_base = after_base and mark
        elif not mark:
            after_base = not ch.isspace()
    return found


def has_visible_text(value: str) -> bool:
    """True if ``value`` shows anything: not only spaces and invisible characters."""
    hidden = invisible_characters(value)
    return any(not ch.isspace() and ch not in hidden for ch in value)


def text(
    max_length: int, multiline: bool = False, identifier: bool = False
) -> Callable[[str, str, Any], str]:
    """Text stored in NFC form, trimmed, without bidi controls; control characters refused.

    ``identifier``: also refuse invisible characters (an MRN or a lot number must be
    exactly what is printed on the wristband or the vial).
    """

    def convert(field: str, label: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _fail(field, f"{label} must be text, not {type(value).__name__}.")
        cleaned = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
        cleaned = "".join(ch for ch in cleaned if ch not in BIDI_CONTROLS).strip()
        refused = ("Cc", "Cs") if multiline else ("Cc", "Cs", "Zl", "Zp")
        for ch in cleaned:
            if unicodedata.category(ch) in refused and not (multiline and ch in _CONTROL_OK_MULTILINE):
                what = "a line break" if ch == "\n" else f"the control character U+{ord(ch):04X}"
                raise _fail(field, f"{label} cannot contain {what}.")
        if cleaned and not has_visible_text(cleaned):
            return ""  # only invisible characters: nothing was typed (a required field says so)
        hidden = invisible_characters(cleaned) if identifier else []
        if hidden:
            raise _fail(
                field,
                f"{label} cannot contain the invisible character "
                f"U+{ord(hidden[0]):04X} ({unicodedata.name(hidden[0], 'unnamed')}): type "
                f"it exactly as printed.",
            )
        if len(cleaned) > max_length:
            raise _fail(field, f"{label} is too long ({len(cleaned)} characters; at most {max_length}).")
        return cleaned

    convert.max_length = max_length  # type: ignore[attr-defined]  # for the quick file check
    convert.multiline = multiline  # type: ignore[attr-defined]
    return convert


def slug(field: str, label: str, value: Any) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise _fail(
            field,
            f"{label} must be an id such as 'privigen' (lower-case letters, "
            f"digits and dashes), not {value!r}.",
        )
    return value


def choice(*values: str) -> Callable[[str, str, Any], str]:
    def convert(field: str, label: str, value: Any) -> str:
        if not isinstance(value, str) or value not in values:
            raise _fail(field, f"{label} must be one of {', '.join(values)}, not {value!r}.")
        return value

    return convert


def boolean(field: str, label: str, value: Any) -> int:
    if not isinstance(value, bool):
        raise _fail(field, f"{label} must be true or false, not {value!r}.")
    return int(value)


def integer(minimum: int, maximum: int) -> Callable[[str, str, Any], int]:
    def convert(field: str, label: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(field, f"{label} must be a whole number, not {value!r}.")
        if not minimum <= value <= maximum:
            raise _fail(field, f"{label} must be from {minimum} to {maximum}, not {value}.")
        return value

    return convert


def positive_number(maximum: float, unit: str) -> Callable[[str, str, Any], float]:
    """A quantity that must be more than zero; ``maximum`` only catches typing slips."""

    def convert(field: str, label: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(field, f"{label} must be a number, not {value!r}.")
        if value <= 0:
            raise _fail(field, f"{label} must be more than 0, not {shown(value, unit)}.")
        if value > maximum:
            raise _fail(
                field,
                f"{label} {shown(value, unit)} cannot be right (more than "
                f"{shown(maximum, unit)}): check for a typing mistake.",
            )
        return float(value)

    return convert


def measure(measure_id: str) -> Callable[[str, str, Any], float]:
    """A vital sign or body measure checked against ``resources/vitals.toml``."""

    def convert(field: str, label: str, value: Any) -> float:
        try:
            return vitals.check_plausible(measure_id, value, field=field)
        except InputError as exc:
            raise _fail(field, str(exc)) from None

    return convert


def _parse_date(field: str, label: str, value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise _fail(field, f"{label} must be a date without a time.")
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _fail(field, f"{label} must be a date written YYYY-MM-DD, not {value!r}.")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(field, f"{label} {value!r} is not a real date (check the day and month).") from None


def date(not_future: bool = False) -> Callable[[str, str, Any], str]:
    def convert(field: str, label: str, value: Any) -> str:
        day = _parse_date(field, label, value)
        latest = today_local() + _dt.timedelta(days=1) if not_future else LATEST_DATE
        if day < EARLIEST_DATE:
            raise _fail(field, f"{label} {day.isoformat()} is before {EARLIEST_DATE.year}.")
        if day > latest:
            raise _fail(
                field,
                f"{label} {day.isoformat()} is in the future."
                if not_future
                else f"{label} {day.isoformat()} is too far in the future.",
            )
        return day.isoformat()

    if not_future:
        convert.stored = date()  # type: ignore[attr-defined]  # re-checking a stored value
    return convert


def moment(not_future: bool = False) -> Callable[[str, str, Any], str]:
    """A point in time: an aware or naive (= local) datetime, or ISO-8601 text."""

    def convert(field: str, label: str, value: Any) -> str:
        if isinstance(value, str):
            try:
                value = _dt.datetime.fromisoformat(value)
            except ValueError:
                raise _fail(
                    field, f"{label} {value!r} is not a real date and time (use YYYY-MM-DDTHH:MM)."
                ) from None
        if not isinstance(value, _dt.datetime):
            raise _fail(field, f"{label} must be a date and time, not {value!r}.")
        try:
            aware = value if value.tzinfo else value.astimezone()
            aware = aware.astimezone(UTC)
        except (OverflowError, ValueError, OSError):
            raise _fail(field, f"{label} is outside the range of dates the record keeps.") from None
        if not EARLIEST_DATE <= aware.date() <= LATEST_DATE:
            raise _fail(
                field, f"{label} {aware.date().isoformat()} is outside the range of dates the record keeps."
            )
        if not_future and aware > now_utc() + FUTURE_TOLERANCE:
            raise _fail(field, f"{label} is in the future; enter when it actually happened.")
        return utc_text(aware)

    if not_future:
        convert.stored = moment()  # type: ignore[attr-defined]  # re-checking a stored value
    return convert


def json_object(field: str, label: str, value: Any) -> str:
    """A JSON-able dict (the dose engine's result), stored as canonical JSON text."""
    if not isinstance(value, Mapping):
        raise _fail(field, f"{label} must be a mapping (the calculation result), not {type(value).__name__}.")
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise _fail(field, f"{label} cannot be stored: {exc}.") from None


# ----------------------------------------------------------------------- applying rules


def clean(rules: Mapping[str, Rule], values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check ``values`` against ``rules``; returns the columns to store.

    Creating: missing fields take their defaults and required ones must be present.
    Updating: only the given fields are checked and returned.  A field not in
    ``rules`` is a programming error (``TypeError``), not a nurse's mistake.
    """
    unknown = sorted(set(values) - set(rules))
    if unknown:
        raise TypeError(f"unknown field(s): {', '.join(unknown)}")
    result = {}
    names = rules if creating else values
    for name in names:
        rule = rules[name]
        value = values.get(name, rule.default)
        if value is None or (isinstance(value, str) and not value.strip() and rule.required):
            if rule.required:
                raise _fail(name, f"{rule.label} is required.")
            result[name] = rule.default
            continue
        result[name] = rule.convert(name, rule.label, value)
        if rule.required and result[name] == "":
            raise _fail(name, f"{rule.label} is required (what was given shows nothing).")
    return result
