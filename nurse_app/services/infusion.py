"""Recording the infusion: what the pump did and when (no Qt).

* :func:`infusion_status` - where the infusion stands now (core ``infusion_progress`` over the
  events that count and the vital-sign times), with the flags of the latest reading;
* :func:`check_rate` - may this rate be set now: refused above the hard limit, warnings that
  need an acknowledgement (core ``infusion_record.check_rate``);
* :func:`record_infusion_event` - records start, rate change, pause, resume, stop or end: a
  refused rate is never recorded, a warning only once acknowledged (kept with the event), and
  the first start stamps the visit's start time, in one transaction.

The Infusion tab (its buttons, and the Reactions tab through it) and any other caller go
through here, so the same checks hold whoever records.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nurse_app.core import infusion_record as record
from nurse_app.core.errors import InputError
from nurse_app.core.visit_logic import RATE_CHANGE, RESUME, START, InfusionProgress, infusion_progress
from nurse_app.core.vitals import VitalFlag, flag_series
from nurse_app.store import Store
from nurse_app.store.fields import reading_measures
from nurse_app.store.times import now_utc, to_local

RATE_KINDS = (START, RATE_CHANGE, RESUME)  # the events that set a rate


@dataclass(frozen=True)
class InfusionStatus:
    progress: InfusionProgress
    held_flags: tuple[VitalFlag, ...]  # the latest reading's flags (titration held while flagged)
    calculation: Mapping[str, Any] | None  # the visit's saved dose calculation


def latest_flags(vitals_rows: Sequence[Mapping[str, Any]]) -> list[VitalFlag]:
    """The core vital flags of the latest reading (core.vitals.flag_series: the one baseline rule)."""
    if not vitals_rows:
        return []
    return list(flag_series([reading_measures(row) for row in vitals_rows])[-1])


def infusion_status(store: Store, visit_id: int, now: _dt.datetime | None = None) -> InfusionStatus:
    visit: dict[str, Any] = store.get_visit(visit_id)
    calc: Mapping[str, Any] | None = visit.get("calculation")
    steps = list((calc or {}).get("rate_steps") or [])
    events = [
        {**e, "at": to_local(e["occurred_at"])}
        for e in store.visit_infusion_events(visit_id)
        if record.counts(e)
    ]
    vitals: list[dict[str, Any]] = store.visit_vitals(visit_id)
    progress = infusion_progress(
        events, [to_local(v["recorded_at"]) for v in vitals], steps, now or now_utc()
    )
    return InfusionStatus(progress=progress, held_flags=tuple(latest_flags(vitals)), calculation=calc)


NO_ORDER_TO_START = (
    "No infusion without an order: this visit has no IVIG order, so there is no product, dose or "
    "rate plan to check against. Add the order on the Patients page (select the patient, then "
    "Add order…) and start a new visit from it."
)
NO_DOSE_TO_START = (
    "No infusion before today's dose: type today's weight on the Dose tab (tab 1), so the dose and "
    "the rate plan are worked out from the order, then start."
)


def start_missing(store: Store, visit_id: int) -> str | None:
    """Why the visit cannot start an infusion yet (no order, no dose), or None."""
    visit = store.get_visit(visit_id)
    if not visit.get("order_id"):
        return NO_ORDER_TO_START
    if not (visit.get("calculation") or {}).get("daily_dose_g"):
        return NO_DOSE_TO_START
    return None


def check_rate(
    store: Store, visit_id: int, kind: str, rate_ml_h: float, now: _dt.datetime | None = None
) -> record.RateCheck:
    """May ``rate_ml_h`` be set now by a ``kind`` event (start, rate_change, resume)?  An
    infusion starts only on a visit with an order and today's dose worked out from it."""
    if kind == START:
        missing = start_missing(store, visit_id)
        if missing:
            return record.RateCheck(refused=missing)
    status = infusion_status(store, visit_id, now)
    flags = status.held_flags if status.progress.started else ()
    return record.check_rate(kind, rate_ml_h, status.calculation, status.progress, flags)


def record_infusion_event(
    store: Store,
    visit_id: int,
    kind: str,
    *,
    rate_ml_h: float | None = None,
    acknowledged: Sequence[str] = (),
    note: str = "",
    volume_ml: float | None = None,
    reason: str | None = None,
    now: _dt.datetime | None = None,
) -> int:
    """Record an infusion event now; returns its id.

    A rate is checked first (:func:`check_rate`): refused above the hard limit; every warning
    must be in ``acknowledged`` (they are kept with the event).  The first start sets the
    visit's start time when it has none, in the same transaction."""
    extra: dict[str, Any] = {}
    if note:
        extra["note"] = note
    if kind == START and (missing_first := start_missing(store, visit_id)):
        raise InputError(missing_first, "rate")
    if rate_ml_h is not None:
        check = check_rate(store, visit_id, kind, rate_ml_h, now)
        if check.refused:
            raise InputError(check.refused, "rate")
        missing = [w for w in check.warnings if w not in acknowledged]
        if missing:
            raise InputError(
                "This rate is outside the plan and needs your acknowledgement first: " + "; ".join(missing),
                "rate",
            )
        if check.warnings:
            extra["acknowledgements"] = list(check.warnings)
    if volume_ml is not None:
        extra["volume_ml"] = volume_ml
    if reason:
        extra["reason"] = reason
    with store.transaction():
        event_id: int = store.add_infusion_event(visit_id, kind=kind, rate_ml_h=rate_ml_h, **extra)
        if kind == START and not store.get_visit(visit_id)["started_at"]:
            store.update_visit(visit_id, started_at=now or now_utc())
    return event_id
