"""The week as an iCalendar file (``.ics``, RFC 5545) for a phone or desktop calendar.

Every item is an all-day event on its date (a calendar day does not shift when the
clocks change).  The file contains patient information: by default each event names the
patient by initials and MRN only; the nurse can choose full names.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import icalendar

from nurse_app.reports.common import write_atomically

PRODID = "-//IVIG Nurse Companion//Week schedule//EN"
WARNING = (
    "Contains patient information: keep it on devices your agency allows, and do not share the calendar."
)


def initials(name: str) -> str:
    """ "Ann-Marie O'Brien" -> "A.O."; accents kept ("Łucja Nowak" -> "Ł.N.")."""
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalpha()]
    if not parts:
        return "?"
    chosen = [parts[0], parts[-1]] if len(parts) > 1 else parts
    return "".join(p[0].upper() + "." for p in chosen)


def who(item, full_names: bool) -> str:
    return f"{item.patient_name if full_names else initials(item.patient_name)} ({item.mrn})"


def _summary(item, full_names: bool) -> str:
    if item.kind == "course-day":
        what = f"Visit day {item.course_day} of {item.course_days}, course {item.course_number}"
        if item.visit_id is None and item.status in ("late", "missed") and item.course_day == 1:
            what = f"Course {item.course_number} not started"
    else:
        what = item.title or item.kind
    return f"{what}: {who(item, full_names)} [{item.status}]"


def calendar_bytes(schedule, *, full_names: bool = False, stamp: _dt.datetime | None = None) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "IVIG visits and calls")
    stamp = stamp or _dt.datetime.now(_dt.UTC)
    for item in schedule.items:
        event = icalendar.Event()
        key = (
            f"{item.kind}-{item.order_id}-{item.course_number}-{item.course_day or 0}-"
            f"{item.rule_id or ''}-{item.patient_id}"
        )
        event.add("uid", f"{key}@nurse-app.local")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.date)
        event.add("dtend", item.date + _dt.timedelta(days=1))
        event.add("summary", _summary(item, full_names))
        description = [f"Status: {item.status}"]
        if item.product:
            description.append(f"Product: {item.product}")
        if item.expected_dose:
            description.append(f"Expected dose: {item.expected_dose}")
        if item.window_end and item.window_end != item.date:
            description.append(f"Window until {item.window_end.isoformat()}")
        description.append(WARNING)
        event.add("description", "\n".join(description))
        event.add("categories", [item.kind])
        event.add("class", "CONFIDENTIAL")
        cal.add_component(event)
    return cal.to_ical()


def write_calendar(schedule, out: str | Path, *, full_names: bool = False) -> int:
    """Write the .ics atomically; returns the number of events."""
    write_atomically(calendar_bytes(schedule, full_names=full_names), out, "calendar")
    return len(schedule.items)
