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
    store.update_visit(
        visit,
        calculation={
            "product": "privigen",
            "total_dose_g": 70.5,
            "pending_warnings": ["Weight changed 12 % since the order"],
        },
    )
    state = signing_state(store, visit)
    assert state.pending_warnings == ("Weight changed 12 % since the order",) and not state.can_sign
    with pytest.raises(NurseAppError) as caught:
        sign_visit(store, visit)
    assert "not acknowledged" in str(caught.value)
    assert store.get_visit(visit)["status"] == "draft"


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
