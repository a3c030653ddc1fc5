"""Visit workflow rules that need neither Qt nor SQLite.

* which day of the course a new visit is (``course_day``);
* the dose request for today's visit from the patient's order (``request_from_order``);
* the baseline weight the order was written for (``baseline_weight``), against which
  today's weight is checked (a change of 10 % or more is reported to the prescriber);
* the age at the visit (``age_years``), the order's risk flags and first infusion of a
  product (``visit_risks``), the interval between courses (``course_interval_warning``);
* where the infusion stands from its recorded events (``infusion_progress``): the
  current rate, the current step of the plan, when the next increase is due, and the
  :class:`~nurse_app.core.monitoring.InfusionState` that decides whether vitals are due.

Times come in as aware ``datetime`` objects; the functions work in minutes from the
infusion start so they are easy to test.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import RISKS, DoseRequest, age_in_years
from nurse_app.core.monitoring import InfusionState

# Infusion event kinds, in the order a nurse meets them.
START, RATE_CHANGE, PAUSE, RESUME, STOP, END = "start", "rate_change", "pause", "resume", "stop", "end"
EVENT_KINDS = (START, RATE_CHANGE, PAUSE, RESUME, STOP, END)
EVENT_LABELS = {
    START: "Infusion started",
    RATE_CHANGE: "Rate changed",
    PAUSE: "Paused",
    RESUME: "Resumed",
    STOP: "Stopped",
    END: "Infusion finished",
}


VOIDED = "voided"  # a draft entered by mistake: kept, read-only, not a course day


def counts_as_course_day(visit: Mapping[str, Any]) -> bool:
    """A voided visit (entered by mistake) was not given and is not a day of the course."""
    return visit.get("status") != VOIDED


def course_day(previous_visits_on_order: int, course_days: int) -> int:
    """Day n of an N-day course: visits on the same order cycle 1..N, 1..N, ..."""
    if course_days < 1:
        raise ValueError("course_days must be at least 1")
    return previous_visits_on_order % course_days + 1


def age_years(date_of_birth: str | _dt.date | None, on: _dt.date) -> float | None:
    """Age on ``on`` from a patient's stored date of birth, for the engine's ``age_years``, the
    Patients page and the visit summary (``int()`` of it is the age a nurse says).  The
    arithmetic is the engine's one rule (:func:`nurse_app.core.dosing.age_in_years`); None when
    the date of birth is missing, not a date, or after ``on``."""
    if date_of_birth is None:
        return None
    try:
        born = (
            date_of_birth
            if isinstance(date_of_birth, _dt.date)
            else _dt.date.fromisoformat(str(date_of_birth))
        )
    except ValueError:
        return None
    return None if born > on else age_in_years(born, on)


def whole_years(date_of_birth: str | _dt.date | None, on: _dt.date) -> int | None:
    """The age a nurse says (whole years) on ``on``: ``int`` of :func:`age_years`."""
    years = age_years(date_of_birth, on)
    return None if years is None else int(years)


def visit_moment(visit: Mapping[str, object], *, created: bool = True) -> str | None:
    """When a visit happened, as stored UTC text: started, else scheduled, else (``created``)
    when it was entered; None when there is no such time."""
    for key in ("started_at", "scheduled_at", "created_at") if created else ("started_at", "scheduled_at"):
        value = visit.get(key)
        if value:
            return str(value)
    return None


def local_day(moment: str) -> _dt.date:
    """The laptop's local calendar day of a stored UTC time (``2025-03-01T23:30:00.000Z``)."""
    return _dt.datetime.fromisoformat(moment).astimezone().date()


def visit_day(visit: Mapping[str, object], *, created: bool = True) -> _dt.date | None:
    """The local day of the visit (see :func:`visit_moment`); None without a time."""
    moment = visit_moment(visit, created=created)
    return local_day(moment) if moment else None


RISK_LABELS = {
    "renal": "Renal risk",
    "thrombosis": "Thrombosis risk",
    "first-infusion": "First infusion or brand switch",
}


def order_risks(order: Mapping[str, Any] | None) -> frozenset[str]:
    """The risk flags saved on an order (``orders.risks``), as a set of ``dosing.RISKS``."""
    stored = (order or {}).get("risks") or ()
    return frozenset(r for r in stored if r in RISKS)


def first_infusion_of_product(product_id: str, earlier_visits: Sequence[Mapping[str, Any]]) -> bool:
    """True when none of ``earlier_visits`` gave ``product_id``: the first infusion of this
    product for the patient (new to IVIG, or a brand switch).

    ``earlier_visits`` are the patient's other visits that happened before this one, each
    with ``product_id`` (the order's product) and ``status``.  Only SIGNED visits count as
    given: a draft may be a visit opened by mistake and never infused, and treating a real
    earlier infusion as a first one only slows the ladder, never the other way round.
    """
    return not any(v.get("product_id") == product_id and v.get("status") == "signed" for v in earlier_visits)


def visit_risks(order: Mapping[str, Any] | None, first_infusion: bool) -> frozenset[str]:
    """The risks a visit's dose is worked out with: the order's, plus first-infusion when this
    is the patient's first infusion of the order's product."""
    return order_risks(order) | ({"first-infusion"} if first_infusion else frozenset())


def request_from_order(
    order: Mapping[str, Any],
    patient: Mapping[str, Any],
    weight_kg: float,
    *,
    on: _dt.date | None = None,
    risks: Iterable[str] | None = None,
    baseline: BaselineWeight | None = None,
) -> DoseRequest:
    """THE dose request for an order: every screen, the visit summary and FHIR build it here.

    The order gives the product, regimen or g/kg and days, the weight basis, the maximum
    rate and the risk flags; the patient gives height, sex and (with ``on``, the visit or
    order date) the age; ``weight_kg`` is the weight the dose is for.  Without a regimen
    on the order, the patient's indication (a regimen id) selects the label rate row
    through that regimen's indication.  ``risks`` replaces the order's own flags (a visit
    passes :func:`visit_risks`); ``baseline`` is the weight the order was written for.
    """
    indication = None
    if not order.get("regimen_id") and patient.get("indication"):
        regimen = load_catalogue().regimens.get(patient["indication"])
        indication = regimen.indication if regimen else None
    return DoseRequest(
        product_id=order["product_id"],
        weight_kg=weight_kg,
        height_cm=patient.get("height_cm"),
        sex=patient.get("sex") if patient.get("sex") in ("female", "male") else None,
        regimen_id=order.get("regimen_id"),
        dose_g_per_kg=order.get("dose_g_per_kg"),
        days=order.get("course_days"),
        indication=indication,
        weight_basis=order.get("weight_basis") or "auto",
        max_rate_mg_kg_min=order.get("max_rate_mg_kg_min"),
        risks=frozenset(risks) if risks is not None else order_risks(order),
        baseline_weight_kg=baseline.weight_kg if baseline else None,
        baseline_weighed_on=baseline.measured_on if baseline else None,
        age_years=age_years(patient.get("date_of_birth"), on) if on is not None else None,
    )


@dataclass(frozen=True)
class IntervalWarning:
    code: str
    message: str
    days_since: int
    minimum_days: int
    previous_start: str  # ISO date of the previous course's first day


def minimum_interval_days(order: Mapping[str, Any]) -> tuple[int, str] | None:
    """The shortest gap between courses for an order, and where it comes from: the order's
    own interval, else the regimen's minimum repeat interval (``regimens.toml``)."""
    if order.get("interval_days"):
        return int(order["interval_days"]), "the order's interval"
    regimen = load_catalogue().regimens.get(order.get("regimen_id") or "")
    if regimen is not None and regimen.repeat_min_days:
        return int(regimen.repeat_min_days), f"the shortest repeat interval for {regimen.name.split(':')[0]}"
    return None


def course_interval_warning(
    order: Mapping[str, Any], new_day: int, today: _dt.date, course_starts: Sequence[_dt.date]
) -> IntervalWarning | None:
    """A warning when a visit starting a NEW course (``new_day == 1``) comes sooner than the
    order's interval after the previous course's first day (``course_starts``: the days
    earlier courses under this order started).  None when it is not too soon."""
    if new_day != 1 or not course_starts:
        return None
    minimum = minimum_interval_days(order)
    if minimum is None:
        return None
    days, why = minimum
    previous = max(course_starts)
    since = (today - previous).days
    if since >= days:
        return None
    return IntervalWarning(
        "course-interval",
        f"This visit starts a new course {since} day{'s' if since != 1 else ''} after the previous course "
        f"began ({previous.isoformat()}); {why} is {days} days. Check the order with the prescriber "
        f"before giving the next course early.",
        since,
        days,
        previous.isoformat(),
    )


@dataclass(frozen=True)
class BaselineWeight:
    weight_kg: float
    measured_on: str  # ISO date


def baseline_weight(weights: Sequence[Mapping[str, Any]], order_start: str | None) -> BaselineWeight | None:
    """The weight the order was written for: the last weighing on or before the order's
    start date; when every weighing is later, the first one on record; None without any.

    ``weights`` are weight-history rows (``weight_kg``, ``measured_on`` as an ISO date).
    """
    dated = sorted(
        (w for w in weights if w.get("weight_kg") and w.get("measured_on")),
        key=lambda w: (str(w["measured_on"]), w.get("id") or 0),
    )
    if not dated:
        return None
    before = [w for w in dated if order_start and str(w["measured_on"]) <= str(order_start)]
    chosen = before[-1] if before else dated[0]
    return BaselineWeight(float(chosen["weight_kg"]), str(chosen["measured_on"]))


@dataclass(frozen=True)
class InfusionProgress:
    started: bool
    running: bool  # started, not paused/stopped/ended
    ended: bool
    elapsed_min: float | None
    current_rate_ml_h: float | None
    current_step: int | None  # index into the plan's rate steps matching the current rate
    next_step: int | None
    next_increase_in_min: float | None  # negative: overdue
    state: InfusionState
    halted_by: str | None = None  # PAUSE or STOP while the infusion is halted, else None


def suggested_rate_ml_h(progress: InfusionProgress, steps: Sequence[Mapping[str, Any]]) -> float | None:
    """The rate to offer for the next event, never above what the patient last tolerated.

    Before the start: the plan's first step.  Running: the next step of the plan (None at
    the top).  Paused: the rate it was running at.  Stopped (a reaction): the plan's first
    step, since a restart needs an order and a lower rate.  Ended: None.
    """
    if progress.ended or not steps:
        return None
    first = float(steps[0]["ml_per_h"])
    if not progress.started:
        return first
    if not progress.running:
        if progress.halted_by == PAUSE and progress.current_rate_ml_h:
            return progress.current_rate_ml_h
        return min(first, progress.current_rate_ml_h or first)
    if progress.next_step is not None:
        return float(steps[progress.next_step]["ml_per_h"])
    return None


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def _step_for_rate(rate: float | None, steps: Sequence[Mapping[str, Any]]) -> int | None:
    if rate is None or not steps:
        return None
    best = min(range(len(steps)), key=lambda i: abs(steps[i]["ml_per_h"] - rate))
    return best if abs(steps[best]["ml_per_h"] - rate) <= max(0.5, 0.02 * rate) else None


def infusion_progress(
    events: Sequence[Mapping[str, Any]],
    vitals_times: Sequence[datetime],
    steps: Sequence[Mapping[str, Any]],
    now: datetime,
) -> InfusionProgress:
    """Where the infusion stands.  ``events`` have ``kind``, ``at`` (datetime) and ``rate_ml_h``."""
    events = sorted(events, key=lambda e: e["at"])
    start = next((e["at"] for e in events if e["kind"] == START), None)
    if start is None:
        state = InfusionState(None, tuple(-1.0 for _ in vitals_times), ())
        return InfusionProgress(False, False, False, None, None, None, 0 if steps else None, None, state)
    rate, last_change, running, ended_at, at_max_since, halted_by = None, start, True, None, None, None
    changes = []
    for e in events:
        if e["kind"] in (START, RATE_CHANGE, RESUME) and e.get("rate_ml_h") is not None:
            rate = float(e["rate_ml_h"])
            last_change = e["at"]
            if e["kind"] == RATE_CHANGE:
                changes.append(_minutes(start, e["at"]))
        if e["kind"] in (START, RESUME):
            running, halted_by = True, None
        elif e["kind"] in (PAUSE, STOP):
            running, halted_by = False, e["kind"]
        elif e["kind"] == END:
            running, ended_at, halted_by = False, e["at"], None
    step = _step_for_rate(rate, steps)
    if step is not None and step == len(steps) - 1:
        at_max_since = _minutes(start, last_change)
    next_step = step + 1 if step is not None and step + 1 < len(steps) else None
    next_in = next_at = None
    if step is not None and next_step is not None and running:
        hold = steps[next_step]["start_min"] - steps[step]["start_min"]
        next_at = _minutes(start, last_change) + hold
        next_in = next_at - _minutes(start, now)
    state = InfusionState(
        now_min=_minutes(start, now),
        vitals_at_min=tuple(_minutes(start, t) for t in vitals_times),
        rate_changes_at_min=tuple(changes),
        at_max_since_min=at_max_since,
        ended_at_min=_minutes(start, ended_at) if ended_at else None,
        next_increase_at_min=next_at,
    )
    return InfusionProgress(
        True,
        running,
        ended_at is not None,
        _minutes(start, now),
        rate,
        step,
        next_step,
        next_in,
        state,
        halted_by,
    )
