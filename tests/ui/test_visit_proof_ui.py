"""pytest-qt: proof of visit (issue 23) through the real main window, offscreen.

* the whole visit from arrival to the patient's signature: the service address confirmed at
  arrival, a peripheral IV that takes two attempts, site checks and a flush, the infusion, the
  removal (catheter intact), the departure asked for at signing, a caregiver's signature drawn
  with the mouse; the summary read back with pypdf and the FHIR export checked against HL7's
  R4 JSON Schema;
* a patient who cannot sign (the reason from the list, the note required for "Other");
* a signature drawn with a touch sequence and with a stylus (tablet events);
* the patient form's service address and phones, with a clear error for a bad number.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QInputDevice, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QMessageBox, QScrollArea
from qt_helpers import open_main_window, run_in_dialog

from nurse_app.core import checklists
from nurse_app.core.acknowledgements import pending_in
from nurse_app.store import SignedVisitError, Store
from nurse_app.ui.patient_forms import PatientDialog

ADDRESS = dict(
    address_line="12 Oak St", address_city="Springfield", address_state="IL", address_postal_code="62701"
)


@pytest.fixture(autouse=True)
def quit_anyway(monkeypatch):
    """A window closed with a running infusion asks first: a failing test still closes it."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)


@pytest.fixture
def record(tmp_path):
    """A patient with a service address and a Gamunex-C pemphigus order (28 g a day at 70 kg)."""
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="MRN-23",
            name="Ann Lee",
            date_of_birth="1958-03-14",
            sex="female",
            height_cm=165,
            allergies="none known",
            phone_home="(217) 555-0100",
            emergency_contact_name="Bob Lee",
            emergency_contact_relation="husband",
            emergency_contact_phone="(217) 555-0101",
            **ADDRESS,
        )
        store.create_order(
            pid,
            product_id="gamunex-c",
            regimen_id="pemphigus",
            start_date="2026-01-06",
            prescriber="Dr. A. Lind",
        )
    return path, pid


def select(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def open_visit(qtbot, record, tmp_path):
    path, pid = record
    window, store = open_main_window(qtbot, path, tmp_path)
    window.show_page("patients")
    window.start_visit(pid)
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=2000)
    return window, store, window.visit_page


def weigh(qtbot, store, vp):
    calc = vp.dose_tab.calculator
    calc.weight.edit.clear()
    qtbot.keyClicks(calc.weight.edit, "70")
    qtbot.waitUntil(
        lambda: (store.get_visit(vp.visit_id).get("calculation") or {}).get("daily_dose_g") == 28,
        timeout=3000,
    )
    for code in [w.code for w in calc.pending_warnings()]:
        calc.findChild(QCheckBox, f"ack_{code}").setChecked(True)
    qtbot.waitUntil(lambda: not pending_in(store.get_visit(vp.visit_id)["calculation"]), timeout=3000)


def answer_checklist(store, visit_id, monkeypatch):
    later = checklists.clock() + dt.timedelta(hours=2)  # the nurse stayed for the observation period
    monkeypatch.setattr(checklists, "clock", lambda: later)
    store.set_checklist_items(
        visit_id, {i["item_id"]: "done" for i in store.visit_checklist(visit_id) if i["required"]}
    )


def draw(pad, points):
    """A stroke with the mouse (press, moves with the button held, release)."""
    first, *rest = [QPointF(x, y) for x, y in points]
    QApplication.sendEvent(
        pad,
        QMouseEvent(
            QMouseEvent.MouseButtonPress,
            first,
            pad.mapToGlobal(first),
            Qt.LeftButton,
            Qt.LeftButton,
            Qt.NoModifier,
        ),
    )
    for p in rest:
        QApplication.sendEvent(
            pad,
            QMouseEvent(
                QMouseEvent.MouseMove, p, pad.mapToGlobal(p), Qt.NoButton, Qt.LeftButton, Qt.NoModifier
            ),
        )
    QApplication.sendEvent(
        pad,
        QMouseEvent(
            QMouseEvent.MouseButtonRelease,
            rest[-1],
            pad.mapToGlobal(rest[-1]),
            Qt.LeftButton,
            Qt.NoButton,
            Qt.NoModifier,
        ),
    )


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def pdf_text(pdf: bytes) -> tuple[str, list]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    return text, reader.pages


def schema_errors(bundle_text: str) -> list[str]:
    """HL7's R4 JSON Schema errors of a Bundle (the one vendored copy, tests/fhir_validation.py)."""
    from fhir_validation import schema_errors as errors

    return errors(json.loads(bundle_text))


# ----------------------------------------------------------------------------- the whole visit


def test_whole_visit_from_arrival_to_patient_signature_with_two_iv_attempts(
    qtbot, record, tmp_path, monkeypatch
):
    window, store, vp = open_visit(qtbot, record, tmp_path)
    visit_id = vp.visit_id
    arrived = store.get_visit(visit_id)["started_at"]
    assert arrived, "arrival is stamped when the visit is started"

    # --- arrival: the banner asks where; device location is not used, and the app says so
    banner = vp.arrival_banner
    assert banner.isVisible() and "12 Oak St, Springfield, IL 62701" in banner.text.text()
    assert "GPS" in banner.text.text()
    qtbot.mouseClick(banner.here_button, Qt.LeftButton)
    visit = store.get_visit(visit_id)
    assert visit["location_kind"] == "service_address"
    assert visit["location_address"] == "12 Oak St, Springfield, IL 62701"
    assert not banner.isVisible()

    weigh(qtbot, store, vp)

    # --- the IV line: a first attempt fails, the second one is in
    access = vp.access_tab
    vp.tabs.setCurrentWidget(access)
    assert "Dedicated IV line in place" in access.rules_text.text()  # the checklist's own line rules
    assert "UNVERIFIED" in access.scale_note.text()
    select(access.device, "peripheral-iv")
    assert access.attempt.value() == 1
    select(access.gauge, 22)
    select(access.length, 25.0)
    select(access.site, "forearm")
    select(access.side, "left")
    select(access.success, False)
    qtbot.mouseClick(access.add_button, Qt.LeftButton)
    assert access.error.isHidden(), access.error.text()
    assert access.attempt.value() == 2, "the next attempt number is offered"
    select(access.site, "hand")
    select(access.side, "right")
    select(access.success, True)
    select(access.blood_return, True)
    qtbot.mouseClick(access.add_button, Qt.LeftButton)
    devices = store.visit_access_devices(visit_id)
    assert [(d["attempt_number"], d["success"]) for d in devices] == [(1, False), (2, True)]
    assert devices[1]["placed_by"] == "Maria Santos, RN" and devices[1]["blood_return"] is True
    # a port is never removed; an unknown gauge is a clear one-line error
    select(access.device, "port")
    select(access.site, "chest")
    access.remove_line_button.setEnabled(False)
    select(access.device, "peripheral-iv")

    # checks of the catheter in place: before, a flush, during
    access.table.selectRow(1)
    select(access.phase, "before")
    select(access.phlebitis, 0)
    select(access.infiltration, 0)
    qtbot.mouseClick(access.assess_button, Qt.LeftButton)
    select(access.solution, "normal-saline")
    access.volume.setText("500")
    qtbot.mouseClick(access.flush_button, Qt.LeftButton)
    assert "cannot be right" in access.check_error.text()  # a typing slip is refused in words
    access.volume.setText("10")
    qtbot.mouseClick(access.flush_button, Qt.LeftButton)
    assert access.check_error.isHidden(), access.check_error.text()
    select(access.phase, "during")
    select(access.phlebitis, 1)
    qtbot.mouseClick(access.assess_button, Qt.LeftButton)
    assert "Phlebitis scale grade 1" in access.problems.text()  # flagged from the scale's alert grade
    assert "record its removal" in access.problems.text()

    # --- the infusion keeps its own times
    inf = vp.infusion_tab
    vp.tabs.setCurrentWidget(inf)
    qtbot.mouseClick(inf.buttons["start"], Qt.LeftButton)

    def volume(dialog):
        assert dialog.objectName() == "volume_dialog"
        dialog.volume.setText("280")
        dialog.ok_button.click()

    run_in_dialog(qtbot, volume)
    qtbot.mouseClick(inf.buttons["end"], Qt.LeftButton)
    assert [e["kind"] for e in store.visit_infusion_events(visit_id)] == ["start", "end"]

    # --- removal, intact; then the site after
    vp.tabs.setCurrentWidget(access)
    access.table.selectRow(1)
    assert access.remove_line_button.isEnabled()
    select(access.intact, True)
    select(access.condition, "no-redness")
    qtbot.mouseClick(access.remove_line_button, Qt.LeftButton)
    access.table.selectRow(1)
    select(access.phase, "after")
    select(access.phlebitis, 0)
    qtbot.mouseClick(access.assess_button, Qt.LeftButton)
    removed = store.visit_access_devices(visit_id)[1]
    assert removed["removed_at"] and removed["catheter_intact"] is True
    assert "record its removal" not in access.problems.text()

    answer_checklist(store, visit_id, monkeypatch)

    # --- the Sign tab: times, place; the caregiver signs with the mouse
    sign = vp.sign_tab
    vp.tabs.setCurrentWidget(sign)
    times = sign.times_box.summary.text()
    assert "Arrival" in times and "not recorded (mark leaving" in times and "12 Oak St" in times
    assert "Infusion (its own times)" in times
    box = sign.patient_box
    select(box.signer, "caregiver")
    box.caregiver_name.setText("Bob Lee")
    box.pad.setFocus()
    draw(box.pad, [(40, 100), (80, 60), (120, 110), (160, 70), (200, 105)])
    qtbot.mouseClick(box.done_button, Qt.LeftButton)
    assert "relation" in box.error.text().lower()  # a caregiver needs the relation
    select(box.relation, "spouse-partner")
    qtbot.keyClick(box.pad, Qt.Key_Return)  # Done from the keyboard
    visit = store.get_visit(visit_id)
    assert visit["patient_signer"] == "caregiver" and visit["patient_signer_name"] == "Bob Lee"
    assert visit["patient_signer_relation"] == "spouse-partner"
    assert len(visit["patient_signature_strokes"]) == 1 and len(visit["patient_signature_strokes"][0]) == 5
    assert store.signature_png(visit).startswith(b"\x89PNG")
    assert "Bob Lee, caregiver (spouse or partner)" in box.recorded.text()
    audit = [e for e in store.audit_entries("visits", visit_id) if "patient_signer" in (e["after"] or {})]
    assert audit and audit[0]["author"] == "Maria Santos, RN"

    # --- signing without a departure asks for it
    assert sign.sign_button.isEnabled(), sign.problems.text()
    seen = {}

    def leave(dialog):
        seen["title"] = dialog.windowTitle()
        dialog.findChild(type(sign.sign_button), "record_departure").click()

    run_in_dialog(qtbot, leave)
    qtbot.mouseClick(sign.sign_button, Qt.LeftButton)
    assert seen["title"] == "No departure time"
    visit = store.get_visit(visit_id)
    assert visit["status"] == "signed" and visit["ended_at"] >= arrived
    assert store.verify_visit(visit_id)
    assert "Time in the home (visit length)" in sign.times_box.summary.text()

    # --- read-only once signed (API and the triggers)
    with pytest.raises(SignedVisitError):
        store.record_no_signature(visit_id, reason="declined")
    with pytest.raises(SignedVisitError):
        store.add_access_check(removed["id"], kind="flush", solution="normal-saline", volume_ml=5)
    assert not sign.times_box.buttons.isVisibleTo(sign)

    # --- the summary, read back with pypdf
    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.reports.visit_data import summarize
    from nurse_app.reports.visit_summary import summary_pdf_bytes
    from nurse_app.services.visit_record import load_visit

    pdf, _pages = summary_pdf_bytes(summarize(load_visit(store, visit_id)))
    text, pages = pdf_text(pdf)
    assert text.index("EVV: Home infusion nursing visit (IVIG) · Ann Lee (MRN MRN-23)") < text.index(
        "Patient"
    )
    assert "12 Oak St, Springfield, IL 62701" in text and "Maria Santos, RN" in text
    assert "Service address" in text and "Emergency contact Bob Lee (husband)" in text
    for expected in (
        "IV access (vascular access device)",
        "Peripheral IV catheter, attempt 1",
        "unsuccessful",
        "Peripheral IV catheter, attempt 2",
        "Right back of the hand",
        "catheter intact: yes",
        "Site assessments and flushes",
        "0.9% sodium chloride (normal saline), 10 mL",
        "Phlebitis 1:",
        "Line rule (checklist): Dedicated IV line in place",
        "Signatures",
        "Bob Lee, caregiver (spouse or partner)",
    ):
        assert expected in text, expected
    signature_pages = [p for p in pages if "Patient or caregiver" in (p.extract_text() or "")]
    assert signature_pages and len(signature_pages[-1].images) >= 1, "the signature image is on the page"

    # --- FHIR: passes HL7's R4 JSON Schema; arrival/departure and the infusion's own times
    record_ = load_visit(store, visit_id)
    bundle_text = bundle_json(visit_bundle(record_))
    assert schema_errors(bundle_text) == []
    resources = [e["resource"] for e in json.loads(bundle_text)["entry"]]
    by_type: dict[str, list] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    [encounter] = by_type["Encounter"]
    assert moment(encounter["period"]["start"]) == moment(visit["started_at"])
    assert moment(encounter["period"]["end"]) == moment(visit["ended_at"])
    assert encounter["location"][0]["location"]["reference"] == f"Location/{by_type['Location'][0]['id']}"
    [patient] = by_type["Patient"]
    assert patient["address"][0]["line"] == ["12 Oak St"] and patient["address"][0]["postalCode"] == "62701"
    [administration] = [
        m for m in by_type["MedicationAdministration"] if "partOf" not in m
    ]  # not a rate stretch
    events = store.visit_infusion_events(visit_id)
    start = moment(administration["effectivePeriod"]["start"])
    assert start == moment(events[0]["occurred_at"]) != moment(visit["started_at"])
    procedures = by_type["Procedure"]
    insertions = [p for p in procedures if p["code"]["text"].startswith("Insertion")]
    assert [p["outcome"]["text"] for p in insertions] == ["Unsuccessful", "Successful"]
    assert insertions[1]["bodySite"][0]["text"] == "Right back of the hand"
    assert any(
        p["code"]["text"].startswith("Removal") and "catheter intact" in p["outcome"]["text"]
        for p in procedures
    )
    site_checks = [o for o in by_type["Observation"] if o["code"]["text"].startswith("IV site assessment")]
    assert len(site_checks) == 3 and site_checks[1]["component"][0]["valueInteger"] == 1
    provenance = by_type["Provenance"][0]  # the signature's (one more per addendum follows it)
    types = [s["type"][0]["code"] for s in provenance["signature"]]
    assert types == ["1.2.840.10065.1.12.1.1", "1.2.840.10065.1.12.1.3"]  # the nurse, then the caregiver
    second = provenance["signature"][1]
    assert second["sigFormat"] == "image/png" and second["who"]["reference"].endswith(
        by_type["RelatedPerson"][0]["id"]
    )
    window.close()
    store.close()


def test_the_schema_check_finds_a_broken_export(qtbot, record, tmp_path):
    """The vendored schema really checks: a wrong code and a missing required element are found."""
    window, store, vp = open_visit(qtbot, record, tmp_path)
    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.services.visit_record import load_visit

    good = json.loads(bundle_json(visit_bundle(load_visit(store, vp.visit_id))))
    for entry in good["entry"]:
        if entry["resource"]["resourceType"] == "Encounter":
            entry["resource"]["status"] = "wandering"
            del entry["resource"]["class"]
    errors = schema_errors(json.dumps(good))
    assert errors, "a broken Encounter must fail the R4 schema"
    window.close()
    store.close()


# ----------------------------------------------------------------------------- cannot sign


def test_a_patient_who_cannot_sign(qtbot, record, tmp_path, monkeypatch):
    window, store, vp = open_visit(qtbot, record, tmp_path)
    visit_id = vp.visit_id
    qtbot.mouseClick(vp.arrival_banner.here_button, Qt.LeftButton)
    weigh(qtbot, store, vp)
    answer_checklist(store, visit_id, monkeypatch)
    sign = vp.sign_tab
    vp.tabs.setCurrentWidget(sign)
    box = sign.patient_box
    qtbot.mouseClick(box.reason_button, Qt.LeftButton)
    assert "Choose why" in box.error.text()
    select(box.reason, "other")
    qtbot.mouseClick(box.reason_button, Qt.LeftButton)
    assert "say why in the note" in box.error.text()  # "Other" needs the note
    box.reason_note.setText("Patient asleep after premedication; daughter not home")
    qtbot.mouseClick(box.reason_button, Qt.LeftButton)
    visit = store.get_visit(visit_id)
    assert visit["no_signature_reason"] == "other" and visit["patient_signer"] is None
    assert "No signature" in box.recorded.text() and not box.entry.isVisibleTo(sign)

    qtbot.mouseClick(sign.end_button, Qt.LeftButton)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    qtbot.mouseClick(sign.sign_button, Qt.LeftButton)
    assert store.get_visit(visit_id)["status"] == "signed"

    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.reports.visit_data import summarize
    from nurse_app.reports.visit_summary import summary_pdf_bytes
    from nurse_app.services.visit_record import load_visit

    text, _ = pdf_text(summary_pdf_bytes(summarize(load_visit(store, visit_id)))[0])
    assert "No signature Other (say why): Patient asleep after premedication; daughter not home" in text
    bundle = json.loads(bundle_json(visit_bundle(load_visit(store, visit_id))))
    [provenance] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert len(provenance["signature"]) == 1  # the nurse alone
    window.close()
    store.close()


def test_agency_policy_can_require_the_patient_signature(qtbot, record, tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text("[visit_proof]\nrequire_patient_signature = true\n", encoding="utf-8")
    monkeypatch.setenv("NURSE_APP_POLICY", str(policy))
    from nurse_app.core import policy as policy_module

    policy_module.reload()
    try:
        window, store, vp = open_visit(qtbot, record, tmp_path)
        visit_id = vp.visit_id
        weigh(qtbot, store, vp)
        answer_checklist(store, visit_id, monkeypatch)
        store.update_visit(visit_id, ended_at=dt.datetime.now(dt.UTC))
        assert any("signature" in p for p in store.signing_problems(visit_id))
        vp.sign_tab.refresh()
        assert not vp.sign_tab.sign_button.isEnabled()
        assert "policy requires it" in vp.sign_tab.patient_box.recorded.text()
        store.record_no_signature(visit_id, reason="declined")
        assert store.signing_problems(visit_id) == []
        window.close()
        store.close()
    finally:
        monkeypatch.delenv("NURSE_APP_POLICY")
        policy_module.reload()


# ----------------------------------------------------------------------------- touch and stylus


def test_a_signature_from_a_touch_sequence_and_from_a_stylus(qtbot, record, tmp_path):
    window, store, vp = open_visit(qtbot, record, tmp_path)
    sign = vp.sign_tab
    vp.tabs.setCurrentWidget(sign)
    pad = sign.patient_box.pad
    qtbot.waitUntil(pad.isVisible, timeout=2000)
    assert pad.width() >= 480 and pad.height() >= 170  # a readable size

    sign.findChild(QScrollArea, "sign_scroll").ensureWidgetVisible(pad)
    touch = QTest.createTouchDevice()

    def finger(action, x, y):
        sequence = QTest.touchEvent(window, touch)
        getattr(sequence, action)(0, pad.mapTo(window, QPoint(x, y)), window)
        sequence.commit()

    finger("press", 30, 90)
    finger("move", 90, 50)
    finger("move", 150, 120)
    finger("release", 210, 80)
    assert len(pad.strokes()) == 1 and len(pad.strokes()[0]) >= 3

    stylus = QPointingDevice(
        "test stylus",
        4242,
        QInputDevice.DeviceType.Stylus,
        QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
        1,
        3,
    )

    def tablet(kind, x, y, buttons):
        p = QPointF(x, y)
        event = QTabletEvent(
            kind,
            stylus,
            p,
            pad.mapToGlobal(p),
            0.6,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            Qt.NoModifier,
            Qt.LeftButton,
            buttons,
        )
        QApplication.sendEvent(pad, event)

    tablet(QTabletEvent.TabletPress, 260, 100, Qt.LeftButton)
    for x, y in ((280, 70), (300, 110), (320, 75)):
        tablet(QTabletEvent.TabletMove, x, y, Qt.LeftButton)
    tablet(QTabletEvent.TabletRelease, 340, 100, Qt.NoButton)
    strokes = pad.strokes()
    assert len(strokes) == 2 and strokes[1][0] == [260.0, 100.0] and strokes[1][-1] == [340.0, 100.0]

    # Clear from the keyboard, then sign again and press Done with its Alt letter
    pad.setFocus()
    qtbot.keyClick(pad, Qt.Key_Delete)
    assert pad.is_empty()
    finger("press", 40, 80)
    finger("move", 120, 60)
    finger("release", 200, 100)
    qtbot.mouseClick(sign.patient_box.done_button, Qt.LeftButton)
    visit = store.get_visit(vp.visit_id)
    assert visit["patient_signer"] == "patient" and visit["patient_signer_name"] == "Ann Lee"
    assert visit["patient_signature_strokes"][0][0] == [40.0, 80.0]
    window.close()
    store.close()


# ----------------------------------------------------------------------------- corrections, where


def test_arrival_is_corrected_with_a_reason_and_another_place_is_typed(qtbot, record, tmp_path):
    window, store, vp = open_visit(qtbot, record, tmp_path)
    visit_id = vp.visit_id
    first = store.get_visit(visit_id)["started_at"]

    def elsewhere(dialog):
        assert dialog.objectName() == "place_dialog"
        assert "GPS" in dialog.findChild(type(dialog.error), "device_location_note").text()
        dialog.address.setText("Daughter's home, 4 Elm Rd, Decatur")
        dialog.latitude.setText("95")
        dialog.longitude.setText("-88.9")
        dialog.ok_button.click()
        assert "Latitude must be from -90 to 90" in dialog.error.text()
        dialog.latitude.setText("39.84")
        dialog.ok_button.click()

    run_in_dialog(qtbot, elsewhere)
    qtbot.mouseClick(vp.arrival_banner.elsewhere_button, Qt.LeftButton)
    visit = store.get_visit(visit_id)
    assert visit["location_kind"] == "other" and visit["location_latitude"] == pytest.approx(39.84)

    earlier = (dt.datetime.fromisoformat(first) - dt.timedelta(minutes=20)).astimezone()

    def correct(dialog):
        assert dialog.objectName() == "time_correction_dialog"
        dialog.when.setDateTime(dialog.when.dateTime().addSecs(-20 * 60))
        dialog.ok_button.click()
        assert "Say why" in dialog.error.text()  # no reason: refused in words
        dialog.reason.setText("Started the visit on the laptop 20 min after arriving")
        dialog.ok_button.click()

    sign = vp.sign_tab
    vp.tabs.setCurrentWidget(sign)
    run_in_dialog(qtbot, correct)
    qtbot.mouseClick(sign.times_box.correct_arrival, Qt.LeftButton)
    visit = store.get_visit(visit_id)
    [correction] = visit["time_corrections"]
    assert correction["from"] == first and correction["reason"].startswith("Started the visit")
    assert dt.datetime.fromisoformat(visit["started_at"]).replace(
        second=0, microsecond=0
    ) == earlier.astimezone(dt.UTC).replace(second=0, microsecond=0)
    assert "Arrival corrected" in sign.times_box.summary.text()
    window.close()
    store.close()


def test_the_patient_form_keeps_the_service_address_and_phones(qtbot, record, tmp_path):
    path, pid = record
    window, store = open_main_window(qtbot, path, tmp_path)

    def edit(dialog):
        assert isinstance(dialog, PatientDialog)
        assert dialog.address_line.edit.text() == "12 Oak St"
        dialog.phone_mobile.edit.setText("call after 5")
        dialog.save_button.click()
        assert "not a telephone number" in dialog.phone_mobile.error.text()
        dialog.phone_mobile.edit.setText("+1 217 555 0199")
        dialog.address_line.edit.setText("14 Oak St")
        dialog.save_button.click()

    run_in_dialog(qtbot, edit)
    PatientDialog(store, pid, window).exec()
    patient = store.get_patient(pid)
    assert patient["phone_mobile"] == "+1 217 555 0199" and patient["address_line"] == "14 Oak St"
    assert any("address_line" in (e["after"] or {}) for e in store.audit_entries("patients", pid))
    window.close()
    store.close()
