"""Visit lifecycle use cases shared by the UI and the CLI (no Qt).

* :func:`start_or_reopen`: "Start visit" reopens today's draft instead of creating another
  draft that would count as the next course day; a second visit the same day is made only
  on purpose, with a reason that is recorded on the visit;
* :func:`void_draft`: a draft entered by mistake is voided (kept, audited, read-only and
  no longer a course day) rather than left behind or deleted;
* :func:`todays_visits`: the patient's visits of the local calendar day;
* :func:`visit_needing_nurse`: the visit a restart reopens (a running infusion, else an
  unsigned draft of today; never a voided or signed one).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import InputError
from nurse_app.core.visit_logic import counts_as_course_day, course_day, course_interval_warning

if TYPE_CHECKING:
    from nurse_app.core.visit_logic import IntervalWarning
    from nurse_app.store.api import Store

DRAFT, SIGNED, VOIDED = "draft", "signed", "voided"


NO_ORDER = (
    "This patient has no active IVIG order, so no visit can start: the dose, the rate plan and "
    "every check of the visit come from the order. Add it on the Patients page: select the "
    "patient, then Add order… (as the prescriber wrote it)."
)
RUNNING_AT_VOID = (
    "An infusion is in progress on this visit. Stop it first on the Infusion tab (Stop, with the "
    "volume the pump shows), then void the visit: a voided visit can no longer record it."
)


class NoOrderError(InputError):
    """The patient has no active order: no visit (and no infusion) without one."""

    def __init__(self, message: str = NO_ORDER):
        super().__init__(message, "order_id")


class SameDayVisitError(InputError):
    """The patient already has a visit today: another one needs a reason."""

    def __init__(self, message: str, visit: dict[str, Any]):
        super().__init__(message, "same_day_reason")
        self.visit = visit


@dataclass(frozen=True)
class VisitStart:
    visit_id: int
    reopened: bool  # True: today's draft was reopened, nothing was created


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _local_day(visit: dict[str, Any]) -> _dt.date:
    moment = visit.get("started_at") or visit.get("scheduled_at") or visit["created_at"]
    return _dt.datetime.fromisoformat(moment).astimezone().date()


def todays_visits(store: Store, patient_id: int, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
    """The patient's visits (not voided) of today's local date under the active order (a
    visit under an order replaced since is not today's visit of the new order), newest first."""
    today = (now or _now()).astimezone().date()
    orders = store.patient_orders(patient_id, active_only=True)
    order_id = orders[0]["id"] if orders else None
    return [
        v
        for v in store.patient_visits(patient_id)
        if counts_as_course_day(v) and _local_day(v) == today and v.get("order_id") == order_id
    ]


def plan_visit(
    store: Store, patient_id: int, now: _dt.datetime | None = None
) -> tuple[dict[str, Any] | None, int, int, IntervalWarning | None]:
    """Today's new visit from the patient's active order: (order, course day, course days,
    interval warning or None).  Voided visits are not course days; the warning is core's
    ``course_interval_warning`` (a new course sooner than the order's interval)."""
    orders = store.patient_orders(patient_id, active_only=True)
    order = orders[0] if orders else None
    if order is None:
        return None, 1, 1, None
    days = order.get("course_days") or (
        load_catalogue().regimens[order["regimen_id"]].usual_days(order.get("product_id"))
        if order.get("regimen_id")
        else 1
    )
    given = [
        v
        for v in store.patient_visits(patient_id)
        if v.get("order_id") == order["id"] and counts_as_course_day(v)
    ]
    day = course_day(len(given), days)
    starts = [_local_day(v) for v in given if v.get("course_day") == 1]
    today = (now or _now()).astimezone().date()
    return order, day, days, course_interval_warning(order, day, today, starts)


def start_or_reopen(
    store: Store,
    patient_id: int,
    *,
    same_day_reason: str | None = None,
    acknowledged: list[dict[str, Any]] | None = None,
    now: _dt.datetime | None = None,
    dry_run: bool = False,
) -> VisitStart | None:
    """Today's visit for the patient.

    Without ``same_day_reason``: today's draft is reopened if there is one; if today's visit
    is already signed, :class:`SameDayVisitError` asks for a reason.  With a reason (not
    blank): a new draft is created, the reason recorded with it.  ``acknowledged`` start
    warnings (see :func:`plan_visit`) are recorded with a new visit.  ``dry_run``: only
    say what would happen (today's draft, or None for a new visit; the error as above).
    """
    reason = (same_day_reason or "").strip()
    today = todays_visits(store, patient_id, now)
    if today and not reason:
        drafts = [v for v in today if v["status"] == DRAFT]
        if drafts:
            return VisitStart(drafts[0]["id"], True)
        raise SameDayVisitError(
            "This patient already has a signed visit today. Another visit the same day needs a "
            "reason (for example: infusion restarted after a pump failure).",
            today[0],
        )
    order, day, days, _warning = plan_visit(store, patient_id, now)
    if order is None:
        raise NoOrderError(NO_ORDER)
    if dry_run:
        return None
    values: dict[str, Any] = dict(
        order_id=order["id"] if order else None, started_at=now or _now(), course_day=day, course_days=days
    )
    if today:
        values["same_day_reason"] = reason
    if acknowledged:
        values["start_acknowledgements"] = {"warnings": acknowledged}
    return VisitStart(store.create_visit(patient_id, **values), False)


def void_draft(store: Store, visit_id: int, reason: str) -> dict[str, Any]:
    """Void a draft entered by mistake (a reason is required; a signed visit is refused, and so
    is a visit whose infusion is still in progress: it is stopped first, with its volume)."""
    if not (reason or "").strip():
        raise InputError(
            "Say why this visit is voided (for example: opened for the wrong patient).", "reason"
        )
    if infusion_in_progress(store, visit_id):
        raise InputError(RUNNING_AT_VOID, "status")
    return store.void_visit(visit_id, reason.strip())


def infusion_in_progress(store: Store, visit_id: int, now: _dt.datetime | None = None) -> bool:
    """Started and neither finished nor stopped (core's :func:`infusion_progress`, the rule the
    Infusion tab shows): a paused infusion is still in progress."""
    from nurse_app.core import infusion_record
    from nurse_app.core.visit_logic import STOP, infusion_progress
    from nurse_app.store import to_local

    events = [
        {**e, "at": to_local(e["occurred_at"])}
        for e in store.visit_infusion_events(visit_id)
        if infusion_record.counts(e)
    ]
    if not events:
        return False
    progress = infusion_progress(events, [], [], now or _now())
    return progress.started and not progress.ended and progress.halted_by != STOP


def visit_needing_nurse(store: Store, now: _dt.datetime | None = None) -> int | None:
    """The draft visit a restart opens: one with an infusion in progress (the newest), else the
    newest unsigned draft of today's local date; None when no draft needs the nurse."""
    drafts = store.draft_visits()
    for visit in drafts:
        if infusion_in_progress(store, visit["id"], now):
            return int(visit["id"])
    today = (now or _now()).astimezone().date()
    for visit in drafts:
        if _local_day(visit) == today:
            return int(visit["id"])
    return None
