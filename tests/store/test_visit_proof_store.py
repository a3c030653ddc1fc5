"""The proof of visit in the record (issue 23): one clear error per bad value, audited, frozen
by the signature (API and triggers), and covered by the seal."""

from __future__ import annotations

import sqlite3

import pytest
from store_helpers import open_store, outside_connection, ready_visit

from nurse_app.core import visit_proof
from nurse_app.store import RecordValueError, SignedVisitError

PNG = visit_proof.render_png([[[10, 10], [60, 40]]], 80, 50)


@pytest.fixture
def signed(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        visit = ready_visit(store)
        store.update_patient(
            store.get_visit(visit)["patient_id"], address_line="1 Elm Ct", address_city="Decatur"
        )
        store.confirm_location(visit, at_service_address=True)
        iv = store.add_access_device(
            visit,
            device_type="peripheral-iv",
            gauge=22,
            length_mm=25,
            site="forearm",
            side="left",
            success=True,
            placed_at="2024-06-01T09:05:00+00:00",
            blood_return=True,
        )
        store.add_access_check(
            iv,
            kind="assessment",
            phase="before",
            checked_at="2024-06-01T09:06:00+00:00",
            phlebitis_grade=0,
            infiltration_grade=0,
        )
        store.remove_access_device(
            iv, removed_at="2024-06-01T13:20:00+00:00", catheter_intact=True, removal_condition="no-redness"
        )
        store.record_patient_signature(visit, signer="patient", strokes=[[[10, 10], [60, 40]]], png=PNG)
        store.sign_visit(visit)
        yield path, store, visit, iv


def test_signed_proof_is_frozen_and_sealed(signed):
    path, store, visit, iv = signed
    assert store.verify_visit(visit)
    with pytest.raises(SignedVisitError):
        store.update_access_device(iv, note="late")
    with pytest.raises(SignedVisitError):
        store.clear_patient_signature(visit)
    with pytest.raises(SignedVisitError):
        store.correct_visit_time(visit, "started_at", "2024-06-01T08:50:00+00:00", "typo")
    conn = outside_connection(path)
    for sql in (
        "UPDATE access_devices SET catheter_intact = 0",
        "DELETE FROM access_checks",
        "UPDATE visits SET patient_signature_png = 'x'",
        "INSERT INTO access_checks (visit_id, device_id, kind, checked_at, recorded_by) "
        f"VALUES ({visit}, {iv}, 'flush', '2024-06-01T10:00:00Z', 'x')",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="SIGNED"):
            conn.execute(sql)
    # someone who drops the triggers and edits the IV record breaks the seal
    conn.execute("DROP TRIGGER access_devices_signed_no_update")
    conn.execute("UPDATE access_devices SET catheter_intact = 0")
    conn.close()
    assert store.seal_problem(visit) == "its content no longer matches its own hash"


def test_every_change_is_audited(signed):
    _path, store, visit, iv = signed
    assert [e["action"] for e in store.audit_entries("access_devices", iv)] == ["update", "insert"]
    assert store.audit_entries("access_checks")
    changed = {k for e in store.audit_entries("visits", visit) for k in (e["after"] or {})}
    assert {"location_address", "patient_signer", "patient_signature_strokes"} <= changed


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, v, d: s.add_access_device(v, device_type="central-line"), "Access device must be one of"),
        (
            lambda s, v, d: s.add_access_device(v, device_type="peripheral-iv", attempt_number=7),
            "ask for help",
        ),
        (
            lambda s, v, d: s.add_access_device(
                v,
                device_type="picc",
                patency=True,
                catheter_intact=True,
                removed_at="2024-06-01T10:00:00+00:00",
            ),
            "not removed at a home visit",
        ),
        (
            lambda s, v, d: s.add_access_device(v, device_type="peripheral-iv", site="foot"),
            "Site must be one of",
        ),
        (
            lambda s, v, d: s.add_access_check(d, kind="assessment", phase="before", phlebitis_grade=5),
            "grade 5 is not on the scale",
        ),
        (
            lambda s, v, d: s.add_access_check(d, kind="assessment", phlebitis_grade=0),
            "before, during or after",
        ),
        (
            lambda s, v, d: s.update_access_device(d, success=False, removed_at="2024-06-01T10:00:00+00:00"),
            "unsuccessful attempt was never in place",
        ),
        (
            lambda s, v, d: s.record_patient_signature(v, signer="patient", strokes=[], png=PNG),
            "at least one stroke",
        ),
        (
            lambda s, v, d: s.record_patient_signature(
                v, signer="patient", strokes=[[[1, 2]]], png=b"GIF89a"
            ),
            "not a PNG",
        ),
        (
            lambda s, v, d: s.record_patient_signature(v, signer="caregiver", strokes=[[[1, 2]]], png=PNG),
            "caregiver's name",
        ),
        (lambda s, v, d: s.record_no_signature(v, reason="asleep"), "Reason must be one of"),
        (lambda s, v, d: s.confirm_location(v, at_service_address=True), "no service address on record"),
        (
            lambda s, v, d: s.confirm_location(
                v, at_service_address=False, address="x", latitude="north", longitude=1
            ),
            "number in degrees",
        ),
        (lambda s, v, d: s.correct_visit_time(v, "started_at", "2024-06-01T08:00:00+00:00", "  "), "Say why"),
        (
            lambda s, v, d: s.correct_visit_time(v, "started_at", "2024-06-01T14:00:00+00:00", "typo"),
            "end time is before the start time",
        ),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, call, message):
    with open_store(tmp_path / "record.db") as store:
        visit = ready_visit(store)
        iv = store.add_access_device(
            visit, device_type="peripheral-iv", success=True, placed_at="2024-06-01T09:05:00+00:00"
        )
        with pytest.raises(RecordValueError, match=message) as caught:
            call(store, visit, iv)
        assert "\n" not in str(caught.value)
