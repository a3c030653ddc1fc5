"""``nurse-app schedule``: the coming course days, calls and reviews (and what is late).

    nurse-app schedule [--from YYYY-MM-DD] [--days N] [--json]
    nurse-app schedule --ics FILE [--from ...] [--days ...] [--full-names]
    nurse-app schedule --pdf FILE [--from ...] [--days ...]

Reads the record (``--db``); never creates one.  The .ics and the PDF contain patient
information (the .ics names patients by initials and MRN unless ``--full-names``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys


def _day(text: str) -> _dt.date:
    from nurse_app.store.validation import EARLIEST_DATE, LATEST_DATE

    try:
        day = _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a date is YYYY-MM-DD, not {text!r}") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise argparse.ArgumentTypeError(
            f"the schedule covers {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}, not {text}"
        )
    return day


def _days(text: str) -> int:
    from nurse_app.core.errors import InputError
    from nurse_app.core.units import whole_number

    try:
        value = whole_number(text, "days", "Number of days")
    except (ValueError, InputError):
        raise argparse.ArgumentTypeError(f"a number of days is a whole number, not {text!r}") from None
    if not 1 <= value <= 366:
        raise argparse.ArgumentTypeError(f"the number of days is from 1 to 366, not {value}")
    return value


def register(subparsers) -> None:
    from nurse_app.services.schedule import DEFAULT_DAYS

    p = subparsers.add_parser(
        "schedule",
        help="list the coming visits, calls and reviews (and what is late)",
        description="List course days due, follow-up calls, response reviews and lab checks "
        "from a date (default today) for a number of days, with late and missed "
        "items of the last weeks, in time order. --ics writes a calendar file and "
        "--pdf a printable week sheet; both contain patient information.",
    )
    p.add_argument("--from", dest="start", type=_day, metavar="YYYY-MM-DD", help="first day (default: today)")
    p.add_argument(
        "--days",
        type=_days,
        default=DEFAULT_DAYS,
        metavar="N",
        help=f"how many days (default {DEFAULT_DAYS}: today and the next 7)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list of items")
    out.add_argument("--ics", metavar="FILE", help="write an iCalendar (.ics) file")
    out.add_argument("--pdf", metavar="FILE", help="write the printable week sheet (PDF)")
    p.add_argument(
        "--full-names",
        action="store_true",
        help="name patients in full in the .ics (default: initials and MRN)",
    )
    p.set_defaults(func=run_schedule)


def run_schedule(args) -> int:
    from nurse_app.cli.visit_cmds import open_existing
    from nurse_app.services.schedule import STATUS_LABELS, build_schedule

    with open_existing(args.db) as store:
        schedule = build_schedule(store, args.start, args.days)
        nurse = (store.nurse_profile() or {}).get("display", "")
    if args.json:
        json.dump([i.to_json() for i in schedule.items], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    if args.ics:
        from nurse_app.reports.week_calendar import write_calendar

        count = write_calendar(schedule, args.ics, full_names=args.full_names)
        names = "full names" if args.full_names else "initials and MRN"
        print(f"Wrote {args.ics}: {count} events ({names}). It contains patient information.")
        return 0
    if args.pdf:
        from nurse_app.reports.week_sheet import write_week_sheet

        pages = write_week_sheet(schedule, args.pdf, nurse=nurse)
        print(
            f"Wrote {args.pdf}: week sheet, {pages} page{'s' if pages != 1 else ''}. "
            f"It contains patient information."
        )
        return 0
    last = schedule.end - _dt.timedelta(days=1)
    print(
        f"Schedule {schedule.start.isoformat()} to {last.isoformat()}: "
        f"{len(schedule.items)} items, {schedule.late_count} late or missed."
    )
    for item in schedule.items:
        print(f"{item.date.isoformat()}  {STATUS_LABELS[item.status]:<12} {item.kind:<16} {item.label}")
    return 0
