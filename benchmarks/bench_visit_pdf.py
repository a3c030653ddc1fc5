"""Visit summary PDF render time (target: under 100 ms).

The visit: day 3 of a 5-day dermatomyositis course (2 g/kg, Octagam 10 %), signed,
with 60 vital-sign rows, two lots, a reaction, the full 44-item checklist, notes and
two addenda (tests/visit_export_helpers.py builds it through the real store API and
dose engine).  Timed separately, median and p95 over ``--runs`` runs after one
warm-up (font registration and imports happen once per process, not per visit):

* data    -- store -> VisitSummary (:func:`visit_summary`)
* render  -- VisitSummary -> PDF bytes (:func:`summary_pdf_bytes`)
* total   -- both, i.e. what "Save summary as PDF" costs

Run:  .venv/bin/python benchmarks/bench_visit_pdf.py [--runs N]
Exit status 1 if the median total is over the target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _passphrase import unlock
from visit_export_helpers import make_visit, open_record

from nurse_app.reports.visit_data import visit_summary
from nurse_app.reports.visit_summary import summary_pdf_bytes

unlock()  # the record is encrypted: NURSE_APP_PASSPHRASE, or a throw-away one

TARGET_MS = 100.0
READINGS = 60


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs (20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_record(Path(folder) / "bench.db")
        visit = make_visit(
            store,
            readings=READINGS,
            sign=True,
            addenda=("Lot confirmed with the pharmacy.", "Day-4 phone call: well."),
        )
        start = time.perf_counter()
        _, pages = summary_pdf_bytes(visit_summary(store, visit))
        first = (time.perf_counter() - start) * 1000
        data_ms, render_ms, total_ms = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            summary = visit_summary(store, visit)
            t1 = time.perf_counter()
            pdf, _ = summary_pdf_bytes(summary)
            t2 = time.perf_counter()
            data_ms.append((t1 - t0) * 1000)
            render_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        store.close()
    print(
        f"Visit summary: 5-day course, day 3, {READINGS} vital-sign rows, {pages} pages, "
        f"{len(pdf):,} bytes; {args.runs} runs"
    )
    print(f"first (cold: fonts, imports)  {first:7.1f} ms")
    for name, values in (
        ("data   (store -> summary)", data_ms),
        ("render (summary -> PDF)", render_ms),
        ("total", total_ms),
    ):
        print(
            f"{name:<28}  median {statistics.median(values):6.1f} ms   "
            f"p95 {percentile(values, 0.95):6.1f} ms   max {max(values):6.1f} ms"
        )
    median = statistics.median(total_ms)
    verdict = "OK" if median < TARGET_MS else "TOO SLOW"
    print(f"target: median total under {TARGET_MS:.0f} ms -> {verdict}")
    return 0 if median < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
