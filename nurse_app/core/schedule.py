"""The course calendar and the follow-ups it brings: pure rules, no Qt, no SQL.

Input: an order (start date, days per course, repeat interval, tolerance) and the visits
actually given on it (local date, course day, status, partial).  Output: every course
from the order's start up to a horizon, with its planned dates, the days given, its due
window and its state, and the follow-up items (rash check call, response review, lab
checks) that the rules in ``resources/followups.toml`` attach to the courses.

Rules of the calendar:

* the visits on an order are grouped into courses in date order: a visit whose course
  day is not after the previous one's starts a new course;
* course 1 is due on the order's start date; each later course is due one interval after
  the first day of the previous course as actually given (a past visit never moves; the
  plan follows it), or after the previous course's due date when that course was missed;
* a course is due from ``due - tolerance`` to ``due + tolerance``; visits starting before
  the next course's window opens belong to it (given late, they still count);
* voided visits count as not given; a visit whose infusion was stopped before finishing
  counts as given but partial (:mod:`nurse_app.core.infusion_record`);
* a changed or replaced order is recomputed from its start with the same visits.

States: ``planned`` (not yet due), ``due`` (in its window, or in progress), ``done``
(every day given), ``partial`` (a day stopped early, or the course closed with days
missing), ``late`` (past its window, still not given), ``missed`` (the next course came
due without it).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from nurse_app.core.age_rules import over_renal_risk_age
from nurse_app.core.errors import InputError
from nurse_app.core.resources import load_toml, validate

PLANNED, DUE, DONE, PARTIAL, LATE, MISSED = "planned", "due", "done", "partial", "late", "missed"
STATUSES = (PLANNED, DUE, DONE, PARTIAL, LATE, MISSED)
OPEN_STATUSES = (PLANNED, DUE, LATE)  # still to do
COURSE_DAY = "course-day"
ANCHORS = ("course-last-day", "first-course-start", "next-course-start")
SIGNED, DRAFT, VOIDED = "signed", "draft", "voided"
_MAX_COURSES = 2000


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answer: str = "yes-no"  # "yes-no" or "text"


@dataclass(frozen=True)
class FollowupRule:
    id: str
    kind: str
    title: str
    anchor: str
    start_days: int
    end_days: int
    every_course: bool
    indications: tuple[str, ...]
    risk: str | None
    why: str
    questions: tuple[Question, ...]
    advice: str
    escalate_if: tuple[str, ...]
    note: str
    unverified: bool
    sources: tuple[str, ...]
    enabled: bool = True
    # Only after the first N courses of a product for the patient (None or 0: every course).
    first_courses: int | None = None
    # Also for a patient older than the boxed warning's renal-risk age (core.age_rules).
    over_renal_risk_age: bool = False

    def applies_to(
        self, indication: str | None, risks: Iterable[str], age_years: float | None = None
    ) -> bool:
        if not self.enabled:
            return False
        if self.indications and indication not in self.indications:
            return False
        return self.risk is None or self.risk in set(risks) or self.applies_by_age(risks, age_years)

    def applies_by_age(self, risks: Iterable[str], age_years: float | None) -> bool:
        """True when the rule applies only because of the patient's age (no flag on the order)."""
        return (
            self.over_renal_risk_age
            and (self.risk is None or self.risk not in set(risks))
            and over_renal_risk_age(age_years)
        )

    def follows_course(self, number: int, new_product: bool) -> bool:
        """Whether this rule follows course ``number`` of an order: every course, or only the
        first ``first_courses`` of a product new to the patient (``new_product``)."""
        if not self.first_courses:
            return True
        return new_product and number <= self.first_courses

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class FollowupSettings:
    tolerance_days: int
    tolerance_note: str
    overdue_lookback_days: int
    rules: tuple[FollowupRule, ...]
    sources: dict[str, str]
    inactive_after_intervals: int = 2
    inactive_note: str = ""

    def rule(self, rule_id: str) -> FollowupRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def parse_followups(data: dict[str, Any], name: str) -> FollowupSettings:
    """Validate the parsed followups file; raises ``ResourceError`` naming the field."""
    validate("followups.toml", data, name)
    rules = tuple(
        FollowupRule(
            r["id"],
            r["kind"],
            r["title"],
            r["anchor"],
            r["start_days"],
            r["end_days"],
            r["every_course"],
            tuple(r.get("indications", ())),
            r.get("risk"),
            r["why"],
            tuple(Question(q["id"], q["text"], q.get("answer", "yes-no")) for q in r["questions"]),
            r["advice"],
            tuple(r.get("escalate_if", ())),
            r.get("note", ""),
            r.get("unverified", False),
            tuple(r["sources"]),
            first_courses=r.get("first_courses"),
            over_renal_risk_age=r.get("over_renal_risk_age", False),
        )
        for r in data["rule"]
    )
    sched = data["schedule"]
    return FollowupSettings(
        sched["tolerance_days"],
        sched["tolerance_note"],
        sched["overdue_lookback_days"],
        rules,
        dict(data["sources"]),
        sched["inactive_after_intervals"],
        sched["inactive_note"],
    )


@lru_cache(maxsize=1)
def load_followups() -> FollowupSettings:
    """The follow-up rules with the agency policy file's [followups] changes applied."""
    from dataclasses import replace as _replace

    from nurse_app.core.policy import load_policy

    data, name = load_toml("followups.toml")
    settings = parse_followups(data, name)
    overrides = load_policy().followups
    if not overrides:
        return settings
    return _replace(settings, rules=apply_overrides(settings.rules, overrides))


def apply_overrides(
    rules: Sequence[FollowupRule], overrides: Mapping[str, Mapping[str, Any]] | None
) -> tuple[FollowupRule, ...]:
    """The rules with an agency's changes: ``{rule_id: {"enabled": bool, "start_days": n,
    "end_days": n, "first_courses": n}}`` (``first_courses`` may only widen the rule: more
    courses, or 0 for every course).  An unknown rule id or field, or a window that ends before it
    starts, is refused with a message (never silently ignored).

    This is the seam for the agency policy file: its loader passes its table here.
    """
    if not overrides:
        return tuple(rules)
    by_id = {r.id: r for r in rules}
    for rule_id, change in overrides.items():
        if rule_id not in by_id:
            raise InputError(
                f"Follow-up rule {rule_id!r} in the agency policy is unknown (known: {', '.join(by_id)}).",
                field="followups",
            )
        unknown = set(change) - {"enabled", "start_days", "end_days", "first_courses"}
        if unknown:
            raise InputError(
                f"Follow-up rule {rule_id!r}: unknown setting(s) "
                f"{', '.join(sorted(unknown))} (use enabled, start_days, end_days, first_courses).",
                field="followups",
            )
        if "first_courses" in change:
            v, now = change["first_courses"], by_id[rule_id].first_courses
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                raise InputError(
                    f"Follow-up rule {rule_id!r}: first_courses is a whole number of courses "
                    f"(0 for every course, up to 100), not {v!r}.",
                    field="followups",
                )
            if now and v and v < now:
                raise InputError(
                    f"Follow-up rule {rule_id!r}: first_courses may widen the rule (more than {now} "
                    f"courses, or 0 for every course), not narrow it to {v}.",
                    field="followups",
                )
        values: dict[str, Any] = {}
        if "enabled" in change:
            if not isinstance(change["enabled"], bool):
                raise InputError(f"Follow-up rule {rule_id!r}: enabled is true or false.", field="followups")
            values["enabled"] = change["enabled"]
        for key in ("start_days", "end_days"):
            if key in change:
                v = change[key]
                if isinstance(v, bool) or not isinstance(v, int) or not -366 <= v <= 366:
                    raise InputError(
                        f"Follow-up rule {rule_id!r}: {key} is a whole number of "
                        f"days (-366 to 366), not {v!r}.",
                        field="followups",
                    )
                values[key] = v
        if "first_courses" in change:
            values["first_courses"] = change["first_courses"]
        updated = replace(by_id[rule_id], **values)
        if updated.end_days < updated.start_days:
            raise InputError(
                f"Follow-up rule {rule_id!r}: the window ends before it starts.", field="followups"
            )
        by_id[rule_id] = updated
    return tuple(by_id[r.id] for r in rules)


# --------------------------------------------------------------------------- the calendar


@dataclass(frozen=True)
class OrderPlan:
    order_id: int
    course_days: int
    interval_days: int | None  # None: a single course, repeated only when given again
    start_date: _dt.date
    tolerance_days: int


def order_plan(
    order: Mapping[str, Any], *, default_tolerance: int | None = None, regimen: Any = None
) -> OrderPlan:
    """The calendar parameters of an order row: its own days and interval, else the
    regimen's (``regimen``: a catalogue Regimen or None); its tolerance, else the default."""
    days = (
        order.get("course_days")
        or (regimen.usual_days(order.get("product_id")) if regimen is not None else None)
        or 1
    )
    interval = order.get("interval_days") or (regimen.repeat_min_days if regimen is not None else None)
    tolerance = order.get("tolerance_days")
    if tolerance is None:
        tolerance = load_followups().tolerance_days if default_tolerance is None else default_tolerance
    return OrderPlan(
        int(order["id"]),
        int(days),
        int(interval) if interval else None,
        as_date(order["start_date"]),
        int(tolerance),
    )


@dataclass(frozen=True)
class GivenVisit:
    visit_id: int
    date: _dt.date
    course_day: int
    status: str  # signed / draft (voided ones are left out)
    partial: bool = False


@dataclass(frozen=True)
class CourseDay:
    day: int
    date: _dt.date
    status: str
    visit: GivenVisit | None = None


@dataclass(frozen=True)
class Course:
    number: int  # 1-based, on this order
    course_days: int
    due: _dt.date  # planned first day
    window_start: _dt.date
    window_end: _dt.date
    days: tuple[CourseDay, ...]
    state: str
    started: bool = False  # at least one day given

    @property
    def first_date(self) -> _dt.date:
        return self.days[0].date

    @property
    def last_date(self) -> _dt.date:
        """The last day given (a closed partial course) or planned."""
        if self.state == PARTIAL and any(d.visit is None for d in self.days):
            return max(d.date for d in self.days if d.visit is not None)
        return self.days[-1].date

    @property
    def given_days(self) -> int:
        return sum(1 for d in self.days if d.visit is not None)


def as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value)[:10])


def _given(visits: Iterable[Mapping[str, Any] | GivenVisit]) -> list[GivenVisit]:
    out = []
    for v in visits:
        if not isinstance(v, GivenVisit):
            if v.get("status") == VOIDED:
                continue
            v = GivenVisit(
                int(v["id"]),
                as_date(v["date"]),
                int(v["course_day"]),
                str(v.get("status") or DRAFT),
                bool(v.get("partial")),
            )
        if v.status != VOIDED:
            out.append(v)
    return sorted(out, key=lambda v: (v.date, v.course_day, v.visit_id))


def _groups(visits: list[GivenVisit]) -> list[list[GivenVisit]]:
    groups: list[list[GivenVisit]] = []
    for v in visits:
        if groups and v.course_day > groups[-1][-1].course_day:
            groups[-1].append(v)
        else:
            groups.append([v])
    return groups


def _day_status(visit: GivenVisit | None, date: _dt.date, today: _dt.date, closed: bool) -> str:
    if visit is not None:
        if visit.partial:
            return PARTIAL
        return DONE if visit.status == SIGNED else DUE
    if date > today:
        return PLANNED
    if date == today:
        return DUE
    return MISSED if closed else LATE


def _course(
    number: int, plan: OrderPlan, due: _dt.date, group: list[GivenVisit] | None, today: _dt.date, closed: bool
) -> Course:
    n, tol = plan.course_days, plan.tolerance_days
    w_start, w_end = due - _dt.timedelta(days=tol), due + _dt.timedelta(days=tol)
    if not group:
        if today < w_start:
            state = PLANNED
        elif today <= w_end:
            state = DUE
        else:
            state = MISSED if closed else LATE
        days = tuple(
            CourseDay(
                d, due + _dt.timedelta(days=d - 1), state if d == 1 or state in (LATE, MISSED) else PLANNED
            )
            for d in range(1, n + 1)
        )
        return Course(number, n, due, w_start, w_end, days, state, False)
    by_day: dict[int, GivenVisit] = {}
    for v in group:
        by_day.setdefault(min(v.course_day, n), v)
    given_days = sorted(by_day)
    day_list: list[CourseDay] = []
    for d in range(1, n + 1):
        visit = by_day.get(d)
        if visit is not None:
            date = visit.date
        else:
            before = [g for g in given_days if g < d]
            ref = before[-1] if before else given_days[0]
            date = by_day[ref].date + _dt.timedelta(days=d - ref)
        day_list.append(CourseDay(d, date, _day_status(visit, date, today, closed), visit))
    statuses = [d.status for d in day_list]
    if all(d.visit is not None for d in day_list):
        state = PARTIAL if PARTIAL in statuses else (DONE if all(s == DONE for s in statuses) else DUE)
    elif closed:
        state = PARTIAL
    elif LATE in statuses:
        state = LATE
    else:
        state = DUE
    return Course(number, n, due, w_start, w_end, tuple(day_list), state, True)


def course_calendar(
    plan: OrderPlan,
    visits: Iterable[Mapping[str, Any] | GivenVisit],
    today: _dt.date,
    until: _dt.date | None = None,
    *,
    since: _dt.date | None = None,
) -> list[Course]:
    """Every course of the order from its start until ``until`` (default: today), plus
    any course given later and the first course due after ``until``.  ``visits``: the
    visits on this order, as dicts with ``id``, ``date`` (local date), ``course_day``,
    ``status`` and ``partial``, or GivenVisit.

    ``since``: a run of courses missed after the last visit whose next window opened
    before ``since`` is counted (course numbers stay right) but not listed, so an order
    left active for months without visits costs no more than one that is kept up."""
    until = max(until or today, today)
    groups = _groups(_given(visits))
    courses: list[Course] = []
    due, gi, number = plan.start_date, 0, 0
    tol = _dt.timedelta(days=plan.tolerance_days)
    while len(courses) < _MAX_COURSES:
        number += 1
        if since is not None and plan.interval_days and gi >= len(groups) and number > 1:
            # whole intervals whose course closed (next window opened) before ``since``
            interval = plan.interval_days
            # course j from here closes on due + (j + 1) * interval - tol: skip those that
            # closed before ``since`` (and by today)
            closes = due + _dt.timedelta(days=interval) - tol
            limit = min(since, today + _dt.timedelta(days=1))
            skip = max(0, ((limit - closes).days + interval - 1) // interval)
            if skip:
                number += skip
                due += _dt.timedelta(days=skip * interval)
        if plan.interval_days is None:
            if gi < len(groups) and number > 1:
                due = groups[gi][0].date
            elif number > 1:
                break
            next_opens = None
        else:
            next_opens = due + _dt.timedelta(days=plan.interval_days) - tol
        group = None
        if gi < len(groups) and (next_opens is None or groups[gi][0].date < next_opens):
            group, gi = groups[gi], gi + 1
        closed = (gi < len(groups)) or (next_opens is not None and today >= next_opens)
        course = _course(number, plan, due, group, today, closed)
        courses.append(course)
        if group is None and gi >= len(groups) and course.window_start > until:
            break  # the next course beyond the horizon: its due window is shown
        if plan.interval_days is None:
            if gi >= len(groups):
                break
            continue
        base = course.days[0].date if group else due
        due = base + _dt.timedelta(days=plan.interval_days)
    return courses


def next_course(courses: Sequence[Course]) -> Course | None:
    """The first course not yet started and not missed (its due window is the next one)."""
    return next((c for c in courses if not c.started and c.state != MISSED), None)


# --------------------------------------------------------------------------- follow-ups


@dataclass(frozen=True)
class FollowupDue:
    rule: FollowupRule
    course_number: int
    start: _dt.date
    end: _dt.date
    status: str
    call_id: int | None = None
    reached: bool | None = None


def followups_due(
    courses: Sequence[Course],
    rules: Iterable[FollowupRule],
    *,
    indication: str | None,
    risks: Iterable[str],
    calls: Iterable[Mapping[str, Any]],
    today: _dt.date,
    age_years: float | None = None,
    new_product: bool = True,
) -> list[FollowupDue]:
    """The follow-ups the rules attach to these courses, with their state.

    ``age_years``: the patient's age (rules that also apply over the renal-risk age);
    ``new_product``: the order's product is new to the patient (no earlier order on it), so
    rules limited to the first courses of a product follow this order's first courses.

    ``calls``: the follow-up records on this order (``id``, ``rule_id``, ``course_number``,
    ``status`` signed/draft, ``reached``).  A signed record makes its item done; a draft
    keeps it open with the record's id to reopen.
    """
    risks = set(risks)
    recorded: dict[tuple[str, int], Mapping[str, Any]] = {}
    for call in sorted(calls, key=lambda c: (c.get("status") == SIGNED, c["id"])):
        recorded[(call["rule_id"], int(call["course_number"] or 1))] = call  # signed wins
    out: list[FollowupDue] = []
    live = [c for c in courses if c.state != MISSED]
    for rule in rules:
        if not rule.applies_to(indication, risks, age_years):
            continue
        anchors: list[tuple[int, _dt.date, _dt.date | None]] = []  # course, anchor, closes
        if rule.anchor == "first-course-start":
            if courses and courses[0].state != MISSED:
                anchors.append((1, courses[0].first_date, None))
            elif live:
                anchors.append((live[0].number, live[0].first_date, None))
        elif rule.anchor == "course-last-day":
            for i, c in enumerate(live):
                if not c.started and c.state not in (PLANNED, DUE):
                    continue  # a late course: no call until it is given
                later = live[i + 1] if i + 1 < len(live) else None
                closes = later.first_date if later is not None and later.started else None
                anchors.append((c.number, c.last_date, closes))
        else:  # next-course-start: before each course after the first
            for i, c in enumerate(live):
                if i == 0 and c.number == 1:
                    continue
                anchors.append(
                    (c.number, c.due if not c.started else c.first_date, c.first_date if c.started else None)
                )
        if not rule.every_course:
            anchors = anchors[:1]
        anchors = [a for a in anchors if rule.follows_course(a[0], new_product)]
        for number, anchor, closes in anchors:
            start = anchor + _dt.timedelta(days=rule.start_days)
            end = anchor + _dt.timedelta(days=rule.end_days)
            record = recorded.get((rule.id, number))
            if record is not None and record.get("status") == SIGNED:
                status = DONE
            elif today < start:
                status = PLANNED
            elif today <= end:
                status = DUE
            elif closes is not None and today >= closes:
                status = MISSED  # the next course (or, for a trough, this one) has begun
            else:
                status = LATE
            out.append(
                FollowupDue(
                    rule,
                    number,
                    start,
                    end,
                    status,
                    record["id"] if record is not None else None,
                    None if record is None or record.get("reached") is None else bool(record.get("reached")),
                )
            )
    return out


def escalation_needed(rule: FollowupRule, answers: Mapping[str, Any]) -> list[str]:
    """The rule's questions answered "yes" that call for telling the prescriber.
    ``answers``: ``{question_id: "yes"}`` or ``{question_id: {"answer": "yes", ...}}``."""

    def answer(qid: str) -> str:
        value = answers.get(qid)
        if isinstance(value, Mapping):
            value = value.get("answer")
        return str(value or "").lower()

    return [q.text for q in rule.questions if q.id in rule.escalate_if and answer(q.id) == "yes"]


def inactive_since(
    plan: OrderPlan,
    visits: Iterable[Mapping[str, Any] | GivenVisit],
    today: _dt.date,
    intervals: int,
) -> _dt.date | None:
    """The date of the order's last visit (or its start, never visited) when that is more than
    ``intervals`` repeat intervals before ``today``: the order may be inactive and is confirmed
    with the pharmacy instead of listing a course due every interval.  None otherwise, and for
    an order without a repeat interval."""
    if not plan.interval_days:
        return None
    given = _given(visits)
    last = given[-1].date if given else plan.start_date
    if (today - last).days > intervals * plan.interval_days:
        return last
    return None
