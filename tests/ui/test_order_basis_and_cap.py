"""The order carries its weight basis and the prescriber's maximum rate (schema v5).

A visit takes both from the order and locks them, so the dose basis or the rate cap cannot be
changed at the bedside; the visit summary prints them with the order.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox
from store_helpers import V1_FIXTURE

from nurse_app.reports.visit_data import summarize
from nurse_app.services.visit_record import load_visit
from nurse_app.store import RecordValueError, Store
from nurse_app.ui.main_window import MainWindow
from nurse_app.ui.patient_forms import OrderDialog


@pytest.fixture
def patient(store):
    pid = store.create_patient(
        mrn="M-77",
        name="Ida Berg",
        date_of_birth="1960-04-04",
        sex="female",
        height_cm=160,
        indication="dermatomyositis",
        prescriber="Dr. K. Ito",
    )
    store.add_weight(pid, 90, measured_on="2026-01-02")
    return pid


def test_orders_keep_basis_and_cap_and_refuse_bad_ones(store, patient):
    plain = store.create_order(
        patient,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    assert store.get_order(plain)["weight_basis"] == "auto"
    assert store.get_order(plain)["max_rate_mg_kg_min"] is None
    capped = store.create_order(
        patient,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
        weight_basis="ideal",
        max_rate_mg_kg_min=2,
    )
    assert store.get_order(capped)["weight_basis"] == "ideal"
    assert store.get_order(capped)["max_rate_mg_kg_min"] == 2
    with pytest.raises(RecordValueError, match="Weight basis must be one of"):
        store.update_order(capped, weight_basis="lean")
    with pytest.raises(RecordValueError) as info:
        store.update_order(capped, max_rate_mg_kg_min=-1)
    assert info.value.field == "max_rate_mg_kg_min"


def test_a_version_1_record_migrates_to_orders_with_the_default_basis(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(V1_FIXTURE, path)
    with Store.open(path) as store:
        assert 5 in store.migrated_versions
        orders = [o for p in store.find_patients("") for o in store.patient_orders(p["id"])]
        assert orders and all(o["weight_basis"] == "auto" and o["max_rate_mg_kg_min"] is None for o in orders)


def test_order_form_checks_and_saves_the_basis_and_cap(qtbot, store, patient):
    dialog = OrderDialog(store, patient)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.product.setCurrentIndex(dialog.product.findData("octagam-10"))
    dialog.basis.setCurrentIndex(dialog.basis.findData("ideal"))
    dialog.max_rate.edit.setText("2")
    dialog.recalculate()
    assert dialog.result.weight.basis == "ideal"  # 160 cm woman: 52.4 kg ideal, not 90 kg
    assert dialog.result.rate_ceiling_mg_kg_min == 2
    for box in dialog.warnings_box.findChildren(QCheckBox):  # every warning read and ticked
        box.setChecked(True)
    assert dialog.pending_warnings() == []
    assert dialog.save()
    [order] = store.patient_orders(patient, active_only=True)
    assert (order["weight_basis"], order["max_rate_mg_kg_min"]) == ("ideal", 2)

    again = OrderDialog(store, patient, order["id"])  # editing shows what was saved
    qtbot.addWidget(again)
    assert again.basis.currentData() == "ideal" and again.max_rate.text() == "2"
    again.max_rate.edit.setText("0.01")  # below the calculator's hard limit
    again.recalculate()
    assert again.result is None and not again.max_rate.error.isHidden()


def test_a_visit_takes_basis_and_cap_from_the_order_and_locks_them(qtbot, store, patient, tmp_path):
    order = store.create_order(
        patient,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
        weight_basis="ideal",
        max_rate_mg_kg_min=2,
    )
    # Octagam given before (a signed visit): not a first infusion, whose ladder holds at the initial rate.
    earlier = store.create_visit(
        patient, order_id=order, started_at="2026-01-05T09:00:00+00:00", ended_at="2026-01-05T13:00:00+00:00"
    )
    store.set_checklist_items(
        earlier, {i["item_id"]: "done" for i in store.visit_checklist(earlier) if i["required"]}
    )
    store.sign_visit(earlier)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.start_visit(patient)
    calc = window.visit_page.dose_tab.calculator
    assert calc.basis.currentData() == "ideal" and not calc.basis.isEnabled()
    assert calc.max_rate.text() == "2" and not calc.max_rate.edit.isEnabled()
    calc.set_inputs(weight="90")
    assert calc.result.weight.basis == "ideal" and calc.result.rate_ceiling_mg_kg_min == 2
    snapshot = store.get_visit(window.visit_page.visit_id)["calculation"]
    assert snapshot["weight_basis"] == "ideal"
    assert max(s["mg_per_kg_min"] for s in snapshot["rate_steps"]) <= 2
    order = dict(summarize(load_visit(store, window.visit_page.visit_id)).order)
    assert order["Weight basis"] == "ideal" and order["Maximum rate"] == "2 mg/kg/min"
    window.close()
