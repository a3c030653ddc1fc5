"""Issue 20, sections 1 and 2, through the screens a nurse uses (pytest-qt): the real order form, the
Dose tab of the real main window and the calculator page.  The two dangerous findings (the
dermatomyositis rate limit and a per-day figure typed as the course dose) are shown, must be
acknowledged, and the acknowledgement is recorded with the order or the visit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox
from qt_helpers import click_when_shown, type_text

from nurse_app.ui.calculator_page import CalculatorPage
from nurse_app.ui.main_window import MainWindow
from nurse_app.ui.patient_forms import OrderDialog


def select(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def make_patient(store, indication):
    pid = store.create_patient(
        mrn=f"MRN-20-{indication}",
        name="Ida Berg",
        date_of_birth="1960-04-04",
        sex="female",
        height_cm=168.0,
        indication=indication,
        prescriber="Dr. K. Ito",
    )
    store.add_weight(pid, 70, measured_on="2026-01-02")
    return pid


def tick_all(qtbot, container):
    for box in container.findChildren(QCheckBox):
        if box.objectName().startswith("ack_") and not box.isChecked():
            click_when_shown(qtbot, box, near_left_edge=True)


def open_order_form(qtbot, store, pid):
    dialog = OrderDialog(store, pid)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def start_dose_tab(qtbot, store, pid, tmp_path, **order):
    store.create_order(pid, start_date="2026-01-05", prescriber="Dr. K. Ito", **order)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.start_visit(pid)
    calc = window.visit_page.dose_tab.calculator
    calc.set_inputs(weight="70")
    qtbot.waitUntil(lambda: calc.result is not None, timeout=3000)
    return window, calc


# ---------------------------------------------------------------- 1a. dermatomyositis rate limit


def test_order_form_dermatomyositis_on_gamunex_c_shows_the_disease_limit_to_acknowledge(qtbot, store):
    pid = make_patient(store, "dermatomyositis")
    dialog = open_order_form(qtbot, store, pid)
    select(dialog.product, "gamunex-c")
    select(dialog.regimen, "dermatomyositis")
    dialog.recalculate()
    assert dialog.result.rate_ceiling_mg_kg_min == 4  # not Gamunex-C's 8 mg/kg/min
    box = dialog.warnings_box.findChild(QCheckBox, "ack_indication-rate-limit")
    assert box is not None
    qtbot.waitUntil(box.isVisible, timeout=2000)
    [w] = [w for w in dialog.pending_warnings() if w.code == "indication-rate-limit"]
    assert "never above 4 mg/kg/min with any product" in w.message and "thrombo-embolic" in w.message
    tick_all(qtbot, dialog.warnings_box)
    box = dialog.warnings_box.findChild(QCheckBox, "ack_indication-rate-limit")
    click_when_shown(qtbot, box, near_left_edge=True)  # untick: Save waits for it
    assert not dialog.save_button.isEnabled()
    click_when_shown(qtbot, box, near_left_edge=True)
    assert dialog.save()
    [order] = store.patient_orders(pid)
    assert "indication-rate-limit" in {a["code"] for a in order["acknowledgements"]["warnings"]}


def test_dose_tab_dermatomyositis_ladder_stops_at_4_and_is_saved_with_its_acknowledgement(
    qtbot, store, tmp_path
):
    pid = make_patient(store, "dermatomyositis")
    window, calc = start_dose_tab(
        qtbot, store, pid, tmp_path, product_id="gamunex-c", regimen_id="dermatomyositis"
    )
    # 4 mg/kg/min x 70 kg x 60 / 100 = 168 mL/h is the top row (it was 336 mL/h at 8 mg/kg/min).
    rows = calc.rate_table.rowCount()
    assert calc.rate_table.item(rows - 1, 1).text() == "4"
    assert calc.rate_table.item(rows - 1, 3).text() == "168"
    assert "up to 4 mg/kg/min (Dermatomyositis maximum with any product, raised risk of clots)" in (
        calc.rate_caption.text()
    )
    assert "indication-rate-limit" in [w.code for w in calc.pending_warnings()]
    tick_all(qtbot, calc.warnings_box)
    qtbot.waitUntil(lambda: not calc.pending_warnings(), timeout=2000)
    snapshot = store.get_visit(window.visit_page.visit_id)["calculation"]
    assert snapshot["indication_max_mg_per_kg_min"] == 4
    assert max(s["mg_per_kg_min"] for s in snapshot["rate_steps"]) == 4
    assert "indication-rate-limit" in {a["code"] for a in snapshot["acknowledgements"]}
    window.close()


# ---------------------------------------------------------------- 1b. per-day figure typed as course dose


def test_order_form_gbs_per_day_dose_typed_as_course_dose_is_flagged_and_both_figures_shown(qtbot, store):
    pid = make_patient(store, "gbs")
    dialog = open_order_form(qtbot, store, pid)
    select(dialog.product, "gamunex-c")
    select(dialog.regimen, "gbs")
    dialog.recalculate()
    # The usual course: both figures side by side before anything is saved.
    assert dialog.tile_course.detail.text() == "2 g/kg per course = 0.4 g/kg per day × 5 days"
    assert dialog.tile_daily.detail.text() == "0.4 g/kg per day × 5 days"
    assert "regimen-dose" not in [w.code for w in dialog.pending_warnings()]
    type_text(qtbot, dialog.dose.edit, "0.4")
    dialog.recalculate()
    # 0.4 g/kg x 70 kg = 28 g for the course, 5.6 g a day (a 5-fold underdose).
    assert dialog.tile_course.value.text() == "28 g"
    assert dialog.tile_course.detail.text() == "0.4 g/kg per course = 0.08 g/kg per day × 5 days"
    [w] = [w for w in dialog.pending_warnings() if w.code == "regimen-dose"]
    assert "2 g/kg per course = 0.4 g/kg per day × 5 days; you entered 0.4 g/kg per course" in w.message
    assert "looks like the per-day dose" in w.message
    qtbot.waitUntil(dialog.warnings_box.findChild(QCheckBox, "ack_regimen-dose").isVisible, timeout=2000)
    assert not dialog.save_button.isEnabled()
    tick_all(qtbot, dialog.warnings_box)
    assert dialog.save()
    [order] = store.patient_orders(pid)
    assert order["dose_g_per_kg"] == 0.4
    recorded = [a for a in order["acknowledgements"]["warnings"] if a["code"] == "regimen-dose"]
    assert recorded and "you entered 0.4 g/kg per course" in recorded[0]["message"]


def test_dose_tab_shows_per_course_and_per_day_and_asks_about_the_per_day_slip(qtbot, store, tmp_path):
    pid = make_patient(store, "gbs")
    window, calc = start_dose_tab(
        qtbot,
        store,
        pid,
        tmp_path,
        product_id="gamunex-c",
        regimen_id="gbs",
        dose_g_per_kg=0.4,
        course_days=5,
    )
    assert calc.tile_course.detail.text() == "0.4 g/kg per course = 0.08 g/kg per day × 5 days"
    assert calc.tile_daily.detail.text() == "0.08 g/kg per day × 70 kg"
    [w] = [w for w in calc.pending_warnings() if w.code == "regimen-dose"]
    assert "looks like the per-day dose" in w.message
    snapshot = store.get_visit(window.visit_page.visit_id)["calculation"]
    assert any("looks like the per-day dose" in m for m in snapshot["pending_warnings"])
    window.close()


# ---------------------------------------------------------------- 2. the calculator page


@pytest.fixture
def page(qtbot):
    p = CalculatorPage()
    qtbot.addWidget(p)
    p.resize(1200, 740)
    p.show()
    return p


def test_calculator_page_bmi_30_05_is_over_30(qtbot, page):
    select(page.product, "gamunex-c")
    select(page.regimen, "pemphigus")
    select(page.sex, "female")
    page.set_inputs(weight="76.928", height="160")
    qtbot.waitUntil(
        lambda: page.result is not None and page.result.weight.height_cm is not None, timeout=2000
    )
    assert "30.1 kg/m²" in page.weights_label.text()
    assert "BMI 30.1 is over 30" in page.weights_label.text()
    assert page.result.weight.basis == "adjusted"


def test_calculator_page_label_age_and_both_dose_figures(qtbot, page):
    select(page.product, "asceniv")
    select(page.regimen, "pi-replacement")
    page.set_inputs(weight="30", dose="0.4")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    assert page.tile_course.detail.text() == "0.4 g/kg per course = 0.4 g/kg per day × 1 day"
    type_text(qtbot, page.age.edit, "9")
    qtbot.waitUntil(lambda: page.result is not None and page.result.request.age_years == 9, timeout=2000)
    [w] = [w for w in page.pending_warnings() if w.code == "label-age"]
    assert "adults and adolescents 12 to 17 years [P15]" in w.message
    box = page.findChild(QCheckBox, "ack_label-age")
    click_when_shown(qtbot, box, near_left_edge=True)
    assert "label-age" in {a["code"] for a in page.acknowledgements()}


@pytest.mark.parametrize(
    ("dose", "words"),
    [("0.099", "below 0.1 g/kg"), ("1e308", "not a plausible value"), ("0.0004", "0.0004 g/kg is below")],
)
def test_calculator_page_refuses_a_dose_below_the_floor_or_implausible(qtbot, page, dose, words):
    select(page.product, "gamunex-c")
    select(page.regimen, "gbs")
    page.set_inputs(weight="70", dose=dose)
    qtbot.waitUntil(lambda: not page.dose.error.isHidden(), timeout=2000)
    assert page.result is None
    assert words in page.dose.error.text()


def test_calculator_page_first_infusion_climbs_the_label_ladder(qtbot, page):
    select(page.product, "bivigam")
    select(page.regimen, "pi-replacement")
    page.set_inputs(weight="55", dose="0.6")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    rows = page.rate_table.rowCount()
    page.risk_boxes["first-infusion"].setChecked(True)
    qtbot.waitUntil(lambda: "first-infusion" in page.result.request.risks, timeout=2000)
    assert page.rate_table.rowCount() == rows > 1
    assert page.rate_table.item(0, 3).text() == "16.5"  # 0.5 x 55 x 60 / 100
    assert page.rate_table.item(rows - 1, 3).text() == "198"  # 6 x 55 x 60 / 100
    assert "[P14]" in page.notes_label.text()
