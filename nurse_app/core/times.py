"""Time and date handling for the record.

Times are stored as ISO-8601 UTC text with millisecond precision and a ``Z`` suffix
(``2025-03-01T09:30:00.000Z``): the text sorts in time order, SQLite's own
``strftime('%Y-%m-%dT%H:%M:%fZ')`` writes the same shape (used by the audit triggers),
and a laptop that changes time zone between visits does not reorder history.
Dates without a time (date of birth, expiry) are ``YYYY-MM-DD``.

A *naive* ``datetime`` given to the store is taken as the laptop's local time (what a
nurse types); :func:`to_local` turns stored text back into local time for display.
"""

from __future__ import annotations

import datetime as _dt

UTC = _dt.UTC


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def utc_text(moment: _dt.datetime) -> str:
    """``moment`` (aware, or naive = local time) as stored UTC text."""
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local wall-clock time
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_text() -> str:
    return utc_text(now_utc())


def parse_utc(text: str) -> _dt.datetime:
    """Stored UTC text back to an aware ``datetime``."""
    return _dt.datetime.fromisoformat(text).astimezone(UTC)


def to_local(text: str) -> _dt.datetime:
    """Stored UTC text as an aware ``datetime`` in the laptop's local time zone (for display)."""
    return parse_utc(text).astimezone()


def today_local() -> _dt.date:
    return _dt.datetime.now().date()
