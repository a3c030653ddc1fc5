"""Issue 9 §3 and §4: one clinical rule in one place, order risk flags, age, course interval and
product-specific checklist items.

Each rule lives once in ``nurse_app/core`` and every screen (through the real main window), the
store, the visit summary (data and PDF) and the FHIR export must say the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox
from qt_helpers import run_in_dialog
from store_helpers import V1_FIXTURE
from visit_export_helpers import flat, read_pdf

from nurse_app.core import checklists, lots
from nurse_app.core.allergies import LISTED, NONE_KNOWN, NOT_RECORDED, allergies
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import ResourceError
from nurse_app.core.visit_logic import age_years
from nurse_app.core.vitals import flag_series
from nurse_app.reports.fhir import visit_bundle
from nurse_app.reports.visit_data import summarize
from nurse_app.reports.visit_summary import write_summary_pdf
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store
from nurse_app.store.schema import ORDER_RISKS_VERSION
from nurse_app.store.times import today_local
from nurse_app.ui.main_window import MainWindow
from nurse_app.ui.patient_forms import OrderDialog

UTC = dt.UTC


def window_for(qtbot, store, tmp_path) -> MainWindow:
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    return window


def new_patient(store, mrn="P-1", **extra) -> int:
    values = dict(
        mrn=mrn,
        name="Ida Berg",
        date_of_birth="1960-04-04",
        sex="female",
        height_cm=160,
        indication="dermatomyositis",
        prescriber="Dr. K. Ito",
    )
    values.update(extra)
    return store.create_patient(**values)


def given_before(store, pid, order_id, days_ago=40):
    """A signed earlier visit under the order: the product has been given before (so the next
    visit is not a first infusion, whose ladder the engine holds at the initial rate)."""
    start = dt.datetime.now(UTC) - dt.timedelta(days=days_ago)
    visit = store.create_visit(
        pid, order_id=order_id, started_at=start, ended_at=start + dt.timedelta(hours=3)
    )
    store.set_checklist_items(
        visit, {i["item_id"]: "done" for i in store.visit_checklist(visit) if i["required"]}
    )
    store.sign_visit(visit)
    return visit


def of_type(bundle, kind):
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


# ============================================================== 1. the dose for an order


def test_patients_page_shows_the_dose_of_the_orders_weight_basis(qtbot, store, tmp_path):
    """120 kg, 160 cm woman ordered 2 g/kg on ACTUAL weight: 240 g, on the Patients page as in
    the visit (it showed 158.86 g, the adjusted-weight dose, because it dropped the basis)."""
    pid = new_patient(store)
    store.add_weight(pid, 120, measured_on="2026-01-02")
    store.create_order(
        pid,
        product_id="privigen",
        dose_g_per_kg=2,
        course_days=2,
        weight_basis="actual",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    window = window_for(qtbot, store, tmp_path)
    window.patients._select(pid)
    text = window.patients.order_summary.text()
    assert "<b>240 g per course</b>" in text and "158.86" not in text
    window.start_visit(pid)
    calc = window.visit_page.dose_tab.calculator
    calc.weight.edit.setText("120")
    calc.recalculate()
    assert calc.result.total_dose_g == 240
    window.close()


def test_patients_page_applies_the_orders_maximum_rate(qtbot, store, tmp_path):
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    order = store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        max_rate_mg_kg_min=2,
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    given_before(store, pid, order)
    window = window_for(qtbot, store, tmp_path)
    window.patients._select(pid)
    # 2 mg/kg/min at 70 kg of a 10 % product = 84 mL/h: the top of the ladder shown there.
    assert "rising to 84 mL/h" in window.patients.order_summary.text()
    window.close()


def test_the_dose_tab_uses_the_order_as_stored_not_rounded_field_text(qtbot, store, tmp_path):
    """The visit used to write the order into the (disabled) fields and parse it back: a dose of
    1.23456 g/kg became 1.2346 and a cap of 2.345 mg/kg/min became 2.35."""
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    order = store.create_order(
        pid,
        product_id="octagam-10",
        dose_g_per_kg=1.23456,
        course_days=2,
        max_rate_mg_kg_min=2.345,
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    given_before(store, pid, order)
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    calc = window.visit_page.dose_tab.calculator
    calc.weight.edit.setText("70")
    calc.recalculate()
    snapshot = store.get_visit(window.visit_page.visit_id)["calculation"]
    assert snapshot["dose_g_per_kg"] == 1.23456
    assert snapshot["rate_ceiling_mg_per_kg_min"] == 2.345
    window.close()


# ============================================================== 2. vital-sign baseline


def _vitals_visit(store):
    pid = new_patient(store)
    visit = store.create_visit(pid, started_at=dt.datetime.now(UTC) - dt.timedelta(hours=2))
    t0 = dt.datetime.now(UTC) - dt.timedelta(minutes=90)
    # The door reading has no blood pressure; the cuff comes out 10 minutes later.
    store.add_vitals(visit, recorded_at=t0, temperature_c=36.8, heart_rate=72)
    store.add_vitals(visit, recorded_at=t0 + dt.timedelta(minutes=10), systolic_mmhg=130, diastolic_mmhg=80)
    store.add_vitals(
        visit,
        recorded_at=t0 + dt.timedelta(minutes=40),
        heart_rate=74,
        systolic_mmhg=100,
        diastolic_mmhg=70,
        infusion_rate_ml_h=80,
    )
    return visit


def test_a_blood_pressure_fall_is_flagged_alike_on_screen_store_pdf_and_fhir(qtbot, store, tmp_path):
    """Baseline per value (the first reading that has it): a 30 mmHg systolic fall from the first
    blood pressure is flagged although the first reading had no blood pressure.  The flowsheet
    and the store compared with the first reading only and missed it; the PDF flagged it."""
    visit = _vitals_visit(store)
    flags = store.visit_vital_flags(visit)
    last = store.visit_vitals(visit)[-1]["id"]
    assert [f.kind for f in flags[last] if f.measure == "systolic"] == ["change"]

    window = window_for(qtbot, store, tmp_path)
    window.open_visit(visit)
    sheet = window.visit_page.infusion_tab.sheet
    systolic = sheet.item(2, 3)
    assert "down 30 mmHg from the baseline 130 mmHg" in systolic.toolTip()
    assert systolic.data(Qt.AccessibleDescriptionRole) == "abnormal"
    assert sheet.item(1, 3).data(Qt.AccessibleDescriptionRole) is None  # the baseline itself

    summary = summarize(load_visit(store, visit))
    assert any("Systolic" in m and "down 30 mmHg" in m for m in summary.vital_flags)
    write_summary_pdf(summary, tmp_path / "summary.pdf")
    assert "down 30 mmHg from the baseline 130 mmHg" in flat(" ".join(read_pdf(tmp_path / "summary.pdf")))

    panels = [
        o
        for o in of_type(visit_bundle(load_visit(store, visit)), "Observation")
        if o.component and o.component[0].valueQuantity.value == 100
    ]
    assert panels[0].component[0].interpretation[0].coding[0].code == "A"
    window.close()


def test_flag_series_takes_each_measures_first_value_as_its_baseline():
    series = flag_series([{"heart_rate": 70}, {"spo2": 98}, {"heart_rate": 95, "spo2": 94}])
    assert series[0] == [] and series[1] == []
    assert {(f.measure, f.kind) for f in series[2]} == {("heart_rate", "change"), ("spo2", "change")}


# ============================================================== 3. lot checks


def test_a_lot_of_another_product_is_flagged_on_the_lots_tab_in_the_store_and_the_pdf(qtbot, store, tmp_path):
    pid = new_patient(store)
    order = store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    visit = store.create_visit(pid, order_id=order, started_at=dt.datetime.now(UTC))
    store.add_lot(
        visit, product_id="privigen", lot_number="P9", expiry_date="2099-01-01", vial_size_g=10, vial_count=1
    )
    check = store.visit_lot_check(visit)
    assert check.alert and check.has(lots.OTHER_PRODUCT)
    window = window_for(qtbot, store, tmp_path)
    window.open_visit(visit)
    shown = window.visit_page.lots_tab.comparison.text()
    assert "Not the product of this visit" in shown and "P9" in shown
    summary = summarize(load_visit(store, visit))
    assert summary.lots_alert and "Not the product of this visit" in summary.lots_check
    window.close()


def test_check_lots_flags_an_expired_lot():
    lot = {
        "product_id": "privigen",
        "lot_number": "OLD",
        "expiry_date": "2025-01-01",
        "vial_size_g": 10,
        "vial_count": 1,
    }
    check = lots.check_lots(
        [lot],
        {"product": "privigen", "dispensed_g_per_day": 10, "daily_dose_g": 10},
        visit_day=dt.date(2025, 2, 1),
    )
    assert check.alert and check.has(lots.EXPIRED) and "OLD (expired 2025-01-01)" in check.message


# ============================================================== 4. no known allergies


@pytest.mark.parametrize("typed", ["Nil", "No known drug allergies", "NKDA"])
def test_no_known_allergies_reads_the_same_everywhere(qtbot, store, tmp_path, typed):
    """One rule: the Patients page alarmed on "Nil" and "No known drug allergies", the visit
    header showed every entry (NKDA too) in red, the PDF printed what was typed."""
    pid = new_patient(store, allergies=typed)
    visit = store.create_visit(pid)
    window = window_for(qtbot, store, tmp_path)
    window.patients._select(pid)
    assert window.patients.allergy_label.text() == "Allergies: No known allergies"
    window.open_visit(visit)
    header = window.visit_page.allergies.text()
    assert (
        re.sub(r"<[^>]+>", "", header) == "Allergies: No known allergies"
    )  # coloured as on the Patients page
    assert dict(summarize(load_visit(store, visit)).patient)["Allergies"] == "No known allergies"
    [allergy] = of_type(visit_bundle(load_visit(store, visit)), "AllergyIntolerance")
    assert allergy.code.coding[0].code == "716186003"
    window.close()


def test_allergy_states():
    assert allergies("").state == NOT_RECORDED and allergies("  ").text.startswith("Not recorded")
    assert allergies("none known.").state == NONE_KNOWN
    listed = allergies("Penicillin (rash, hives); Latex")
    assert listed.state == LISTED and listed.entries == ("Penicillin (rash, hives)", "Latex")


# ============================================================== 6. risk flags on the order


def test_a_version_1_record_migrates_to_orders_without_risk_flags(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(V1_FIXTURE, path)
    with Store.open(path) as old:
        assert ORDER_RISKS_VERSION in old.migrated_versions and old.migration_backup is not None
        orders = [o for p in old.find_patients("") for o in old.patient_orders(p["id"])]
        assert orders and all(o["risks"] == [] for o in orders)
        visits = [v for p in old.find_patients("") for v in old.patient_visits(p["id"])]
        assert all(v["start_acknowledgements"] is None for v in visits)


def test_risk_flags_are_ticked_on_the_order_form_and_carried_into_every_visit(qtbot, store, tmp_path):
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    dialog = OrderDialog(store, pid)
    qtbot.addWidget(dialog)
    dialog.product.setCurrentIndex(dialog.product.findData("octagam-10"))
    dialog.risk_boxes["renal"].setChecked(True)
    dialog.recalculate()
    assert "renal" in dialog.result.request.risks
    for box in dialog.warnings_box.findChildren(QCheckBox):
        box.setChecked(True)
    assert dialog.save()
    [order] = store.patient_orders(pid, active_only=True)
    assert order["risks"] == ["renal"]

    window = window_for(qtbot, store, tmp_path)
    for _ in range(2):  # every visit, not ticked again
        window.start_visit(pid)
        calc = window.visit_page.dose_tab.calculator
        box = calc.risk_boxes["renal"]
        assert box.isChecked() and not box.isEnabled()
        calc.weight.edit.setText("70")
        calc.recalculate()
        assert "renal" in store.get_visit(window.visit_page.visit_id)["calculation"]["risks"]
        assert "Renal risk" in window.visit_page.dose_tab.intro.text()
    window.close()


def test_first_visit_of_a_new_product_sets_first_infusion_automatically(qtbot, store, tmp_path):
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    order = store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    tab = window.visit_page.dose_tab
    assert tab.calculator.risk_boxes["first-infusion"].isChecked()
    assert "First infusion of this product" in tab.intro.text()
    first = window.visit_page.visit_id
    # Once a visit with Octagam is signed, the next visit under it is not a first infusion ...
    now = dt.datetime.now(UTC)
    # (yesterday's: a second visit the same day would ask for a reason, issue 11)
    store.update_visit(first, started_at=now - dt.timedelta(hours=27), ended_at=now - dt.timedelta(hours=25))
    store.set_checklist_items(
        first, {i["item_id"]: "done" for i in store.visit_checklist(first) if i["required"]}
    )
    store.sign_visit(first)
    window.start_visit(pid)
    assert not window.visit_page.dose_tab.calculator.risk_boxes["first-infusion"].isChecked()
    # ... but switching brand is.
    store.update_order(order, active=False)
    store.create_order(
        pid,
        product_id="privigen",
        regimen_id="dermatomyositis",
        start_date="2026-02-05",
        prescriber="Dr. K. Ito",
    )
    window.start_visit(pid)
    assert window.visit_page.dose_tab.calculator.risk_boxes["first-infusion"].isChecked()
    window.close()


# ============================================================== 7. age reaches the engine


def test_age_on_the_visit_day_reaches_the_dose_request(qtbot, store, tmp_path):
    born = today_local().replace(year=today_local().year - 7) - dt.timedelta(days=30)
    pid = new_patient(store, date_of_birth=born.isoformat(), indication="kawasaki")
    store.add_weight(pid, 22, measured_on=today_local().isoformat())
    store.create_order(
        pid, product_id="gamunex-c", regimen_id="kawasaki", start_date="2026-01-05", prescriber="Dr. K. Ito"
    )
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    calc = window.visit_page.dose_tab.calculator
    calc.weight.edit.setText("22")
    calc.recalculate()
    assert calc.result.request.age_years == pytest.approx(age_years(born, today_local()))
    assert 7 < calc.result.request.age_years < 7.2
    assert "(7 years)" in window.patients.demographics_label.text().replace("\u00a0", " ")
    window.close()


@pytest.mark.parametrize(
    "born, on, years",
    [
        ("1960-04-04", dt.date(2026, 4, 3), 65),
        ("1960-04-04", dt.date(2026, 4, 4), 66),
        ("2000-02-29", dt.date(2023, 2, 28), 22),
        ("2000-02-29", dt.date(2023, 3, 1), 23),
    ],
)
def test_age_in_whole_years(born, on, years):
    assert int(age_years(born, on)) == years


def test_no_age_without_a_usable_date_of_birth():
    assert age_years(None, dt.date(2026, 1, 1)) is None
    assert age_years("not a date", dt.date(2026, 1, 1)) is None
    assert age_years("2030-01-01", dt.date(2026, 1, 1)) is None


# ============================================================== 8. interval between courses


def _early_course(store):
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    order = store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        course_days=1,
        interval_days=28,
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    store.create_visit(
        pid,
        order_id=order,
        started_at=dt.datetime.now(UTC) - dt.timedelta(days=10),
        course_day=1,
        course_days=1,
    )
    return pid


def test_a_new_course_too_soon_warns_and_the_acknowledgement_is_recorded(qtbot, store, tmp_path):
    pid = _early_course(store)
    window = window_for(qtbot, store, tmp_path)
    seen = {}

    def acknowledge(box):
        seen["text"] = box.text()
        [button] = [b for b in box.buttons() if b.objectName() == "acknowledge_interval"]
        button.click()

    run_in_dialog(qtbot, acknowledge)
    window.start_visit(pid)
    assert "10 days after the previous course" in seen["text"] and "28 days" in seen["text"]
    visit = store.get_visit(window.visit_page.visit_id)
    [warning] = visit["start_acknowledgements"]["warnings"]
    assert warning["code"] == "course-interval" and warning["acknowledged_at"]
    assert "Started early" in dict(summarize(load_visit(store, visit["id"])).order)
    window.close()


def test_cancelling_the_interval_warning_starts_no_visit(qtbot, store, tmp_path):
    pid = _early_course(store)
    window = window_for(qtbot, store, tmp_path)
    run_in_dialog(qtbot, lambda box: box.reject())
    window.start_visit(pid)
    assert len(store.patient_visits(pid)) == 1
    window.close()


# ============================================================== 9. product-specific checklist items


def _items(window) -> dict[str, tuple[str, str]]:
    tree = window.visit_page.checklist_tab.tree
    found = {}
    for i in range(tree.topLevelItemCount()):
        phase = tree.topLevelItem(i)
        for j in range(phase.childCount()):
            row = phase.child(j)
            found[row.data(0, Qt.UserRole)] = (row.text(0), row.text(1))
    return found


def test_octagam_visit_shows_the_glucose_meter_item_as_required(qtbot, store, tmp_path):
    pid = new_patient(store)
    store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    items = _items(window)
    text, answer = items["glucose-meter"]
    assert text.startswith("* ") and answer == "Required"
    assert "risk-hydration" not in items and "creatinine-follow-up" not in items
    # Required means signing waits for it.
    assert "glucose-meter" in {
        i["item_id"] for i in store.unanswered_required_items(window.visit_page.visit_id)
    }
    window.close()


def test_a_renal_risk_order_shows_hydration_urine_and_creatinine_items(qtbot, store, tmp_path):
    pid = new_patient(store)
    store.create_order(
        pid,
        product_id="privigen",
        regimen_id="dermatomyositis",
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
        risks=["renal"],
    )
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    items = _items(window)
    for item in ("risk-hydration", "urine-output", "creatinine-follow-up"):
        assert items[item][1] == "Required"
    assert "glucose-meter" not in items  # Privigen has no glucose-meter caution
    window.close()


def test_iga_and_sorbitol_items_follow_the_product_kinds():
    template = checklists.load_template()
    cat = load_catalogue()
    iga_products = [p for p in cat.products.values() if any(c.kind == "iga" for c in p.cautions)]
    assert iga_products
    ids = {i.id for i in template.items_for(checklists.visit_context(iga_products[0]))}
    assert "iga-history" in ids

    sorbitol = [
        p
        for p in cat.products.values()
        if any(c.kind == "hereditary-fructose-intolerance" for c in p.contraindications)
    ]
    assert sorbitol  # Flebogamma (products.toml contraindications)
    ids = {i.id for i in template.items_for(checklists.visit_context(sorbitol[0]))}
    assert "fructose-intolerance" in ids
    octagam = {i.id for i in template.items_for(checklists.visit_context(cat.products["octagam-10"]))}
    assert "fructose-intolerance" not in octagam
    # Unknown product: every conditional item is shown (safer than one silently missing).
    assert len(template.items_for(checklists.visit_context(None))) == len(template.items)


def test_checklist_conditions_are_validated():
    import copy

    from nurse_app.core.resources import read_toml, validate

    data, file = read_toml("checklists/ivig-home-visit-v2.toml")
    for bad, message in (
        ({"product_kinds": ["maltose"]}, r"\.product_kinds\[0\]: Input should be 'renal-sucrose'"),
        ({"risks": ["kidney"]}, r"\.risks\[0\]: Input should be 'renal', 'thrombosis'"),
        ({}, ": a condition needs product_kinds or risks"),
        ({"risk": ["renal"]}, r"\.risk: unknown field"),
    ):
        broken = copy.deepcopy(data)
        broken["phase"][0]["item"][0]["when"] = bad
        with pytest.raises(
            ResourceError, match=r"ivig-home-visit-v2.toml: phase\[0\]\.item\[0\]\.when" + message
        ):
            validate("checklist", broken, file, file_name="ivig-home-visit-v2.toml")


def test_the_summary_says_when_the_order_changed_after_the_dose_was_worked_out(qtbot, store, tmp_path):
    """The summary re-works the order with the one builder: a draft whose order was edited after
    the Dose tab ran says so instead of printing the old dose as if it were the order's."""
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    order = store.create_order(
        pid,
        product_id="octagam-10",
        dose_g_per_kg=1,
        course_days=2,
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
    )
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    calc = window.visit_page.dose_tab.calculator
    calc.weight.edit.setText("70")
    calc.recalculate()
    visit = window.visit_page.visit_id
    assert not any("changed since" in w for w in summarize(load_visit(store, visit)).dose.warnings)
    store.update_order(order, dose_g_per_kg=2)
    [first, *_] = summarize(load_visit(store, visit)).dose.warnings
    assert first.startswith("The order has changed since this calculation: it now comes to 70 g a day")
    [given] = of_type(visit_bundle(load_visit(store, visit)), "MedicationAdministration")
    assert any(n.text == first for n in given.note)
    window.close()


def test_interval_falls_back_to_the_regimens_minimum_and_only_warns_on_a_new_course():
    from nurse_app.core.visit_logic import course_interval_warning

    today = dt.date(2026, 3, 1)
    order = {"regimen_id": "pi-replacement", "interval_days": None}  # regimens.toml: every 21 days at least
    warning = course_interval_warning(order, 1, today, [today - dt.timedelta(days=14)])
    assert (
        warning is not None and warning.minimum_days == 21 and "shortest repeat interval" in warning.message
    )
    assert course_interval_warning(order, 1, today, [today - dt.timedelta(days=21)]) is None
    assert course_interval_warning(order, 2, today, [today - dt.timedelta(days=1)]) is None  # same course
    assert course_interval_warning({"regimen_id": "kawasaki"}, 1, today, [today]) is None  # no minimum known


def test_a_signed_visits_dose_tab_shows_the_order_it_was_signed_under(qtbot, store, tmp_path):
    pid = new_patient(store)
    store.add_weight(pid, 70, measured_on="2026-01-02")
    order = store.create_order(
        pid,
        product_id="octagam-10",
        dose_g_per_kg=1,
        course_days=2,
        start_date="2026-01-05",
        prescriber="Dr. K. Ito",
        risks=["renal"],
    )
    window = window_for(qtbot, store, tmp_path)
    window.start_visit(pid)
    visit = window.visit_page.visit_id
    calc = window.visit_page.dose_tab.calculator
    calc.weight.edit.setText("70")
    calc.recalculate()
    now = dt.datetime.now(UTC)
    store.update_visit(visit, started_at=now - dt.timedelta(hours=3), ended_at=now - dt.timedelta(hours=1))
    store.set_checklist_items(
        visit, {i["item_id"]: "done" for i in store.visit_checklist(visit) if i["required"]}
    )
    store.sign_visit(visit)
    store.update_order(order, dose_g_per_kg=2, risks=[])  # edited after signing
    window.open_visit(visit)
    tab = window.visit_page.dose_tab
    assert tab.calculator.result.total_dose_g == 70  # 1 g/kg x 70 kg, as signed
    assert tab.calculator.risk_boxes["renal"].isChecked()
    window.close()
