"""``nurse-app evv``: the six Electronic Visit Verification items of each visit, for the
agency's EVV aggregator.

    nurse-app evv --from YYYY-MM-DD --to YYYY-MM-DD [--csv FILE | --json]

Type of service, person served, date, location, provider, start and end (arrival and
departure) per visit, with the visit's status and whether all six are recorded.  Reads the
record (``--db``); never creates one.  The output contains patient information.
"""

from __future__ import annotations

import json
import sys

from nurse_app.cli.schedule_cmds import _day


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evv",
        help="export the six EVV items of each visit (type, person, date, place, nurse, times)",
        description="Electronic Visit Verification: one row per visit whose arrival falls between "
        "--from and --to (local days, both included). The file contains patient information.",
    )
    p.add_argument("--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--to", dest="end", type=_day, required=True, metavar="YYYY-MM-DD", help="last day")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", help="write a CSV file (readable by you only)")
    out.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run_evv)


def run_evv(args) -> int:
    from nurse_app.cli.visit_cmds import open_existing
    from nurse_app.services.visit_proof import evv_csv, evv_rows

    with open_existing(args.db) as store:
        rows = evv_rows(store, args.start, args.end)
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    if args.csv:
        from nurse_app.reports.common import write_atomically

        write_atomically(evv_csv(rows).encode("utf-8"), args.csv, "EVV export")
        incomplete = sum(1 for r in rows if not r["complete"])
        print(
            f"Wrote {args.csv}: {len(rows)} visits, {incomplete} not complete (unsigned or missing an item). "
            "It contains patient information."
        )
        return 0
    print(f"EVV {args.start.isoformat()} to {args.end.isoformat()}: {len(rows)} visits.")
    for r in rows:
        flag = "" if r["complete"] else "  [incomplete]"
        print(
            f"{r['date']}  visit {r['visit_id']}  {r['person_served']}  {r['start'] or '-'} to {r['end'] or '-'}  "
            f"{r['location'] or 'location not confirmed'}  {r['provider']}{flag}"
        )
    return 0
