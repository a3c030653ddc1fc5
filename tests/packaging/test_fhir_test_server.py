"""The test FHIR server (Medplum's router, tests/fhir_server/) and the schema check behave like
the real things the hand-off tests rely on: it refuses what R4 forbids, keeps the version of an
unchanged resource, finds by patient; HL7's JSON Schema finds a wrong element."""

from __future__ import annotations

import urllib.error

import pytest
from fhir_server_helpers import fhir_server  # noqa: F401 - the fixture
from fhir_validation import schema_errors

PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ní Bhriain", "given": ["Siobhán"]}]}


def test_server_refuses_an_element_r4_does_not_have(fhir_server):  # noqa: F811
    with pytest.raises(urllib.error.HTTPError) as refused:
        fhir_server.put({**PATIENT, "colour": "blue"})
    assert refused.value.code == 400
    assert "colour" in refused.value.read().decode()


def test_unchanged_put_keeps_the_version_and_search_finds_by_patient(fhir_server):  # noqa: F811
    first = fhir_server.put(PATIENT)
    again = fhir_server.put(PATIENT)
    assert again["meta"]["versionId"] == first["meta"]["versionId"]
    changed = fhir_server.put({**PATIENT, "gender": "female"})
    assert changed["meta"]["versionId"] != first["meta"]["versionId"]
    fhir_server.put(
        {
            "resourceType": "Observation",
            "id": "o1",
            "status": "final",
            "code": {"text": "x"},
            "subject": {"reference": "Patient/p1"},
        }
    )
    assert [r["id"] for r in fhir_server.search("Observation?patient=Patient/p1")] == ["o1"]


def test_schema_check_finds_what_r4_forbids():
    assert schema_errors(PATIENT) == []
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": {**PATIENT, "gender": "f"}, "request": {"method": "PUT", "url": "Patient/p1"}}
        ],
    }
    (error,) = schema_errors(bundle)
    assert error.startswith("entry/0/resource/gender")
    assert schema_errors({**bundle, "type": "pile"})
