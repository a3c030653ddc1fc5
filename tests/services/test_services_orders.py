"""services.orders: saving/replacing an order, its dose summary, a visit's dose request."""

from __future__ import annotations

import datetime as dt

import pytest
from store_helpers import new_patient, ready_visit

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import calculate
from nurse_app.core.errors import NurseAppError
from nurse_app.core.visit_logic import request_from_order, visit_risks
from nurse_app.services.orders import (
    active_order,
    order_dose_summary,
    replace_order,
    save_order,
    visit_dose_plan,
)

ORDER = dict(
    product_id="privigen", regimen_id="cidp-maintenance", start_date="2024-01-02", prescriber="Dr. L. Moreau"
)


def test_a_new_order_replaces_the_active_one_and_visits_keep_theirs(store):
    patient = new_patient(store)
    first = replace_order(store, patient, ORDER)
    visit = store.create_visit(patient, order_id=first, started_at="2024-06-01T09:00:00+00:00")
    second = replace_order(store, patient, {**ORDER, "regimen_id": "cidp-loading"})
    assert active_order(store, patient)["id"] == second
    assert [o["id"] for o in store.patient_orders(patient, active_only=True)] == [second]
    assert store.get_order(first)["active"] is False
    assert store.get_visit(visit)["order_id"] == first


def test_a_refused_new_order_leaves_the_old_one_active(store):
    patient = new_patient(store)
    first = replace_order(store, patient, ORDER)
    with pytest.raises(NurseAppError):
        replace_order(store, patient, {**ORDER, "product_id": "no-such-product"}, weight_kg=71)
    assert active_order(store, patient)["id"] == first
    assert store.patient_weights(patient) == []  # the weight went with the transaction


def test_editing_an_order_changes_it_in_place_and_adds_the_typed_weight(store):
    patient = new_patient(store)
    order = replace_order(store, patient, ORDER)
    assert (
        save_order(
            store,
            patient,
            {"prescriber": "Dr. A. Chen"},
            order_id=order,
            weight_kg=72.5,
            if_unchanged={"updated_at": store.get_order(order)["updated_at"]},
        )
        == order
    )
    assert store.get_order(order)["prescriber"] == "Dr. A. Chen"
    assert [w["weight_kg"] for w in store.patient_weights(patient)] == [72.5]
    assert len(store.patient_orders(patient)) == 1


def test_dose_summary_is_the_one_builder_at_the_latest_weight(store):
    patient = new_patient(store)
    assert order_dose_summary(store, patient) is None  # no order
    order_id = replace_order(store, patient, ORDER)
    assert order_dose_summary(store, patient) is None  # no weight yet
    store.add_weight(patient, 80, measured_on="2024-05-01")
    store.add_weight(patient, 70.4, measured_on="2024-06-01")
    today = dt.date(2024, 6, 2)
    summary = order_dose_summary(store, patient, on=today)
    assert (summary.weight_kg, summary.weighed_on, summary.first_infusion) == (70.4, "2024-06-01", True)
    order = store.get_order(order_id)
    expected = calculate(
        request_from_order(order, store.get_patient(patient), 70.4, on=today, risks=visit_risks(order, True)),
        load_catalogue(),
    )
    assert summary.result == expected
    assert "first-infusion" in summary.result.request.risks


def test_dose_summary_of_an_order_that_cannot_be_worked_out_raises_a_sentence(store):
    patient = new_patient(store)
    store.add_weight(patient, 70)
    order = {**ORDER, "id": 0, "product_id": "no-such-product"}
    with pytest.raises(NurseAppError) as caught:
        order_dose_summary(store, patient, order)
    assert "\n" not in str(caught.value) and str(caught.value)


def test_visit_dose_plan_keeps_the_ordered_dose_exactly(store):
    """1.23456 g/kg reaches the calculator as a number (text would have rounded it to 1.2346)."""
    patient = new_patient(store)
    order = replace_order(
        store, patient, {**ORDER, "regimen_id": None, "dose_g_per_kg": 1.23456, "course_days": 2}
    )
    visit = store.create_visit(patient, order_id=order, started_at="2024-06-01T09:00:00+00:00", course_days=2)
    plan = visit_dose_plan(store, visit)
    assert plan.request.dose_g_per_kg == 1.23456
    assert plan.request.days == 2
    assert plan.first_infusion is True and "first-infusion" in plan.request.risks


def test_a_signed_visit_plans_from_the_order_as_signed(store):
    visit = ready_visit(store)
    store.sign_visit(visit)
    order_id = store.get_visit(visit)["order_id"]
    signed = visit_dose_plan(store, visit)
    store.update_order(order_id, prescriber="Dr. Edited Since")
    again = visit_dose_plan(store, visit)
    assert again.order["prescriber"] == signed.order["prescriber"] == "Dr. L. Moreau"
    assert again.request == signed.request


def test_a_visit_without_an_order_has_no_request(store):
    patient = new_patient(store)
    visit = store.create_visit(patient, started_at="2024-06-01T09:00:00+00:00")
    plan = visit_dose_plan(store, visit)
    assert (plan.order, plan.request, plan.first_infusion) == (None, None, False)
