"""The FHIR export as an agency's server takes it: HL7's R4 JSON Schema and US Core Patient
(tests/fhir_validation.py), the name in parts, the infusion's own period and rate stretches,
the nurse as a Practitioner, the signature as a Provenance carrying the seal."""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3

import pytest
from fhir_validation import bundle_errors, us_core_patient_errors
from visit_export_helpers import VISIT_START, make_visit

from nurse_app.reports.fhir import bundle_json
from nurse_app.services.handoff import store_visit_bundle
from nurse_app.store import schema
from nurse_app.store.validation import RecordValueError

VALID_NPI = "1234567893"  # CMS's worked example of the NPI check digit


def exported(store, visit) -> dict:
    return json.loads(bundle_json(store_visit_bundle(store, visit)))


def of_type(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def add_infusion(store, visit) -> dict[str, dt.datetime]:
    """Start 20 min into the visit, two rate changes, a pause and a finish; returns the times."""
    at = {
        "start": VISIT_START + dt.timedelta(minutes=20),
        "up": VISIT_START + dt.timedelta(minutes=50),
        "pause": VISIT_START + dt.timedelta(minutes=60),
        "resume": VISIT_START + dt.timedelta(minutes=75),
        "up2": VISIT_START + dt.timedelta(minutes=90),
        "end": VISIT_START + dt.timedelta(minutes=130),
    }
    store.add_infusion_event(visit, kind="start", rate_ml_h=30, occurred_at=at["start"])
    store.add_infusion_event(visit, kind="rate_change", rate_ml_h=60, occurred_at=at["up"])
    store.add_infusion_event(visit, kind="pause", occurred_at=at["pause"])
    store.add_infusion_event(visit, kind="resume", rate_ml_h=60, occurred_at=at["resume"])
    store.add_infusion_event(visit, kind="rate_change", rate_ml_h=90, occurred_at=at["up2"])
    store.add_infusion_event(visit, kind="end", occurred_at=at["end"], volume_ml=95, reason="Ran short")
    return at


def test_every_export_passes_the_r4_schema_and_us_core_patient(export_store):
    signed = make_visit(export_store, readings=4, sign=True, addenda=("Late entry: site checked",))
    draft = make_visit(export_store, mrn="MRN-0043", readings=2)
    add_infusion(export_store, draft)
    for visit in (signed, draft):
        assert bundle_errors(exported(export_store, visit)) == []


def test_patient_name_is_sent_as_entered_in_parts(export_store):
    patient = export_store.create_patient(
        mrn="Q7", family_name="Ní Bhriain", given_name="Máire Áine", date_of_birth="1970-02-03", sex="female"
    )
    assert export_store.get_patient(patient)["name"] == "Máire Áine Ní Bhriain"
    visit = export_store.create_visit(patient)
    (resource,) = of_type(exported(export_store, visit), "Patient")
    (name,) = resource["name"]
    assert (name["family"], name["given"], name["text"]) == (
        "Ní Bhriain",
        ["Máire", "Áine"],
        "Máire Áine Ní Bhriain",
    )
    assert us_core_patient_errors(resource) == []
    with pytest.raises(RecordValueError, match="Family name is required") as refused:
        export_store.create_patient(
            mrn="Q8", family_name="", given_name="Ana", date_of_birth="1970-02-03", sex="female"
        )
    assert refused.value.field == "family_name"


def test_a_record_from_before_the_name_parts_is_split_once_and_awaits_the_nurse(tmp_path):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    before = max(v for v in schema.MIGRATIONS if v < schema.HANDOFF_VERSION)
    schema.migrate(conn, before)
    conn.execute(
        "INSERT INTO patients (mrn, name, date_of_birth, sex, created_at, created_by, updated_at) "
        "VALUES ('M1', 'Jean Paul Sartre', '1950-01-01', 'male', 'x', 'y', 'x')"
    )
    schema.migrate(conn)
    row = conn.execute("SELECT name, given_name, family_name, name_parts_confirmed FROM patients").fetchone()
    assert row == ("Jean Paul Sartre", "Jean Paul", "Sartre", 0)


def test_confirming_the_split_on_the_patient_record(export_store):
    patient = export_store.create_patient(
        mrn="Q9", name="Ana de la Cruz", date_of_birth="1970-02-03", sex="female"
    )
    row = export_store.get_patient(patient)
    assert (row["given_name"], row["family_name"], row["name_parts_confirmed"]) == ("Ana de la", "Cruz", 0)
    row = export_store.update_patient(patient, given_name="Ana", family_name="de la Cruz")
    assert (row["name"], row["name_parts_confirmed"]) == ("Ana de la Cruz", 1)


def test_the_administration_covers_the_infusion_with_its_rates(export_store):
    visit = make_visit(export_store, readings=2)
    at = add_infusion(export_store, visit)
    bundle = exported(export_store, visit)
    (encounter,) = of_type(bundle, "Encounter")
    assert dt.datetime.fromisoformat(encounter["period"]["start"]) == VISIT_START
    administrations = of_type(bundle, "MedicationAdministration")
    (whole,) = [a for a in administrations if "partOf" not in a]
    period = {k: dt.datetime.fromisoformat(v) for k, v in whole["effectivePeriod"].items()}
    assert period == {"start": at["start"], "end": at["end"]}, "the infusion's own start and stop"
    rate = whole["dosage"]["rateQuantity"]
    assert (rate["value"], rate["system"], rate["code"]) == (90, "http://unitsofmeasure.org", "mL/h")
    stretches = [a for a in administrations if "partOf" in a]
    assert all(a["partOf"] == [{"reference": f"MedicationAdministration/{whole['id']}"}] for a in stretches)
    got = [
        (
            dt.datetime.fromisoformat(a["effectivePeriod"]["start"]),
            dt.datetime.fromisoformat(a["effectivePeriod"]["end"]),
            a["dosage"]["rateQuantity"]["value"],
        )
        for a in stretches
    ]
    assert got == [
        (at["start"], at["up"], 30),
        (at["up"], at["pause"], 60),
        (at["resume"], at["up2"], 60),
        (at["up2"], at["end"], 90),
    ]
    # The dose actually given: 95 mL of a 10 % product, not the planned dose.
    assert whole["dosage"]["dose"] == {
        "value": 9.5,
        "unit": "g",
        "system": "http://unitsofmeasure.org",
        "code": "g",
    }


def test_the_nurse_is_a_practitioner_with_npi_and_credentials(export_store):
    profile = export_store.nurse_profile()
    export_store.set_nurse_profile(profile["name"], profile["credentials"], npi=VALID_NPI)
    visit = make_visit(export_store, readings=1)
    bundle = exported(export_store, visit)
    (nurse,) = of_type(bundle, "Practitioner")
    assert nurse["identifier"] == [{"system": "http://hl7.org/fhir/sid/us-npi", "value": VALID_NPI}]
    assert nurse["name"] == [{"text": "Siobhán Ní Bhriain"}]
    assert nurse["qualification"][0]["code"]["text"] == "RN"
    (encounter,) = of_type(bundle, "Encounter")
    assert encounter["participant"][0]["individual"]["reference"] == f"Practitioner/{nurse['id']}"
    with pytest.raises(RecordValueError, match="check digit"):
        export_store.set_nurse_profile(profile["name"], profile["credentials"], npi="1234567890")


def test_the_signature_is_a_provenance_with_the_seal(export_store):
    visit = make_visit(export_store, readings=2, sign=True, addenda=("Late entry: called the pharmacy",))
    sealed = export_store.get_visit(visit)
    bundle = exported(export_store, visit)
    signature, addendum = of_type(bundle, "Provenance")
    own = {
        f"{r['resourceType']}/{r['id']}"
        for r in (e["resource"] for e in bundle["entry"])
        if r["resourceType"] in ("Encounter", "MedicationAdministration", "Observation", "AdverseEvent")
    }
    assert {t["reference"] for t in signature["target"]} == own
    (nurse,) = of_type(bundle, "Practitioner")
    assert signature["agent"][0]["who"]["reference"] == f"Practitioner/{nurse['id']}"
    (sig,) = signature["signature"]
    assert base64.b64decode(sig["data"]).decode() == "sha256:" + sealed["content_hash"]
    assert dt.datetime.fromisoformat(sig["when"]) == dt.datetime.fromisoformat(sealed["signed_at"])
    assert addendum["activity"]["coding"][0]["code"] == "UPDATE"
    (whole,) = of_type(bundle, "MedicationAdministration")
    assert any(n["text"] == "Addendum: Late entry: called the pharmacy" for n in whole["note"])
