"""Record-file figures: ``demo-data --patients 5000`` time and size, then load times.

1. Runs ``nurse-app --db TMP demo-data --patients N`` as a nurse would (a subprocess,
   start-up included) and reports wall time and file size.
2. Opens the file (inspection + quick_check + connection set-up) and times it.
3. Times loading one patient's visit list (the patient with the most visits).
4. Adds a draft visit with 60 vital-sign readings (not timed), reopens the file, and
   times loading that visit as the visit screen does: the visit (with its calculation
   snapshot), all its entries and its checklist merged with the template.

Run:  .venv/bin/python benchmarks/bench_store.py [--patients 5000] [--repeat 50] [--keep FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _passphrase import unlock

from nurse_app.store import Store

# The record is encrypted: the demo-data subprocess and this process use the same passphrase
# (NURSE_APP_PASSPHRASE, or a throw-away one the subprocess inherits).
unlock()

NURSE_APP = Path(sys.executable).parent / "nurse-app"


def timed(function, repeat: int) -> tuple[float, float, float]:
    """(first call, median, max) in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times), max(times)


def fmt(label: str, figures: tuple[float, float, float]) -> str:
    first, median, worst = figures
    return f"{label:<44} first {first:8.2f} ms   median {median:8.2f} ms   max {worst:8.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="write the demo file here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        start = time.perf_counter()
        done = subprocess.run(
            [
                str(NURSE_APP),
                "--db",
                str(path),
                "demo-data",
                "--patients",
                str(args.patients),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        print(done.stdout.strip())
        size = path.stat().st_size
        print(
            f"demo-data --patients {args.patients}: {elapsed:.1f} s wall, file {size / 1e6:.1f} MB "
            f"({size / args.patients / 1024:.1f} kB per patient)"
        )

        print(fmt("open the file (inspect, quick_check, WAL)", timed(lambda: Store.open(path).close(), 5)))
        with Store.open(path) as store:
            patient = store.db.execute(
                "SELECT patient_id FROM visits GROUP BY patient_id ORDER BY count(*) DESC, patient_id LIMIT 1"
            ).fetchone()[0]
            visits = len(store.patient_visits(patient))
            store.set_nurse_profile("Bench Nurse", "RN")
            visit = store.create_visit(
                patient,
                started_at="2025-02-03T09:00:00+00:00",
                calculation=store.get_visit(store.patient_visits(patient)[0]["id"])["calculation"],
            )
            with store.transaction():
                for minute in range(0, 60 * 5, 5):
                    store.add_vitals(
                        visit,
                        recorded_at=dt.datetime(2025, 2, 3, 9, tzinfo=dt.UTC) + dt.timedelta(minutes=minute),
                        temperature_c=36.9,
                        heart_rate=72,
                        systolic_mmhg=124,
                        diastolic_mmhg=78,
                        respiratory_rate=14,
                        spo2_percent=98,
                        infusion_rate_ml_h=120,
                    )

        with Store.open(path) as store:  # a fresh connection: nothing cached by SQLite yet
            print(
                fmt(
                    f"visit list of one patient ({visits} visits)",
                    timed(lambda: store.patient_visits(patient), args.repeat),
                )
            )

            def load_visit():
                store.get_visit(visit)
                children = store.visit_children(visit)
                store.visit_checklist(visit)
                assert len(children["vitals"]) == 60

            print(fmt("one visit with 60 vitals (+ entries, checklist)", timed(load_visit, args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
