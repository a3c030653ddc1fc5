"""The nurse's week: use cases over the store and the core calendar (no Qt).

* :func:`build_schedule` - every course day, call, review and lab check from ``start``
  for ``days`` days, plus what is late or missed from the last weeks, in time order;
* :func:`start_call` / :func:`save_call` / :func:`sign_call` - a follow-up call record;
* :func:`rules_in_force` - the follow-up rules with the agency's overrides applied.

The Week page, the week sheet PDF, the .ics export and ``nurse-app schedule`` all call
:func:`build_schedule`, so they show the same items.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nurse_app.core import schedule as core
from nurse_app.core.catalogue import Catalogue, load_catalogue
from nurse_app.core.dosing import calculate
from nurse_app.core.errors import InputError, NurseAppError
from nurse_app.core.formatting import fmt_date, fmt_qty
from nurse_app.core.infusion_record import outcome_from_kinds
from nurse_app.core.visit_logic import age_years, request_from_order
from nurse_app.store.times import today_local

if TYPE_CHECKING:
    from nurse_app.store.api import Store

DEFAULT_DAYS = 8  # today and the next 7 days
ORDER_CHECK = "order-check"  # an order with no visit for too long: confirm it with the pharmacy
INACTIVE_TEXT = "order may be inactive — confirm with the pharmacy"
STATUS_LABELS = {
    core.PLANNED: "planned",
    core.DUE: "due",
    core.DONE: "done",
    core.PARTIAL: "partly given",
    core.LATE: "late",
    core.MISSED: "missed",
}
_SORT_STATUS = {core.MISSED: 0, core.LATE: 1, core.DUE: 2, core.PARTIAL: 3, core.PLANNED: 4, core.DONE: 5}


@dataclass(frozen=True)
class ScheduleItem:
    date: _dt.date
    kind: str  # course-day, rash-check-call, response-review, lab, order-check
    patient_id: int
    order_id: int | None
    visit_id: int | None
    status: str
    label: str
    patient_name: str = ""
    mrn: str = ""
    course_number: int | None = None
    course_day: int | None = None
    course_days: int | None = None
    product: str = ""
    expected_dose: str = ""
    window_end: _dt.date | None = None
    rule_id: str | None = None
    call_id: int | None = None
    title: str = ""
    detail: str = ""

    @property
    def is_call(self) -> bool:
        return self.kind != core.COURSE_DAY

    @property
    def overdue(self) -> bool:
        return self.status in (core.LATE, core.MISSED)

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object (the keys the issue specifies)."""
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "patient_id": self.patient_id,
            "order_id": self.order_id,
            "visit_id": self.visit_id,
            "status": self.status,
            "label": self.label,
        }


@dataclass
class Schedule:
    start: _dt.date
    days: int
    today: _dt.date
    items: list[ScheduleItem] = field(default_factory=list)

    @property
    def end(self) -> _dt.date:
        """The first day after the range."""
        return self.start + _dt.timedelta(days=self.days)

    @property
    def late_count(self) -> int:
        return sum(1 for i in self.items if i.overdue)

    def kinds(self) -> list[str]:
        return sorted({i.kind for i in self.items}, key=lambda k: (k != core.COURSE_DAY, k))


def rules_in_force(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[core.FollowupRule, ...]:
    """The follow-up rules of ``resources/followups.toml`` with the agency's changes.

    Seam for the agency policy file: when it exists, its ``[followups]`` table is passed
    here (``core.schedule.apply_overrides``)."""
    return core.apply_overrides(load_followups_rules(), overrides)


def load_followups_rules() -> tuple[core.FollowupRule, ...]:
    return core.load_followups().rules


def _local_date(moment: str) -> _dt.date:
    return _dt.datetime.fromisoformat(moment).astimezone().date()


class _Doses:
    """The expected daily dose of an order from the dose engine (one calculation per order)."""

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def text(self, order: Mapping[str, Any]) -> str:
        if order["id"] in self._cache:
            return self._cache[order["id"]]
        weight = order.get("patient_weight_kg")
        if not weight:
            text = "no weight on record"
        else:
            patient = {
                "height_cm": order.get("patient_height_cm"),
                "sex": order.get("patient_sex"),
                "indication": order.get("patient_indication"),
                "date_of_birth": order.get("patient_date_of_birth"),
            }
            try:
                result = calculate(request_from_order(order, patient, float(weight)))
                text = f"{fmt_qty(result.daily_dose_g, 'g')} a day"
            except NurseAppError as exc:
                text = f"dose not calculated: {exc}"
        self._cache[order["id"]] = text
        return text


def _indication(order: Mapping[str, Any], catalogue: Catalogue) -> str | None:
    regimen = catalogue.regimens.get(order.get("regimen_id") or "") or catalogue.regimens.get(
        order.get("patient_indication") or ""
    )
    return regimen.indication if regimen else None


def _risks(order: Mapping[str, Any]) -> tuple[str, ...]:
    risks = order.get("risks")
    if isinstance(risks, (list, tuple)):
        return tuple(str(r) for r in risks)
    if isinstance(risks, Mapping):
        return tuple(k for k, v in risks.items() if v)
    return ()


def build_schedule(
    store: Store,
    start: _dt.date | None = None,
    days: int = DEFAULT_DAYS,
    *,
    today: _dt.date | None = None,
    kinds: Iterable[str] | None = None,
    rules: Iterable[core.FollowupRule] | None = None,
    with_doses: bool = True,
) -> Schedule:
    """The schedule from ``start`` (default: today) for ``days`` days, in time order,
    with the late and missed items of the last weeks before it (lookback from
    ``resources/followups.toml``).  Three queries for the whole record."""
    if not 1 <= days <= 366:
        raise InputError("The number of days is from 1 to 366.", field="days")
    today = today or today_local()
    start = start or today
    end = start + _dt.timedelta(days=days)
    settings = core.load_followups()
    rules = tuple(rules) if rules is not None else rules_in_force()
    lookback = start - _dt.timedelta(days=settings.overdue_lookback_days)
    wanted = set(kinds) if kinds is not None else None
    catalogue = load_catalogue()
    orders, visits, calls = store.schedule_rows()
    visits_by_order: dict[int, list[dict[str, Any]]] = {}
    for v in visits:
        visits_by_order.setdefault(v["order_id"], []).append(
            {
                "id": v["id"],
                "date": _local_date(v["moment"]),
                "course_day": v["course_day"],
                "status": v["status"],
                "partial": bool(v["event_kinds"]) and outcome_from_kinds(v["event_kinds"]).partial,
            }
        )
    calls_by_order: dict[int, list[dict[str, Any]]] = {}
    for c in calls:
        calls_by_order.setdefault(c["order_id"], []).append(c)
    doses = _Doses()
    items: list[ScheduleItem] = []
    for order in orders:
        regimen = catalogue.regimens.get(order.get("regimen_id") or "")
        plan = core.order_plan(order, default_tolerance=settings.tolerance_days, regimen=regimen)
        product = catalogue.products.get(order["product_id"])
        base = {
            "patient_id": order["patient_id"],
            "order_id": order["id"],
            "patient_name": order["patient_name"],
            "mrn": order["patient_mrn"],
            "product": product.display_name if product else order["product_id"],
        }
        who = f"{order['patient_name']} ({order['patient_mrn']})"
        given = visits_by_order.get(order["id"], [])
        since = core.inactive_since(plan, given, today, settings.inactive_after_intervals)
        if since is not None:
            # One line instead of a course "due" every interval for months.
            shown_on = max(today, start)
            if (wanted is None or ORDER_CHECK in wanted) and shown_on < end:
                last = (
                    f"last visit {fmt_date(since)}"
                    if given
                    else f"no visit since its start on {fmt_date(since)}"
                )
                items.append(
                    ScheduleItem(
                        shown_on,
                        ORDER_CHECK,
                        visit_id=None,
                        status=core.DUE,
                        label=f"{who}: {INACTIVE_TEXT} ({last})",
                        title="Order may be inactive",
                        detail=(
                            f"{base['product']}, repeated every {plan.interval_days} days: more than "
                            f"{settings.inactive_after_intervals} repeat intervals without a visit. "
                            f"{settings.inactive_note}"
                        ),
                        **base,
                    )
                )
            continue
        courses = core.course_calendar(plan, given, today, until=max(end, today), since=lookback)
        if wanted is None or core.COURSE_DAY in wanted:
            items.extend(_course_items(courses, order, base, who, start, end, lookback, doses, with_doses))
        age = age_years(order.get("patient_date_of_birth"), today)
        followups = core.followups_due(
            courses,
            rules,
            indication=_indication(order, catalogue),
            risks=_risks(order),
            calls=calls_by_order.get(order["id"], []),
            today=today,
            age_years=age,
            new_product=order.get("previous_product_id") != order["product_id"],
        )
        for f in followups:
            if wanted is not None and f.rule.kind not in wanted:
                continue
            in_range = f.start < end and f.end >= start
            overdue = f.status in (core.LATE, core.MISSED) and f.end >= lookback and f.start < end
            if not (in_range or overdue):
                continue
            window = fmt_date(f.start) if f.start == f.end else f"{fmt_date(f.start)} to {fmt_date(f.end)}"
            after = {
                "course-last-day": f"after course {f.course_number}",
                "first-course-start": "after the first course",
                "next-course-start": f"before course {f.course_number}",
            }[f.rule.anchor]
            reached = "" if f.reached is None else (" (reached)" if f.reached else " (not reached)")
            if f.rule.applies_by_age(_risks(order), age) and catalogue.limits.age is not None:
                over = fmt_qty(catalogue.limits.age.renal_risk_over_years, "years")
                reached = f" (age over {over}, no renal flag on the order){reached}"
            items.append(
                ScheduleItem(
                    f.start,
                    f.rule.kind,
                    visit_id=None,
                    status=f.status,
                    label=f"{who}: {f.rule.title}, {after}, {window}{reached}",
                    course_number=f.course_number,
                    window_end=f.end,
                    rule_id=f.rule.id,
                    call_id=f.call_id,
                    title=f.rule.title,
                    detail=f.rule.why + (f" {f.rule.note}" if f.rule.note else ""),
                    **base,
                )
            )
    items = _with_visit_times(items, visits)
    items.sort(
        key=lambda i: (
            i.date,
            _SORT_STATUS.get(i.status, 9),
            i.kind != core.COURSE_DAY,
            i.patient_name.casefold(),
            i.course_day or 0,
            i.order_id or 0,
        )
    )
    return Schedule(start, days, today, items)


def _with_visit_times(items: list[ScheduleItem], visits: Iterable[Mapping[str, Any]]) -> list[ScheduleItem]:
    """A course day with its visit says when the nurse arrived and left (the visit's own times,
    not the infusion's): ``Arrived 09:02, left 13:30 (4 h 28 min in the home)``."""
    from dataclasses import replace

    from nurse_app.core.formatting import fmt_minutes
    from nurse_app.core.visit_proof import minutes_between
    from nurse_app.store.times import to_local

    times = {v["id"]: (v.get("arrived_at"), v.get("departed_at")) for v in visits}
    out = []
    for item in items:
        arrived, departed = times.get(item.visit_id, (None, None)) if item.visit_id else (None, None)
        if arrived:
            text = f"Arrived {to_local(arrived):%H:%M}"
            minutes = minutes_between(arrived, departed)
            if departed and minutes is not None and minutes >= 0:
                text += f", left {to_local(departed):%H:%M} ({fmt_minutes(minutes)} in the home)"
            item = replace(item, detail=f"{item.detail}\n{text}".strip())
        out.append(item)
    return out


def _course_items(
    courses: Iterable[core.Course],
    order: Mapping[str, Any],
    base: dict[str, Any],
    who: str,
    start: _dt.date,
    end: _dt.date,
    lookback: _dt.date,
    doses: _Doses,
    with_doses: bool,
) -> list[ScheduleItem]:
    out = []
    for course in courses:
        not_started = not course.started
        for day in course.days:
            if not_started and course.state in (core.LATE, core.MISSED) and day.day > 1:
                continue  # one line for a course that was never started
            in_range = start <= day.date < end
            overdue = day.status in (core.LATE, core.MISSED) and lookback <= day.date < end
            if not (in_range or overdue):
                continue
            if not_started and course.state in (core.LATE, core.MISSED):
                what = (
                    f"course {course.number} not started (due {fmt_date(course.window_start)}"
                    f" to {fmt_date(course.window_end)})"
                )
            else:
                what = f"day {day.day} of {course.course_days}, course {course.number}"
            dose = doses.text(order) if with_doses and day.status not in (core.DONE, core.PARTIAL) else ""
            label = f"{who}: {what}, {base['product']}" + (f", {dose}" if dose else "")
            if day.status == core.PARTIAL:
                label += " (stopped before finishing)"
            out.append(
                ScheduleItem(
                    day.date,
                    core.COURSE_DAY,
                    visit_id=day.visit.visit_id if day.visit else None,
                    status=day.status,
                    label=label,
                    course_number=course.number,
                    course_day=day.day,
                    course_days=course.course_days,
                    expected_dose=dose,
                    window_end=course.window_end if day.day == 1 and not course.started else None,
                    title=f"Day {day.day} of {course.course_days}",
                    **base,
                )
            )
    return out


# --------------------------------------------------------------------------- call records


def start_call(store: Store, item: ScheduleItem) -> int:
    """The call record for a schedule item: the existing draft or signed one, else a new
    draft with the rule's advice filled in."""
    if item.call_id is not None:
        return item.call_id
    rule = core.load_followups().rule(item.rule_id or "")
    return store.create_followup_call(
        item.patient_id,
        order_id=item.order_id,
        rule_id=item.rule_id,
        course_number=item.course_number,
        due_date=item.date,
        advice=rule.advice if rule else "",
    )


def save_call(
    store: Store, call_id: int, *, if_unchanged: Mapping[str, Any] | None, **changes: Any
) -> dict[str, Any]:
    """Autosave: store the changed fields of a draft call record.

    ``if_unchanged``: what the screen showed (at least ``updated_at`` of the call it
    loaded); another window's save since is refused with a ConflictError instead of being
    overwritten.  Required, so no caller forgets it (None only where nothing was shown).
    """
    return store.update_followup_call(call_id, if_unchanged=if_unchanged, **changes)


def sign_call(store: Store, call_id: int) -> dict[str, Any]:
    return store.sign_followup_call(call_id)
