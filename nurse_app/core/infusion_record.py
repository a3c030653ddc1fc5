"""What the recorded infusion events say happened on a visit: the one rule.

A visit's infusion timeline (store table ``infusion_events``: start, rate_change, pause,
resume, stop, end) decides its outcome:

* ``not-started``: no start recorded;
* ``running``: started (or resumed) and neither stopped nor finished; a pause is still
  running for this purpose (the infusion is expected to resume);
* ``completed``: the last halting event is "end" (the infusion finished);
* ``stopped``: the last halting event is "stop" (stopped before finishing, e.g. for a
  reaction) with no restart after it.

A visit whose infusion was stopped, or finished with less than the planned volume, is a
*partly given* day: it counts as given, but partial (course calendar, summaries, FHIR).

This module also holds the rules for the record itself (issue 11 §1):

* :func:`check_rate`: is a rate allowed (hard limit: label maximum, the order's cap, the
  pump/record maximum: refused) and does it need an acknowledgement (above the plan's next
  step, earlier than the plan's time, above the plan's top, or after flagged vital signs);
* :func:`estimated_volume_ml`: the volume the pump ran, from the rates and times recorded;
* :func:`grams_given`: the dose that volume holds;
* an event struck through by a correction (``corrected_at`` set) no longer counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_minutes, fmt_number, fmt_qty
from nurse_app.core.visit_logic import (
    END,
    EVENT_LABELS,
    PAUSE,
    RATE_CHANGE,
    RESUME,
    START,
    STOP,
    InfusionProgress,
)

NOT_STARTED, RUNNING, COMPLETED, STOPPED = "not-started", "running", "completed", "stopped"
OUTCOMES = (NOT_STARTED, RUNNING, COMPLETED, STOPPED)
OUTCOME_LABELS = {
    NOT_STARTED: "not started",
    RUNNING: "running",
    COMPLETED: "completed",
    STOPPED: "stopped before finishing",
}
# Event kinds that change the outcome (rate changes and pauses do not).
DECISIVE_KINDS = (START, RESUME, STOP, END)
# Events that close the infusion and carry the volume given.
CLOSING_KINDS = (STOP, END)
# Below the planned volume by more than this (mL) the day is partly given.  A pump reading is
# a whole number of mL; 1 mL is the reading's own resolution, not a clinical threshold.
VOLUME_TOLERANCE_ML = 1.0
# A typed rate is compared with a limit shown to 0.1 mL/h: half of that is display rounding.
RATE_TOLERANCE_ML_H = 0.05


def counts(event: Mapping[str, Any]) -> bool:
    """False for an event struck through by a correction."""
    return not event.get("corrected_at")


def _moment(event: Mapping[str, Any]) -> Any:
    return event.get("at", event.get("occurred_at")) or ""


@dataclass(frozen=True)
class InfusionOutcome:
    status: str
    volume_ml: float | None = None  # given (pump reading at stop/finish), when recorded
    planned_ml: float | None = None
    reason: str = ""  # why less than planned was given

    @property
    def short(self) -> bool:
        """Finished with less than the planned volume."""
        return (
            self.volume_ml is not None
            and self.planned_ml is not None
            and self.volume_ml < self.planned_ml - VOLUME_TOLERANCE_ML
        )

    @property
    def partial(self) -> bool:
        """A day stopped before finishing, or finished short: given, but only partly."""
        return self.status == STOPPED or (self.status == COMPLETED and self.short)

    @property
    def given(self) -> bool:
        return self.status != NOT_STARTED

    @property
    def label(self) -> str:
        if self.status == COMPLETED and self.short:
            return "finished, partly given"
        return OUTCOME_LABELS[self.status]


def infusion_outcome(events: Sequence[Mapping[str, Any]], planned_ml: float | None = None) -> InfusionOutcome:
    """The outcome of a visit's infusion from its events (``kind`` and ``occurred_at`` or
    ``at``; any order: sorted by time here, ties in the given order).  Events struck through
    by a correction are left out; the closing event's ``volume_ml``/``reason`` are the
    volume given and why it was less than ``planned_ml``."""
    ordered = sorted(
        ((i, e) for i, e in enumerate(events) if counts(e)), key=lambda pair: (str(_moment(pair[1])), pair[0])
    )
    status, volume, reason = NOT_STARTED, None, ""
    for _, event in ordered:
        kind = event.get("kind")
        if kind in (START, RESUME):
            status, volume, reason = RUNNING, None, ""
        elif kind in CLOSING_KINDS and status != NOT_STARTED:
            status = STOPPED if kind == STOP else COMPLETED
            if event.get("volume_ml") is not None:
                volume = float(event["volume_ml"])
            reason = event.get("reason") or ""
    return InfusionOutcome(status, volume, planned_ml, reason)


def outcome_from_kinds(kinds: Sequence[str]) -> InfusionOutcome:
    """:func:`infusion_outcome` of event kinds already in time order (a bulk query)."""
    return infusion_outcome([{"kind": k, "at": f"{i:08d}"} for i, k in enumerate(kinds)])


# --------------------------------------------------------------------------- rates


def _conc_mg_per_ml(calc: Mapping[str, Any]) -> float | None:
    pct = calc.get("concentration_percent")
    return float(pct) * 10 if pct else None


def _weight(calc: Mapping[str, Any]) -> float | None:
    w = calc.get("rate_weight_kg") or calc.get("dosing_weight_kg")
    return float(w) if w else None


def mg_per_kg_min(rate_ml_h: float | None, calc: Mapping[str, Any] | None) -> float | None:
    """A pump rate in mg/kg/min for this visit's product and weight (None without a calculation)."""
    if rate_ml_h is None or not calc:
        return None
    conc, weight = _conc_mg_per_ml(calc), _weight(calc)
    if not conc or not weight:
        return None
    return float(rate_ml_h) * conc / (weight * 60)


def ml_per_h(mg_kg_min: float, calc: Mapping[str, Any]) -> float:
    weight, conc = _weight(calc), _conc_mg_per_ml(calc)
    if not weight or not conc:
        raise InputError(
            "The saved calculation has no dosing weight or concentration: recalculate the dose.",
            field="calculation",
        )
    return mg_kg_min * weight * 60 / conc


def _for_weight(calc: Mapping[str, Any] | None) -> str:
    weight = _weight(calc) if calc else None
    return f" for {fmt_qty(weight, 'kg')}" if weight else ""


def rate_text(rate_ml_h: float | None, calc: Mapping[str, Any] | None) -> str:
    """``250 mL/h (5.6 mg/kg/min)``: every rate in both units."""
    if rate_ml_h is None:
        return ""
    text = fmt_qty(rate_ml_h, "mL/h")
    mg = mg_per_kg_min(rate_ml_h, calc)
    return f"{text} ({fmt_number(mg, 2)} mg/kg/min)" if mg is not None else text


def _label_max(calc: Mapping[str, Any]) -> float | None:
    """The label maximum for this product, row and risks (mg/kg/min): stored with newer
    calculations; for older ones looked up in the catalogue."""
    if calc.get("label_max_mg_per_kg_min") is not None:
        return float(calc["label_max_mg_per_kg_min"])
    try:
        from nurse_app.core.catalogue import load_catalogue

        product = load_catalogue().products[calc["product"]]
    except Exception:  # noqa: BLE001 - an unknown product: no label limit to apply
        return None
    rows = [r for r in product.rates if list(r.indications) == list(calc.get("rate_row_indications") or [])]
    if not rows:
        return None
    top = rows[0].max_mg_kg_min
    if {"renal", "thrombosis"} & set(calc.get("risks") or []) and product.at_risk_max_mg_kg_min:
        top = min(top, product.at_risk_max_mg_kg_min)
    return top


@dataclass(frozen=True)
class HardLimit:
    ml_per_h: float
    mg_per_kg_min: float | None
    reason: str


def hard_limit(calc: Mapping[str, Any] | None) -> HardLimit | None:
    """The rate that must never be exceeded: the lowest of the label maximum, the order's
    cap and the pump/record maximum (None without a calculation)."""
    if not calc or not _conc_mg_per_ml(calc) or not _weight(calc):
        return None
    limits: list[tuple[float, str]] = []
    label = _label_max(calc)
    if label is not None:
        limits.append((ml_per_h(label, calc), f"the label maximum of {fmt_qty(label, 'mg/kg/min')}"))
    disease = calc.get("indication_max_mg_per_kg_min")
    if disease is not None and (label is None or float(disease) < label):
        limits.append(
            (
                ml_per_h(float(disease), calc),
                f"the {calc.get('indication') or 'indication'} maximum of {fmt_qty(float(disease), 'mg/kg/min')} "
                f"(any product)",
            )
        )
    cap = calc.get("order_max_rate_mg_per_kg_min")
    if cap is None and calc.get("rate_ceiling_reason") == "maximum rate entered (order)":
        cap = calc.get("rate_ceiling_mg_per_kg_min")
    if cap is not None:
        limits.append(
            (ml_per_h(float(cap), calc), f"the order's maximum of {fmt_qty(float(cap), 'mg/kg/min')}")
        )
    if calc.get("pump_max_ml_per_h"):
        limits.append(
            (
                float(calc["pump_max_ml_per_h"]),
                f"the pump and record maximum of {fmt_qty(calc['pump_max_ml_per_h'], 'mL/h')}",
            )
        )
    if not limits:
        return None
    top, reason = min(limits, key=lambda pair: pair[0])
    return HardLimit(top, mg_per_kg_min(top, calc), reason)


def hard_limit_message(rate_ml_h: float | None, calc: Mapping[str, Any] | None) -> str | None:
    """Why ``rate_ml_h`` is refused, or None when it is within the hard limit."""
    limit = hard_limit(calc)
    if rate_ml_h is None or limit is None:
        return None
    if rate_ml_h <= round(limit.ml_per_h, 1) + RATE_TOLERANCE_ML_H:
        return None
    return (
        f"{rate_text(rate_ml_h, calc)} is above {limit.reason} "
        f"({rate_text(limit.ml_per_h, calc)}{_for_weight(calc)}): refused. "
        f"Set the pump at or below {fmt_qty(limit.ml_per_h, 'mL/h', 1)}."
    )


@dataclass(frozen=True)
class RateCheck:
    refused: str | None = None  # hard limit: the event is not recorded
    warnings: tuple[str, ...] = field(default=())  # soft: recorded only once acknowledged

    @property
    def allowed(self) -> bool:
        return self.refused is None


def flagged_text(flags: Sequence[Any], at: str = "") -> str:
    """``38.2 °C temperature, heart rate 112 /min`` from VitalFlag messages."""
    return "; ".join(f.message.rstrip(".") for f in flags)


def check_rate(
    kind: str,
    rate_ml_h: float,
    calc: Mapping[str, Any] | None,
    progress: InfusionProgress,
    flags: Sequence[Any] = (),
) -> RateCheck:
    """May ``rate_ml_h`` be set now (``kind``: start, rate_change or resume)?

    Refused above the hard limit (:func:`hard_limit`).  Warnings that need an
    acknowledgement: above the plan's first step at the start; above the plan's next step,
    or before the plan's time for it; above the plan's top rate; above the rate it ran at
    before a pause or stop; any increase while the last vital signs are flagged (``flags``:
    the core vital flags of the latest reading).
    """
    refused = hard_limit_message(rate_ml_h, calc)
    if refused:
        return RateCheck(refused=refused)
    steps = list((calc or {}).get("rate_steps") or [])
    warnings: list[str] = []
    shown = rate_text(rate_ml_h, calc)
    current = progress.current_rate_ml_h

    def above(limit: float) -> bool:
        return rate_ml_h > round(limit, 1) + RATE_TOLERANCE_ML_H

    if steps:
        first, top = float(steps[0]["ml_per_h"]), float(steps[-1]["ml_per_h"])
        if kind == START and above(first):
            warnings.append(f"{shown} is above the plan's starting rate of {rate_text(first, calc)}.")
        elif kind == RATE_CHANGE and current is not None and rate_ml_h > current + RATE_TOLERANCE_ML_H:
            if progress.next_step is not None:
                nxt = float(steps[progress.next_step]["ml_per_h"])
                if above(nxt):
                    warnings.append(f"{shown} is above the plan's next step of {rate_text(nxt, calc)}.")
                if progress.next_increase_in_min is not None and progress.next_increase_in_min > 0.5:
                    warnings.append(
                        f"{shown} is earlier than the plan: its next step is due in "
                        f"{fmt_minutes(progress.next_increase_in_min)}."
                    )
            if above(top):
                warnings.append(f"{shown} is above the plan's top rate of {rate_text(top, calc)}.")
        elif kind == RESUME and current is not None and above(current):
            warnings.append(
                f"{shown} is above the rate before the {'stop' if progress.halted_by == STOP else 'pause'} "
                f"({rate_text(current, calc)})."
            )
    increase = current is not None and rate_ml_h > current + RATE_TOLERANCE_ML_H
    if flags and (increase or (kind == RESUME and progress.halted_by == STOP)):
        warnings.append(
            f"The last vital signs are flagged ({flagged_text(flags)}): the titration is held. "
            f"Step up only on purpose."
        )
    return RateCheck(warnings=tuple(warnings))


# --------------------------------------------------------------------------- volume


def _parse(at: Any) -> datetime:
    if isinstance(at, datetime):
        return at
    return datetime.fromisoformat(str(at))


def estimated_volume_ml(events: Sequence[Mapping[str, Any]], until: datetime | None = None) -> float:
    """The volume the pump ran: each running stretch at its rate, up to the stop/finish
    (or ``until`` while it still runs).  Corrected events are left out."""
    ordered = sorted((e for e in events if counts(e)), key=lambda e: str(_moment(e)))
    total, rate, since = 0.0, None, None
    for e in ordered:
        at = _parse(_moment(e))
        if since is not None and rate:
            total += rate * max(0.0, (at - since).total_seconds()) / 3600
        kind = e.get("kind")
        if kind in (START, RATE_CHANGE, RESUME):
            if e.get("rate_ml_h") is not None:
                rate = float(e["rate_ml_h"])
            if kind != RATE_CHANGE or since is not None:
                since = at
        elif kind in (PAUSE, STOP, END):
            since = None
            if kind == END:
                break
    if since is not None and rate and until is not None:
        total += rate * max(0.0, (until - since).total_seconds()) / 3600
    return total


def grams_given(volume_ml: float | None, calc: Mapping[str, Any] | None) -> float | None:
    """Grams in ``volume_ml`` of this product (mg/mL × mL ÷ 1000)."""
    conc = _conc_mg_per_ml(calc) if calc else None
    if volume_ml is None or not conc:
        return None
    return volume_ml * conc / 1000


def planned_volume_ml(calc: Mapping[str, Any] | None) -> float | None:
    return float(calc["daily_volume_ml"]) if calc and calc.get("daily_volume_ml") else None


def needs_reason(volume_ml: float, calc: Mapping[str, Any] | None) -> bool:
    planned = planned_volume_ml(calc)
    return planned is not None and volume_ml < planned - VOLUME_TOLERANCE_ML


# --------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    minute: float | None  # from the start
    label: str  # "Rate changed to 84 mL/h (2 mg/kg/min)"
    detail: str  # acknowledgements, volume, reason, note
    corrected: str = ""  # "Struck through by Maria, RN at 10:42: wrong button"


def timeline(
    events: Sequence[Mapping[str, Any]],
    calc: Mapping[str, Any] | None,
    time_text: Callable[[datetime], str] = lambda at: at.strftime("%H:%M"),
) -> list[TimelineRow]:
    """The infusion timeline as people read it: every event with its rate in mL/h and
    mg/kg/min, the acknowledged warnings, the volume given, and corrections."""
    ordered = sorted(events, key=lambda e: str(_moment(e)))
    start = next((_parse(_moment(e)) for e in ordered if e.get("kind") == START and counts(e)), None)
    rows = []
    for e in ordered:
        at = _parse(_moment(e))
        kind = str(e.get("kind"))
        label = EVENT_LABELS.get(kind, kind)
        if e.get("rate_ml_h") is not None:
            label += f" at {rate_text(e['rate_ml_h'], calc)}"
        parts = []
        if e.get("volume_ml") is not None:
            grams = grams_given(e["volume_ml"], calc)
            parts.append(
                f"volume given {fmt_qty(e['volume_ml'], 'mL', 0)}"
                + (f" ({fmt_qty(grams, 'g', 2)})" if grams is not None else "")
            )
        if e.get("reason"):
            parts.append(f"reason: {e['reason'].rstrip('.')}")
        if e.get("note"):
            parts.append(e["note"].rstrip("."))
        for ack in e.get("acknowledgements") or []:
            parts.append(f"acknowledged: {ack}")
        corrected = ""
        if e.get("corrected_at"):
            corrected = (
                f"Struck through by {e.get('corrected_by') or 'unknown'} at "
                f"{time_text(_parse(e['corrected_at']))}: {e.get('correction_reason') or ''}"
            )
        minute = (at - start).total_seconds() / 60 if start else None
        detail = "; ".join(parts)
        rows.append(TimelineRow(at, minute, label, detail[:1].upper() + detail[1:], corrected))
    return rows


def total_minutes(events: Sequence[Mapping[str, Any]]) -> float | None:
    """From the start to the stop/finish (None while not closed)."""
    ordered = sorted((e for e in events if counts(e)), key=lambda e: str(_moment(e)))
    start = next((_parse(_moment(e)) for e in ordered if e.get("kind") == START), None)
    close = [e for e in ordered if e.get("kind") in CLOSING_KINDS]
    if start is None or not close:
        return None
    return (_parse(_moment(close[-1])) - start).total_seconds() / 60
