"""Issue 9 §3: for the same order, the Patients page, the visit's Dose tab, the visit summary and
the FHIR MedicationAdministration show the same dose and rates, for every product x regimen x
weight basis (hypothesis).  Each goes through its real entry point: the Patients page widget, the
Visit page started as the Start visit button does, the summary data the PDF is drawn from, and
the FHIR Bundle.

One record and one of each page serve every example (as in the window, where the pages stay
and the nurse moves from patient to patient): each example adds its own patient and order,
shows that patient and starts that patient's visit."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from property_settings import examples
from store_helpers import new_record

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import calculate
from nurse_app.core.errors import NurseAppError
from nurse_app.core.formatting import fmt_number, fmt_qty
from nurse_app.core.visit_logic import request_from_order
from nurse_app.reports.fhir import visit_bundle
from nurse_app.reports.visit_data import summarize
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store
from nurse_app.store.times import today_local
from nurse_app.ui.patients_page import PatientsPage
from nurse_app.ui.visit import VisitPage

CAT = load_catalogue()
PRODUCTS = sorted(CAT.products)
REGIMENS = sorted(CAT.regimens)
BASES = ("auto", "actual", "ideal", "adjusted")


def _order_values(regimen_id: str) -> dict:
    regimen = CAT.regimens[regimen_id]
    if regimen.course_g_per_kg is None:  # no fixed dose: the low end of the usual range
        return {"regimen_id": regimen_id, "dose_g_per_kg": regimen.dose_range_g_per_kg[0]}
    return {"regimen_id": regimen_id}


@pytest.fixture
def places(qtbot, tmp_path):
    """The record, the Patients page and the Visit page every example of a test shares, and a
    source of new MRNs."""
    with Store.open(new_record(tmp_path / "record.db")) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        page = PatientsPage(store)
        qtbot.addWidget(page)
        visit_page = VisitPage(store)
        qtbot.addWidget(visit_page)
        yield store, page, visit_page, (f"H-{n}" for n in itertools.count(1))
        visit_page.shutdown()


@settings(
    max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    product=st.sampled_from(PRODUCTS),
    regimen=st.sampled_from(REGIMENS),
    basis=st.sampled_from(BASES),
    tenths_kg=st.integers(350, 1600),
    height=st.integers(150, 195),
    sex=st.sampled_from(("female", "male")),
    cap=st.sampled_from((None, 2, 4.5)),
    risks=st.sampled_from(((), ("renal",), ("thrombosis", "first-infusion"))),
)
def test_every_place_shows_the_same_dose_and_rates(
    places, product, regimen, basis, tenths_kg, height, sex, cap, risks
):
    weight = tenths_kg / 10
    store, page, visit_page, mrns = places
    pid = store.create_patient(
        mrn=next(mrns),
        name="Hypo Thesis",
        date_of_birth="1958-06-01",
        sex=sex,
        height_cm=height,
        indication=regimen,
        prescriber="Dr. K. Ito",
    )
    store.add_weight(pid, weight, measured_on=today_local().isoformat())
    order_values = dict(
        product_id=product,
        weight_basis=basis,
        max_rate_mg_kg_min=cap,
        risks=list(risks),
        start_date=today_local().isoformat(),
        prescriber="Dr. K. Ito",
        **_order_values(regimen),
    )
    try:  # orders the engine refuses (hard limits) cannot be saved through the order form either
        expected = calculate(
            request_from_order(
                order_values,
                store.get_patient(pid),
                weight,
                on=today_local(),
                risks=set(risks) | {"first-infusion"},
            )
        )
    except NurseAppError:
        assume(False)
    store.create_order(pid, **order_values)

    first_rate = fmt_qty(expected.rate_steps[0].ml_per_h, "mL/h")
    top_rate = fmt_qty(expected.rate_steps[-1].ml_per_h, "mL/h")
    total, daily, volume = (
        fmt_qty(expected.total_dose_g, "g"),
        fmt_qty(expected.daily_dose_g, "g"),
        fmt_qty(expected.daily_volume_ml, "mL"),
    )

    # --- the Patients page
    page._show_patient(pid)
    text = re.sub(r"<[^>]+>", "", page.order_summary.text())
    assert f"{total} per course" in text
    if expected.days > 1:
        assert f"({daily} a day)" in text
    assert f"{volume} a day" in text
    assert f"rate {first_rate}" in text
    if len(expected.rate_steps) > 1:
        assert f"rising to {top_rate}" in text

    # --- the visit's Dose tab (started as the Start visit button does)
    visit_id = visit_page.start_for_patient(pid)
    calc = visit_page.dose_tab.calculator
    calc.weight.edit.setText(fmt_number(weight, 1))
    calc.recalculate()
    assert calc.tile_course.value.text() == total
    assert calc.tile_daily.value.text() == daily
    assert calc.tile_volume.value.text() == volume
    shown_rates = [calc.rate_table.item(r, 3).text() for r in range(calc.rate_table.rowCount())]
    assert shown_rates == [fmt_number(s.ml_per_h, 1) for s in expected.rate_steps]

    # --- the visit summary (what the PDF and the printout lay out)
    dose = summarize(load_visit(store, visit_id)).dose
    pairs = dict(dose.dose)
    assert pairs["Course total"] == total and pairs["Daily dose"] == daily
    assert pairs["Daily volume"].startswith(volume)
    assert [row[3] for row in dose.rates.rows] == shown_rates

    # --- FHIR MedicationAdministration
    bundle = visit_bundle(load_visit(store, visit_id))
    [given_] = [  # the whole administration (a rate stretch is its own one, partOf it)
        e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "MedicationAdministration" and not e.resource.partOf
    ]
    assert float(given_.dosage.dose.value) == round(expected.daily_dose_g, 2)
    assert given_.dosage.text.startswith(f"{daily} intravenous, {volume}")
    # The administration carries the rates given, not the plan's: none before the infusion ran.
    assert given_.dosage.rateQuantity is None
