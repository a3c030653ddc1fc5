"""The patient's language in the real main window: recorded in the patient form, shown on the
Patients page and the summary, the visit's interpreter on the Notes tab, and the Spanish handout
from the visit's Sign tab and the Guides page."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from qt_helpers import open_main_window
from store_helpers import pemphigus_record


@pytest.fixture
def record(tmp_path):
    return pemphigus_record(
        tmp_path / "record.db", weight_kg=61, name="Rosa Díaz", date_of_birth="1958-04-02", height_cm=158
    )


def _pdf(path) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(str(path)).pages).split())


def test_a_spanish_speaking_patient_gets_the_spanish_handout_from_the_sign_tab(qtbot, record, tmp_path):
    from nurse_app.ui.patient_forms import PatientDialog

    window, store = open_main_window(qtbot, record, tmp_path)
    pid = store.find_patients("")[0]["id"]
    dialog = PatientDialog(store, pid, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.language_other.isVisible()
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    dialog.interpreter.setChecked(True)
    assert dialog.save()
    patient = store.get_patient(pid)
    assert (patient["preferred_language"], patient["interpreter_needed"]) == ("es", 1)

    window.show_page("patients")
    assert window.patients.select_patient(pid)
    assert "<b>Language:</b> Spanish (Español), interpreter needed" in window.patients.clinical_label.text()
    window.start_visit(pid)
    page = window.visit_page
    page.tabs.setCurrentWidget(page.notes_tab)
    notes = page.notes_tab
    qtbot.mouseClick(notes.interpreter_used, Qt.LeftButton)
    notes.interpreter.setFocus()
    qtbot.keyClicks(notes.interpreter, "Ana Ruiz, ID 4471")
    qtbot.keyClick(notes.interpreter, Qt.Key_Return)
    visit = store.get_visit(page.visit_id)
    assert (visit["interpreter_used"], visit["interpreter"]) == (1, "Ana Ruiz, ID 4471")

    page.tabs.setCurrentWidget(page.sign_tab)
    assert "Spanish (Español), interpreter needed" in page.sign_tab.handout_note.text()
    qtbot.mouseClick(page.sign_tab.handout_button, Qt.LeftButton)
    guides = window.guides
    assert window.current_page() == "guides" and guides.current.id == "pemphigus"
    assert guides.handout_language() == "es"
    target = tmp_path / "handout.pdf"
    with qtbot.waitSignal(guides.handout_saved, timeout=10000):
        guides.save_handout_to(str(target))
    text = _pdf(target)
    assert "Pénfigo (vulgar y foliáceo)" in text and "Llame al 911 si" in text

    from nurse_app.reports.visit_data import summarize
    from nurse_app.services.visit_record import load_visit

    rows = dict(summarize(load_visit(store, page.visit_id)).patient)
    assert rows["Language"] == "Spanish (Español), interpreter needed"
    assert rows["Interpreter at this visit"] == "Yes: Ana Ruiz, ID 4471"
    window.close()
    store.close()


def test_other_language_needs_its_name_and_the_form_says_so(qtbot, record, tmp_path):
    from nurse_app.core.languages import OTHER
    from nurse_app.ui.patient_forms import PatientDialog

    window, store = open_main_window(qtbot, record, tmp_path)
    pid = store.find_patients("")[0]["id"]
    dialog = PatientDialog(store, pid, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.language.setCurrentIndex(dialog.language.findData(OTHER))
    assert dialog.language_other.isVisible()
    assert not dialog.save()
    assert not dialog.language_other.error.isHidden()
    assert "Type the name of the preferred language" in dialog.language_other.error.text()
    qtbot.keyClicks(dialog.language_other.edit, "Amharic")
    assert dialog.save()
    assert store.get_patient(pid)["preferred_language_other"] == "Amharic"
    window.close()
    store.close()
