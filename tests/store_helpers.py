"""Shared set-up for the store tests (tests/test_store_*.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

from nurse_app.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V1_FIXTURE = FIXTURES / "store_v1.db"
UTC = dt.UTC
NURSE_NAME, NURSE_CREDENTIALS = "Ana Núñez", "RN"  # the profile of the shared ``store`` fixture


def open_store(path: Path, name: str = NURSE_NAME, credentials: str = NURSE_CREDENTIALS) -> Store:
    store = Store.open(path)
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
