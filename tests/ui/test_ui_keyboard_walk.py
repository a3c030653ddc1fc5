"""pytest-qt: defects found walking a whole IVIG home visit by keyboard, each driven the way the nurse
met it (real key presses to the focused widget of the real main window) and checked fixed.

Enter in a form never means Cancel; long inline errors are not cut off; a new visit puts the cursor
in today's weight; labels' Alt+letter shortcuts focus their inputs and never collide on a page; Tab
leaves every table; a typed infusion rate is recorded as typed (the clock used to overwrite it); the
Sign button asks before signing; exports say where the file went.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTabWidget,
    QWidget,
)
from qt_helpers import run_in_dialog, type_text

from nurse_app.core.acknowledgements import pending_in
from nurse_app.core.checklists import DONE
from nurse_app.core.dosing import DoseRequest
from nurse_app.store import Store
from nurse_app.ui.calculator_page import CalculatorPage
from nurse_app.ui.main_window import MainWindow
from nurse_app.ui.patient_forms import OrderDialog
from nurse_app.ui.profile_dialog import NurseProfileDialog
from nurse_app.ui.visit import export as visit_export
from nurse_app.ui.visit.infusion_tab import RateBox

# ------------------------------------------------------------------ helpers


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus (is the window active?)"
    return widget


def press(qtbot, key, modifier=Qt.NoModifier):
    """A key press where the keyboard sends it: to the focused widget."""
    qtbot.keyClick(focus(), key, modifier)


def type_here(qtbot, text):
    type_text(qtbot, focus(), text)


def show_active(qtbot, widget):
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=2000)


def focused_name() -> str:
    widget = QApplication.focusWidget()
    return widget.objectName() if widget is not None else ""


@pytest.fixture
def record(tmp_path):
    """A patient weighed 70 kg with a Gamunex-C pemphigus order (28 g a day over 5 days)."""
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="MRN-4242",
            name="Zoë Ødegård",
            date_of_birth="1958-03-14",
            sex="female",
            height_cm=168,
            allergies="Penicillin (rash)",
            indication="pemphigus",
            prescriber="Dr. A. Lind",
        )
        store.add_weight(pid, 70, measured_on="2026-01-05")
        # Gamunex-C given before under an earlier order (a signed visit): today is not a first
        # infusion, whose ladder the engine holds at the initial rate.
        earlier = store.create_order(
            pid,
            product_id="gamunex-c",
            regimen_id="pemphigus",
            start_date="2025-11-03",
            prescriber="Dr. A. Lind",
            active=False,
        )
        given = store.create_visit(
            pid,
            order_id=earlier,
            started_at="2025-11-03T14:00:00+00:00",
            ended_at="2025-11-03T18:00:00+00:00",
        )
        store.set_checklist_items(
            given, {i["item_id"]: "done" for i in store.visit_checklist(given) if i["required"]}
        )
        store.sign_visit(given)
        store.create_order(
            pid,
            product_id="gamunex-c",
            regimen_id="pemphigus",
            start_date="2026-01-06",
            prescriber="Dr. A. Lind",
        )
    return path, pid


def open_window(qtbot, path, tmp_path):
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    show_active(qtbot, window)
    window.show_page("patients")  # the Week page opens first (issue 16)
    return window, store


@pytest.fixture
def visit(qtbot, record, tmp_path):
    """The main window with today's visit started from the Patients page (Alt+V)."""
    path, _pid = record
    window, store = open_window(qtbot, path, tmp_path)
    window.patients.table.setFocus()
    press(qtbot, Qt.Key_V, Qt.AltModifier)
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=2000)
    yield window, store, window.visit_page
    window.close()
    store.close()


def weigh(qtbot, store, vp, text="70"):
    """Today's weight typed on the Dose tab, and every warning ticked with the Space bar."""
    calc = vp.dose_tab.calculator
    calc.weight.edit.setFocus()
    type_here(qtbot, text)
    qtbot.waitUntil(
        lambda: (store.get_visit(vp.visit_id).get("calculation") or {}).get("daily_dose_g") == 28,
        timeout=3000,
    )
    for code in [w.code for w in calc.pending_warnings()]:
        box = calc.findChild(QCheckBox, f"ack_{code}")
        qtbot.waitUntil(box.isVisible, timeout=2000)
        box.setFocus()
        press(qtbot, Qt.Key_Space)
    qtbot.waitUntil(lambda: not pending_in(store.get_visit(vp.visit_id)["calculation"]), timeout=3000)


def mnemonic(text: str) -> str | None:
    match = re.search(r"&([^&])", text.replace("&&", ""))
    return match.group(1).lower() if match else None


def visible_mnemonics(window: QWidget, page: QWidget) -> list[tuple[str, str]]:
    """(letter, text) of every Alt+letter that is live on ``page`` (enabled buttons, labels with a buddy)
    and in the window's menu bar."""
    found = [(mnemonic(a.text()), a.text()) for a in window.menuBar().actions() if mnemonic(a.text())]
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(window):
            continue
        if (isinstance(widget, QAbstractButton) and widget.isEnabled() and mnemonic(widget.text())) or (
            isinstance(widget, QLabel) and widget.buddy() is not None and mnemonic(widget.text())
        ):
            found.append((mnemonic(widget.text()), widget.text()))
    return found


def clashes(found: list[tuple[str, str]]) -> dict[str, list[str]]:
    letters: dict[str, list[str]] = {}
    for letter, text in found:
        letters.setdefault(letter, []).append(text)
    return {k: v for k, v in letters.items() if len(v) > 1}


# ------------------------------------------------------------------ forms


def test_enter_saves_the_order_even_after_tab_passed_cancel(qtbot, record):
    """Save is disabled until the warning is ticked, so Tab went to Cancel first; Cancel then stayed the
    default button and Enter after ticking asked 'Discard what you typed?' instead of saving."""
    path, pid = record
    with Store.open(path) as store:
        dialog = OrderDialog(store, pid)
        qtbot.addWidget(dialog)
        show_active(qtbot, dialog)
        dialog.recalculate()
        assert dialog.pending_warnings() and not dialog.save_button.isEnabled()
        boxes = [b for b in dialog.findChildren(QCheckBox) if b.objectName().startswith("ack_")]
        qtbot.waitUntil(lambda: all(b.isVisible() for b in boxes), timeout=2000)  # shown by a queued call
        dialog.notes.editor.setFocus()
        # Every warning box in turn (issue 9: the product's contraindications are warnings too), then Cancel.
        for _ in boxes:
            press(qtbot, Qt.Key_Tab)
            ack = QApplication.focusWidget()
            assert isinstance(ack, QCheckBox) and ack.objectName().startswith("ack_")
        press(qtbot, Qt.Key_Tab)
        assert QApplication.focusWidget() is dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
        press(qtbot, Qt.Key_Tab)  # on round the form, then back to the warnings
        for ack in boxes:
            ack.setFocus()
            press(qtbot, Qt.Key_Space)
        assert dialog.save_button.isEnabled() and dialog.save_button.isDefault()
        press(qtbot, Qt.Key_Return)
        assert not dialog.isVisible(), "Enter saved and closed the form"
        [order] = store.patient_orders(pid, active_only=True)
        assert order["id"] == dialog.order_id


def test_a_long_inline_error_is_shown_whole(qtbot, tmp_path):
    """The MRN-system message wraps over three lines; the profile form did not grow and cut it off."""
    with Store.open(tmp_path / "r.db") as store:
        dialog = NurseProfileDialog(store)
        qtbot.addWidget(dialog)
        show_active(qtbot, dialog)
        dialog.name.edit.setFocus()
        type_here(qtbot, "Maria Santos")
        dialog.contact_fields["mrn_system"].edit.setFocus()
        type_here(qtbot, "not a uri")
        press(qtbot, Qt.Key_Return)
        error = dialog.contact_fields["mrn_system"].error
        assert error.isVisible() and "must be a URI" in error.text()
        assert error.heightForWidth(error.width()) > 2 * error.fontMetrics().height(), "the message wraps"
        qtbot.waitUntil(lambda: error.height() >= error.heightForWidth(error.width()), timeout=2000)
        assert store.nurse_profile() is None


def test_first_start_profile_updates_the_empty_patients_page(qtbot, tmp_path):
    with Store.open(tmp_path / "r.db") as store:
        window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
        qtbot.addWidget(window)
        show_active(qtbot, window)
        assert "asked for your name" in window.patients.empty_text.text()

        def fill(dialog):
            show_active(qtbot, dialog)
            dialog.name.edit.setFocus()
            type_here(qtbot, "Maria Santos")
            press(qtbot, Qt.Key_Return)

        run_in_dialog(qtbot, fill)
        window.edit_profile()
        assert store.nurse_profile()["name"] == "Maria Santos"
        assert "asked for your name" not in window.patients.empty_text.text()
        window.close()


# ------------------------------------------------------------------ starting the visit, dose


def test_a_new_visit_starts_in_todays_weight_and_says_so(qtbot, visit):
    window, store, vp = visit
    assert vp.tabs.currentWidget() is vp.dose_tab
    assert QApplication.focusWidget() is vp.dose_tab.calculator.weight.edit
    assert "Visit started: day 1 of 5" in window.statusBar().currentMessage()
    type_here(qtbot, "70")  # typing goes straight in
    qtbot.waitUntil(lambda: store.get_visit(vp.visit_id)["weight_kg"] == 70, timeout=3000)


def test_calculator_labels_focus_their_inputs_and_never_clash(qtbot, visit):
    window, _store, _vp = visit
    window.show_page("calculator")
    page = window.calculator
    page.product.setFocus()
    for key, widget in (
        (Qt.Key_W, page.weight.edit),
        (Qt.Key_E, page.height.edit),
        (Qt.Key_D, page.dose.edit),
        (Qt.Key_R, page.regimen),
        (Qt.Key_B, page.basis),
        (Qt.Key_P, page.product),
    ):
        press(qtbot, key, Qt.AltModifier)
        assert QApplication.focusWidget() is widget, (key, focused_name())
    assert clashes(visible_mnemonics(window, page)) == {}
    press(qtbot, Qt.Key_Tab)  # no silent Tab stop on a scroll area
    assert "QScrollArea" not in type(QApplication.focusWidget()).__name__


def test_baseline_change_that_rounds_to_zero_has_no_sign_and_one_warning_reads_right(qtbot):
    page = CalculatorPage()
    qtbot.addWidget(page)
    show_active(qtbot, page)
    page.lock_request(
        DoseRequest(
            product_id="gamunex-c",
            weight_kg=0.0,
            regimen_id="pemphigus",
            height_cm=168,
            sex="female",
            baseline_weight_kg=70,
            baseline_weighed_on="2026-01-05",
        )
    )
    page.set_inputs(weight="154.3", weight_unit="lb")  # 69.99 kg: 0.01 % under the baseline
    assert "(5 Jan 2026, 0 %)" in page.weights_label.text()
    assert "−0" not in page.weights_label.text()
    # Issue 9: the product's contraindications come first as warnings; tick them, then the one left.
    for w in page.pending_warnings():
        if w.code.startswith("contraindication-"):
            page.findChild(QCheckBox, f"ack_{w.code}").setChecked(True)
    [warning] = page.pending_warnings()
    assert page.banner.text() == "⚠ 1 warning below needs acknowledgement before this calculation is used."
    box = page.findChild(QCheckBox, f"ack_{warning.code}")
    qtbot.waitUntil(box.isVisible, timeout=2000)
    box.setFocus()
    press(qtbot, Qt.Key_Space)
    assert page.banner.text() == f"✓ All {len(page.acknowledgements())} warnings acknowledged."


# ------------------------------------------------------------------ visit tabs


def when_a_dialog_opens(action):
    """Run ``action(dialog)`` on the next modal dialog, however long its button's flash takes."""
    seen = {}

    def poll():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, poll)
            return
        seen["dialog"] = dialog
        try:
            action(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()  # never left hanging

    QTimer.singleShot(0, poll)
    return seen


def test_no_alt_letter_clashes_on_any_visit_tab(qtbot, visit):
    window, store, vp = visit
    weigh(qtbot, store, vp)
    tabs = vp.findChild(QTabWidget, "visit_tabs")
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        assert clashes(visible_mnemonics(window, window.visit_page)) == {}, tabs.tabText(index)
    tabs.setCurrentWidget(vp.infusion_tab)  # paused: Resume is live, a second Pause is not
    inf = vp.infusion_tab
    inf.buttons["start"].click()
    inf.buttons["pause"].click()
    inf._tick()
    assert not inf.buttons["pause"].isEnabled() and not inf.buttons["rate_change"].isEnabled()
    assert inf.buttons["resume"].isEnabled() and inf.buttons["stop"].isEnabled()
    assert clashes(visible_mnemonics(window, window.visit_page)) == {}
    inf.inputs["temperature_c"].setFocus()

    def kinds():
        return [e["kind"] for e in store.visit_infusion_events(vp.visit_id)]

    press(qtbot, Qt.Key_M, Qt.AltModifier)  # a button's Alt+letter clicks it after a short flash
    qtbot.waitUntil(lambda: kinds() == ["start", "pause", "resume"], timeout=2000)

    def record_the_volume(dialog):  # Finish asks for the volume given (and why less)
        dialog.reason.setText("Patient asked to stop")
        dialog.ok_button.click()

    seen = when_a_dialog_opens(record_the_volume)
    press(qtbot, Qt.Key_I, Qt.AltModifier)  # Alt+F opens the File menu, so Finish is Alt+I
    qtbot.waitUntil(lambda: kinds() == ["start", "pause", "resume", "end"], timeout=2000)
    assert seen["dialog"].windowTitle() == "Finish the infusion"


def test_tab_leaves_every_table_of_the_visit(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    vp.infusion_tab.inputs["heart_rate"].setText("72")
    vp.infusion_tab._add_vitals()
    for table in vp.findChildren(QTableWidget):
        if not table.focusPolicy() & Qt.TabFocus:
            continue
        assert not table.tabKeyNavigation(), table.objectName()
    assert not vp.infusion_tab.plan.focusPolicy() & Qt.TabFocus, "the rate plan is display-only"
    vp.tabs.setCurrentWidget(vp.infusion_tab)
    vp.infusion_tab.sheet.setFocus()
    press(qtbot, Qt.Key_Tab)
    assert QApplication.focusWidget() is not vp.infusion_tab.sheet


def test_the_rate_box_shows_no_trailing_zero(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    inf = vp.infusion_tab
    assert isinstance(inf.new_rate, RateBox)
    assert inf.new_rate.text() == "42 mL/h"  # not "42.0 mL/h"
    inf.new_rate.setValue(335.9)
    assert inf.new_rate.text() == "335.9 mL/h"
    inf.new_rate.setValue(1250)
    assert inf.new_rate.text() == "1250 mL/h" and inf.new_rate.valueFromText(inf.new_rate.text()) == 1250


def test_a_typed_rate_is_recorded_as_typed(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    vp.tabs.setCurrentWidget(vp.infusion_tab)
    inf = vp.infusion_tab
    inf.new_rate.setFocus()  # in the box when she starts: its value is kept
    inf.buttons["start"].click()
    assert inf.new_rate.value() == 42
    press(qtbot, Qt.Key_Tab)
    inf._tick()
    assert inf.new_rate.value() == 84  # once she leaves it, the plan's next step
    inf.new_rate.setFocus()
    press(qtbot, Qt.Key_A, Qt.ControlModifier)
    type_here(qtbot, "60")
    press(qtbot, Qt.Key_Tab)
    assert QApplication.focusWidget() is inf.buttons["rate_change"]
    for _ in range(3):  # the clock ticks while she reaches the button
        inf._tick()
    qtbot.wait(1100)
    assert inf.new_rate.value() == 60
    seen = when_a_dialog_opens(  # a step-up at minute 0 is early: acknowledged
        lambda box: next(b for b in box.buttons() if b.text() == "Acknowledge and record").click()
    )
    press(qtbot, Qt.Key_Space)
    qtbot.waitUntil(lambda: "dialog" in seen, timeout=2000)
    assert seen["dialog"].objectName() == "rate_ack"
    assert store.visit_infusion_events(vp.visit_id)[-1]["rate_ml_h"] == 60


def test_resume_offers_the_rate_before_the_pause_and_a_stop_the_first_step(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    vp.tabs.setCurrentWidget(vp.infusion_tab)
    inf = vp.infusion_tab
    inf.buttons["start"].click()  # 42 mL/h
    inf.inputs["temperature_c"].setFocus()  # the cursor is away from the rate box
    inf._tick()
    assert inf.new_rate.value() == 84
    seen = when_a_dialog_opens(  # a step-up at minute 0 is early: acknowledged
        lambda box: next(b for b in box.buttons() if b.text() == "Acknowledge and record").click()
    )
    inf.buttons["rate_change"].click()  # 84 mL/h
    assert seen["dialog"].objectName() == "rate_ack"
    inf.inputs["temperature_c"].setFocus()
    inf._tick()
    assert inf.new_rate.value() == 168  # running: the plan's next step
    inf.buttons["pause"].click()
    inf.inputs["temperature_c"].setFocus()
    inf._tick()
    assert inf.new_rate.value() == 84  # paused: not the higher next step
    assert inf.status.text().startswith("Paused")
    inf.buttons["resume"].click()
    assert store.visit_infusion_events(vp.visit_id)[-1]["rate_ml_h"] == 84
    seen = when_a_dialog_opens(
        lambda dialog: (dialog.reason.setText("Patient asked to stop"), dialog.ok_button.click())
    )
    inf.buttons["stop"].click()  # Stop asks for the volume given and why less
    assert seen["dialog"].windowTitle() == "Stop the infusion"
    inf.inputs["temperature_c"].setFocus()
    inf._tick()
    assert inf.status.text().startswith("Stopped")
    assert inf.new_rate.value() == 42  # after a stop: back to the first step
    assert not inf.buttons["stop"].isEnabled() and inf.buttons["resume"].isEnabled()


def test_a_bad_vital_sign_names_the_value_and_takes_the_cursor_there(qtbot, visit):
    _window, store, vp = visit
    vp.tabs.setCurrentWidget(vp.infusion_tab)
    inf = vp.infusion_tab
    inf.inputs["temperature_c"].setFocus()
    type_here(qtbot, "36.8")
    press(qtbot, Qt.Key_Tab)
    type_here(qtbot, "7a")
    for _ in range(4):
        press(qtbot, Qt.Key_Tab)
    type_here(qtbot, "98")
    press(qtbot, Qt.Key_Return)
    assert inf.vitals_error.text() == "Heart rate '7a' is not a number."
    assert QApplication.focusWidget() is inf.inputs["heart_rate"]
    assert inf.inputs["heart_rate"].selectedText() == "7a"
    type_here(qtbot, "72")  # typing replaces the mistake
    press(qtbot, Qt.Key_Return)
    [reading] = store.visit_vitals(vp.visit_id)
    assert (reading["temperature_c"], reading["heart_rate"], reading["spo2_percent"]) == (36.8, 72, 98)


def test_enter_in_any_field_of_the_lot_form_adds_the_lot_once(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    vp.tabs.setCurrentWidget(vp.lots_tab)
    lots = vp.lots_tab
    lots.expiry.setFocus()  # the expiry is typed, never prefilled
    type_here(qtbot, "2027-03-15")
    lots.lot_number.setFocus()
    type_here(qtbot, "A123")
    press(qtbot, Qt.Key_C, Qt.AltModifier)  # to Count, then Enter
    assert QApplication.focusWidget() is lots.count
    press(qtbot, Qt.Key_Return)
    assert [lot["lot_number"] for lot in store.visit_lots(vp.visit_id)] == ["A123"]
    assert QApplication.focusWidget() is lots.lot_number and lots.error.isHidden()
    assert lots.expiry.text() == ""  # never the previous lot's expiry
    type_here(qtbot, "B456")
    lots.expiry.setFocus()
    type_here(qtbot, "03/2027")
    lots.lot_number.setFocus()
    press(qtbot, Qt.Key_Return)  # Enter in the lot number: one lot, no second try
    assert [lot["lot_number"] for lot in store.visit_lots(vp.visit_id)] == ["A123", "B456"]
    assert lots.error.isHidden()


def test_checklist_not_done_asks_for_the_reason_in_the_note(qtbot, visit):
    _window, store, vp = visit
    vp.tabs.setCurrentWidget(vp.checklist_tab)
    checklist = vp.checklist_tab
    checklist.tree.setFocus()
    press(qtbot, Qt.Key_Down)
    item_id = checklist.tree.currentItem().data(0, Qt.UserRole)
    press(qtbot, Qt.Key_N, Qt.AltModifier)
    qtbot.waitUntil(lambda: "reason it was not done" in checklist.error.text(), timeout=2000)
    assert QApplication.focusWidget() is checklist.note
    type_here(qtbot, "Patient declined")

    def answers():
        return {i["item_id"]: i for i in store.visit_checklist(vp.visit_id)}

    press(qtbot, Qt.Key_N, Qt.AltModifier)
    qtbot.waitUntil(lambda: answers()[item_id]["status"] == "not_done", timeout=2000)
    assert answers()[item_id]["note"] == "Patient declined"
    phase = answers()[item_id]["phase_id"]
    checklist.tree.setFocus()
    seen = {}

    def yes_from_the_keyboard():  # a mnemonic clicks after a short animation
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, yes_from_the_keyboard)
            return
        seen["dialog"] = dialog
        qtbot.keyClick(dialog.button(QMessageBox.Yes), Qt.Key_Space)  # Yes, from the keyboard
        if dialog.isVisible():
            dialog.reject()  # never left hanging

    QTimer.singleShot(0, yes_from_the_keyboard)
    press(qtbot, Qt.Key_P, Qt.AltModifier)  # Alt+P is the phase button alone now
    qtbot.waitUntil(lambda: "dialog" in seen, timeout=2000)  # marking the rest done asks first
    qtbot.waitUntil(
        lambda: all(i["status"] for i in answers().values() if i["phase_id"] == phase and i["required"]),
        timeout=2000,
    )
    assert {i["status"] for i in answers().values() if i["phase_id"] == phase and i["required"]} == {
        DONE,
        "not_done",
    }
    assert all(
        i["status"] is None
        for i in answers().values()
        if i["phase_id"] == phase and not i["required"] and i["item_id"] != item_id
    )  # optional stay open


def test_enter_records_the_reaction(qtbot, visit):
    _window, store, vp = visit
    vp.tabs.setCurrentWidget(vp.reactions_tab)
    rx = vp.reactions_tab
    rx.kind.setFocus()
    press(qtbot, Qt.Key_Tab)
    press(qtbot, Qt.Key_Space)  # Mild
    press(qtbot, Qt.Key_A, Qt.AltModifier)
    type_here(qtbot, "Slowed to 84 mL/h")
    press(qtbot, Qt.Key_T, Qt.AltModifier)  # Note (Alt+O is Outcome)
    assert QApplication.focusWidget() is rx.note
    type_here(qtbot, "mild headache")
    press(qtbot, Qt.Key_Return)
    [reaction] = store.visit_reactions(vp.visit_id)
    assert (reaction["severity"], reaction["action_taken"], reaction["note"]) == (
        "mild",
        "Slowed to 84 mL/h",
        "mild headache",
    )


# ------------------------------------------------------------------ signing and after


def finish_for_signing(store, vp):
    store.set_checklist_items(vp.visit_id, {i["item_id"]: DONE for i in store.visit_checklist(vp.visit_id)})
    vp.ctx.changed.emit("visit")


def test_the_sign_button_asks_first(qtbot, visit, monkeypatch):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    finish_for_signing(store, vp)
    vp.tabs.setCurrentWidget(vp.sign_tab)
    sign = vp.sign_tab
    sign.end_button.click()
    sign.sign_button.setFocus()
    asked = []
    answer = {"value": QMessageBox.No}

    def question(*args, **kwargs):
        asked.append(args[1])
        return answer["value"]

    monkeypatch.setattr(QMessageBox, "question", question)
    press(qtbot, Qt.Key_Space)
    assert asked == ["Sign this visit?"] and store.get_visit(vp.visit_id)["status"] == "draft"
    answer["value"] = QMessageBox.Yes
    press(qtbot, Qt.Key_S, Qt.AltModifier)
    qtbot.waitUntil(lambda: store.get_visit(vp.visit_id)["status"] == "signed", timeout=2000)
    assert len(asked) == 2
    for removal in (vp.infusion_tab.vitals_removal, vp.lots_tab.removal, vp.reactions_tab.removal):
        assert not removal.shortcut.isEnabled() and not removal.button.isEnabled()  # signed: read-only

    sign.addendum_text.setFocus()  # Tab leaves the addendum box
    type_here(qtbot, "Lot count confirmed by phone.")
    press(qtbot, Qt.Key_Tab)
    assert QApplication.focusWidget() is sign.addendum_button
    assert sign.addendum_text.toPlainText() == "Lot count confirmed by phone."
    press(qtbot, Qt.Key_Space)
    assert [a["text"] for a in store.visit_addenda(vp.visit_id)] == ["Lot count confirmed by phone."]


def test_after_setting_the_end_time_the_cursor_is_on_sign(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    finish_for_signing(store, vp)
    vp.tabs.setCurrentWidget(vp.sign_tab)
    sign = vp.sign_tab
    sign.end_button.setFocus()
    press(qtbot, Qt.Key_Space)
    assert store.get_visit(vp.visit_id)["ended_at"] and not sign.end_button.isEnabled()
    assert QApplication.focusWidget() is sign.sign_button, "not thrown out to the page list"


def test_saving_the_summary_says_where_it_went(qtbot, visit, monkeypatch, tmp_path):
    window, _store, vp = visit
    target = tmp_path / "summary.pdf"
    monkeypatch.setattr(
        visit_export.QFileDialog,
        "getSaveFileName",
        staticmethod(lambda *args: (str(target), "PDF files (*.pdf)")),
    )
    vp.export_buttons["pdf"].setFocus()
    press(qtbot, Qt.Key_Space)
    qtbot.waitUntil(lambda: "Visit summary saved to" in window.statusBar().currentMessage(), timeout=20_000)
    assert str(target) in window.statusBar().currentMessage() and target.stat().st_size > 0


def test_handout_buttons_have_alt_letters(qtbot, visit, monkeypatch):
    window, _store, _vp = visit
    window.show_page("guides")
    guides = window.guides
    guides.search_box.setFocus()
    type_here(qtbot, "pemphigus")
    qtbot.waitUntil(lambda: guides.results.count() > 0, timeout=2000)
    press(qtbot, Qt.Key_Return)
    qtbot.waitUntil(guides.save_button.isEnabled, timeout=2000)
    asked = []
    monkeypatch.setattr(
        "nurse_app.ui.guides_page.QFileDialog.getSaveFileName",
        staticmethod(lambda *args, **kwargs: asked.append(args[1]) or ("", "")),
    )
    press(qtbot, Qt.Key_S, Qt.AltModifier)
    qtbot.waitUntil(lambda: bool(asked), timeout=2000)
    assert asked == ["Save patient handout"]
    assert clashes(visible_mnemonics(window, guides)) == {}


def test_a_mistyped_reading_lot_or_reaction_can_be_removed_from_a_draft(qtbot, visit, monkeypatch):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    asked = []
    answer = {"value": QMessageBox.No}

    def question(parent, title, text, *args):
        asked.append(text)
        return answer["value"]

    monkeypatch.setattr(QMessageBox, "question", question)

    vp.tabs.setCurrentWidget(vp.infusion_tab)
    inf = vp.infusion_tab
    for pulse in ("72", "720"):  # the second one is a typo (refused: fix below)
        inf.inputs["heart_rate"].setText(pulse)
        inf._add_vitals()
    inf.inputs["heart_rate"].setText("27")  # a plausible but wrong reading
    inf._add_vitals()
    readings = store.visit_vitals(vp.visit_id)
    assert [r["heart_rate"] for r in readings] == [72, 27]
    assert not inf.remove_vitals_button.isEnabled()  # nothing selected yet
    inf.sheet.setFocus()
    inf.sheet.selectRow(1)
    assert inf.remove_vitals_button.isEnabled()
    press(qtbot, Qt.Key_Delete)  # asks first; No keeps it
    assert len(asked) == 1 and "the reading taken at" in asked[0] and "audit log" in asked[0]
    assert len(store.visit_vitals(vp.visit_id)) == 2
    answer["value"] = QMessageBox.Yes
    press(qtbot, Qt.Key_Delete)
    assert [r["heart_rate"] for r in store.visit_vitals(vp.visit_id)] == [72]
    assert inf.sheet.rowCount() == 1
    deleted = [e for e in store.audit_entries("vitals") if e["action"] == "delete"]
    assert (
        deleted
        and deleted[0]["before"]["heart_rate"] == 27
        and deleted[0]["author"].startswith("Maria Santos")
    )

    vp.tabs.setCurrentWidget(vp.reactions_tab)
    rx = vp.reactions_tab
    rx.severity_buttons["mild"].setChecked(True)
    rx.action.setText("Slowed the rate")
    rx._add()
    assert len(store.visit_reactions(vp.visit_id)) == 1
    rx.table.selectRow(0)
    rx.remove_button.click()
    assert "the reaction recorded at" in asked[-1]
    assert store.visit_reactions(vp.visit_id) == []

    vp.tabs.setCurrentWidget(vp.lots_tab)
    lots = vp.lots_tab
    store.add_lot(
        vp.visit_id,
        product_id="gamunex-c",
        lot_number="A1",
        expiry_date="2099-01-01",
        vial_size_g=20,
        vial_count=1,
    )
    vp.ctx.changed.emit("lots")
    assert lots.table.item(0, 1).text() == "1 Jan 2099"  # fmt_date, as every page shows dates, not ISO
    lots.table.selectRow(0)
    lots.remove_button.click()
    assert "lot A1 (1 × 20 g)" in asked[-1]
    assert store.visit_lots(vp.visit_id) == []


def test_course_day_can_be_corrected_when_a_day_was_given_elsewhere(qtbot, visit):
    _window, store, vp = visit
    dose = vp.dose_tab
    assert dose.course_day.value() == 1 and dose.course_day.maximum() == 5
    assert "day 1 of 5" in vp.subtitle.text()
    press(qtbot, Qt.Key_C, Qt.AltModifier)  # Alt+C: the course day
    assert QApplication.focusWidget() is dose.course_day
    press(qtbot, Qt.Key_Up)  # day 1 was given in clinic: today is day 2
    qtbot.waitUntil(lambda: store.get_visit(vp.visit_id)["course_day"] == 2, timeout=2000)
    assert "day 2 of 5" in vp.subtitle.text()
    dose.course_day.setValue(9)  # the spin box keeps it within the course
    assert dose.course_day.value() == 5


def test_an_impossible_rate_is_refused_with_a_message_not_silently(qtbot, visit):
    _window, store, vp = visit
    weigh(qtbot, store, vp)
    vp.tabs.setCurrentWidget(vp.infusion_tab)
    inf = vp.infusion_tab
    inf.new_rate.setFocus()
    press(qtbot, Qt.Key_A, Qt.ControlModifier)
    type_here(qtbot, "5000")  # every digit is kept, none refused silently
    assert inf.new_rate.value() == 5000
    inf.buttons["start"].click()
    message = inf.event_error.text()  # the hard limit, in both units (issue 11 §1)
    assert message.startswith("5,000 mL/h (") and "mg/kg/min) is above the label maximum" in message
    assert message.endswith("refused. Set the pump at or below 336 mL/h.")
    assert not inf.event_error.isHidden()
    inf.new_rate.setFocus()
    press(qtbot, Qt.Key_A, Qt.ControlModifier)
    type_here(qtbot, "0")
    inf.buttons["start"].click()
    assert "A rate of 0 mL/h is not running" in inf.event_error.text()
    assert store.visit_infusion_events(vp.visit_id) == []
    inf.new_rate.setValue(42)
    inf.buttons["start"].click()
    assert inf.event_error.isHidden()
    assert [e["rate_ml_h"] for e in store.visit_infusion_events(vp.visit_id)] == [42]


def test_menus_have_unique_letters_and_shortcuts_and_export_the_open_visit(
    qtbot, record, tmp_path, monkeypatch
):
    path, pid = record
    window, store = open_window(qtbot, path, tmp_path)
    shortcuts = []
    for menu_action in window.menuBar().actions():
        actions = [a for a in menu_action.menu().actions() if not a.isSeparator()]
        letters = [re.search(r"&(\w)", a.text()).group(1).lower() for a in actions if "&" in a.text()]
        assert len(letters) == len(set(letters)), (menu_action.text(), letters)
        shortcuts += [a.shortcut().toString() for a in actions if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts)), shortcuts
    exported = []
    window.export_visit("pdf")  # no visit open: says what to do, exports nothing
    assert "Open a visit first" in window.statusBar().currentMessage()
    window.start_visit(pid)
    monkeypatch.setattr(window.visit_page, "export", exported.append)
    window.show_page("patients")
    press(qtbot, Qt.Key_E, Qt.ControlModifier)
    press(qtbot, Qt.Key_S, Qt.ControlModifier | Qt.ShiftModifier)
    assert exported == ["fhir", "pdf"] and window.current_page() == "visit"
    window.close()
    store.close()
