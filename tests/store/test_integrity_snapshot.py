"""What the signature covers cannot move (issue 12 §1): at signing the patient, the order
and the nurse are frozen into the visit (covered by its content hash); the summary PDF and
the FHIR export of a signed visit print them, and later edits of the patient or the order
only as "changed since signing" notes."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from store_helpers import outside_connection
from visit_export_helpers import flat, make_visit, open_record, read_pdf

from nurse_app.cli import main as cli_main
from nurse_app.store import check_database, schema

SIGNED_ALLERGIES = "Penicillin (rash, hives); Latex"


@pytest.fixture
def signed_then_edited(tmp_path, toronto_time):
    """A signed visit whose order and patient were edited afterwards."""
    path = tmp_path / "record.db"
    with open_record(path) as store:
        visit = make_visit(store, readings=3, sign=True, allergies=SIGNED_ALLERGIES)
        record = store.get_visit(visit)
        store.update_order(record["order_id"], dose_g_per_kg=1.5, max_rate_mg_kg_min=7)
        store.update_patient(record["patient_id"], allergies="Sulfonamides")
        assert store.verify_visit(visit) is True
        snapshot = store.get_visit(visit).get("signed_snapshot")
    return path, visit, snapshot


def test_signing_freezes_patient_order_and_nurse_into_the_hashed_content(signed_then_edited):
    path, _visit, snapshot = signed_then_edited
    assert snapshot["patient"]["allergies"] == SIGNED_ALLERGIES
    assert snapshot["patient"]["mrn"] == "MRN-0042"
    assert snapshot["order"]["dose_g_per_kg"] is None  # the regimen's dose was used
    assert snapshot["order"]["max_rate_mg_kg_min"] is None
    assert snapshot["order"]["product_id"] == "octagam-10"
    assert snapshot["nurse"] and snapshot["signed_by"]
    assert check_database(path).ok


def test_the_pdf_prints_what_was_signed_and_notes_later_changes(signed_then_edited, tmp_path, capsys):
    path, visit, _ = signed_then_edited
    out = tmp_path / "summary.pdf"
    assert cli_main(["--db", str(path), "visit-pdf", str(visit), "--out", str(out)]) == 0
    text = flat(" ".join(read_pdf(out)))
    assert "Penicillin (rash, hives); Latex" in text
    assert "Dose 2 g/kg per course" in text  # the regimen's, as signed
    assert "1.5 g/kg per course" not in text
    assert "Maximum rate 7 mg/kg/min" not in text
    assert "Changed since signing" in text
    assert "Allergies is now Sulfonamides" in text
    assert "Dose (g/kg) is now 1.5" in text
    assert "Maximum rate (mg/kg/min) is now 7" in text
    assert "The record matches the hash" in text


def test_fhir_exports_what_was_signed_and_notes_later_changes(signed_then_edited, tmp_path, capsys):
    path, visit, _ = signed_then_edited
    out = tmp_path / "visit.json"
    assert cli_main(["--db", str(path), "visit-fhir", str(visit), "--out", str(out)]) == 0
    bundle = Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    allergies = sorted(
        e.resource.code.text for e in bundle.entry if e.resource.get_resource_type() == "AllergyIntolerance"
    )
    assert allergies == ["Latex", "Penicillin (rash, hives)"]
    (administration,) = [
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "MedicationAdministration"
    ]
    notes = " ".join(n.text for n in administration.note)
    assert "Changed since signing: patient Allergies is now Sulfonamides" in notes
    assert "Changed since signing: order Dose (g/kg) is now 1.5" in notes


def test_a_draft_shows_the_patient_and_order_as_they_are(tmp_path, toronto_time):
    path = tmp_path / "record.db"
    with open_record(path) as store:
        visit = make_visit(store, readings=2, sign=False)
        store.update_patient(store.get_visit(visit)["patient_id"], allergies="Sulfonamides")
    out = tmp_path / "draft.pdf"
    assert cli_main(["--db", str(path), "visit-pdf", str(visit), "--out", str(out)]) == 0
    text = flat(" ".join(read_pdf(out)))
    assert "Sulfonamides" in text and "Changed since signing" not in text


def test_tampering_with_the_snapshot_breaks_the_seal(signed_then_edited):
    path, visit, snapshot = signed_then_edited
    snapshot["patient"]["allergies"] = "None known"
    conn = outside_connection(path)  # the record is encrypted: an SQLCipher tool with the key
    conn.execute("DROP TRIGGER visits_signed_no_update")
    conn.execute(
        "UPDATE visits SET signed_snapshot = ? WHERE id = ?", [json.dumps(snapshot, sort_keys=True), visit]
    )
    conn.execute(schema.expected_objects()["visits_signed_no_update"][1])
    conn.close()
    report = check_database(path)
    assert not report.ok and report.broken_seals == [visit]
    assert report.seal_details[visit] == "its content no longer matches its own hash"
