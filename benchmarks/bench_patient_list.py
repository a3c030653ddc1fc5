"""The Patients page list: each patient with the day of their last visit (issue 10).

Generates a demo record of N patients (in-process, ``store.demo.generate``), then loads the
list as the Patients page does, two ways, and reports the SQL statements run (counted with
sqlite3's trace callback) and the time:

* ``before``: one query for the patients, then each patient's visits (what the page did
  until issue 10: ``find_patients`` then ``patient_visits`` per patient);
* ``after``: :func:`nurse_app.services.patients.patient_list`, one GROUP BY query.

Both must give the same rows (checked).

Run:  .venv/bin/python benchmarks/bench_patient_list.py [--patients 1000] [--repeat 10] [--keep FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _passphrase import unlock

from nurse_app.store import Store, to_local
from nurse_app.store.demo import generate

LIST_LIMIT = 1000  # the Patients page's limit


def before(store: Store) -> dict[int, str]:
    """The list as the page loaded it before: one query per patient for the last visit."""
    rows = store.find_patients("", limit=LIST_LIMIT)
    last = {}
    for patient in rows:
        visits = store.patient_visits(patient["id"])
        moment = (
            (visits[0].get("started_at") or visits[0].get("scheduled_at") or visits[0].get("created_at"))
            if visits
            else None
        )
        last[patient["id"]] = to_local(moment).date().isoformat() if moment else ""
    return last


def after(store: Store) -> dict[int, str]:
    from nurse_app.services.patients import patient_list

    return {
        row.id: row.last_visit_day.isoformat() if row.last_visit_day else ""
        for row in patient_list(store, "", limit=LIST_LIMIT)
    }


def measure(
    store: Store, load: Callable[[Store], dict[int, str]], repeat: int
) -> tuple[int, float, float, dict[int, str]]:
    """(statements run by one load, first ms, median ms, rows)."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    rows = load(store)
    store.conn.set_trace_callback(None)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        load(store)
        times.append((time.perf_counter() - start) * 1000)
    return len(statements), times[0], statistics.median(times), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="write the demo file here and keep it")
    args = parser.parse_args()
    unlock()  # the record is encrypted: NURSE_APP_PASSPHRASE, or a throw-away one

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "patients.db"
        with Store.open(path) as store:
            if not store.find_patients("", include_archived=True, limit=1):
                start = time.perf_counter()
                summary = generate(store, args.patients, args.seed)
                print(
                    f"generated {summary.patients:,} patients, {summary.visits:,} visits "
                    f"in {time.perf_counter() - start:.1f} s"
                )
        with Store.open(path) as store:
            results = {}
            for label, load in (
                ("before (query per patient)", before),
                ("after (services.patients, GROUP BY)", after),
            ):
                try:
                    count, first, median, rows = measure(store, load, args.repeat)
                except ImportError:
                    print(f"{label:<38} not available on this checkout")
                    continue
                results[label] = rows
                print(
                    f"{label:<38} {count:6,} SQL statements   first {first:8.2f} ms   "
                    f"median {median:8.2f} ms   ({len(rows):,} patients)"
                )
            if len(results) == 2:
                a, b = results.values()
                if a != b:
                    print("MISMATCH: the two ways give different last-visit days", file=sys.stderr)
                    return 1
                print("same rows both ways")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
