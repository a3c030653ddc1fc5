import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurse_app.core.formatting import fmt_change, fmt_minutes, fmt_number, fmt_qty, fmt_range


@pytest.mark.parametrize(
    "value, unit, expected",
    [
        (0.5, "g", "0.5 g"),  # leading zero
        (5.0, "g", "5 g"),  # no trailing zero
        (5, "mL/h", "5 mL/h"),
        (1250, "mL", "1,250 mL"),  # thousands separator
        (164.60000000000002, "g", "164.6 g"),
        (0.005, "mL/kg/min", "0.005 mL/kg/min"),
        (41.875, "mL/h", "41.9 mL/h"),
        (2.25, "g/kg", "2.25 g/kg"),
        (-0.0001, "g", "0 g"),  # no negative zero
    ],
)
def test_ismp_rules(value, unit, expected):
    assert fmt_qty(value, unit) == expected


def test_error_prone_units_refused():
    for bad in ("cc", "µg", "mL/hr"):
        with pytest.raises(ValueError):
            fmt_qty(1, bad)


def test_nan_never_formatted():
    with pytest.raises(ValueError):
        fmt_number(math.nan)


def test_range_and_minutes():
    assert fmt_range(2, 4, "weeks") == "2 to 4 weeks"
    assert fmt_minutes(95) == "1 h 35 min" and fmt_minutes(40) == "40 min" and fmt_minutes(120) == "2 h"


@given(st.floats(min_value=-1e14, max_value=1e14, allow_nan=False))
def test_no_trailing_zero_no_bare_point(x):
    text = fmt_number(x, 3)
    assert not text.startswith(".") and not text.startswith("-.")
    if "." in text:
        assert not text.endswith("0") and not text.endswith(".")


def test_absurd_magnitudes_refused_not_crashing():
    with pytest.raises(ValueError):
        fmt_number(1e27)


@pytest.mark.parametrize(
    "value, unit, decimals, expected",
    [
        (11.666, "%", 1, "+11.7 %"),
        (-3.24, "kg", None, "−3.24 kg"),
        (-0.01, "%", 1, "0 %"),
        (0.004, "kg", None, "0 kg"),
        (0, "%", 1, "0 %"),
        (0.5, "kg", None, "+0.5 kg"),
    ],
)
def test_changes_carry_a_sign_unless_they_round_to_zero(value, unit, decimals, expected):
    assert fmt_change(value, unit, decimals) == expected
