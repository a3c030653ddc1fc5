"""Agency details: one setting that the handout, the visit summary and the FHIR export all read.

The end-to-end test types the details into the real profile dialog and reads them
back from every document, so a document reading a different setting fails here.
"""

from __future__ import annotations

import io

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from PySide6.QtCore import Qt
from qt_helpers import type_text
from visit_export_helpers import make_visit

from nurse_app.core.agency import AGENCY_SETTING, AgencyDetailError, clean_details
from nurse_app.core.errors import InputError
from nurse_app.reports.fhir import bundle_json, visit_bundle
from nurse_app.reports.handout import CONTACT_FIELDS
from nurse_app.reports.visit_data import summarize
from nurse_app.reports.visit_summary import summary_pdf_bytes
from nurse_app.services.agency import agency_details, handout_contact, save_agency_details
from nurse_app.services.visit_record import load_visit
from nurse_app.ui.profile_dialog import NurseProfileDialog


def test_clean_details_strips_and_drops_empty():
    assert clean_details({"agency": "  Lakeside   Home Infusion ", "phone": "", "address": None}) == {
        "agency": "Lakeside Home Infusion"
    }


@pytest.mark.parametrize(
    "system",
    [
        "urn:oid:2.16.840.1.113883.3.9999.1",
        "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        "https://records.lakeside.example/mrn",
    ],
)
def test_mrn_system_accepts_uris(system):
    assert clean_details({"mrn_system": system}) == {"mrn_system": system}


@pytest.mark.parametrize("system", ["MRN", "lakeside mrn", "urn:", "ftp://x", "http://"])
def test_mrn_system_refuses_non_uris_naming_the_field(system):
    with pytest.raises(AgencyDetailError) as caught:
        clean_details({"mrn_system": system})
    assert caught.value.field == "mrn_system"
    assert isinstance(caught.value, InputError)  # forms mark the field inline
    assert "must be a URI" in str(caught.value)


def test_unknown_and_too_long_details_refused():
    with pytest.raises(AgencyDetailError, match="Unknown agency detail"):
        clean_details({"fax": "555"})
    with pytest.raises(AgencyDetailError, match="too long") as caught:
        clean_details({"address": "x" * 201})
    assert caught.value.field == "address"


def test_handout_contact_is_the_printed_subset(bare_store):
    save_agency_details(
        bare_store,
        {
            "agency": "Lakeside",
            "address": "12 Harbour Road",
            "mrn_system": "urn:oid:1.2.3",
            "phone": "555-0142",
        },
    )
    assert handout_contact(bare_store) == {"agency": "Lakeside", "phone": "555-0142"}
    assert set(handout_contact(bare_store)) <= {key for key, _ in CONTACT_FIELDS}
    assert agency_details(bare_store)["address"] == "12 Harbour Road"


def test_handout_names_the_profile_nurse_until_another_is_set(bare_store):
    assert handout_contact(bare_store) == {}
    bare_store.set_nurse_profile("Maria Santos", "RN")
    assert handout_contact(bare_store) == {"nurse": "Maria Santos, RN"}
    save_agency_details(bare_store, {"nurse": "Infusion team, Lakeside"})
    assert handout_contact(bare_store)["nurse"] == "Infusion team, Lakeside"


def test_a_damaged_setting_reads_as_no_details(bare_store):
    bare_store.set_setting(AGENCY_SETTING, ["not", "a", "dict"])
    assert agency_details(bare_store) == {}
    assert handout_contact(bare_store) == {}


def test_details_typed_in_the_profile_reach_every_document(qtbot, bare_store):
    dialog = NurseProfileDialog(bare_store)
    qtbot.addWidget(dialog)
    dialog.show()
    typed = {
        "agency": "Soins à domicile Éloïse",
        "address": "4 rue du Lac, Québec QC G1R 4P5",
        "phone": "418-555-0100",
        "after_hours": "418-555-0199",
        "mrn_system": "urn:oid:2.16.840.1.113883.3.9999.7",
    }
    dialog.name.edit.setText("Aoife Ní Bhriain")
    dialog.credentials.edit.setText("RN")
    for key, text in typed.items():
        dialog.contact_fields[key].edit.clear()
        type_text(qtbot, dialog.contact_fields[key].edit, text)
    qtbot.keyClick(dialog.name.edit, Qt.Key_Return)
    assert dialog.result() == NurseProfileDialog.Accepted

    visit = make_visit(bare_store, readings=2)
    record = load_visit(bare_store, visit)
    summary = summarize(record)
    assert summary.agency_lines[:2] == (typed["agency"], typed["address"])
    assert "418-555-0100" in summary.agency_lines[2] and "418-555-0199" in summary.agency_lines[2]

    first_page = PdfReader(io.BytesIO(summary_pdf_bytes(summary)[0])).pages[0].extract_text()
    assert typed["agency"] in first_page and typed["address"] in first_page

    bundle = Bundle.model_validate_json(bundle_json(visit_bundle(record)))
    resources = [e.resource for e in bundle.entry]
    patient = next(r for r in resources if r.get_resource_type() == "Patient")
    encounter = next(r for r in resources if r.get_resource_type() == "Encounter")
    assert patient.identifier[0].system == typed["mrn_system"]
    assert encounter.serviceProvider.display == typed["agency"]
