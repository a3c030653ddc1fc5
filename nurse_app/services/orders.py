"""IVIG orders: saving or replacing one, and what it comes to in grams (no Qt).

* :func:`save_order` / :func:`replace_order` - the order form's Save: an edit changes the
  order in place; a new order becomes THE active order and the previous active one is set
  inactive in the same transaction (visits keep pointing at the order they were given under);
* :func:`order_dose_summary` - what the patient's order comes to at the latest weight, as
  the next visit will work it out (the Patients page shows it; ``nurse-app patients --order``);
* :func:`visit_dose_plan` - the Dose tab's request for a visit (THE builder,
  ``core.visit_logic.request_from_order``), handed to the calculator as a ``DoseRequest``,
  never as field text to be parsed back.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nurse_app.core.catalogue import Catalogue, load_catalogue
from nurse_app.core.dosing import DoseRequest, DoseResult, calculate
from nurse_app.core.formatting import fmt_date, fmt_qty
from nurse_app.core.visit_logic import (
    RISK_LABELS,
    baseline_weight,
    first_infusion_of_product,
    order_risks,
    request_from_order,
    visit_day,
    visit_risks,
)
from nurse_app.store import ConflictError, Store
from nurse_app.store.times import today_local

Row = dict[str, Any]  # a stored row as the store returns it


def active_order(store: Store, patient_id: int) -> Row | None:
    """The patient's active order (the newest one), None without one."""
    orders: list[Row] = store.patient_orders(patient_id, active_only=True)
    return orders[0] if orders else None


def save_order(
    store: Store,
    patient_id: int,
    values: Mapping[str, Any],
    *,
    order_id: int | None = None,
    weight_kg: float | None = None,
    if_unchanged: Mapping[str, Any] | None,
) -> int:
    """Save the order form: ``order_id`` edits that order; None replaces the active order (see
    :func:`replace_order`).  ``weight_kg`` (the weight typed on the form, if any) is added to the
    weight history in the same transaction.  Returns the order's id.

    ``if_unchanged`` is what the form showed: for an edit, fields of the order as loaded (at
    least ``updated_at``); for a new order, ``{"active_orders": [ids]}``, the patient's active
    orders when the form opened (:func:`shown_orders`).  A save by another window since is
    refused with a ConflictError, never silently overwritten.
    """
    with store.transaction():
        if weight_kg is not None:
            store.add_weight(patient_id, weight_kg)
        if order_id is not None:
            store.update_order(order_id, if_unchanged=if_unchanged, **values)
            return order_id
        if if_unchanged is not None and "active_orders" in if_unchanged:
            now = sorted(int(o["id"]) for o in store.patient_orders(patient_id, active_only=True))
            if now != sorted(int(i) for i in if_unchanged["active_orders"]):
                raise ConflictError(
                    "The patient's order was changed in another window or program since you "
                    "opened this form; your order was not saved. Reload the patient, then enter it again."
                )
        return _replace(store, patient_id, values)


def shown_orders(store: Store, patient_id: int) -> dict[str, Any]:
    """What a new-order form shows as the patient's orders (its ``if_unchanged``)."""
    return {"active_orders": [int(o["id"]) for o in store.patient_orders(patient_id, active_only=True)]}


def replace_order(
    store: Store, patient_id: int, values: Mapping[str, Any], *, weight_kg: float | None = None
) -> int:
    """A new order becomes the patient's active order; every previously active order is set
    inactive in the same transaction (all or nothing).  Returns the new order's id."""
    return save_order(
        store, patient_id, values, weight_kg=weight_kg, if_unchanged=shown_orders(store, patient_id)
    )


def _replace(store: Store, patient_id: int, values: Mapping[str, Any]) -> int:
    previous: list[Row] = store.patient_orders(patient_id, active_only=True)
    for order in previous:
        store.update_order(int(order["id"]), active=False)
    new_id: int = store.create_order(patient_id, **values)
    return new_id


@dataclass(frozen=True)
class OrderDoseSummary:
    """What an order comes to at the patient's latest weight."""

    weight_kg: float  # the latest weight
    weighed_on: str  # YYYY-MM-DD
    first_infusion: bool  # no signed visit has given this product to the patient yet
    result: DoseResult  # the dose engine's answer (grams, volume, rate steps, risks)

    # The wording the Patients page and ``nurse-app patients --order`` share.
    @property
    def weighed_text(self) -> str:
        """``At 70.4 kg (weighed 1 Jun 2024)``"""
        return f"At {fmt_qty(self.weight_kg, 'kg')} (weighed {fmt_date(self.weighed_on)})"

    @property
    def course_text(self) -> str:
        """``70.4 g per course``"""
        return f"{fmt_qty(self.result.total_dose_g, 'g')} per course"

    @property
    def per_day_text(self) -> str:
        """`` (35.2 g a day)`` over several days, else empty."""
        r = self.result
        return "" if r.days == 1 else f" ({fmt_qty(r.daily_dose_g, 'g')} a day)"

    @property
    def volume_text(self) -> str:
        """``352 mL a day``"""
        return f"{fmt_qty(self.result.daily_volume_ml, 'mL')} a day"

    @property
    def rates_text(self) -> str:
        """``rate 42 mL/h rising to 336 mL/h`` (or one rate)."""
        steps = self.result.rate_steps
        if len(steps) > 1:
            return (
                f"rate {fmt_qty(steps[0].ml_per_h, 'mL/h')} rising to {fmt_qty(steps[-1].ml_per_h, 'mL/h')}"
            )
        return f"rate {fmt_qty(steps[0].ml_per_h, 'mL/h')}"

    @property
    def dosing_weight_text(self) -> str:
        """``dosing weight 70.4 kg, actual weight ...`` (the basis the engine chose, and why)."""
        return f"dosing weight {fmt_qty(self.result.weight.dosing_kg, 'kg')}, {self.result.weight.basis}"

    @property
    def risk_labels(self) -> tuple[str, ...]:
        return tuple(RISK_LABELS[k] for k in sorted(self.result.request.risks))


def order_dose_summary(
    store: Store,
    patient_id: int,
    order: Mapping[str, Any] | None = None,
    *,
    on: _dt.date | None = None,
    catalogue: Catalogue | None = None,
) -> OrderDoseSummary | None:
    """The order (default: the active one) worked out as the next visit will: the order's basis,
    rate cap and risks, the age on ``on`` (default today), first-infusion when no signed visit
    gave this product yet, at the latest weight.  None when there is no order or no weight;
    raises :class:`~nurse_app.core.errors.NurseAppError` when the order cannot be worked out."""
    if order is None:
        order = active_order(store, patient_id)
        if order is None:
            return None
    weights: list[Row] = store.patient_weights(patient_id)
    if not weights:
        return None
    latest = weights[0]
    patient: Row = store.get_patient(patient_id)
    first = first_infusion_of_product(str(order["product_id"]), store.earlier_visits(patient_id))
    weight_kg = float(latest["weight_kg"])
    request = request_from_order(
        order, patient, weight_kg, on=on or today_local(), risks=visit_risks(order, first)
    )
    result = calculate(request, catalogue or load_catalogue())
    return OrderDoseSummary(
        weight_kg=weight_kg, weighed_on=str(latest["measured_on"]), first_infusion=first, result=result
    )


@dataclass(frozen=True)
class VisitDosePlan:
    """What the Dose tab works from: the visit's order and the request built from it."""

    order: Row | None  # None: a visit without an order (the calculator is free to use)
    request: DoseRequest | None  # the order's request for today's weight (weight_kg is 0 until typed)
    first_infusion: bool
    order_risks: frozenset[str]  # the order's own risk flags (first-infusion is added per visit)


def visit_request(
    store: Store, visit: Mapping[str, Any], patient: Mapping[str, Any], order: Mapping[str, Any]
) -> tuple[DoseRequest, bool]:
    """The visit's dose request (the one builder, ``request_from_order``): the order, the
    patient's age on the visit day, the order's risks plus first-infusion when no earlier
    signed visit gave this product, and the baseline weight.  Returns (request, first)."""
    earlier = store.earlier_visits(int(patient["id"]), int(visit["id"]))
    first = first_infusion_of_product(str(order["product_id"]), earlier)
    day = visit_day(visit, created=False) or today_local()
    request = request_from_order(
        order,
        patient,
        0.0,
        on=day,
        risks=visit_risks(order, first),
        baseline=baseline_weight(
            [
                w for w in store.patient_weights(int(patient["id"])) if w.get("visit_id") != visit["id"]
            ],  # not its own weight
            order.get("start_date"),
        ),
    )
    return request, first


def visit_dose_plan(store: Store, visit_id: int) -> VisitDosePlan:
    """The order and dose request of a visit.  A signed visit uses the order and patient as
    they were signed (its snapshot), not as edited since."""
    visit: Row = store.get_visit(visit_id)
    patient: Row = store.get_patient(int(visit["patient_id"]))
    order: Row | None = store.get_order(int(visit["order_id"])) if visit["order_id"] else None
    snapshot: Mapping[str, Any] = visit.get("signed_snapshot") or {}
    if visit["status"] == "signed" and snapshot.get("order"):
        order = dict(snapshot["order"])
        patient = {**patient, **(snapshot.get("patient") or {})}
    if order is None:
        return VisitDosePlan(order=None, request=None, first_infusion=False, order_risks=frozenset())
    request, first = visit_request(store, visit, patient, order)
    return VisitDosePlan(order=order, request=request, first_infusion=first, order_risks=order_risks(order))
