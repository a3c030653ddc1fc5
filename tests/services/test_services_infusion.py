"""services.infusion: an infusion event is checked against the plan and the hard limit wherever it
is recorded from; a warning is recorded only acknowledged; the first start stamps the visit."""

from __future__ import annotations

import dataclasses

import pytest
from store_helpers import ready_visit

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import calculate
from nurse_app.core.errors import InputError
from nurse_app.core.visit_logic import PAUSE, RATE_CHANGE, START
from nurse_app.services.infusion import check_rate, infusion_status, record_infusion_event
from nurse_app.services.orders import visit_dose_plan


@pytest.fixture
def visit(store):
    """Today's draft visit (no start time yet) with its dose calculation saved as the Dose tab
    saves it; an earlier signed visit gave the product, so the plan has its rate steps."""
    earlier = ready_visit(store)
    store.sign_visit(earlier)
    done = store.get_visit(earlier)
    visit_id = store.create_visit(done["patient_id"], order_id=done["order_id"])
    plan = visit_dose_plan(store, visit_id)
    result = calculate(dataclasses.replace(plan.request, weight_kg=70.0), load_catalogue())
    store.update_visit(visit_id, weight_kg=70.0, calculation=result.to_dict())
    assert len(result.rate_steps) > 2
    return visit_id


def _steps(store, visit_id):
    return store.get_visit(visit_id)["calculation"]["rate_steps"]


def test_the_first_step_starts_without_a_warning_and_stamps_the_visit_start(store, visit):
    first = _steps(store, visit)[0]["ml_per_h"]
    assert check_rate(store, visit, START, first).warnings == ()
    event = record_infusion_event(store, visit, START, rate_ml_h=first)
    [row] = store.visit_infusion_events(visit)
    assert (row["id"], row["kind"], row["rate_ml_h"]) == (event, START, first)
    assert store.get_visit(visit)["started_at"]
    assert infusion_status(store, visit).progress.started


def test_a_rate_above_the_hard_limit_is_refused_and_not_recorded(store, visit):
    check = check_rate(store, visit, START, 5000)
    assert check.refused
    with pytest.raises(InputError) as caught:
        record_infusion_event(store, visit, START, rate_ml_h=5000, acknowledged=["anything"])
    assert str(caught.value) == check.refused
    assert store.visit_infusion_events(visit) == []
    assert not store.get_visit(visit)["started_at"]


def test_a_start_above_the_plan_needs_the_acknowledgement_and_keeps_it(store, visit):
    rate = _steps(store, visit)[1]["ml_per_h"]
    check = check_rate(store, visit, START, rate)
    assert check.allowed and check.warnings
    with pytest.raises(InputError, match="acknowledgement"):
        record_infusion_event(store, visit, START, rate_ml_h=rate)
    assert store.visit_infusion_events(visit) == []
    record_infusion_event(store, visit, START, rate_ml_h=rate, acknowledged=check.warnings)
    [row] = store.visit_infusion_events(visit)
    assert list(row["acknowledgements"]) == list(check.warnings)


def test_flagged_vital_signs_hold_the_titration(store, visit):
    steps = _steps(store, visit)
    record_infusion_event(store, visit, START, rate_ml_h=steps[0]["ml_per_h"])
    store.add_vitals(visit, temperature_c=38.6, heart_rate=118, infusion_rate_ml_h=steps[0]["ml_per_h"])
    assert infusion_status(store, visit).held_flags
    check = check_rate(store, visit, RATE_CHANGE, steps[1]["ml_per_h"])
    assert any(w.startswith("The last vital signs are flagged") and "38.6" in w for w in check.warnings), (
        check
    )
    record_infusion_event(store, visit, PAUSE, note="fever")
    kinds = [e["kind"] for e in store.visit_infusion_events(visit)]
    assert kinds == [START, PAUSE]
