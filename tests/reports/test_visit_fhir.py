"""The FHIR R4 export, parsed back with fhir.resources (R4B models): resources, codes,
counts, values, references and stable ids."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from visit_export_helpers import ACCENTED_NAME, AGENCY, make_visit

from nurse_app.core.carton import gtin_from_ndc
from nurse_app.reports.fhir import bundle_json, counts_text, resource_counts
from nurse_app.services.agency import save_agency_details
from nurse_app.services.handoff import store_visit_bundle

VITAL_LOINC = {"8310-5", "8867-4", "9279-1", "59408-5", "85354-9"}


def export(export_store, visit) -> Bundle:
    """Build, serialise, and parse back: what the agency's system would read."""
    return Bundle.model_validate_json(bundle_json(store_visit_bundle(export_store, visit)))


def of_type(bundle: Bundle, kind: str) -> list:
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


def codes(concept) -> set[tuple[str, str]]:
    return {(c.system, c.code) for c in concept.coding or ()}


def test_bundle_counts_and_types(export_store):
    visit = make_visit(export_store, readings=6, sign=True)
    bundle = export(export_store, visit)
    assert bundle.type == "transaction"
    counts = resource_counts(bundle)
    lots = {(lot["lot_number"], lot["vial_size_g"]) for lot in export_store.visit_lots(visit)}
    # 6 readings x (temperature, pulse, breathing, SpO2, blood pressure) + the weight used;
    # one Medication per lot; the signature's Provenance.
    assert dict(counts) == {
        "Patient": 1,
        "Practitioner": 1,
        "Medication": len(lots),
        "Encounter": 1,
        "MedicationAdministration": 1,
        "Observation": 6 * 5 + 1,
        "AdverseEvent": 1,
        "AllergyIntolerance": 2,
        "Provenance": 1,
    }
    assert counts_text(counts).startswith(f"1 Patient, 1 Practitioner, {len(lots)} Medication, 1 Encounter")
    assert {(e.request.method, e.request.url) for e in bundle.entry} == {
        ("PUT", f"{e.resource.get_resource_type()}/{e.resource.id}") for e in bundle.entry
    }


def test_patient_and_encounter(export_store):
    visit = make_visit(export_store, readings=2, sign=True)
    bundle = export(export_store, visit)
    (patient,) = of_type(bundle, "Patient")
    assert patient.name[0].text == ACCENTED_NAME
    assert patient.gender == "female" and str(patient.birthDate) == "1961-08-23"
    assert patient.identifier[0].value == "MRN-0042"
    assert ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR") in codes(patient.identifier[0].type)
    (encounter,) = of_type(bundle, "Encounter")
    assert encounter.status == "finished"
    assert (encounter.class_fhir.system, encounter.class_fhir.code) == (
        "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "HH",
    )
    assert encounter.period.start.isoformat().startswith("2025-03-04T14:00:00")
    assert encounter.participant[0].individual.display == "Siobhán Ní Bhriain, RN"
    assert encounter.serviceProvider.display == "Lakeside Home Infusion"
    save_agency_details(export_store, {**AGENCY, "mrn_system": "urn:oid:2.16.840.1.113883.3.9999.1"})
    assert (
        of_type(export(export_store, visit), "Patient")[0].identifier[0].system
        == "urn:oid:2.16.840.1.113883.3.9999.1"
    )


def test_medication_administration_dose_route_and_lots(export_store):
    visit = make_visit(export_store, readings=2, sign=True)
    calc = export_store.get_visit(visit)["calculation"]
    lots = export_store.visit_lots(visit)
    assert len(lots) >= 2
    bundle = export(export_store, visit)
    (given,) = of_type(bundle, "MedicationAdministration")
    assert given.status == "completed"
    dose = given.dosage.dose
    assert (dose.system, dose.code, float(dose.value)) == (
        "http://unitsofmeasure.org",
        "g",
        round(calc["daily_dose_g"], 2),
    )
    assert float(dose.value) == pytest.approx(25.68)  # 2 g/kg x 64.2 kg / 5 days
    assert codes(given.dosage.route) == {("http://snomed.info/sct", "47625008")}
    # Several lots: one Medication per lot, each with its lot and expiry in batch, all named
    # by the administration; the product itself coded on the administration.
    medications = of_type(bundle, "Medication")
    assert sorted((m.batch.lotNumber, str(m.batch.expirationDate)) for m in medications) == sorted(
        {(lot["lot_number"], lot["expiry_date"]) for lot in lots}
    )
    assert {r.reference for r in given.supportingInformation} == {f"Medication/{m.id}" for m in medications}
    assert ("urn:nurse-app:product", "octagam-10") in codes(given.medicationCodeableConcept)
    assert all(lot["lot_number"] in given.note[0].text for lot in lots)


def test_a_lot_of_a_package_with_a_confirmed_ndc_is_coded_with_ndc_and_gtin(export_store):
    visit = make_visit(export_store, readings=1)
    lot = export_store.add_lot(
        visit, product_id="octagam-10", lot_number="N5", expiry_date="2026-09-30", vial_size_g=5, vial_count=1
    )
    five_g = [row for row in export_store.visit_lots(visit) if row["id"] == lot]
    medication = next(
        m
        for m in of_type(export(export_store, visit), "Medication")
        if m.batch.lotNumber == five_g[0]["lot_number"]
    )
    # products.toml: Octagam 10% 5 g/50 mL, NDC 0069-6550-02 (source P51); GTIN by GS1 US's rule.
    assert ("http://hl7.org/fhir/sid/ndc", "0069-6550-02") in codes(medication.code)
    assert ("https://www.gs1.org/gtin", gtin_from_ndc("0069-6550-02")) in codes(medication.code)


def test_vital_sign_observations_are_loinc_coded_with_values(export_store):
    visit = make_visit(export_store, readings=5, sign=True)
    readings = export_store.visit_vitals(visit)
    bundle = export(export_store, visit)
    observations = of_type(bundle, "Observation")
    by_code: dict[str, list] = {}
    for obs in observations:
        assert obs.status == "final"
        assert ("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs") in codes(
            obs.category[0]
        )
        loinc = {code for system, code in codes(obs.code) if system == "http://loinc.org"}
        by_code.setdefault(min(loinc - {"2708-6"}), []).append(obs)
    assert {k: len(v) for k, v in by_code.items()} == {**dict.fromkeys(VITAL_LOINC, 5), "29463-7": 1}
    spo2 = by_code["59408-5"][0]
    assert {c for _, c in codes(spo2.code)} == {"59408-5", "2708-6"}
    temps = [(float(o.valueQuantity.value), o.valueQuantity.code) for o in by_code["8310-5"]]
    assert temps == [(r["temperature_c"], "Cel") for r in readings]
    fever = by_code["8310-5"][3]
    assert float(fever.valueQuantity.value) == 38.4
    assert codes(fever.interpretation[0]) == {
        ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H")
    }
    low = by_code["59408-5"][4]
    assert float(low.valueQuantity.value) == 91 and low.valueQuantity.code == "%"
    assert {c for _, c in codes(low.interpretation[0])} == {"L"}
    assert by_code["8310-5"][0].interpretation is None
    for panel, reading in zip(by_code["85354-9"], readings, strict=True):
        parts = {next(iter(codes(c.code)))[1]: c.valueQuantity for c in panel.component}
        assert float(parts["8480-6"].value) == reading["systolic_mmhg"]
        assert float(parts["8462-4"].value) == reading["diastolic_mmhg"]
        assert parts["8480-6"].code == "mm[Hg]"
    assert by_code["8867-4"][0].valueQuantity.code == "/min"
    assert float(by_code["29463-7"][0].valueQuantity.value) == 64.2
    assert by_code["8310-5"][3].note[0].text == "Chills, rate reduced"


def test_allergies_and_adverse_events(export_store):
    visit = make_visit(export_store, readings=2)
    bundle = export(export_store, visit)
    assert sorted(a.code.text for a in of_type(bundle, "AllergyIntolerance")) == [
        "Latex",
        "Penicillin (rash, hives)",
    ]
    (event,) = of_type(bundle, "AdverseEvent")
    (given,) = of_type(bundle, "MedicationAdministration")
    # The kind's human title, not its id; the nurse's description is in the narrative.
    assert event.actuality == "actual" and event.event.text == "Infusion (rate-related) reaction"
    assert "Note: Chills and fever" in event.text.div
    assert codes(event.severity) == {("http://terminology.hl7.org/CodeSystem/adverse-event-severity", "mild")}
    assert event.outcome.text == "Settled within 30 minutes; infusion completed."
    assert "Action taken: Infusion paused 15 minutes" in event.text.div
    assert "Rate at onset: 77 mL/h." in event.text.div
    assert event.suspectEntity[0].instance.reference == f"MedicationAdministration/{given.id}"
    # A draft visit's observations are preliminary.
    assert {o.status for o in of_type(bundle, "Observation")} == {"preliminary"}


def test_no_allergies_no_reactions_no_resources(export_store):
    # Allergies never recorded: no AllergyIntolerance (nobody asked: not the same as "none").
    patient = export_store.create_patient(
        mrn="Q1", name="Kim Lee", date_of_birth="1990-01-01", sex="other", allergies=""
    )
    visit = export_store.create_visit(patient)
    counts = resource_counts(export(export_store, visit))
    assert dict(counts) == {"Patient": 1, "Practitioner": 1, "Encounter": 1, "MedicationAdministration": 1}


@pytest.mark.parametrize("typed", ["NKDA", "none known.", "No known drug allergies", "Nil"])
def test_no_known_allergies_is_one_coded_allergy_intolerance(export_store, typed):
    """core.allergies decides "none known" for FHIR as for the screens and the PDF: one
    AllergyIntolerance coded SNOMED CT 716186003, never a text "allergy" called NKDA."""
    patient = export_store.create_patient(
        mrn="Q2", name="Kim Lee", date_of_birth="1990-01-01", sex="other", allergies=typed
    )
    visit = export_store.create_visit(patient)
    [allergy] = of_type(export(export_store, visit), "AllergyIntolerance")
    assert allergy.code.coding[0].system == "http://snomed.info/sct"
    assert allergy.code.coding[0].code == "716186003"
    assert allergy.code.text == "No known allergies"


def test_every_reference_resolves_and_ids_are_stable_urn_uuids(export_store):
    first = make_visit(export_store, readings=3, sign=True)
    second = make_visit(export_store, mrn="MRN-0042-B", readings=3)
    one, again, other = export(export_store, first), export(export_store, first), export(export_store, second)
    urls = [e.fullUrl for e in one.entry]
    assert urls == [e.fullUrl for e in again.entry], "same visit, same ids"
    shared = {
        e.resource.get_resource_type() for e in one.entry if e.fullUrl in {o.fullUrl for o in other.entry}
    }
    assert shared <= {"Practitioner", "Medication"}, "only the nurse and the same lots are shared"
    assert all(
        u.startswith("urn:uuid:") and u[9:] == e.resource.id for u, e in zip(urls, one.entry, strict=True)
    )
    assert len(set(urls)) == len(urls)
    data = json.loads(bundle_json(one))
    references = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                references.append(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    assert references
    local = {f"{e.resource.get_resource_type()}/{e.resource.id}" for e in one.entry}
    for reference in references:
        assert reference in local, reference


def test_the_preferred_language_is_patient_communication_and_the_interpreter_an_extension(export_store):
    from nurse_app.reports.fhir import INTERPRETER_REQUIRED

    visit = make_visit(export_store, readings=1)
    patient_id = export_store.get_visit(visit)["patient_id"]
    (patient,) = of_type(export(export_store, visit), "Patient")
    assert patient.communication is None and patient.extension is None  # not recorded: nothing claimed
    export_store.update_patient(patient_id, preferred_language="es", interpreter_needed=True)
    (patient,) = of_type(export(export_store, visit), "Patient")
    (language,) = patient.communication
    assert language.preferred is True and codes(language.language) == {("urn:ietf:bcp:47", "es")}
    assert [(e.url, e.valueBoolean) for e in patient.extension] == [(INTERPRETER_REQUIRED, True)]
    export_store.update_patient(patient_id, preferred_language="other", preferred_language_other="Amharic")
    (patient,) = of_type(export(export_store, visit), "Patient")
    assert (
        patient.communication[0].language.text == "Amharic" and not patient.communication[0].language.coding
    )
