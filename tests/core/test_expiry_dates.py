"""core.dates.parse_expiry: the expiry forms printed on IVIG cartons (issue 11 §3)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurse_app.core.dates import format_day, parse_expiry
from nurse_app.core.errors import InputError


@pytest.mark.parametrize(
    "text, expected, month_only",
    [
        ("2027-03-15", dt.date(2027, 3, 15), False),
        ("2027/03/15", dt.date(2027, 3, 15), False),
        ("15 Mar 2027", dt.date(2027, 3, 15), False),  # once read as 01 Mar or 15 Jun 2027
        ("15-MAR-2027", dt.date(2027, 3, 15), False),
        ("15 March 2027", dt.date(2027, 3, 15), False),
        ("Mar 15, 2027", dt.date(2027, 3, 15), False),
        ("03/2027", dt.date(2027, 3, 31), True),
        ("2/2028", dt.date(2028, 2, 29), True),  # leap year
        ("MAR 2027", dt.date(2027, 3, 31), True),
        ("Sept 2027", dt.date(2027, 9, 30), True),
        ("2027-03", dt.date(2027, 3, 31), True),
        ("EXP 2027-04", dt.date(2027, 4, 30), True),
        ("15/03/2027", dt.date(2027, 3, 15), False),
        ("  15   mar   2027 ", dt.date(2027, 3, 15), False),
    ],
)
def test_carton_forms(text, expected, month_only):
    got = parse_expiry(text)
    assert got.day == expected and got.month_only == month_only


def test_what_was_understood_is_shown_with_the_month_as_a_word():
    assert parse_expiry("2027-03-15").shown == "15 Mar 2027"
    assert parse_expiry("MAR 2027").shown == "31 Mar 2027 (end of month)"


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "Type the expiry"),
        ("03/04/2027", "two ways"),
        ("15 Mar 27", "four digits"),
        ("2027-13", "no month 13"),
        ("31 Feb 2027", "no day 31"),
        ("15 Mars 2027", "not a month"),
        ("tomorrow", "not a date"),
    ],
)
def test_refused_with_a_clear_line(text, words):
    with pytest.raises(InputError) as err:
        parse_expiry(text)
    assert words in str(err.value) and err.value.field == "expiry_date"
    assert "\n" not in str(err.value)


days = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2999, 12, 31))


@given(days)
def test_every_day_round_trips_through_every_full_form(day):
    for text in (
        day.isoformat(),
        format_day(day),
        format_day(day).upper().replace(" ", "-"),
        f"{day:%B} {day.day}, {day.year}",
        day.strftime("%Y/%m/%d"),
    ):
        assert parse_expiry(text).day == day, text


@given(days)
def test_month_forms_mean_the_last_day_of_the_month(day):
    for text in (
        f"{day.month:02d}/{day.year}",
        f"{day:%b} {day.year}".upper(),
        f"{day.year}-{day.month:02d}",
    ):
        got = parse_expiry(text)
        assert got.month_only and got.day.month == day.month and got.day.year == day.year
        assert (got.day + dt.timedelta(days=1)).day == 1


@given(st.text(max_size=30))
def test_anything_typed_gives_a_date_or_an_input_error(text):
    with contextlib.suppress(InputError):
        parse_expiry(text)


# ---------------------------------------------------------------- °F temperatures (core.units)

from nurse_app.core.units import fahrenheit_to_celsius, parse_temperature  # noqa: E402


@pytest.mark.parametrize(
    "text, celsius, said",
    [
        ("100.4F", 38.0, "100.4 °F = 38 °C"),
        ("100.4 °F", 38.0, "100.4 °F = 38 °C"),
        ("98.6", 37.0, "98.6 °F = 37 °C"),  # a bare number above 45 cannot be °C
        ("38.2", 38.2, None),
        ("38,2 C", 38.2, None),
        ("37 °C", 37.0, None),
    ],
)
def test_temperature_forms(text, celsius, said):
    assert parse_temperature(text) == (pytest.approx(celsius), said)


def test_temperature_refusals():
    for text in ("", "hot", "38 K"):
        with pytest.raises(InputError):
            parse_temperature(text)


@given(st.floats(min_value=86, max_value=113, allow_nan=False))
def test_fahrenheit_conversion_matches_the_definition(f):
    c, said = parse_temperature(f"{f:.1f}F")
    assert abs(c - fahrenheit_to_celsius(round(f, 1))) <= 0.05 + 1e-9 and said.endswith("°C")
