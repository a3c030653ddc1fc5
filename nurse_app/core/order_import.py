"""An order from the prescriber's system: a FHIR R4 ``MedicationRequest`` read as an order draft.

The draft never replaces the current order by itself: the nurse reviews it beside the current
order and accepts it (:mod:`nurse_app.services.orders`).  A request the app cannot take is
refused with the reason, in the same words as the order form (the dose engine's hard limits
and floor, :func:`nurse_app.core.order_checks.check_order`).

What is read (R4 elements):

* the product: ``medicationCodeableConcept`` coded with a package NDC
  (``http://hl7.org/fhir/sid/ndc``) the catalogue knows, or the app's own product code;
* the dose per course: ``dosageInstruction[0].doseAndRate[0].doseQuantity`` in UCUM ``g/kg``;
* the days per course: ``dosageInstruction[0].timing.repeat.count`` (one infusion a day);
* the interval between courses: ``dispenseRequest.dispenseInterval`` in days (``d``, or ``wk``);
* the start date: ``timing.repeat.boundsPeriod.start``, else ``authoredOn``;
* the prescriber: ``requester.display``; the request's own id is kept to name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nurse_app.core.carton import gtin_from_ndc
from nurse_app.core.catalogue import Catalogue, load_catalogue
from nurse_app.core.errors import InputError
from nurse_app.core.order_checks import check_order

NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
PRODUCT_SYSTEM = "urn:nurse-app:product"
_WEEK = {"d": 1, "wk": 7}


@dataclass(frozen=True)
class OrderDraft:
    request_id: str
    values: dict[str, Any]  # the order form's fields (nurse_app.store.fields.ORDER)
    product_name: str


def _refuse(message: str, field: str = "medication_request") -> InputError:
    return InputError(f"This order cannot be taken: {message}", field=field)


def _product(resource: Mapping[str, Any], catalogue: Catalogue) -> tuple[str, str]:
    concept = resource.get("medicationCodeableConcept") or {}
    codings = concept.get("coding") or []
    for coding in codings:
        if coding.get("system") == PRODUCT_SYSTEM and coding.get("code") in catalogue.products:
            product = catalogue.products[coding["code"]]
            return product.id, product.display_name
        if coding.get("system") == NDC_SYSTEM and coding.get("code"):
            try:
                found = catalogue.package(gtin_from_ndc(str(coding["code"])))
            except InputError:
                found = None
            if found is not None:
                return found[0].id, found[0].display_name
    named = (
        ", ".join(f"{c.get('system', '?')}|{c.get('code', '?')}" for c in codings)
        or concept.get("text")
        or "none"
    )
    raise _refuse(f"the product ({named}) is not in the app's product catalogue.", "product_id")


def order_from_request(resource: Mapping[str, Any], catalogue: Catalogue | None = None) -> OrderDraft:
    """The order draft a MedicationRequest asks for, or InputError with the reason."""
    cat = catalogue or load_catalogue()
    if resource.get("resourceType") != "MedicationRequest":
        raise _refuse(f"expected a MedicationRequest, got {resource.get('resourceType')!r}.")
    if resource.get("status") != "active" or resource.get("intent") not in ("order", "original-order"):
        raise _refuse(
            f"it is {resource.get('status')!r} with intent {resource.get('intent')!r}; only an active order is taken."
        )
    product_id, name = _product(resource, cat)
    dosage = (resource.get("dosageInstruction") or [{}])[0]
    dose = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity") or {}
    if dose.get("code") != "g/kg" or not isinstance(dose.get("value"), int | float):
        raise _refuse("the dose per course must be given as a quantity in g/kg (UCUM g/kg).", "dose_g_per_kg")
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    days = repeat.get("count")
    if not isinstance(days, int) or days < 1:
        raise _refuse("the days per course (timing.repeat.count) are missing.", "course_days")
    interval = (resource.get("dispenseRequest") or {}).get("dispenseInterval") or {}
    interval_days = None
    if interval:
        unit = interval.get("code") or interval.get("unit")
        if unit not in _WEEK or not isinstance(interval.get("value"), int | float):
            raise _refuse("the interval between courses must be in days or weeks.", "interval_days")
        interval_days = round(float(interval["value"]) * _WEEK[unit])
    start = ((repeat.get("boundsPeriod") or {}).get("start") or resource.get("authoredOn") or "")[:10]
    if not start:
        raise _refuse("it has no start date (timing.repeat.boundsPeriod.start or authoredOn).", "start_date")
    try:
        check_order(product_id, None, float(dose["value"]), days, cat)
    except InputError as exc:
        raise _refuse(str(exc), exc.field or "dose_g_per_kg") from None
    values: dict[str, Any] = {
        "product_id": product_id,
        "dose_g_per_kg": float(dose["value"]),
        "course_days": days,
        "start_date": start,
        "prescriber": str((resource.get("requester") or {}).get("display") or ""),
    }
    if interval_days is not None:
        values["interval_days"] = interval_days
    return OrderDraft(str(resource.get("id") or ""), values, name)
