"""pytest-qt: typing into the calculator page and reading its result widgets."""

import pytest
from PySide6.QtCore import QSettings
from qt_helpers import click_when_shown

from nurse_app.ui.calculator_page import CalculatorPage
from nurse_app.ui.main_window import MainWindow


@pytest.fixture
def page(qtbot):
    p = CalculatorPage()
    qtbot.addWidget(p)
    p.resize(1200, 740)
    p.show()
    return p


def select(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def type_into(qtbot, field, text):
    field.edit.clear()
    qtbot.keyClicks(field.edit, text)


def test_empty_page_asks_for_weight(page):
    assert page.result is None
    assert "Enter today's weight" in page.tile_daily.detail.text()
    assert not page.weight.error.isVisible()  # nothing is red before the nurse types


def test_typing_weight_recalculates_live(qtbot, page):
    select(page.product, "gamunex-c")
    select(page.regimen, "pemphigus")
    type_into(qtbot, page.weight, "70")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    assert page.tile_daily.value.text() == "28 g"
    assert page.tile_volume.value.text() == "280 mL"
    assert page.tile_course.value.text() == "140 g"
    assert page.rate_table.rowCount() == len(page.result.rate_steps)
    assert page.rate_table.item(0, 3).text() == "42"  # 1 mg/kg/min * 70 * 60 / 100
    assert page.vial_table.rowCount() == 3  # 20 g + 5 g + 3 x 1 g


def test_pound_and_inch_units(qtbot, page):
    select(page.product, "privigen")
    select(page.regimen, "cidp-maintenance")
    page.weight.unit.setCurrentText("lb")
    page.height.unit.setCurrentText("in")
    select(page.sex, "male")
    type_into(qtbot, page.weight, "220")
    type_into(qtbot, page.height, "69")
    qtbot.waitUntil(
        lambda: page.result is not None and page.result.weight.height_cm is not None, timeout=2000
    )
    # 220 lb, 69 in, male: BMI 32.5 -> adjusted weight 82.34 kg; 1 g/kg -> 82.34 g
    assert page.tile_daily.value.text() == "82.34 g"
    assert "Adjusted weight" in page.weights_label.text()
    assert "70.7 kg" in page.weights_label.text()


def test_invalid_weight_marked_inline(qtbot, page):
    type_into(qtbot, page.weight, "7o")
    qtbot.waitUntil(lambda: page.weight.error.isVisible(), timeout=2000)
    assert "not a number" in page.weight.error.text()
    assert page.result is None
    type_into(qtbot, page.weight, "400")
    qtbot.waitUntil(lambda: "above the highest value" in page.weight.error.text(), timeout=2000)
    type_into(qtbot, page.weight, "70")
    qtbot.waitUntil(lambda: not page.weight.error.isVisible(), timeout=2000)
    assert page.result is not None


def test_short_patient_ideal_basis_error_on_basis_field(qtbot, page):
    select(page.sex, "female")
    select(page.basis, "ideal")
    type_into(qtbot, page.height, "150")
    type_into(qtbot, page.weight, "60")
    qtbot.waitUntil(lambda: page.weight_basis_error.isVisible(), timeout=2000)
    assert "152.4 cm" in page.weight_basis_error.text()


def test_warnings_need_visible_acknowledgement(qtbot, page):
    select(page.product, "privigen")
    select(page.regimen, "pemphigus")
    type_into(qtbot, page.weight, "160")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    pending = page.pending_warnings()
    assert pending and page.banner.isVisible()
    assert "need" in page.banner.text()
    for w in pending:
        box = page.findChild(type(page.risk_boxes["renal"]), f"ack_{w.code}")
        click_when_shown(qtbot, box)
    assert page.pending_warnings() == []
    assert "All" in page.banner.text()
    acks = page.acknowledgements()
    assert {a["code"] for a in acks} == {w.code for w in pending}
    assert all(a["acknowledged_at"].endswith("+00:00") for a in acks)


def test_custom_order_requires_dose_and_days(qtbot, page):
    select(page.regimen, "__custom__")
    type_into(qtbot, page.weight, "70")
    qtbot.waitUntil(lambda: "ordered dose" in page.tile_daily.detail.text(), timeout=2000)
    assert page.result is None
    type_into(qtbot, page.dose, "0.4")
    type_into(qtbot, page.days, "1")
    select(page.indication, "pi")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    assert page.result.total_dose_g == pytest.approx(28)


def test_rate_cap_and_risk_flags(qtbot, page):
    select(page.product, "octagam-10")
    select(page.regimen, "dermatomyositis")
    type_into(qtbot, page.weight, "70")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    assert page.rate_table.item(page.rate_table.rowCount() - 1, 1).text() == "4"
    page.risk_boxes["thrombosis"].setChecked(True)
    qtbot.waitUntil(
        lambda: page.rate_table.item(page.rate_table.rowCount() - 1, 1).text() == "3.3", timeout=2000
    )
    type_into(qtbot, page.max_rate, "2")
    qtbot.waitUntil(
        lambda: page.rate_table.item(page.rate_table.rowCount() - 1, 1).text() == "2", timeout=2000
    )


def test_main_window_remembers_page_and_has_shortcuts(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    assert w.current_page() == "calculator"
    if "guides" in w.pages:
        w.show_page("guides")
        w.close()
        w2 = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
        qtbot.addWidget(w2)
        assert w2.current_page() == "guides"
    shortcuts = {
        a.shortcut().toString()
        for m in w.menuBar().findChildren(type(w.menuBar().actions()[0].menu()))
        for a in m.actions()
    }
    assert "Ctrl+Q" in shortcuts and "Ctrl+1" in shortcuts


@pytest.mark.slow
def test_selftest_command():
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-m", "nurse_app", "--selftest"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert p.returncode == 0, p.stderr
    assert "selftest passed" in p.stdout
