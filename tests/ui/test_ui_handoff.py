"""The hand-off from the real window: File ▸ Send to agency to the test FHIR server, the state on
the Patients page and the Visit header (sent; refused with why and what to do), the patient form
asking to confirm a name split automatically."""

from __future__ import annotations

import pytest
from fhir_server_helpers import FhirServer
from qt_helpers import open_main_window
from visit_export_helpers import make_visit, open_record

from nurse_app.core import policy

STATUS_COLUMN = 2


@pytest.fixture
def agency_policy(tmp_path):
    def use(base_url: str):
        path = tmp_path / "policy.toml"
        path.write_text(
            f'[handoff]\nbase_url = "{base_url}"\nmrn_system = "urn:oid:2.16.840.1.113883.3.9999.1"\n'
        )
        policy.set_policy_path(path)
        policy.reload()

    yield use
    policy.set_policy_path(None)
    policy.reload()


def send_from_the_file_menu(qtbot, window):
    (action,) = [a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "Send &to agency"]
    action.trigger()
    qtbot.waitUntil(lambda: not window.handoff.running, timeout=60_000)


def agency_cell(window) -> tuple[str, str]:
    item = window.patients.visit_table.item(0, STATUS_COLUMN)
    return item.text(), item.toolTip()


def test_send_to_agency_from_the_file_menu_shows_sent(qtbot, tmp_path, toronto_time, agency_policy):
    server = FhirServer().start()
    try:
        agency_policy(server.base)
        path = tmp_path / "record.db"
        with open_record(path) as store:
            visit = make_visit(store, readings=2, sign=True)
        window, store = open_main_window(qtbot, path, tmp_path)
        window.show_page("patients")
        window.patients.select_patient(store.get_visit(visit)["patient_id"])
        assert agency_cell(window)[0] == "Signed · waiting"
        send_from_the_file_menu(qtbot, window)
        assert "1 sent" in window.statusBar().currentMessage()
        text, tip = agency_cell(window)
        assert text == "Signed · sent" and tip.startswith("Sent to the agency")
        window.open_visit(visit)
        assert window.visit_page.handoff.text().startswith("Sent to the agency")
        (patient,) = server.search("Patient")
        assert patient["identifier"][0]["system"] == "urn:oid:2.16.840.1.113883.3.9999.1"
        window.close()
        store.close()
    finally:
        server.stop()


def test_a_refusal_shows_why_and_what_to_do_on_the_visit_header(qtbot, tmp_path, toronto_time, agency_policy):
    reason = "Observation.performer must name an agency employee"
    server = FhirServer({"FHIR_TEST_REFUSE": f"Observation:{reason}"}).start()
    try:
        agency_policy(server.base)
        path = tmp_path / "record.db"
        with open_record(path) as store:
            visit = make_visit(store, readings=2, sign=True)
        window, store = open_main_window(qtbot, path, tmp_path)
        window.open_visit(visit)
        send_from_the_file_menu(qtbot, window)
        header = window.visit_page.handoff.text()
        assert reason in header and "give this message to your agency's IT" in header
        window.show_page("patients")
        window.patients.select_patient(store.get_visit(visit)["patient_id"])
        text, tip = agency_cell(window)
        assert text == "Signed · refused" and reason in tip and "Send again" in tip
        window.close()
        store.close()
    finally:
        server.stop()


def test_the_patient_form_asks_to_confirm_a_name_split_automatically(qtbot, store):
    from nurse_app.ui.patient_forms import PatientDialog

    patient = store.create_patient(mrn="S1", name="Ana de la Cruz", date_of_birth="1970-02-03", sex="female")
    dialog = PatientDialog(store, patient)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "split into family and given names automatically" in dialog.banner.text()
    assert (dialog.given_name.text(), dialog.family_name.text()) == ("Ana de la", "Cruz")
    dialog.given_name.edit.setText("Ana")
    dialog.family_name.edit.setText("de la Cruz")
    assert dialog.save()
    row = store.get_patient(patient)
    assert (row["given_name"], row["family_name"], row["name_parts_confirmed"]) == ("Ana", "de la Cruz", 1)
    again = PatientDialog(store, patient)
    qtbot.addWidget(again)
    assert again.banner.text() == "" or again.banner.isHidden()


def test_the_quiet_automatic_try_sends_what_is_due(qtbot, tmp_path, toronto_time, agency_policy):
    server = FhirServer().start()
    try:
        agency_policy(server.base)
        path = tmp_path / "record.db"
        with open_record(path) as store:
            make_visit(store, readings=1, sign=True)
        window, store = open_main_window(qtbot, path, tmp_path)
        assert window.handoff.timer.isActive()
        window.handoff.auto_try()  # what the timer calls
        assert window.handoff.running
        qtbot.waitUntil(lambda: not window.handoff.running, timeout=60_000)
        assert [r["state"] for r in store.outbox()] == ["sent"]
        assert len(server.search("Encounter")) == 1
        window.handoff.auto_try()  # nothing due: no send starts
        assert not window.handoff.running
        window.close()
        store.close()
    finally:
        server.stop()
