"""The course calendar and follow-up rules (core.schedule), pure: no record file."""

from __future__ import annotations

import datetime as dt

import pytest

from nurse_app.core import schedule as S
from nurse_app.core.errors import InputError, ResourceError
from nurse_app.core.infusion_record import infusion_outcome

D = dt.date


def plan(start="2025-01-06", days=5, interval=28, tolerance=3, order_id=1):
    return S.OrderPlan(order_id, days, interval, D.fromisoformat(start), tolerance)


def visit(vid, date, day, status="signed", partial=False):
    return {"id": vid, "date": date, "course_day": day, "status": status, "partial": partial}


def course_of(vid0, start, days=5, status="signed"):
    first = D.fromisoformat(start)
    return [visit(vid0 + i, first + dt.timedelta(days=i), i + 1, status) for i in range(days)]


def test_first_course_planned_days_and_window_before_anything_is_given():
    courses = S.course_calendar(plan(), [], today=D(2025, 1, 1))
    first = courses[0]
    assert first.state == S.PLANNED
    assert [d.date for d in first.days] == [D(2025, 1, 6) + dt.timedelta(days=i) for i in range(5)]
    assert (first.window_start, first.window_end) == (D(2025, 1, 3), D(2025, 1, 9))
    assert S.next_course(courses) is first


def test_interval_counts_from_the_first_day_actually_given():
    # course 1 given two days late: course 2 is due 28 days after that real first day
    visits = course_of(1, "2025-01-08")
    courses = S.course_calendar(plan(), visits, today=D(2025, 1, 20), until=D(2025, 2, 10))
    assert courses[0].state == S.DONE and courses[0].given_days == 5
    assert courses[1].due == D(2025, 2, 5)
    assert courses[1].state == S.PLANNED
    assert (courses[1].window_start, courses[1].window_end) == (D(2025, 2, 2), D(2025, 2, 8))


def test_due_in_window_then_late_then_missed_when_the_next_course_comes_due():
    visits = course_of(1, "2025-01-06")
    assert S.course_calendar(plan(), visits, today=D(2025, 2, 2))[1].state == S.DUE
    assert S.course_calendar(plan(), visits, today=D(2025, 2, 10))[1].state == S.LATE
    courses = S.course_calendar(plan(), visits, today=D(2025, 3, 1))
    assert courses[1].state == S.MISSED
    # the next course after a missed one is due an interval after the missed due date
    assert courses[2].due == D(2025, 3, 3) and courses[2].state == S.DUE


def test_a_late_course_given_before_the_next_window_still_counts_as_that_course():
    visits = course_of(1, "2025-01-06") + course_of(10, "2025-02-14")
    courses = S.course_calendar(plan(), visits, today=D(2025, 2, 20))
    assert courses[1].started and courses[1].state == S.DONE
    assert courses[1].first_date == D(2025, 2, 14)
    assert courses[2].due == D(2025, 3, 14)


def test_a_day_stopped_early_counts_as_given_but_partial():
    visits = course_of(1, "2025-01-06")
    visits[2]["partial"] = True
    course = S.course_calendar(plan(), visits, today=D(2025, 1, 12))[0]
    assert course.given_days == 5
    assert course.days[2].status == S.PARTIAL
    assert course.state == S.PARTIAL


def test_partial_flag_comes_from_the_infusion_events():
    events = [
        {"kind": "start", "occurred_at": "2025-01-06T10:00:00Z"},
        {"kind": "stop", "occurred_at": "2025-01-06T11:00:00Z"},
    ]
    assert infusion_outcome(events).partial
    assert (
        infusion_outcome(
            [
                *events,
                {"kind": "resume", "occurred_at": "2025-01-06T11:30:00Z"},
                {"kind": "end", "occurred_at": "2025-01-06T13:00:00Z"},
            ]
        ).status
        == "completed"
    )
    assert infusion_outcome([]).status == "not-started"
    assert (
        infusion_outcome(
            [{"kind": "start", "occurred_at": "x"}, {"kind": "pause", "occurred_at": "y"}]
        ).status
        == "running"
    )


def test_voided_visits_do_not_count():
    visits = [*course_of(1, "2025-01-06")[:2], visit(9, D(2025, 1, 8), 3, status="voided")]
    course = S.course_calendar(plan(), visits, today=D(2025, 1, 8))[0]
    assert course.given_days == 2
    assert course.days[2].visit is None and course.days[2].status == S.DUE
    assert course.state == S.DUE


def test_course_in_progress_with_a_day_not_given_is_late_then_partial_when_closed():
    visits = course_of(1, "2025-01-06")[:3]  # days 1-3 given, 4-5 not
    course = S.course_calendar(plan(), visits, today=D(2025, 1, 11))[0]
    assert [d.status for d in course.days] == ["done", "done", "done", "late", "late"]
    assert course.state == S.LATE
    closed = S.course_calendar(plan(), visits, today=D(2025, 2, 5))[0]
    assert closed.state == S.PARTIAL
    assert closed.days[3].status == S.MISSED
    assert closed.last_date == D(2025, 1, 8)


def test_draft_visit_is_given_but_still_due():
    visits = [visit(1, D(2025, 1, 6), 1, status="draft")]
    course = S.course_calendar(plan(), visits, today=D(2025, 1, 6))[0]
    assert course.days[0].status == S.DUE and course.days[0].visit.visit_id == 1


def test_changed_order_recomputes_from_its_start_but_given_visits_keep_their_dates():
    visits = course_of(1, "2025-01-06")
    before = S.course_calendar(plan(interval=28), visits, today=D(2025, 1, 20))
    after = S.course_calendar(plan(interval=21), visits, today=D(2025, 1, 20))
    assert before[1].due == D(2025, 2, 3)
    assert after[1].due == D(2025, 1, 27)
    assert [d.date for d in after[0].days] == [d.date for d in before[0].days]
    # a replacing order with a later start: the same visits, now before its first course
    replaced = S.course_calendar(plan(start="2025-01-06", days=3), visits, today=D(2025, 1, 20))
    assert [d.visit.visit_id for d in replaced[0].days] == [1, 2, 3]


def test_month_ends_and_leap_day():
    visits = course_of(1, "2024-01-30", days=2)
    courses = S.course_calendar(
        plan(start="2024-01-30", days=2, interval=30), visits, today=D(2024, 2, 1), until=D(2024, 3, 31)
    )
    assert [d.date for d in courses[0].days] == [D(2024, 1, 30), D(2024, 1, 31)]
    assert courses[1].due == D(2024, 2, 29)
    assert [d.date for d in courses[1].days] == [D(2024, 2, 29), D(2024, 3, 1)]


def test_dst_change_dates_do_not_shift_planned_days():
    # 2025-03-09 (US) and 2025-03-30 (EU) clocks change: planned dates are calendar days
    courses = S.course_calendar(
        plan(start="2025-03-08", days=5, interval=21), [], today=D(2025, 3, 1), until=D(2025, 4, 30)
    )
    assert [d.date for d in courses[0].days] == [D(2025, 3, 8) + dt.timedelta(days=i) for i in range(5)]
    assert courses[1].due == D(2025, 3, 29) and courses[2].due == D(2025, 4, 19)


def test_single_course_order_without_interval():
    p = plan(interval=None, days=2)
    courses = S.course_calendar(p, [], today=D(2025, 1, 1), until=D(2025, 6, 1))
    assert len(courses) == 1
    again = S.course_calendar(
        p, course_of(1, "2025-01-06", 2) + course_of(5, "2025-03-01", 2), today=D(2025, 3, 5)
    )
    assert [c.state for c in again] == ["done", "done"]


def rules(**overrides):
    return S.apply_overrides(S.load_followups().rules, overrides)


def test_rash_call_8_to_10_days_after_each_course_and_done_when_signed():
    visits = course_of(1, "2025-01-06")
    courses = S.course_calendar(plan(), visits, today=D(2025, 1, 18), until=D(2025, 2, 20))
    items = [
        f
        for f in S.followups_due(
            courses, rules(), indication="cidp", risks=(), calls=[], today=D(2025, 1, 18)
        )
        if f.rule.id == "rash-check-call"
    ]
    assert (items[0].start, items[0].end, items[0].status) == (D(2025, 1, 18), D(2025, 1, 20), S.DUE)
    assert items[1].course_number == 2 and items[1].status == S.PLANNED
    done = S.followups_due(
        courses,
        rules(),
        indication="cidp",
        risks=(),
        calls=[{"id": 4, "rule_id": "rash-check-call", "course_number": 1, "status": "signed", "reached": 1}],
        today=D(2025, 1, 18),
    )
    assert done[0].status == S.DONE and done[0].call_id == 4


def test_response_review_only_for_dermatomyositis_and_renal_check_only_with_the_flag():
    visits = course_of(1, "2025-01-06")
    courses = S.course_calendar(plan(), visits, today=D(2025, 3, 5), until=D(2025, 3, 20))
    dm = S.followups_due(
        courses, rules(), indication="dermatomyositis", risks=(), calls=[], today=D(2025, 3, 5)
    )
    review = [f for f in dm if f.rule.kind == "response-review"]
    # ~2 months (due now) and ~4 months (week 16, planned)
    assert [(f.start, f.status) for f in review] == [(D(2025, 3, 3), S.DUE), (D(2025, 4, 28), S.PLANNED)]
    assert not [f for f in dm if f.rule.id == "renal-check"]
    renal = S.followups_due(
        courses, rules(), indication="cidp", risks=("renal",), calls=[], today=D(2025, 3, 5)
    )
    assert {f.rule.id for f in renal} == {"rash-check-call", "renal-check"}
    assert not [f for f in renal if f.rule.kind == "response-review"]


def test_pi_trough_is_unverified_and_before_the_next_course():
    rule = S.load_followups().rule("pi-igg-trough")
    assert rule.unverified and "UNVERIFIED" in rule.note
    courses = S.course_calendar(plan(days=1), course_of(1, "2025-01-06", 1), today=D(2025, 2, 1))
    trough = [
        f
        for f in S.followups_due(courses, rules(), indication="pi", risks=(), calls=[], today=D(2025, 2, 1))
        if f.rule.id == "pi-igg-trough"
    ]
    assert trough[0].course_number == 2 and trough[0].end == D(2025, 2, 3)


def test_overrides_switch_off_and_move_windows_and_refuse_nonsense():
    changed = rules(
        **{"rash-check-call": {"start_days": 7, "end_days": 14}, "renal-check": {"enabled": False}}
    )
    rash = next(r for r in changed if r.id == "rash-check-call")
    assert (rash.start_days, rash.end_days) == (7, 14)
    assert not next(r for r in changed if r.id == "renal-check").applies_to(None, ["renal"])
    with pytest.raises(InputError, match="unknown"):
        rules(**{"no-such-rule": {"enabled": False}})
    with pytest.raises(InputError, match="ends before"):
        rules(**{"rash-check-call": {"start_days": 10, "end_days": 8}})
    with pytest.raises(InputError, match="unknown setting"):
        rules(**{"rash-check-call": {"window": 3}})


def test_every_rule_cites_known_sources_and_a_broken_file_is_refused():
    settings = S.load_followups()
    assert settings.tolerance_days >= 0 and "confirm" in settings.tolerance_note
    for rule in settings.rules:
        assert rule.sources and all(s in settings.sources for s in rule.sources)
    bad = {
        "sources": {"A": "a"},
        "source_class": {"A": "secondary"},
        "schedule": {
            "tolerance_days": 3,
            "tolerance_note": "x",
            "overdue_lookback_days": 30,
            "inactive_after_intervals": 2,
            "inactive_note": "x",
        },
        "rule": [
            {
                "id": "x",
                "kind": "lab",
                "title": "t",
                "anchor": "course-last-day",
                "start_days": 5,
                "end_days": 2,
                "every_course": True,
                "why": "w",
                "questions": [{"id": "q", "text": "q?"}],
                "advice": "a",
                "sources": ["A"],
            }
        ],
    }
    with pytest.raises(ResourceError, match="end_days"):
        S.parse_followups(bad, "followups.toml")
    bad["rule"][0].update(end_days=9, sources=["B"])
    with pytest.raises(ResourceError, match="not listed"):
        S.parse_followups(bad, "followups.toml")


def test_no_rash_call_for_a_course_that_is_late_and_not_given():
    courses = S.course_calendar(plan(), course_of(1, "2025-01-06"), today=D(2025, 2, 14))
    assert courses[1].state == S.LATE
    calls = [
        f
        for f in S.followups_due(
            courses, rules(), indication="cidp", risks=(), calls=[], today=D(2025, 2, 14)
        )
        if f.rule.id == "rash-check-call"
    ]
    assert 2 not in [f.course_number for f in calls]
    assert calls[0].course_number == 1


def test_a_long_run_of_missed_courses_before_since_is_counted_not_listed():
    visits = course_of(1, "2024-01-08")
    today = D(2025, 1, 20)
    full = S.course_calendar(plan(start="2024-01-08"), visits, today=today)
    short = S.course_calendar(plan(start="2024-01-08"), visits, today=today, since=D(2024, 12, 16))
    assert len(short) <= 5 < len(full)
    assert short[0].number == 1 and short[0].state == S.DONE
    tail = {c.number: c for c in full if c.number >= short[1].number}
    assert all(tail[c.number] == c for c in short[1:])  # same numbers, dates, states
    assert [c.state for c in full[1:-2]] == [S.MISSED] * (len(full) - 3)


def test_escalation_reads_plain_and_recorded_answers():
    rash = S.load_followups().rule("rash-check-call")
    assert S.escalation_needed(rash, {"fever": "yes", "blisters": {"answer": "no"}}) == ["Any fever?"]
    assert S.escalation_needed(rash, {"where": "yes"}) == []  # not an escalating question
