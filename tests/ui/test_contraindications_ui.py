"""Contraindications through the real order dialog and calculator page (pytest-qt): a product's
contraindications are shown, and must be acknowledged, before the order or calculation is used."""

import pytest
from PySide6.QtWidgets import QCheckBox
from qt_helpers import click_when_shown, type_text

from nurse_app.ui.calculator_page import CalculatorPage
from nurse_app.ui.patient_forms import OrderDialog


@pytest.fixture
def patient(store):
    pid = store.create_patient(
        mrn="MRN-9",
        name="Ada Byrne",
        date_of_birth="1970-05-01",
        sex="female",
        height_cm=165.0,
        indication="pemphigus",
        prescriber="Dr. S. Kim",
    )
    store.add_weight(pid, 70)
    return pid


def select(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_order_dialog_shows_privigen_contraindications_before_the_order_is_accepted(qtbot, store, patient):
    dialog = OrderDialog(store, patient)
    qtbot.addWidget(dialog)
    dialog.show()
    select(dialog.product, "privigen")
    dialog.recalculate()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=2000)
    boxes = {b.objectName(): b for b in dialog.warnings_box.findChildren(QCheckBox)}
    contra = {n for n in boxes if n.startswith("ack_contraindication-")}
    assert contra == {
        "ack_contraindication-anaphylaxis-to-immune-globulin",
        "ack_contraindication-iga-deficiency-antibodies",
        "ack_contraindication-hyperprolinaemia",
    }
    assert not dialog.save_button.isEnabled()
    assert boxes["ack_contraindication-hyperprolinaemia"].text() == "Checked: not present"
    for name, box in boxes.items():
        if name != "ack_contraindication-hyperprolinaemia":
            click_when_shown(qtbot, box, near_left_edge=True)
    assert not dialog.save_button.isEnabled()  # the proline contraindication is still unread
    assert not dialog.save()
    assert store.patient_orders(patient) == []
    box = dialog.warnings_box.findChild(
        QCheckBox, "ack_contraindication-hyperprolinaemia"
    )  # rebuilt by save()
    click_when_shown(qtbot, box, near_left_edge=True)
    assert dialog.save_button.isEnabled()
    assert dialog.save()
    [order] = store.patient_orders(patient)
    recorded = {a["code"] for a in order["acknowledgements"]["warnings"]}
    assert {n.removeprefix("ack_") for n in contra} <= recorded


def test_calculator_page_lists_contraindications_and_asks_for_each(qtbot):
    page = CalculatorPage()
    qtbot.addWidget(page)
    page.resize(1200, 740)
    page.show()
    select(page.product, "flebogamma-5-dif")
    select(page.regimen, "pi-replacement")
    page.set_inputs(weight="70", dose="0.4")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    shown = page.product_cautions.text()
    assert "Contraindications" in shown and "Hereditary fructose intolerance" in shown
    assert shown.index("Hereditary fructose intolerance") < shown.index("<b>Cautions</b>")
    pending = [w.code for w in page.pending_warnings()]
    assert "contraindication-hereditary-fructose-intolerance" in pending
    assert "acknowledgement before this calculation is used" in page.banner.text()
    box = page.findChild(QCheckBox, "ack_contraindication-hereditary-fructose-intolerance")
    click_when_shown(qtbot, box, near_left_edge=True)
    assert "contraindication-hereditary-fructose-intolerance" not in [w.code for w in page.pending_warnings()]


def test_calculator_page_age_reaches_the_engine(qtbot):
    page = CalculatorPage()
    qtbot.addWidget(page)
    page.show()
    select(page.product, "privigen")
    select(page.regimen, "pemphigus")
    page.set_inputs(weight="70")
    qtbot.waitUntil(lambda: page.result is not None, timeout=2000)
    assert "age-renal-risk" not in [w.code for w in page.result.warnings]
    page.age.edit.clear()
    type_text(qtbot, page.age.edit, "72")
    qtbot.waitUntil(lambda: page.result is not None and page.result.request.age_years == 72, timeout=2000)
    assert "age-renal-risk" in [w.code for w in page.pending_warnings()]
    page.age.edit.clear()
    type_text(qtbot, page.age.edit, "abc")
    qtbot.waitUntil(lambda: not page.age.error.isHidden(), timeout=2000)


# The first-infusion ladder on the calculator page: tests/ui/test_issue20_engine_ui.py (issue 20 replaced
# issue 9's one-row hold by the label ladder from the initial rate).
