"""Opening a visit in the real window: statements run and milliseconds, on a demo record.

1. Makes a demo record of N patients in a temporary folder (``store.demo.generate``, the code
   behind ``nurse-app demo-data``), or reuses ``--keep FILE`` when it exists.
2. Opens the main window on it (offscreen) and opens the patient's newest signed visit and a
   new draft visit on the Visit page, counting every SQL statement with
   ``sqlite3.Connection.set_trace_callback`` and timing each open.
3. Adds one vital-sign reading to the draft and counts what the visit refresh runs
   (``changed("vitals")``).

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_visit_open.py [--patients 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from nurse_app.store import Store, keys

# The record is encrypted: this process unlocks it with the benchmark passphrase
# (NURSE_APP_PASSPHRASE if set).
os.environ.setdefault("NURSE_APP_PASSPHRASE", "benchmark passphrase, not a secret")
keys.unlock(os.environ["NURSE_APP_PASSPHRASE"])


class Statements:
    """Counts the statements a connection runs while ``with`` is open."""

    def __init__(self, store: Store):
        self.store, self.sql = store, []

    def __enter__(self):
        self.sql.clear()
        self.store.conn.set_trace_callback(self.sql.append)
        return self

    def __exit__(self, *exc):
        self.store.conn.set_trace_callback(None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="the demo record file (made when missing, kept)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of each open")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from nurse_app.store import demo
    from nurse_app.ui.main_window import MainWindow

    folder = tempfile.TemporaryDirectory()
    path = args.keep or Path(folder.name) / "bench.db"
    if not path.exists():
        started = time.perf_counter()
        with Store.open(path) as store:
            demo.generate(store, args.patients)
        print(f"demo record of {args.patients} patients made in {time.perf_counter() - started:.1f} s")
    app = QApplication.instance() or QApplication([])
    store = Store.open(path)
    window = MainWindow(
        store=store, settings=QSettings(str(Path(folder.name) / "ui.ini"), QSettings.IniFormat)
    )
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    page = window.visit_page
    signed = store.db.execute(
        "SELECT id, patient_id FROM visits WHERE status = 'signed' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    from nurse_app.services import visits

    draft = visits.start_or_reopen(store, signed[1]).visit_id
    for label, visit_id in (("signed visit", signed[0]), ("draft visit", draft)):
        times, cpu, counted = [], [], Statements(store)
        for n in range(args.repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            if n == 0:
                with counted:
                    page.open_visit(visit_id)
                    app.processEvents()
            else:
                page.open_visit(visit_id)
                app.processEvents()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        print(
            f"open a {label:<13} {len(counted.sql):4d} statements   "
            f"first {times[0]:7.1f} ms   median {statistics.median(times):7.1f} ms wall, "
            f"{statistics.median(cpu):7.1f} ms CPU"
        )
        if args.show_sql:
            print("\n".join(f"    {s}" for s in counted.sql))
    page.open_visit(draft)
    app.processEvents()
    counted = Statements(store)
    with counted:
        store.add_vitals(draft, heart_rate=72)
        page.ctx.changed.emit("vitals")
        app.processEvents()
    print(f'changed("vitals") after one reading: {len(counted.sql)} statements (the write included)')
    if args.show_sql:
        print("\n".join(f"    {s}" for s in counted.sql))
    page.close_visit()
    window.close()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
