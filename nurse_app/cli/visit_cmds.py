"""``nurse-app visit-pdf | visit-fhir``: one visit as a summary PDF or a FHIR R4 Bundle.

The record used is ``--db PATH`` (global option), else ``NURSE_APP_DB``, else the
default file.  The record is only read: a path with no record file is an error
here, never a new empty record.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nurse_app.core.errors import InputError
from nurse_app.core.units import whole_number
from nurse_app.store import Store, resolve_db_path


def _visit_id(text: str) -> int:
    try:
        value = whole_number(text, "visit", "Visit id")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"a visit id is a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a visit id is 1 or more, not {value}")
    if value >= 2**63:
        raise argparse.ArgumentTypeError(f"no visit has an id as large as {text}")
    return value


def register(subparsers) -> None:
    pdf = subparsers.add_parser(
        "visit-pdf",
        help="write the summary of one visit as PDF",
        description="Write the visit summary (patient, order, dose calculation, lots, checklist, "
        "vital signs, reactions, notes, addenda, signature) as a PDF. An unsigned "
        "visit is marked DRAFT on every page.",
    )
    pdf.add_argument("visit", type=_visit_id, metavar="VISIT_ID", help="the visit's number")
    pdf.add_argument("--out", required=True, metavar="FILE.pdf", help="where to write the PDF")
    pdf.set_defaults(func=run_visit_pdf)

    fhir = subparsers.add_parser(
        "visit-fhir",
        help="export one visit as a FHIR R4 Bundle (JSON)",
        description="Export the visit as a FHIR R4 collection Bundle: Patient, Encounter, "
        "MedicationAdministration, vital-sign Observations (LOINC), "
        "AllergyIntolerance and AdverseEvent where recorded.",
    )
    fhir.add_argument("visit", type=_visit_id, metavar="VISIT_ID", help="the visit's number")
    fhir.add_argument(
        "--out", required=True, metavar="FILE.json", help="where to write the JSON (- for standard output)"
    )
    fhir.set_defaults(func=run_visit_fhir)

    void = subparsers.add_parser(
        "visit-void",
        help="void a draft visit entered by mistake",
        description="Void a draft visit entered by mistake: it stays in the record (read-only, "
        "with who, when and why in the audit log) and no longer counts as a course "
        "day. A signed visit cannot be voided; write an addendum instead.",
    )
    void.add_argument("visit", type=_visit_id, metavar="VISIT_ID", help="the visit's number")
    void.add_argument("--reason", required=True, help="why it is voided (recorded)")
    void.set_defaults(func=run_visit_void)


def open_existing(db: str | None) -> Store:
    """The record at ``db`` (or the default); refuses to create one that is not there."""
    path, _ = resolve_db_path(db)
    if not Path(path).exists():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    return Store.open_read_only(path)


def run_visit_pdf(args) -> int:
    from nurse_app.reports.visit_data import visit_summary
    from nurse_app.reports.visit_summary import write_summary_pdf

    with open_existing(args.db) as store:
        summary = visit_summary(store, args.visit)
    pages = write_summary_pdf(summary, args.out)
    state = "DRAFT, not signed" if summary.draft else "signed"
    print(f"Wrote {args.out}: visit {args.visit} ({state}), {pages} page{'s' if pages != 1 else ''}.")
    return 0


def run_visit_fhir(args) -> int:
    from nurse_app.reports.common import write_atomically
    from nurse_app.reports.fhir import bundle_json, counts_text, resource_counts, visit_bundle
    from nurse_app.reports.visit_data import load_visit

    with open_existing(args.db) as store:
        record = load_visit(store, args.visit)
    bundle = visit_bundle(record)
    text = bundle_json(bundle)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    write_atomically(text.encode("utf-8"), args.out, "FHIR export")
    print(
        f"Wrote {args.out}: FHIR R4 Bundle for visit {args.visit} with "
        f"{counts_text(resource_counts(bundle))}."
    )
    return 0


def run_visit_void(args) -> int:
    from nurse_app.services.visits import void_draft

    path, _ = resolve_db_path(args.db)
    if not Path(path).exists():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    with Store.open(path) as store:
        visit = void_draft(store, args.visit, args.reason)
    print(
        f"Visit {args.visit} voided by {visit['voided_by']}: kept in the record, read-only, not a course day."
    )
    return 0
