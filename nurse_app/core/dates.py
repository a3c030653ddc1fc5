"""Reading dates typed by people, in the forms printed on IVIG cartons and vial labels.

``parse_expiry`` accepts::

    2027-03-15   2027/03/15          ISO day
    2027-03      2027/03             month only: the END of that month
    03/2027      3-2027              month/year: the end of the month
    15 Mar 2027  15-MAR-2027  15 March 2027  Mar 15 2027  Mar 15, 2027
    MAR 2027     March 2027  Mar-2027        month name and year: the end of the month
    15/03/2027   15.03.2027          day first when the day is over 12 (unambiguous)

An all-number day such as ``03/04/2027`` could be 3 April or 4 March and is refused with
a request to type the month as a word; two-digit years are refused too (``27`` is not a
year a nurse should have to guess).  Expiry on a carton that gives only a month means the
product may be used until the end of that month, which is what ``EXP 2027-03`` means.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import dataclass

from nurse_app.core.errors import InputError

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_name) if name})
MONTHS["sept"] = 9

_SEP = r"[\s./-]+"
_YEAR = r"(\d{4})"
_MON = r"([A-Za-z]{3,9})\.?"
_PATTERNS = (
    ("ymd", re.compile(rf"^{_YEAR}[-/.](\d{{1,2}})[-/.](\d{{1,2}})$")),
    ("ym", re.compile(rf"^{_YEAR}[-/.](\d{{1,2}})$")),
    ("my", re.compile(rf"^(\d{{1,2}})[-/.]{_YEAR}$")),
    ("d_mon_y", re.compile(rf"^(\d{{1,2}}){_SEP}{_MON}{_SEP}{_YEAR}$")),
    ("mon_d_y", re.compile(rf"^{_MON}{_SEP}(\d{{1,2}}),?{_SEP}{_YEAR}$")),
    ("mon_y", re.compile(rf"^{_MON}{_SEP}{_YEAR}$")),
    ("dmy", re.compile(rf"^(\d{{1,2}})[-/.](\d{{1,2}})[-/.]{_YEAR}$")),
)
FIELD = "expiry_date"
_HELP = "Type it as on the carton, e.g. 2027-03-15, 15 Mar 2027, 03/2027 or MAR 2027."


@dataclass(frozen=True)
class TypedDate:
    day: _dt.date
    month_only: bool  # the carton gave a month: the day is the last of that month

    @property
    def shown(self) -> str:
        """What was understood, with the month as a word: ``15 Mar 2027``."""
        return format_day(self.day) + (" (end of month)" if self.month_only else "")


def format_day(day: _dt.date) -> str:
    """The app's one date format (core.formatting.fmt_date): ``15 Mar 2027``."""
    from nurse_app.core.formatting import fmt_date

    return fmt_date(day)


def _month(word: str, text: str) -> int:
    month = MONTHS.get(word.lower().rstrip("."))
    if month is None:
        raise InputError(f"Expiry {text!r}: {word!r} is not a month. {_HELP}", FIELD)
    return month


def _end_of_month(year: int, month: int) -> _dt.date:
    return _dt.date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int, month: int, day: int | None, text: str) -> TypedDate:
    if not 1 <= month <= 12:
        raise InputError(f"Expiry {text!r}: there is no month {month}. {_HELP}", FIELD)
    if not 1900 <= year <= 2999:
        raise InputError(f"Expiry {text!r}: the year {year} is not plausible. {_HELP}", FIELD)
    if day is None:
        return TypedDate(_end_of_month(year, month), True)
    try:
        return TypedDate(_dt.date(year, month, day), False)
    except ValueError:
        raise InputError(
            f"Expiry {text!r}: {calendar.month_name[month]} {year} has no day {day}.", FIELD
        ) from None


def parse_expiry(text: str) -> TypedDate:
    """The date meant by ``text`` (see the module docstring); :class:`InputError` if none."""
    cleaned = " ".join(str(text or "").strip().split())
    cleaned = re.sub(r"^(?:exp(?:iry|\.)?|use by)[:\s]*", "", cleaned, flags=re.I).strip()
    if not cleaned:
        raise InputError(f"Type the expiry date printed on the carton. {_HELP}", FIELD)
    for kind, pattern in _PATTERNS:
        m = pattern.match(cleaned)
        if not m:
            continue
        g = m.groups()
        if kind == "ymd":
            return _day(int(g[0]), int(g[1]), int(g[2]), cleaned)
        if kind == "ym":
            return _day(int(g[0]), int(g[1]), None, cleaned)
        if kind == "my":
            return _day(int(g[1]), int(g[0]), None, cleaned)
        if kind == "d_mon_y":
            return _day(int(g[2]), _month(g[1], cleaned), int(g[0]), cleaned)
        if kind == "mon_d_y":
            return _day(int(g[2]), _month(g[0], cleaned), int(g[1]), cleaned)
        if kind == "mon_y":
            return _day(int(g[1]), _month(g[0], cleaned), None, cleaned)
        first, second, year = int(g[0]), int(g[1]), int(g[2])
        if first > 12 >= second:
            return _day(year, second, first, cleaned)
        if second > 12 >= first:
            return _day(year, first, second, cleaned)
        raise InputError(
            f"Expiry {cleaned!r} could be read two ways (day/month or month/day): "
            f"type the month as a word, e.g. {first} Mar {year}, or as 2027-03-15.",
            FIELD,
        )
    if re.search(r"\b\d{2}$", cleaned) and not re.search(r"\d{4}", cleaned):
        raise InputError(f"Expiry {cleaned!r}: type the year with four digits. {_HELP}", FIELD)
    raise InputError(f"Expiry {cleaned!r} is not a date. {_HELP}", FIELD)
