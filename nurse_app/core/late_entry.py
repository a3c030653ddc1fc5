"""Charting after the fact (late entry): the time of care may be set back, within the visit,
never into the future; the record keeps both the time of care and the time it was entered.

A reading typed with a time ("09:40") is a late entry: the nurse charts what she measured
earlier. The time entered is when the record received it (the audit log's insert time), so
nothing needs to be typed twice; a reading whose time of care is more than ``SAME_MINUTE_S``
seconds before it was entered shows both.
"""

from __future__ import annotations

import datetime as _dt
import re

from nurse_app.core.errors import InputError

# A reading entered as "now" has its time of care and its entry within the same moment; this
# is only the rounding of "now", not a documentation threshold.
SAME_MINUTE_S = 60
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3])[:.h]?([0-5]\d)\s*$")


def parse_clock_time(text: str, now: _dt.datetime, field: str = "recorded_at") -> _dt.datetime | None:
    """``"09:40"`` (also ``9.40``, ``0940``) as that local time on ``now``'s local date; blank: None
    (now). One clear line for anything else."""
    if not (text or "").strip():
        return None
    m = _CLOCK.match(text)
    if not m:
        raise InputError(f"Time '{text.strip()}' is not a time of day: type it as HH:MM (e.g. 09:40).", field)
    local = now.astimezone()
    return local.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)


def check_care_time(
    at: _dt.datetime, visit_start: _dt.datetime | None, now: _dt.datetime, field: str = "recorded_at"
) -> None:
    """Refuse a time of care in the future or before the visit started."""
    if at > now + _dt.timedelta(seconds=SAME_MINUTE_S):
        raise InputError(
            f"{at.astimezone():%H:%M} is in the future (it is {now.astimezone():%H:%M} now): a reading "
            f"is charted at the time it was taken, never later than now.",
            field,
        )
    if visit_start is not None and at < visit_start - _dt.timedelta(seconds=SAME_MINUTE_S):
        raise InputError(
            f"{at.astimezone():%H:%M} is before this visit started ({visit_start.astimezone():%H:%M}): "
            f"a late entry is charted within its visit.",
            field,
        )


def is_late(care: _dt.datetime, entered: _dt.datetime | None) -> bool:
    """Entered later than the time of care (a late entry): the record shows both times."""
    return entered is not None and (entered - care).total_seconds() > SAME_MINUTE_S
