"""What encryption costs: the same large record encrypted (SQLCipher) and plain, as ratios.

1. ``nurse-app demo-data --patients N`` makes an encrypted record (a subprocess, as a
   nurse would); a plain copy is exported from it with ``sqlcipher_export``, so both
   hold exactly the same data.
2. Unlock: the key derivation a nurse waits for when typing the passphrase
   (PBKDF2-HMAC-SHA512, 256,000 iterations) plus the first open; then a re-open with
   the key kept in memory, against opening the plain copy.
3. Store operations on each file: the visit list of the patient with most visits,
   a patient search, loading a visit with 60 vital signs (visit, entries, checklist),
   and writing one vital-signs reading (a committed transaction, synchronous=FULL).

Goal (issue 13): every operation within 1.3x of plain; unlock under 1 s.  Opening runs
``quick_check`` over the whole file (the store's open-time damage check), and on an
encrypted file that decrypts and authenticates every page: opening a large record costs
several times the plain open (see the figures in the report of issue 13).

Run:  .venv/bin/python benchmarks/bench_encryption.py [--patients 2000] [--repeat 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nurse_app.store import Store, crypto, keys  # noqa: E402
from nurse_app.store import schema  # noqa: E402
from nurse_app.store.database import BUSY_TIMEOUT_MS, diagnose  # noqa: E402

PASSPHRASE = os.environ.setdefault("NURSE_APP_PASSPHRASE", "benchmark passphrase, not a secret")
NURSE_APP = Path(sys.executable).parent / "nurse-app"
GOAL = 1.3


def median_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def open_plain(path: Path) -> Store:
    """The plain copy opened as Store.open did before encryption: inspect, connect, migrate."""
    diagnose(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    schema.migrate(conn)
    return Store(conn, path, [], None)


def plain_copy(encrypted: Path, plain: Path) -> None:
    conn = crypto.connect(encrypted, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS plain KEY ''", [str(plain)])
    conn.execute("SELECT sqlcipher_export('plain')")
    for pragma in ("user_version", "application_id"):
        conn.execute(f"PRAGMA plain.{pragma} = {conn.execute(f'PRAGMA {pragma}').fetchone()[0]}")
    conn.execute("DETACH DATABASE plain")
    conn.close()


def prepare_visit(store: Store) -> tuple[int, int]:
    """The patient with most visits, and a draft visit of theirs with 60 vital signs."""
    patient = store.db.execute("SELECT patient_id FROM visits GROUP BY patient_id "
                               "ORDER BY count(*) DESC, patient_id LIMIT 1").fetchone()[0]
    store.set_nurse_profile("Bench Nurse", "RN")
    visit = store.create_visit(patient, started_at="2025-02-03T09:00:00+00:00")
    with store.transaction():
        for minute in range(0, 300, 5):
            store.add_vitals(visit, recorded_at=dt.datetime(2025, 2, 3, 9, tzinfo=dt.timezone.utc)
                             + dt.timedelta(minutes=minute), temperature_c=36.9, heart_rate=72,
                             systolic_mmhg=124, diastolic_mmhg=78, respiratory_rate=14,
                             spo2_percent=98, infusion_rate_ml_h=120)
    return patient, visit


def operations(store: Store, patient: int, visit: int, repeat: int) -> dict[str, float]:
    def load_visit():
        store.get_visit(visit)
        store.visit_children(visit)
        store.visit_checklist(visit)

    def write_vital():
        store.add_vitals(visit, heart_rate=70, spo2_percent=97, note="bench")

    return {"visit list (patient with most visits)": median_ms(lambda: store.patient_visits(patient), repeat),
            "patient search 'demo-1'": median_ms(lambda: store.find_patients("demo-1"), repeat),
            "open a visit with 60 vitals": median_ms(load_visit, repeat),
            "write one vital-signs reading": median_ms(write_vital, repeat)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        encrypted, plain = Path(tmp) / "encrypted.db", Path(tmp) / "plain.db"
        done = subprocess.run([str(NURSE_APP), "--db", str(encrypted), "demo-data", "--patients",
                               str(args.patients)], capture_output=True, text=True)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return 1
        keys.unlock(PASSPHRASE)
        plain_copy(encrypted, plain)
        print(f"{args.patients} demo patients: encrypted {encrypted.stat().st_size / 1e6:.1f} MB, "
              f"plain {plain.stat().st_size / 1e6:.1f} MB")

        start = time.perf_counter()
        keys.derive(PASSPHRASE, os.urandom(keys.SALT_BYTES))
        derive_s = time.perf_counter() - start
        keys.lock()
        keys.unlock(PASSPHRASE)
        start = time.perf_counter()
        Store.open(encrypted).close()          # key derivation + first open
        unlock_s = time.perf_counter() - start
        rows = [("key derivation (PBKDF2-SHA512, 256,000)", derive_s * 1000, None),
                ("unlock: derive the key + first open", unlock_s * 1000, None)]
        reopen = median_ms(lambda: Store.open(encrypted).close(), 10)
        plain_open = median_ms(lambda: open_plain(plain).close(), 10)
        rows.append(("open (key in memory) vs plain open", reopen, plain_open))

        with Store.open(encrypted) as store:
            patient, visit = prepare_visit(store)
        with open_plain(plain) as store:
            prepare_visit(store)
        with Store.open(encrypted) as store:
            enc = operations(store, patient, visit, args.repeat)
        with open_plain(plain) as store:
            base = operations(store, patient, visit, args.repeat)
        rows += [(name, enc[name], base[name]) for name in enc]

        worst = 0.0
        print(f"{'operation':<42} {'encrypted':>11} {'plain':>11} {'ratio':>7}")
        for name, ms, plain_ms in rows:
            if plain_ms is None:
                print(f"{name:<42} {ms:9.1f} ms {'':>11} {'':>7}")
                continue
            ratio = ms / plain_ms if plain_ms else float("inf")
            worst = max(worst, ratio)
            print(f"{name:<42} {ms:9.2f} ms {plain_ms:8.2f} ms {ratio:6.2f}x")
        print(f"key derivation {derive_s:.2f} s, unlock with first open {unlock_s:.2f} s (goal < 1 s): "
              f"{'OK' if unlock_s < 1 else 'OVER'}; "
              f"worst record operation {worst:.2f}x (goal <= {GOAL}x): "
              f"{'OK' if worst <= GOAL else 'OVER'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
