"""``nurse-app patients | visit-addendum``: the record's patients, and a late entry on a signed visit.

    nurse-app patients [QUERY] [--archived] [--order] [--json]
    nurse-app visit-addendum VISIT_ID --text TEXT

The same use cases as the app's screens (:mod:`nurse_app.services`): the Patients page's list
(each patient with their last visit, one query) and order summary, the Sign tab's addendum.
``patients`` only reads the record; neither command ever creates one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nurse_app.core.errors import InputError, NurseAppError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "patients",
        help="list patients with their last visit (and what their order comes to)",
        description="List the patients whose name or MRN contains QUERY (case and accents "
        "ignored; all without QUERY), sorted by name, each with the day of their "
        "last visit. --order adds what the active IVIG order comes to at the latest "
        "weight, as the Patients page shows it. The output holds patient information.",
    )
    p.add_argument("query", nargs="?", default="", metavar="QUERY", help="part of a name or MRN")
    p.add_argument("--archived", action="store_true", help="include archived patients")
    p.add_argument("--order", action="store_true", help="add the active order's dose at the latest weight")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run_patients)

    from nurse_app.cli.visit_cmds import _visit_id

    add = subparsers.add_parser(
        "visit-addendum",
        help="add an addendum (correction or late entry) to a signed visit",
        description="Append a correction or late entry to a signed visit, stamped with the nurse "
        "profile's name and the time. A signed visit itself never changes; a draft "
        "is changed directly in the app.",
    )
    add.add_argument("visit", type=_visit_id, metavar="VISIT_ID", help="the visit's number")
    add.add_argument("--text", required=True, help="the addendum's text")
    add.set_defaults(func=run_visit_addendum)


def _order_text(summary) -> str:
    """The Patients page's order summary as plain text (the same wording, from the service)."""
    risks = ", ".join(summary.risk_labels)
    return (
        f"{summary.weighed_text}: {summary.course_text}{summary.per_day_text}, "
        f"{summary.volume_text}, {summary.rates_text} ({summary.dosing_weight_text})."
        + (f" Risks: {risks}." if risks else "")
        + (" First infusion of this product for the patient." if summary.first_infusion else "")
    )


def run_patients(args) -> int:
    from nurse_app.cli.common import open_existing, print_json
    from nurse_app.core.catalogue import load_catalogue
    from nurse_app.core.formatting import fmt_date
    from nurse_app.core.labels import indication_text
    from nurse_app.services.orders import order_dose_summary
    from nurse_app.services.patients import patient_list

    catalogue = load_catalogue()
    out = []
    with open_existing(args.db) as store:
        for row in patient_list(store, args.query, include_archived=args.archived):
            item: dict[str, Any] = {
                "id": row.id,
                "mrn": row.mrn,
                "name": row.name,
                "date_of_birth": row.date_of_birth,
                "indication": indication_text(catalogue, row.indication),
                "indication_short": indication_text(catalogue, row.indication, short=True),
                "last_visit": row.last_visit_day.isoformat() if row.last_visit_day else None,
            }
            if args.order:
                try:
                    summary = order_dose_summary(store, row.id, catalogue=catalogue)
                except NurseAppError as exc:
                    item["order"] = f"cannot be worked out: {exc}"
                else:
                    item["order"] = _order_text(summary) if summary else "no active order, or no weight"
            out.append(item)
    if args.json:
        for item in out:
            del item["indication_short"]
        print_json(out)
        return 0
    if not out:
        print(
            f"No patient matches \u201c{args.query.strip()}\u201d."
            if args.query.strip()
            else "This record holds no patients."
        )
        return 0
    for item in out:
        last = fmt_date(item["last_visit"]) if item["last_visit"] else "none yet"
        print(
            f"{item['mrn']}  {item['name']}  born {fmt_date(item['date_of_birth'])}  "
            f"{item.pop('indication_short') or 'no indication'}  last visit {last}"
        )
        if args.order:
            print(f"    order: {item['order']}")
    print(f"{len(out)} patient{'s' if len(out) != 1 else ''}.")
    return 0


def run_visit_addendum(args) -> int:
    from nurse_app.services.signing import add_addendum
    from nurse_app.store import Store, resolve_db_path

    path, _ = resolve_db_path(args.db)
    if not Path(path).exists():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    with Store.open(path) as store:
        addendum = add_addendum(store, args.visit, args.text)
    print(f"Addendum {addendum} added to visit {args.visit}.")
    return 0
