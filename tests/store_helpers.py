"""Shared set-up for the store tests (tests/test_store_*.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from nurse_app.store import Store, keys

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V1_FIXTURE = FIXTURES / "store_v1.db"
UTC = dt.UTC
NURSE_NAME, NURSE_CREDENTIALS = "Ana Núñez", "RN"  # the profile of the shared ``store`` fixture


# passphrase -> the bytes of a new, empty record made by Store.open with it in this process
_templates: dict[str, bytes] = {}


def new_record(path: Path) -> Path:
    """Put a new, empty record at ``path`` (which must not exist) and return ``path``.

    The record is the file ``Store.open`` created, once per test process and passphrase, in a
    folder of its own (migrations and file creation run once, as the app runs them), copied
    byte for byte with the mode the app gives a record (0600), like Anki's ``getEmptyCol``.
    Every copy has the template's salt, whose key is derived once per process.  Tests of
    creating a record call ``Store.open`` on a new path themselves.
    """
    passphrase = keys.current()
    image = _templates.get(passphrase)
    if image is None:
        folder = os.environ.get("NURSE_APP_TEST_TEMPLATES") or None
        if folder:
            os.makedirs(folder, exist_ok=True)
        made = Path(tempfile.mkdtemp(prefix="record-", dir=folder)) / "record.db"
        Store.open(made).close()  # the last connection folds the write-ahead log into the file
        image = _templates[passphrase] = made.read_bytes()
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(image)
    return path


def open_store(path: Path, name: str = NURSE_NAME, credentials: str = NURSE_CREDENTIALS) -> Store:
    """The record at ``path`` with the nurse profile set; a new one (no file yet) is a
    copy of the template record (:func:`new_record`)."""
    path = Path(path)
    store = Store.open(path if path.exists() else new_record(path))
    store.set_nurse_profile(name, credentials)
    return store


def new_patient(store: Store, mrn: str = "MRN-1", **overrides) -> int:
    values = dict(mrn=mrn, name="Zoë Ölund", date_of_birth="1962-05-17", sex="female", height_cm=165)
    values.update(overrides)
    return store.create_patient(**values)


def ready_visit(store: Store, mrn: str = "MRN-1") -> int:
    """A draft visit with times, one reading of each kind and every required item answered."""
    patient = new_patient(store, mrn)
    order = store.create_order(
        patient,
        product_id="privigen",
        regimen_id="cidp-maintenance",
        start_date="2024-01-02",
        prescriber="Dr. L. Moreau",
    )
    visit = store.create_visit(
        patient,
        order_id=order,
        started_at="2024-06-01T09:00:00+00:00",
        ended_at="2024-06-01T13:30:00+00:00",
        weight_kg=70.5,
        calculation={"product": "privigen", "total_dose_g": 70.5},
    )
    store.add_vitals(
        visit,
        recorded_at="2024-06-01T09:05:00+00:00",
        temperature_c=36.8,
        heart_rate=72,
        systolic_mmhg=122,
        diastolic_mmhg=78,
        respiratory_rate=14,
        spo2_percent=98,
        infusion_rate_ml_h=0,
    )
    store.add_reaction(
        visit,
        occurred_at="2024-06-01T10:10:00+00:00",
        kind="infusion-reaction",
        note="Headache",
        severity="mild",
        rate_at_onset_ml_h=84.6,
        action_taken="Rate reduced",
    )
    store.add_lot(
        visit,
        product_id="privigen",
        lot_number="P4471",
        expiry_date="2026-03-31",
        vial_size_g=20,
        vial_count=3,
    )
    store.add_infusion_event(visit, kind="start", rate_ml_h=21.2, occurred_at="2024-06-01T09:10:00+00:00")
    store.add_infusion_event(visit, kind="end", occurred_at="2024-06-01T13:00:00+00:00")
    store.set_checklist_items(
        visit, {i["item_id"]: "done" for i in store.visit_checklist(visit) if i["required"]}
    )
    return visit


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def outside_connection(path: Path) -> sqlite3.Connection:
    """Another program's connection given the passphrase: SQLite defaults, autocommit.

    The record is encrypted, so "another program" is an SQLCipher tool with the key.
    """
    from nurse_app.store import crypto

    return crypto.connect(Path(path), isolation_level=None)


def raw_connection(path: Path) -> sqlite3.Connection:
    """A raw connection, as an outside SQL tool given the passphrase would use (foreign keys
    on, autocommit); the record is encrypted, so it is a SQLCipher connection."""
    from nurse_app.store import crypto

    conn = crypto.connect(Path(path), isolation_level=None, timeout=5)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def pemphigus_record(path: Path, *, weight_kg: float = 60, **patient: Any) -> Path:
    """A record at ``path`` with the nurse profile set and one patient on a Privigen pemphigus
    order, weighed the month before: what the window tests of a visit start from."""
    values = dict(
        mrn="M1",
        name="Ann Lee",
        date_of_birth="1970-01-01",
        sex="female",
        height_cm=160,
        indication="pemphigus",
    )
    values.update(patient)
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(**values)
        store.add_weight(pid, weight_kg, measured_on="2025-12-20")
        store.create_order(
            pid, product_id="privigen", regimen_id="pemphigus", start_date="2026-01-01", prescriber="Dr. B"
        )
    return path
