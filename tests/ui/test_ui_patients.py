"""pytest-qt: the Patients page, the patient and order forms, and the nurse profile dialog.

Everything is driven by typing and clicking on a real temporary record file; results
are read back from the widgets and from the store.
"""

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QMessageBox
from qt_helpers import click_when_shown, run_in_dialog, type_text

from nurse_app.core.agency import AGENCY_SETTING
from nurse_app.core.formatting import fmt_qty
from nurse_app.core.units import KG_PER_LB
from nurse_app.reports.handout import CONTACT_FIELDS
from nurse_app.services.agency import agency_details, handout_contact
from nurse_app.ui.patient_forms import OrderDialog, PatientDialog
from nurse_app.ui.patients_page import PatientsPage
from nurse_app.ui.profile_dialog import NurseProfileDialog


def add_patient(store, name, mrn, born="1970-05-01", sex="female", height_cm=165.0, **extra):
    return store.create_patient(mrn=mrn, name=name, date_of_birth=born, sex=sex, height_cm=height_cm, **extra)


@pytest.fixture
def three(store):
    ids = {
        "zoe": add_patient(store, "Zoë Müller", "MRN-0100", born="1951-02-03", allergies="Penicillin (rash)"),
        "jose": add_patient(store, "José García", "MRN-0020", born="1988-07-14", sex="male"),
        "anna": add_patient(store, "Anna Smith", "A-777", born="1975-11-30"),
    }
    return ids


def make_page(qtbot, store):
    page = PatientsPage(store)
    qtbot.addWidget(page)
    page.resize(1200, 720)
    show_active(qtbot, page)
    return page


def show_active(qtbot, window):
    """Show and activate, so keyboard focus moves as it does on a desktop."""
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)


def type_into(qtbot, field, text):
    field.edit.clear()
    type_text(qtbot, field.edit, text)


def select(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def shown_names(page):
    return [page.model.index(r, 0).data() for r in range(page.model.rowCount())]


# ---------------------------------------------------------------------------------- empty state


def test_empty_record_explains_what_to_do(qtbot, bare_store):
    page = make_page(qtbot, bare_store)
    assert page.stack.currentWidget() is page.empty_state
    text = page.empty_text.text()
    assert "New patient" in text and "Load demo data" in text
    assert "name and credentials first" in text  # no profile yet: says it will ask
    with qtbot.waitSignal(page.load_demo_requested, timeout=1000):
        qtbot.mouseClick(page.empty_demo, Qt.LeftButton)


def test_demo_data_then_refresh_shows_the_list(qtbot, store):
    from nurse_app.store import demo

    page = make_page(qtbot, store)
    assert page.stack.currentWidget() is page.empty_state
    demo.generate(store, patients=5, seed=1)
    page.refresh()
    assert page.stack.currentWidget() is page.splitter
    assert page.model.rowCount() == 5
    assert page.count_label.text() == "5 patients on record."
    assert page.current_patient_id() is not None  # first patient shown at once
    assert page.visit_table.rowCount() > 0
    assert page.table.model().index(0, 4).data() != "none yet"


# ---------------------------------------------------------------------------------- patient form


def fill_patient_form(
    qtbot,
    dialog,
    *,
    name="Łucja Nováková",
    mrn="MRN-9001",
    born="1962-04-09",
    sex="female",
    height="162",
    allergies="Latex",
):
    given, _, family = name.rpartition(" ")
    type_into(qtbot, dialog.given_name, given)
    type_into(qtbot, dialog.family_name, family)
    type_into(qtbot, dialog.mrn, mrn)
    type_into(qtbot, dialog.date_of_birth, born)
    select(dialog.sex, sex)
    type_into(qtbot, dialog.height, height)
    type_into(qtbot, dialog.allergies, allergies)
    select(dialog.indication, "pemphigus")
    type_into(qtbot, dialog.prescriber, "Dr. L. Moreau")


def test_new_patient_typed_into_the_form_and_saved_with_enter(qtbot, store):
    page = make_page(qtbot, store)

    def fill(dialog):
        assert isinstance(dialog, PatientDialog)
        fill_patient_form(qtbot, dialog)
        qtbot.keyClick(dialog.prescriber.edit, Qt.Key_Return)  # Enter saves

    seen = run_in_dialog(qtbot, fill)
    page.new_patient()
    assert seen["dialog"].result() == PatientDialog.Accepted
    [row] = store.find_patients("nováková")
    assert (
        row["mrn"],
        row["date_of_birth"],
        row["sex"],
        row["height_cm"],
        row["allergies"],
        row["indication"],
        row["prescriber"],
    ) == ("MRN-9001", "1962-04-09", "female", 162.0, "Latex", "pemphigus", "Dr. L. Moreau")
    assert page.stack.currentWidget() is page.splitter  # the empty state is gone
    assert page.current_patient_id() == row["id"]  # and the new patient is shown
    assert page.name_label.text() == "Łucja Nováková"
    assert "ALLERGIES: Latex" in page.allergy_label.text()
    assert "Pemphigus" in page.clinical_label.text()


def test_future_birth_date_and_height_900_marked_inline_and_not_saved(qtbot, store):
    dialog = PatientDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    fill_patient_form(qtbot, dialog, born=future, height="900")
    qtbot.keyClick(dialog.prescriber.edit, Qt.Key_Return)
    assert dialog.isVisible() and dialog.result() != PatientDialog.Accepted
    assert not dialog.date_of_birth.error.isHidden()
    assert "in the future" in dialog.date_of_birth.error.text()
    assert not dialog.height.error.isHidden()
    assert "900" in dialog.height.error.text()
    assert dialog.family_name.error.isHidden()  # only the wrong fields are marked
    assert store.find_patients("") == []  # nothing saved

    # Fixing a field clears its mark as the nurse types; then Enter saves.
    type_into(qtbot, dialog.date_of_birth, "1962-04-09")
    assert dialog.date_of_birth.error.isHidden()
    type_into(qtbot, dialog.height, "5")
    dialog.height.unit.setCurrentText("in")
    type_into(qtbot, dialog.height, "64")
    qtbot.keyClick(dialog.height.edit, Qt.Key_Return)
    assert dialog.result() == PatientDialog.Accepted
    [row] = store.find_patients("")
    assert row["height_cm"] == pytest.approx(64 * 2.54)


def test_field_checked_when_leaving_it_and_missing_sex_named(qtbot, store):
    dialog = PatientDialog(store)
    qtbot.addWidget(dialog)
    show_active(qtbot, dialog)
    dialog.date_of_birth.edit.setFocus()
    type_into(qtbot, dialog.date_of_birth, "1962-02-30")
    qtbot.keyClick(dialog.date_of_birth.edit, Qt.Key_Tab)  # leaving the field checks it
    assert "not a real date" in dialog.date_of_birth.error.text()
    assert not dialog.date_of_birth.error.isHidden()
    type_into(qtbot, dialog.given_name, "Ana")
    type_into(qtbot, dialog.family_name, "Lima")
    type_into(qtbot, dialog.mrn, "X1")
    type_into(qtbot, dialog.date_of_birth, "1962-02-28")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert "Sex is required" in dialog.fields["sex"].error.text()
    assert store.find_patients("") == []


def test_duplicate_mrn_marked_on_the_mrn_field(qtbot, store, three):
    dialog = PatientDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_patient_form(qtbot, dialog, mrn="A-777")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert "already exists" in dialog.mrn.error.text()
    assert len(store.find_patients("")) == 3


def test_edit_patient_saves_only_what_changed(qtbot, store, three):
    dialog = PatientDialog(store, three["anna"])
    qtbot.addWidget(dialog)
    dialog.show()
    assert (dialog.given_name.edit.text(), dialog.family_name.edit.text()) == ("Anna", "Smith")
    assert dialog.height.edit.text() == "165"
    type_into(qtbot, dialog.allergies, "Sulfonamides")
    qtbot.keyClick(dialog.allergies.edit, Qt.Key_Return)
    assert dialog.result() == PatientDialog.Accepted
    assert store.get_patient(three["anna"])["allergies"] == "Sulfonamides"
    [update] = [e for e in store.audit_entries("patients", three["anna"]) if e["action"] == "update"]
    # The patient was created with a one-line name: saving the form also confirms its split.
    assert set(update["after"]) - {"updated_at"} == {"allergies", "name_parts_confirmed"}


def answer_question(qtbot, button):
    """Press ``button`` in the next QMessageBox (e.g. the discard question)."""

    def press(box):
        assert isinstance(box, QMessageBox), box
        box.button(button).click()

    return run_in_dialog(qtbot, press)


def test_escape_cancels_but_asks_first_when_something_was_typed(qtbot, store, three):
    untouched = PatientDialog(store, three["anna"])  # filled from the record only
    qtbot.addWidget(untouched)
    untouched.show()
    qtbot.keyClick(untouched.family_name.edit, Qt.Key_Escape)
    assert untouched.result() == PatientDialog.Rejected and not untouched.isVisible()

    dialog = PatientDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_patient_form(qtbot, dialog)
    seen = answer_question(qtbot, QMessageBox.Cancel)  # "keep typing"
    qtbot.keyClick(dialog.family_name.edit, Qt.Key_Escape)
    assert isinstance(seen["dialog"], QMessageBox)
    assert dialog.isVisible() and dialog.family_name.text() == "Nováková"
    answer_question(qtbot, QMessageBox.Discard)
    qtbot.keyClick(dialog.family_name.edit, Qt.Key_Escape)
    assert dialog.result() == PatientDialog.Rejected and not dialog.isVisible()
    assert len(store.find_patients("")) == 3


def test_without_profile_the_form_says_so_in_the_banner(qtbot, bare_store):
    dialog = PatientDialog(bare_store)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_patient_form(qtbot, dialog)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert "nurse profile" in dialog.banner.text()
    assert not dialog.banner.isHidden()
    assert bare_store.find_patients("") == []


def test_new_patient_asks_for_the_profile_first_when_there_is_none(qtbot, bare_store):
    page = make_page(qtbot, bare_store)
    opened = []

    def profile(dialog):
        opened.append(type(dialog))
        assert isinstance(dialog, NurseProfileDialog)
        dialog.reject()  # the nurse closes it: no patient form follows

    run_in_dialog(qtbot, profile)
    page.new_patient()
    assert opened == [NurseProfileDialog]
    assert QApplication.activeModalWidget() is None


# ---------------------------------------------------------------------------------- list


def test_filter_by_name_and_mrn_ignores_accents_and_case(qtbot, store, three):
    page = make_page(qtbot, store)
    assert sorted(shown_names(page)) == ["Anna Smith", "José García", "Zoë Müller"]
    type_text(qtbot, page.search, "muller")  # typed without the umlaut
    assert shown_names(page) == ["Zoë Müller"]
    assert page.name_label.text() == "Zoë Müller"  # the match is shown at once
    page.search.clear()
    type_text(qtbot, page.search, "JOSE GARC")
    assert shown_names(page) == ["José García"]
    page.search.clear()
    type_text(qtbot, page.search, "mrn-01")  # part of an MRN
    assert shown_names(page) == ["Zoë Müller"]
    page.search.clear()
    type_text(qtbot, page.search, "nobody")
    assert shown_names(page) == []
    assert "No patient matches “nobody”" in page.count_label.text()
    assert page.detail_stack.currentIndex() == 0
    page.search.clear()
    assert page.model.rowCount() == 3
    assert page.count_label.text() == "3 patients on record."


def test_keyboard_from_search_to_list_and_down_the_list(qtbot, store, three):
    page = make_page(qtbot, store)
    page.focus_search()
    type_text(qtbot, page.search, "a")  # all three contain an "a"
    qtbot.keyClick(page.search, Qt.Key_Down)
    assert page.table.hasFocus()
    first = page.current_patient_id()
    qtbot.keyClick(page.table, Qt.Key_Down)
    assert page.current_patient_id() != first
    assert page.name_label.text() == store.get_patient(page.current_patient_id())["name"]


def click_header(qtbot, page, column):
    header = page.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))


def test_sort_by_clicking_column_headers(qtbot, store, three):
    add_patient(store, "Émile Dupont", "MRN-0003", born="1990-01-01", sex="male")
    add_patient(store, "Đorđe Petrović", "MRN-1000", born="1960-01-01", sex="male")
    page = make_page(qtbot, store)
    # Names sort as people read them: É with E, Đ after D (not after Z).
    assert shown_names(page) == ["Anna Smith", "Đorđe Petrović", "Émile Dupont", "José García", "Zoë Müller"]
    click_header(qtbot, page, 2)  # Born, oldest first
    assert shown_names(page) == ["Zoë Müller", "Đorđe Petrović", "Anna Smith", "José García", "Émile Dupont"]
    click_header(qtbot, page, 2)  # again: newest first
    assert shown_names(page)[0] == "Émile Dupont"
    click_header(qtbot, page, 1)  # MRN, numbers by value: 0003 < 0020 < 0100 < 1000
    mrns = [page.model.index(r, 1).data() for r in range(page.model.rowCount())]
    assert mrns == ["A-777", "MRN-0003", "MRN-0020", "MRN-0100", "MRN-1000"]


# ---------------------------------------------------------------------------------- weights


def test_add_weight_in_pounds_is_converted_to_kg(qtbot, store, three):
    page = make_page(qtbot, store)
    assert page.select_patient(three["jose"])
    page.new_weight.unit.setCurrentText("lb")
    qtbot.keyClicks(page.new_weight.edit, "154")
    qtbot.keyClick(page.new_weight.edit, Qt.Key_Return)  # Enter adds
    [weight] = store.patient_weights(three["jose"])
    assert weight["weight_kg"] == pytest.approx(154 * KG_PER_LB)
    assert weight["measured_on"] == dt.date.today().isoformat()
    assert page.weight_table.rowCount() == 1
    assert page.weight_table.item(0, 1).text() == "69.85 kg"
    assert page.new_weight.text() == ""  # ready for the next entry

    type_into(qtbot, page.new_weight, "72")
    page.new_weight.unit.setCurrentText("kg")
    type_into(qtbot, page.weighed_on, "2099-01-01")
    qtbot.mouseClick(page.add_weight_button, Qt.LeftButton)
    assert "in the future" in page.weighed_on.error.text()  # refused inline, on the date
    type_into(qtbot, page.weighed_on, dt.date.today().isoformat())
    type_into(qtbot, page.new_weight, "7o")
    qtbot.mouseClick(page.add_weight_button, Qt.LeftButton)
    assert "not a number" in page.new_weight.error.text()
    assert len(store.patient_weights(three["jose"])) == 1


# ---------------------------------------------------------------------------------- order


@pytest.fixture
def weighed(store):
    pid = add_patient(
        store, "Grace Okafor", "MRN-5", height_cm=170.0, indication="dermatomyositis", prescriber="Dr. S. Kim"
    )
    store.add_weight(pid, 70)
    return pid


def ack_boxes(dialog):
    return {box.objectName(): box for box in dialog.warnings_box.findChildren(QCheckBox)}


def test_order_hard_limit_refused_inline_and_soft_limit_needs_acknowledgement(qtbot, store, weighed):
    dialog = OrderDialog(store, weighed)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.regimen.currentData() == "dermatomyositis"  # from the patient's indication
    assert dialog.prescriber.text() == "Dr. S. Kim"
    select(dialog.product, "octagam-10")

    type_into(qtbot, dialog.dose, "3")  # above the calculator's hard limit
    dialog.recalculate()
    assert "above the highest value" in dialog.dose.error.text()
    assert not dialog.dose.error.isHidden()
    assert not dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.dose.edit, Qt.Key_Return)
    assert dialog.isVisible()
    assert store.patient_orders(weighed) == []

    type_into(qtbot, dialog.dose, "2.2")  # above the soft limit: a warning
    qtbot.waitUntil(lambda: dialog.result is not None and dialog.dose.error.isHidden(), timeout=2000)
    assert dialog.tile_course.value.text() == "154 g"  # 2.2 g/kg x 70 kg
    assert dialog.tile_daily.value.text() == fmt_qty(154 / 5, "g")
    boxes = ack_boxes(dialog)
    assert "ack_course-dose" in boxes
    assert not dialog.save_button.isEnabled()
    assert "Tick" in dialog.preview_banner.text()
    for name, box in boxes.items():
        if name != "ack_course-dose":
            click_when_shown(qtbot, box, near_left_edge=True)
    assert not dialog.save_button.isEnabled()  # one warning still unread
    course = boxes["ack_course-dose"]
    click_when_shown(qtbot, course, near_left_edge=True)
    assert dialog.save_button.isEnabled()
    assert {a["code"] for a in dialog.acknowledgements()} == {c.removeprefix("ack_") for c in boxes}

    type_into(qtbot, dialog.interval, "28")
    qtbot.keyClick(dialog.interval.edit, Qt.Key_Return)
    assert not dialog.isVisible()
    [order] = store.patient_orders(weighed)
    assert (
        order["product_id"],
        order["regimen_id"],
        order["dose_g_per_kg"],
        order["course_days"],
        order["interval_days"],
        order["prescriber"],
        order["active"],
    ) == ("octagam-10", "dermatomyositis", 2.2, 5, 28, "Dr. S. Kim", True)
    # The acknowledgements are recorded with the order (and so in the audit log).
    recorded = order["acknowledgements"]
    assert {a["code"] for a in recorded["warnings"]} == {c.removeprefix("ack_") for c in boxes}
    assert all(a["acknowledged_at"].endswith("+00:00") for a in recorded["warnings"])
    assert recorded["weight_kg"] == 70


def test_order_store_errors_shown_on_their_field(qtbot, store, weighed):
    dialog = OrderDialog(store, weighed)
    qtbot.addWidget(dialog)
    dialog.show()
    select(dialog.product, "octagam-10")
    dialog.recalculate()
    for box in ack_boxes(dialog).values():
        box.setChecked(True)
    type_into(qtbot, dialog.interval, "400")
    type_into(qtbot, dialog.start_date, "2025-13-01")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert dialog.isVisible()
    assert "366" in dialog.interval.error.text()
    type_into(qtbot, dialog.interval, "28")
    assert dialog.interval.error.isHidden()
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert "not a real date" in dialog.start_date.error.text()
    assert store.patient_orders(weighed) == []


def test_new_order_replaces_the_active_one_and_page_shows_it(qtbot, store, weighed):
    old = store.create_order(
        weighed,
        product_id="privigen",
        regimen_id="dermatomyositis",
        start_date="2024-01-01",
        prescriber="Dr. S. Kim",
    )
    page = make_page(qtbot, store)
    page.select_patient(weighed)
    assert (
        page.order_values["product"].text() == "Privigen 10 %"
    )  # the catalogue display name (brand + concentration)
    assert "140 g per course" in page.order_summary.text()  # 2 g/kg x 70 kg

    def new_order(dialog):
        assert isinstance(dialog, OrderDialog) and dialog.order_id is None
        select(dialog.product, "gamunex-c")
        type_into(qtbot, dialog.dose, "1")
        type_into(qtbot, dialog.days, "2")
        dialog.recalculate()
        for box in ack_boxes(dialog).values():
            box.setChecked(True)
        qtbot.keyClick(dialog.dose.edit, Qt.Key_Return)

    run_in_dialog(qtbot, new_order)
    page.edit_order(new=True)
    orders = store.patient_orders(weighed)
    assert [o["active"] for o in orders if o["id"] == old] == [False]
    [active] = store.patient_orders(weighed, active_only=True)
    assert (active["product_id"], active["dose_g_per_kg"], active["course_days"]) == ("gamunex-c", 1.0, 2)
    assert page.order_values["product"].text() == "Gamunex-C 10 %"
    assert "70 g per course" in page.order_summary.text()
    assert "35 g a day" in page.order_summary.text()


def test_order_without_weight_on_record_asks_for_one_and_saves_it(qtbot, store, three):
    dialog = OrderDialog(store, three["anna"])
    qtbot.addWidget(dialog)
    show_active(qtbot, dialog)
    select(dialog.regimen, "pemphigus")
    select(dialog.product, "gamunex-c")
    dialog.recalculate()
    assert dialog.weight is not None
    assert not dialog.save_button.isEnabled()
    assert "weight" in dialog.basis_label.text()
    dialog.weight.unit.setCurrentText("lb")
    type_into(qtbot, dialog.weight, "132")
    dialog.recalculate()
    assert dialog.result is not None
    for box in ack_boxes(dialog).values():
        box.setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert "Prescriber is required" in dialog.prescriber.error.text()  # no prescriber on record
    assert dialog.prescriber.edit.hasFocus()  # the cursor goes to the problem
    assert store.patient_weights(three["anna"]) == []  # all or nothing
    type_into(qtbot, dialog.prescriber, "Dr. H. Adeyemi")
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)
    assert not dialog.isVisible()
    [weight] = store.patient_weights(three["anna"])
    assert weight["weight_kg"] == pytest.approx(132 * KG_PER_LB)
    assert len(store.patient_orders(three["anna"], active_only=True)) == 1


# ---------------------------------------------------------------------------------- signals


def test_start_visit_emits_the_selected_patient_id(qtbot, store, three):
    page = make_page(qtbot, store)
    page.select_patient(three["jose"])
    with qtbot.waitSignal(page.start_visit_requested, timeout=1000) as blocker:
        qtbot.mouseClick(page.start_button, Qt.LeftButton)
    assert blocker.args == [three["jose"]]


def test_visit_list_opens_a_visit_and_offers_to_resume_a_draft(qtbot, store, weighed):
    order = store.create_order(
        weighed,
        product_id="privigen",
        regimen_id="dermatomyositis",
        start_date="2025-01-01",
        prescriber="Dr. S. Kim",
    )
    first = store.create_visit(
        weighed, order_id=order, started_at="2025-01-01T14:00:00+00:00", course_day=1, course_days=5
    )
    second = store.create_visit(
        weighed, order_id=order, started_at="2025-01-02T14:00:00+00:00", course_day=2, course_days=5
    )
    page = make_page(qtbot, store)
    page.select_patient(weighed)
    assert page.visit_table.rowCount() == 2
    assert page.visit_table.item(0, 1).text() == "Day 2 of 5"  # newest first
    assert page.visit_table.item(1, 2).text() == "Draft"
    assert not page.resume_button.isHidden()
    page.visit_table.setFocus()
    page.visit_table.setCurrentCell(1, 0)
    with qtbot.waitSignal(page.open_visit_requested, timeout=1000) as blocker:
        qtbot.keyClick(page.visit_table, Qt.Key_Return)
    assert blocker.args == [first]
    with qtbot.waitSignal(page.open_visit_requested, timeout=1000) as blocker:
        qtbot.mouseClick(page.resume_button, Qt.LeftButton)
    assert blocker.args == [second]


# ---------------------------------------------------------------------------------- profile


def test_profile_dialog_saves_profile_and_handout_contact(qtbot, bare_store):
    dialog = NurseProfileDialog(bare_store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.save_button, Qt.LeftButton)  # no name: refused inline
    assert "required" in dialog.name.error.text()
    assert bare_store.nurse_profile() is None
    type_into(qtbot, dialog.name, "Aoife Ní Bhriain")
    type_into(qtbot, dialog.credentials, "RN, IgCN")
    type_into(qtbot, dialog.contact_fields["agency"], "Soins à domicile Éloïse")
    type_into(qtbot, dialog.contact_fields["phone"], "+1 555 0100")
    type_into(qtbot, dialog.contact_fields["after_hours"], "+1 555 0199")
    type_into(qtbot, dialog.contact_fields["address"], "4 rue du Lac, Québec")
    type_into(qtbot, dialog.contact_fields["mrn_system"], "not a uri")
    qtbot.keyClick(dialog.contact_fields["mrn_system"].edit, Qt.Key_Return)
    assert dialog.isVisible()  # refused inline, on that field
    assert "must be a URI" in dialog.contact_fields["mrn_system"].error.text()
    assert bare_store.nurse_profile() is None  # nothing half-saved
    type_into(qtbot, dialog.contact_fields["mrn_system"], "urn:oid:2.16.840.1.113883.3.9999.1")
    assert dialog.contact_fields["mrn_system"].error.isHidden()  # corrected: the red message goes
    qtbot.keyClick(dialog.contact_fields["mrn_system"].edit, Qt.Key_Return)
    assert dialog.result() == NurseProfileDialog.Accepted
    assert bare_store.nurse_profile()["display"] == "Aoife Ní Bhriain, RN, IgCN"
    contact = handout_contact(bare_store)
    assert contact == {
        "agency": "Soins à domicile Éloïse",
        "phone": "+1 555 0100",
        "after_hours": "+1 555 0199",
        "nurse": "Aoife Ní Bhriain, RN, IgCN",
    }  # the profile, as no other nurse was typed
    assert set(contact) <= {key for key, _ in CONTACT_FIELDS}  # the keys the handout prints
    assert bare_store.get_setting(AGENCY_SETTING)["agency"] == "Soins à domicile Éloïse"
    assert agency_details(bare_store)["address"] == "4 rue du Lac, Québec"
    assert agency_details(bare_store)["mrn_system"] == "urn:oid:2.16.840.1.113883.3.9999.1"

    again = NurseProfileDialog(bare_store)  # reopening shows what was saved
    qtbot.addWidget(again)
    assert again.name.text() == "Aoife Ní Bhriain"
    assert again.contact_fields["agency"].text() == "Soins à domicile Éloïse"
    assert again.contact_fields["nurse"].text() == "Aoife Ní Bhriain, RN, IgCN"  # suggested
    assert again.contact_fields["address"].text() == "4 rue du Lac, Québec"


def test_profile_credentials_too_long_marked_inline(qtbot, bare_store):
    dialog = NurseProfileDialog(bare_store)
    qtbot.addWidget(dialog)
    dialog.show()
    type_into(qtbot, dialog.name, "Sam Lee")
    type_into(qtbot, dialog.credentials, "R" * 60)
    qtbot.keyClick(dialog.credentials.edit, Qt.Key_Return)
    assert dialog.isVisible()
    assert "too long" in dialog.credentials.error.text()
    assert bare_store.nurse_profile() is None


def test_tab_order_follows_the_form_and_ctrl_enter_saves_from_notes(qtbot, store):
    dialog = PatientDialog(store)
    qtbot.addWidget(dialog)
    show_active(qtbot, dialog)
    dialog.family_name.edit.setFocus()
    order = []
    for _ in range(13):
        order.append(QApplication.focusWidget().objectName())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Tab)
    assert order == [
        "family_name_edit",
        "given_name_edit",
        "mrn_edit",
        "date_of_birth_edit",
        "sex_combo",
        "height_edit",
        "height_unit",
        "allergies_edit",
        "indication_combo",
        "prescriber_edit",
        "preferred_language_combo",
        "interpreter_needed",  # the typed language name is shown (and in the order) only for "other"
        "notes_edit",
    ]
    fill_patient_form(qtbot, dialog)
    dialog.notes.editor.setFocus()
    qtbot.keyClicks(dialog.notes.editor, "Lives alone")
    qtbot.keyClick(dialog.notes.editor, Qt.Key_Return, Qt.ControlModifier)
    assert dialog.result() == PatientDialog.Accepted
    assert store.find_patients("")[0]["notes"] == "Lives alone"


def test_order_acknowledgements_come_before_save_in_tab_order(qtbot, store, weighed):
    dialog = OrderDialog(store, weighed)
    qtbot.addWidget(dialog)
    show_active(qtbot, dialog)
    select(dialog.product, "privigen")
    type_into(qtbot, dialog.dose, "2.2")
    dialog.recalculate()
    qtbot.waitUntil(lambda: all(b.isVisible() for b in ack_boxes(dialog).values()), timeout=1000)
    dialog.notes.editor.setFocus()
    reached = []
    for _ in range(len(ack_boxes(dialog)) + 1):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Tab)
        reached.append(QApplication.focusWidget())
        if isinstance(reached[-1], QCheckBox):
            qtbot.keyClick(reached[-1], Qt.Key_Space)  # tick it from the keyboard
    assert all(isinstance(w, QCheckBox) for w in reached[:-1]), [w.objectName() for w in reached]
    assert reached[-1] is dialog.save_button and dialog.save_button.isEnabled()


def test_order_with_a_product_no_longer_in_the_catalogue_is_kept_and_refused(qtbot, store, weighed):
    order = store.create_order(
        weighed,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2024-01-01",
        prescriber="Dr. S. Kim",
    )
    # The order was entered while the catalogue still listed the product (the store now
    # refuses unknown products, so the older record is made as an older version left it).
    store.db.conn.execute("UPDATE orders SET product_id = 'retired-brand' WHERE id = ?", [order])
    dialog = OrderDialog(store, weighed, order)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.product.currentData() == "retired-brand"  # not silently another product
    assert "retired-brand" in dialog.fields["product"].error.text()
    assert not dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.prescriber.edit, Qt.Key_Return)
    assert dialog.isVisible()
    assert store.get_order(order)["product_id"] == "retired-brand"
