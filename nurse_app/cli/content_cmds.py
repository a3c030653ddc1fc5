"""``nurse-app content-report``: every clinical figure and statement, for the educator's sign-off."""

from __future__ import annotations

from nurse_app.cli.common import print_json
from nurse_app.core.content_report import build_report
from nurse_app.core.errors import InputError


def register(subparsers) -> None:
    report = subparsers.add_parser(
        "content-report",
        help="the clinical content report (PDF or JSON) for the educator's sign-off",
        description="List every clinical figure and statement the app uses, with its value, unit, source, "
        "source class and status, and the content version (a hash of the content and the agency "
        "policy file). With a record file that holds an approval, items changed since the "
        "approved version are marked.",
    )
    report.add_argument("--out", metavar="FILE.pdf", help="write the report as PDF")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.set_defaults(func=run_content_report)

    approve = subparsers.add_parser(
        "content-approve",
        help="record the educator's approval of the clinical content version in force",
        description="Record in the record file (and its audit log) that the agency's educator approved the "
        "clinical content version in force. --content-version must match it: approve what you "
        "reviewed.",
    )
    approve.add_argument("--name", required=True, metavar="TEXT", help="the educator's name")
    approve.add_argument("--credentials", default="", metavar="TEXT", help="e.g. RN, MSN, nurse educator")
    approve.add_argument("--date", metavar="YYYY-MM-DD", help="the date reviewed (default: today)")
    approve.add_argument(
        "--content-version",
        required=True,
        metavar="VERSION",
        help="the content version printed on the report that was reviewed",
    )
    approve.set_defaults(func=run_content_approve)


def _approval(args) -> dict | None:
    """The latest approval in the record file, if one exists (the report never creates a record)."""
    from nurse_app.store import Store, resolve_db_path

    path, _default = resolve_db_path(getattr(args, "db", None))
    if not path.is_file():
        return None
    with Store.open(path) as store:
        return store.latest_content_approval()


def run_content_report(args) -> int:
    if not args.out and not args.json:
        raise InputError("Say where the report goes: --out FILE.pdf and/or --json.")
    report = build_report(_approval(args))
    if args.out:
        from nurse_app.reports.content_report import write_content_report_pdf

        pages = write_content_report_pdf(report, args.out)
        if not args.json:
            print(
                f"Wrote {args.out} ({pages} page{'s' if pages != 1 else ''}); content version {report.version}, "
                f"{len(report.items)} items."
            )
    if args.json:
        print_json(report.to_json())
    return 0


def run_content_approve(args) -> int:
    from nurse_app.core.content_report import approval_values
    from nurse_app.store import Store, resolve_db_path

    report = build_report()
    if args.content_version.strip() != report.version:
        raise InputError(
            f"The content in force is version {report.version}, not {args.content_version.strip()}: "
            f"review the current report (nurse-app content-report) before approving it."
        )
    path, is_default = resolve_db_path(getattr(args, "db", None))
    with Store.open(path, create_folder=is_default) as store:
        row = store.record_content_approval(
            report.version,
            args.name,
            args.credentials,
            args.date,
            items=approval_values(report.items),
            policy_file=report.policy_file,
        )
    who = ", ".join(x for x in (row["approver_name"], row["approver_credentials"]) if x)
    print(
        f"Recorded: clinical content version {row['content_version']} approved by {who} on {row['approved_on']}."
    )
    return 0
