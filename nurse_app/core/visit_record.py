"""One visit as every screen, PDF, FHIR export and command sees it: :class:`VisitRecord`.

A record is read once (``nurse_app.services.visit_record.load_visit``) and is plain, frozen
data: the Visit page and its tabs, the visit summary, the FHIR Bundle and ``visit-pdf``
render the same record, so a signed visit looks alike everywhere.

The rules that decide what a record shows live here, once:

* :func:`as_signed` - a signed visit shows the patient and order as they were signed (its
  signing snapshot over the rows as they are now), and lists what changed since;
* :func:`signing_state` - what still stops signing: the store's problems (times, required
  checklist items) and the dose warnings of the saved calculation that were not
  acknowledged (:func:`nurse_app.core.acknowledgements.pending_in`, worked out from the
  calculation's warnings and acknowledgements, whoever wrote it).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nurse_app.core import infusion_record, visit_logic
from nurse_app.core.acknowledgements import pending_in
from nurse_app.core.allergies import Allergies, allergies
from nurse_app.core.dosing import DoseRequest
from nurse_app.core.formatting import fmt_number

Row = dict[str, Any]
NO_VALUE = "—"
CHANGED_SINCE_SIGNING = "Changed since signing"
# What a signed summary names when a snapshot field differs from the row now.
SNAPSHOT_LABELS = {
    "patient": {
        "mrn": "MRN",
        "name": "Name",
        "date_of_birth": "Date of birth",
        "sex": "Sex",
        "height_cm": "Height (cm)",
        "allergies": "Allergies",
        "indication": "Indication",
        "prescriber": "Prescriber",
    },
    "order": {
        "product_id": "Product",
        "regimen_id": "Regimen",
        "dose_g_per_kg": "Dose (g/kg)",
        "course_days": "Days",
        "interval_days": "Interval (days)",
        "start_date": "Start date",
        "prescriber": "Prescriber",
        "active": "Active",
        "notes": "Order notes",
        "weight_basis": "Weight basis",
        "max_rate_mg_kg_min": "Maximum rate (mg/kg/min)",
        "acknowledgements": "Acknowledged warnings",
    },
}
Change = tuple[str, str, str]  # (section, label, value now)


def shown(value: Any) -> str:
    """A stored value as the "changed since signing" note prints it."""
    if value is None or value == "":
        return NO_VALUE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return fmt_number(value, 4)
    return str(value)


def as_signed(
    visit: Mapping[str, Any], patient: Row, order: Row | None
) -> tuple[Row, Row | None, tuple[Change, ...]]:
    """The patient and order a visit shows, and what differs now: (patient, order, changes).

    The one rule: a signed visit with a signing snapshot shows the snapshot's values over the
    rows as they are now (a field the snapshot does not hold keeps its value now), and every
    snapshot field that differs now is a change (section, label, value now).  A draft, or a
    visit signed before snapshots, shows the rows as they are.
    """
    snapshot: Mapping[str, Any] = visit.get("signed_snapshot") or {}
    if visit.get("status") != "signed" or not snapshot:
        return patient, order, ()
    changes: list[Change] = []
    signed_patient = {**patient, **(snapshot.get("patient") or {})}
    for key, label in SNAPSHOT_LABELS["patient"].items():
        if key in (snapshot.get("patient") or {}) and patient.get(key) != signed_patient.get(key):
            changes.append(("patient", label, shown(patient.get(key))))
    signed_order = order
    if snapshot.get("order") is not None:
        signed_order = {**(order or {}), **snapshot["order"]}
        for key, label in SNAPSHOT_LABELS["order"].items():
            if order is not None and key in snapshot["order"] and order.get(key) != signed_order.get(key):
                changes.append(("order", label, shown(order.get(key))))
    return signed_patient, signed_order, tuple(changes)


@dataclass(frozen=True)
class SigningState:
    """What stops a visit from being signed (the Sign tab's "Still to do")."""

    signed: bool
    problems: tuple[str, ...]  # from the store: times, required checklist items
    pending_warnings: tuple[str, ...]  # dose warnings of the saved calculation not acknowledged
    missing_calculation: bool  # a visit with an order but no saved dose calculation

    @property
    def can_sign(self) -> bool:
        """Signing is allowed (a missing calculation is shown, but does not stop signing)."""
        return not self.signed and not self.problems and not self.pending_warnings


INFUSION_IN_PROGRESS = (
    "the infusion is still in progress: stop or finish it on the Infusion tab (with the volume given)"
)


def signing_state(
    visit: Mapping[str, Any], problems: tuple[str, ...] | list[str], *, infusion_running: bool = False
) -> SigningState:
    """The signing state of ``visit`` given the store's ``problems`` (empty once signed); a draft
    whose infusion is still in progress lists that first."""
    signed = visit["status"] == "signed"
    calculation: Mapping[str, Any] = visit.get("calculation") or {}
    if not signed and visit["status"] == "draft" and infusion_running:
        problems = [INFUSION_IN_PROGRESS, *problems]
    return SigningState(
        signed=signed,
        problems=() if signed else tuple(problems),
        pending_warnings=() if signed else pending_in(calculation),
        missing_calculation=not calculation and bool(visit.get("order_id")),
    )


@dataclass(frozen=True)
class VisitDosePlan:
    """What the Dose tab works from: the visit's order and the request built from it."""

    order: Row | None  # None: a visit without an order (the calculator is free to use)
    request: DoseRequest | None  # the order's request for today's weight (weight_kg is 0 until typed)
    first_infusion: bool
    order_risks: frozenset[str]  # the order's own risk flags (first-infusion is added per visit)


NO_PLAN = VisitDosePlan(order=None, request=None, first_infusion=False, order_risks=frozenset())


@dataclass(frozen=True)
class VisitRecord:
    """Everything about one visit, read from the record in one go.

    ``patient`` and ``order`` are as the visit shows them (:func:`as_signed`);
    ``live_patient`` and ``live_order`` are the rows as they are now.
    """

    visit: Row
    patient: Row
    order: Row | None
    checklist: list[Row]
    vitals: list[Row]
    reactions: list[Row]
    lots: list[Row]
    addenda: list[Row]
    settings: dict[str, str]
    profile_nurse: str | None
    seal_ok: bool | None  # None for a draft
    signing: SigningState
    dose_plan: VisitDosePlan = NO_PLAN
    # Signed visits with a signing snapshot: ``patient`` and ``order`` above are as they
    # were at signing; these are the fields changed since: (section, label, value now).
    changed_since_signing: tuple[Change, ...] = ()
    # Signed follow-up call records made since the patient's previous visit.
    followup_calls: tuple[Row, ...] = ()
    infusion_events: tuple[Row, ...] = ()
    live_patient: Row | None = None
    live_order: Row | None = None
    seal_problem: str | None = None
    # The visit's hand-off to the agency: the outbox row the screens show (None: not queued).
    handoff: Row | None = None
    # The IV line: attempts and existing lines, their site checks and flushes.
    access_devices: tuple[Row, ...] = ()
    access_checks: tuple[Row, ...] = ()
    # When each reading was entered (its audit insert), by reading id: a late entry shows both times.
    vitals_entered: Mapping[int, _dt.datetime] = field(default_factory=dict)
    # The signing entry's position in the audit chain (None: a draft, or a record without it).
    seal_chain_position: int | None = None

    @property
    def visit_id(self) -> int:
        return int(self.visit["id"])

    @property
    def status(self) -> str:
        return str(self.visit["status"])

    @property
    def signed(self) -> bool:
        return bool(self.visit["status"] == "signed")

    @property
    def read_only(self) -> bool:
        """Signed, or voided (entered by mistake; kept as it was)."""
        return bool(self.visit["status"] != "draft")

    @property
    def signing_problems(self) -> list[str]:
        return list(self.signing.problems)

    @property
    def outcome(self) -> infusion_record.InfusionOutcome:
        """The infusion's outcome with the volume given (core.infusion_record, the one rule)."""
        return infusion_record.infusion_outcome(
            self.infusion_events, infusion_record.planned_volume_ml(self.visit.get("calculation"))
        )

    @property
    def calculation(self) -> Row:
        calculation: Row = self.visit.get("calculation") or {}
        return calculation

    @property
    def nurse(self) -> str:
        return str(self.visit.get("nurse_name") or self.settings.get("nurse") or self.profile_nurse or "")

    @property
    def allergies(self) -> Allergies:
        """The patient's allergies as the one core rule reads them."""
        return allergies(self.patient.get("allergies"))

    def allergy_list(self) -> list[str]:
        """The patient's allergies as separate entries (empty for none known or not recorded)."""
        return list(self.allergies.entries)

    @property
    def visit_day(self) -> _dt.date | None:
        """The local day of the visit (started, else scheduled); None without either."""
        return visit_logic.visit_day(self.visit, created=False)
