"""The record's clock and time text (the rules live in :mod:`nurse_app.core.times`)."""

from nurse_app.core.times import UTC, now_text, now_utc, parse_utc, to_local, today_local, utc_text

__all__ = ["UTC", "now_text", "now_utc", "parse_utc", "to_local", "today_local", "utc_text"]
