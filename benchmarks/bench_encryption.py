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

Each pair is timed alternately (encrypted, plain, plain, encrypted, ...) and the medians
compared, so the load of a shared machine falls on both alike.  The plain copy is opened
by Store.open itself with the standard library's sqlite3 in place of SQLCipher.

Goal (issue 13): every operation within 1.3x of plain; unlock under 1 s.  (Opening used to
run ``quick_check`` and a scan of every stored text at each start; on an encrypted file that
decrypts and authenticates every page, 5-9x the plain open of a large record.  Opening now
reads the schema and the audit log's tail only; ``check-db`` still reads everything.)

Run:  .venv/bin/python benchmarks/bench_encryption.py [--patients 2000] [--repeat 40]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _passphrase import unlock

from nurse_app.store import (
    Store,
    crypto,
    database,
    encryption,
    keys,
    schema,
)

PASSPHRASE = unlock()  # NURSE_APP_PASSPHRASE, or a throw-away one (subprocesses inherit it)
NURSE_APP = Path(sys.executable).parent / "nurse-app"
GOAL = 1.3


@contextlib.contextmanager
def sqlite_instead_of_sqlcipher():
    """Store.open's own code, with the standard library's sqlite3 where it uses SQLCipher
    (and no encryption of the plain file): the same checks, files and settings."""
    saved = crypto.connect, encryption.ensure_encrypted, database._whole_file_checks

    def plain_connect(path, *, isolation_level="", timeout=5.0, **_):
        return sqlite3.connect(path, isolation_level=isolation_level, timeout=timeout)

    def same_checks(path, full_check, version):  # as for an encrypted record
        return full_check or 0 < version < schema.CURRENT_VERSION

    crypto.connect, encryption.ensure_encrypted = plain_connect, lambda path: []
    database._whole_file_checks = same_checks
    try:
        yield
    finally:
        crypto.connect, encryption.ensure_encrypted, database._whole_file_checks = saved


def open_plain(path: Path) -> Store:
    """The plain copy opened by Store.open itself (see :func:`sqlite_instead_of_sqlcipher`)."""
    with sqlite_instead_of_sqlcipher():
        return Store.open(path)


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
    patient = store.db.execute(
        "SELECT patient_id FROM visits GROUP BY patient_id ORDER BY count(*) DESC, patient_id LIMIT 1"
    ).fetchone()[0]
    store.set_nurse_profile("Bench Nurse", "RN")
    visit = store.create_visit(patient, started_at="2025-02-03T09:00:00+00:00")
    with store.transaction():
        for minute in range(0, 300, 5):
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
    return patient, visit


def paired_ms(encrypted, plain, repeat: int) -> tuple[float, float, float, float]:
    """Medians of the two (wall clock, then CPU time of this process), timed alternately in
    ABBA order so the load of a shared machine falls on both alike."""
    wall: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for index in range(repeat * 2):
        which = index % 2 if (index // 2) % 2 == 0 else 1 - index % 2
        function = (encrypted, plain)[which]
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall[which].append((time.perf_counter() - start) * 1000)
        cpu[which].append((time.process_time() - start_cpu) * 1000)
    return (
        statistics.median(wall[0]),
        statistics.median(wall[1]),
        statistics.median(cpu[0]),
        statistics.median(cpu[1]),
    )


def operations(store: Store, patient: int, visit: int) -> dict[str, Callable[[], object]]:
    def load_visit():
        store.get_visit(visit)
        store.visit_children(visit)
        store.visit_checklist(visit)

    def write_vital():
        store.add_vitals(visit, heart_rate=70, spo2_percent=97, note="bench")

    return {
        "visit list (patient with most visits)": lambda: store.patient_visits(patient),
        "patient search 'demo-1'": lambda: store.find_patients("demo-1"),
        "open a visit with 60 vitals": load_visit,
        "write one vital-signs reading": write_vital,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="make the two records in DIR once and reuse "
        "them on later runs (demo-data of 2,000 patients takes minutes)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        encrypted, plain = folder / "encrypted.db", folder / "plain.db"
        made = folder / f"made-{args.patients}"
        if not made.exists():
            for old in folder.glob("*.db*"):
                old.unlink()
            done = subprocess.run(
                [str(NURSE_APP), "--db", str(encrypted), "demo-data", "--patients", str(args.patients)],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            keys.unlock(PASSPHRASE)
            plain_copy(encrypted, plain)
            if args.keep:
                made.touch()
            # the benchmark's own draft visits: copies of the fresh files are kept
            for name in (encrypted, plain):
                shutil.copy(name, name.with_suffix(".fresh"))
        else:
            for name in (encrypted, plain):
                for side in ("-wal", "-shm"):
                    Path(f"{name}{side}").unlink(missing_ok=True)
                shutil.copy(name.with_suffix(".fresh"), name)
            keys.unlock(PASSPHRASE)
            migrated = False
            for name, opener in ((encrypted, Store.open), (plain, open_plain)):
                with opener(name) as store:  # kept from an older record format: upgraded once
                    migrated = migrated or bool(store.migrated_versions)
            if migrated:
                for name in (encrypted, plain):
                    shutil.copy(name, name.with_suffix(".fresh"))
                shutil.rmtree(folder / "backups", ignore_errors=True)
        keys.unlock(PASSPHRASE)
        print(
            f"{args.patients} demo patients: encrypted {encrypted.stat().st_size / 1e6:.1f} MB, "
            f"plain {plain.stat().st_size / 1e6:.1f} MB"
        )

        start = time.perf_counter()
        keys.derive(PASSPHRASE, os.urandom(keys.SALT_BYTES))
        derive_s = time.perf_counter() - start
        keys.lock()
        keys.unlock(PASSPHRASE)
        start = time.perf_counter()
        Store.open(encrypted).close()  # key derivation + first open
        unlock_s = time.perf_counter() - start
        rows = [
            ("key derivation (PBKDF2-SHA512, 256,000)", derive_s * 1000, None, None, None),
            ("unlock: derive the key + first open", unlock_s * 1000, None, None, None),
        ]
        rows.append(
            (
                "open (key in memory) vs plain open",
                *paired_ms(
                    lambda: Store.open(encrypted).close(),
                    lambda: open_plain(plain).close(),
                    max(15, args.repeat // 2),
                ),
            )
        )

        with Store.open(encrypted) as store:
            patient, visit = prepare_visit(store)
        with open_plain(plain) as store:
            prepare_visit(store)
        with Store.open(encrypted) as enc_store, open_plain(plain) as plain_store:
            enc = operations(enc_store, patient, visit)
            base = operations(plain_store, patient, visit)
            for name in enc:
                rows.append((name, *paired_ms(enc[name], base[name], args.repeat)))

        worst = 0.0
        print(f"{'operation':<42} {'encrypted':>11} {'plain':>11} {'ratio':>7} {'CPU ratio':>10}")
        for name, ms, plain_ms, cpu_ms, cpu_plain_ms in rows:
            if plain_ms is None:
                print(f"{name:<42} {ms:9.1f} ms")
                continue
            ratio = ms / plain_ms if plain_ms else float("inf")
            cpu_ratio = cpu_ms / cpu_plain_ms if cpu_plain_ms else float("nan")
            worst = max(worst, ratio)
            print(f"{name:<42} {ms:9.2f} ms {plain_ms:8.2f} ms {ratio:6.2f}x {cpu_ratio:9.2f}x")
        print(
            f"key derivation {derive_s:.2f} s, unlock with first open {unlock_s:.2f} s (goal < 1 s): "
            f"{'OK' if unlock_s < 1 else 'OVER'}; "
            f"worst record operation {worst:.2f}x (goal <= {GOAL}x): "
            f"{'OK' if worst <= GOAL else 'OVER'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
