"""A MedicationRequest read as an order draft (core/order_import.py): what is taken, and every
refusal in words."""

from __future__ import annotations

import copy

import pytest

from nurse_app.core.errors import InputError
from nurse_app.core.order_import import order_from_request

REQUEST = {
    "resourceType": "MedicationRequest",
    "id": "rx-1",
    "status": "active",
    "intent": "order",
    "authoredOn": "2026-11-30",
    "medicationCodeableConcept": {"coding": [{"system": "urn:nurse-app:product", "code": "privigen"}]},
    "dosageInstruction": [
        {"timing": {"repeat": {"count": 2}}, "doseAndRate": [{"doseQuantity": {"value": 1, "code": "g/kg"}}]}
    ],
}


def changed(path: tuple, value):
    request = copy.deepcopy(REQUEST)
    node = request
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return request


def test_the_app_product_code_dose_days_and_start_are_taken():
    draft = order_from_request(REQUEST)
    assert draft.values == {
        "product_id": "privigen",
        "dose_g_per_kg": 1.0,
        "course_days": 2,
        "start_date": "2026-11-30",
        "prescriber": "",
    }


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("status",), "draft", "only an active order is taken"),
        (("resourceType",), "MedicationStatement", "expected a MedicationRequest"),
        (("dosageInstruction", 0, "doseAndRate", 0, "doseQuantity", "code"), "mg", "in g/kg"),
        (("dosageInstruction", 0, "timing", "repeat", "count"), 0, "days per course"),
        (
            ("medicationCodeableConcept",),
            {"text": "Hizentra"},
            "Hizentra) is not in the app's product catalogue",
        ),
        (("authoredOn",), None, "no start date"),
    ],
)
def test_a_request_the_app_cannot_take_is_refused_with_the_reason(path, value, reason):
    with pytest.raises(InputError, match="This order cannot be taken") as refused:
        order_from_request(changed(path, value))
    assert reason in str(refused.value)
