"""services.signing: what stops signing, signing, addenda."""

from __future__ import annotations

import pytest
from store_helpers import new_patient, ready_visit

from nurse_app.core.errors import InputError, NurseAppError
from nurse_app.services.signing import add_addendum, sign_visit, signing_state


def test_a_ready_visit_signs_and_then_takes_addenda(store):
    visit = ready_visit(store)
    state = signing_state(store, visit)
    assert state.can_sign and state.problems == () and state.pending_warnings == ()
    signed = sign_visit(store, visit)
    assert signed["status"] == "signed" and signed["signed_by"]
    assert not signing_state(store, visit).can_sign
    addendum = add_addendum(store, visit, "  Late entry: patient called at 17:00, no rash.  ")
    [row] = store.visit_addenda(visit)
    assert (row["id"], row["text"]) == (addendum, "Late entry: patient called at 17:00, no rash.")


def test_an_unacknowledged_dose_warning_refuses_signing_whoever_calls(store):
    visit = ready_visit(store)
    warning = {"code": "weight-change", "message": "Weight changed 12 % since the order"}
    store.update_visit(
        visit,
        calculation={
            "product": "privigen",
            "total_dose_g": 70.5,
            "warning_details": [{**warning, "needs_acknowledgement": True}],
        },
    )
    state = signing_state(store, visit)
    assert state.pending_warnings == ("Weight changed 12 % since the order",) and not state.can_sign
    with pytest.raises(NurseAppError) as caught:
        sign_visit(store, visit)
    assert "not acknowledged" in str(caught.value)
    assert store.get_visit(visit)["status"] == "draft"
    acknowledged = {**warning, "acknowledged_at": "2024-06-01T09:10:00+00:00"}
    store.update_visit(
        visit, calculation={**store.get_visit(visit)["calculation"], "acknowledgements": [acknowledged]}
    )
    assert signing_state(store, visit).pending_warnings == ()
    assert sign_visit(store, visit)["status"] == "signed"


def test_a_calculation_saved_without_the_dose_tab_is_checked_by_the_same_rule(store):
    """The engine's own snapshot (``DoseResult.to_dict()``, as ``calc --json`` or a script saves
    it) carries no list of pending warnings: signing works them out from its warnings and
    acknowledgements, and a key claiming none are pending changes nothing."""
    from dataclasses import replace

    from nurse_app.core.dosing import calculate
    from nurse_app.services.orders import visit_dose_plan

    visit = ready_visit(store)
    store.add_weight(store.get_visit(visit)["patient_id"], 60.0, measured_on="2024-01-02")
    # 20 % heavier than the weight the order was written for: a warning that needs acknowledging.
    result = calculate(replace(visit_dose_plan(store, visit).request, weight_kg=72.0))
    needing = [w for w in result.warnings if w.needs_ack]
    assert "weight-change" in [w.code for w in needing]
    store.update_visit(visit, weight_kg=72.0, calculation={**result.to_dict(), "pending_warnings": []})
    state = signing_state(store, visit)
    assert state.pending_warnings == tuple(w.message for w in needing) and not state.can_sign
    with pytest.raises(NurseAppError):
        sign_visit(store, visit)


def test_what_is_missing_is_listed(store):
    patient = new_patient(store)
    order = store.create_order(
        patient,
        product_id="privigen",
        regimen_id="cidp-maintenance",
        start_date="2024-01-02",
        prescriber="Dr. L. Moreau",
    )
    visit = store.create_visit(patient, order_id=order)
    state = signing_state(store, visit)
    assert state.missing_calculation and not state.can_sign
    assert any("start time" in p for p in state.problems)
    with pytest.raises(NurseAppError):
        sign_visit(store, visit)


def test_blank_addendum_and_addendum_on_a_draft_are_refused(store):
    visit = ready_visit(store)
    with pytest.raises(NurseAppError, match="still a draft"):
        add_addendum(store, visit, "text")
    sign_visit(store, visit)
    with pytest.raises(InputError, match="Write the addendum first"):
        add_addendum(store, visit, "   \n ")
    assert store.visit_addenda(visit) == []
