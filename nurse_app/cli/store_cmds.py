"""``nurse-app backup | restore | check-db | demo-data``: the record file, headless.

The record used is ``--db PATH`` (global option), else ``NURSE_APP_DB``, else the
default file in the user data folder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nurse_app.cli.passphrase import unlock_backup
from nurse_app.core.errors import InputError
from nurse_app.core.units import whole_number
from nurse_app.store import Store, backup_now, check_database, resolve_db_path, restore_backup

MAX_DEMO_PATIENTS = 100_000


def _patient_count(text: str) -> int:
    try:
        value = whole_number(text, "patients", "Number of patients")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of patients, got {text!r}") from None
    if not 1 <= value <= MAX_DEMO_PATIENTS:
        raise argparse.ArgumentTypeError(
            f"the number of patients must be from 1 to {MAX_DEMO_PATIENTS:,}, got {value}"
        )
    return value


def register(subparsers) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="copy the record to a backup file (safe while the app is open)",
        description="Copy the record with SQLite's backup API and check the copy.",
    )
    backup.add_argument(
        "--to", metavar="FILE", help="the new backup file (default: the backups folder beside the record)"
    )
    backup.set_defaults(func=run_backup)

    restore = subparsers.add_parser(
        "restore",
        help="replace the record with a backup (the current one is kept)",
        description="Check the backup FILE, keep the current record as a backup (or move a "
        "damaged one aside), then restore FILE in its place.",
    )
    restore.add_argument("file", metavar="FILE", help="the backup to restore")
    restore.set_defaults(func=run_restore)

    check = subparsers.add_parser(
        "check-db",
        help="integrity and schema report of the record (read-only)",
        description="Report integrity, schema version, record counts, signed-visit seals and "
        "backups. Changes nothing. Exit status 1 if problems are found.",
    )
    check.add_argument(
        "--seals",
        metavar="FILE",
        help="also compare the record with a seal list kept outside it (from `nurse-app seals "
        "--out FILE`) and name every signed visit, call and addendum that no longer matches",
    )
    check.set_defaults(func=run_check)

    seals = subparsers.add_parser(
        "seals",
        help="export the seals of every signed visit, call and addendum (keep it off the laptop)",
        description="Write the list of seals (content hash and audit chain position of every "
        "signed visit, signed follow-up call and addendum) to FILE. Kept elsewhere, it lets "
        "`nurse-app check-db --seals FILE` find a signed record rewritten later, even by "
        "someone who has the passphrase.",
    )
    seals.add_argument("--out", metavar="FILE", required=True, help="the seal list to write (JSON)")
    seals.set_defaults(func=run_seals)

    demo = subparsers.add_parser(
        "demo-data",
        help="fill a new record with realistic generated patients",
        description="Add generated patients, orders, visits and vital signs (MRNs DEMO-...) to an "
        "empty record, for demonstrations, tests and benchmarks.",
    )
    demo.add_argument("--patients", type=_patient_count, required=True, metavar="N", help="how many patients")
    demo.add_argument(
        "--seed", type=int, default=1, metavar="S", help="the same seed gives the same data (default 1)"
    )
    demo.add_argument(
        "--week-examples",
        action="store_true",
        help="also add four patients dated from today for the Week page and "
        "`schedule`: mid-course, a missed course, a rash check call done "
        "and one due (not deterministic: they move with the date)",
    )
    demo.set_defaults(func=run_demo)


def _db(args) -> tuple:
    return resolve_db_path(getattr(args, "db", None))


def run_backup(args) -> int:
    path, _ = _db(args)
    target = backup_now(path, args.to)
    print(f"Backup written to {target} ({target.stat().st_size:,} bytes); integrity check ok.")
    return 0


def run_restore(args) -> int:
    path, is_default = _db(args)
    unlock_backup(args.file)  # an encrypted backup under another passphrase: ask for it
    result = restore_backup(path, args.file, create_folder=is_default)
    print(f"Restored {path} from {result.restored_from}.")
    if result.kept_previous is not None:
        what = (
            "The previous record was damaged: it was moved aside unchanged and kept as"
            if result.previous_was_damaged
            else "The previous record was kept as"
        )
        print(f"{what} {result.kept_previous}.")
    return 0


def run_check(args) -> int:
    path, _ = _db(args)
    report = check_database(path, Path(args.seals) if args.seals else None)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def run_seals(args) -> int:
    from nurse_app.store import export_seal_list

    path, _ = _db(args)
    target, count = export_seal_list(path, Path(args.out))
    print(f"{count:,} seals written to {target}. Keep this file away from the laptop.")
    return 0


def run_demo(args) -> int:
    from nurse_app.store import demo

    path, is_default = _db(args)
    show_progress = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show_progress:
            print(f"\r{done:,} / {total:,} patients", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with Store.open(path, create_folder=is_default) as store:
        summary = demo.generate(
            store, args.patients, seed=args.seed, progress=progress, week_examples=args.week_examples
        )
    if show_progress:
        print(file=sys.stderr)
    print(
        f"Added {summary.patients:,} demo patients, {summary.orders:,} orders, "
        f"{summary.visits:,} visits ({summary.signed_visits:,} signed) and {summary.vitals:,} "
        f"vital-sign readings to {path} in {time.perf_counter() - started:.1f} s."
    )
    return 0
