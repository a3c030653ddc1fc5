"""core.late_entry: a reading's time of care, typed as HH:MM, within the visit, never in the future."""

import datetime as dt

import pytest

from nurse_app.core.errors import InputError
from nurse_app.core.late_entry import check_care_time, is_late, parse_clock_time

NOW = dt.datetime(2026, 3, 4, 14, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["09:40", "9:40", "9.40", "0940", " 09:40 "])
def test_clock_times_as_typed(text):
    at = parse_clock_time(text, NOW)
    assert (at.hour, at.minute) == (9, 40) and at.date() == NOW.astimezone().date()


def test_blank_is_now_and_nonsense_is_one_clear_line():
    assert parse_clock_time("  ", NOW) is None
    with pytest.raises(InputError, match="HH:MM"):
        parse_clock_time("25:00", NOW)


def test_never_in_the_future_never_before_the_visit():
    start = NOW - dt.timedelta(hours=2)
    check_care_time(NOW - dt.timedelta(minutes=10), start, NOW)  # fine
    with pytest.raises(InputError, match="in the future"):
        check_care_time(NOW + dt.timedelta(minutes=5), start, NOW)
    with pytest.raises(InputError, match="before this visit started"):
        check_care_time(start - dt.timedelta(minutes=5), start, NOW)


def test_late_means_entered_more_than_a_minute_after_the_time_of_care():
    assert is_late(NOW - dt.timedelta(minutes=10), NOW)
    assert not is_late(NOW - dt.timedelta(seconds=20), NOW)
    assert not is_late(NOW, None)
