"""Visit workflow rules: course day, lots against the plan, infusion progress."""

from datetime import UTC, datetime, timedelta

import pytest

from nurse_app.core.dosing import calculate
from nurse_app.core.lots import check_lots
from nurse_app.core.visit_logic import (
    END,
    PAUSE,
    RATE_CHANGE,
    RESUME,
    START,
    STOP,
    BaselineWeight,
    baseline_weight,
    course_day,
    infusion_progress,
    request_from_order,
    suggested_rate_ml_h,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STEPS = [
    {"start_min": 0, "ml_per_h": 42},
    {"start_min": 30, "ml_per_h": 84},
    {"start_min": 60, "ml_per_h": 168},
    {"start_min": 90, "ml_per_h": 336},
]


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "previous, days, expected", [(0, 5, 1), (1, 5, 2), (4, 5, 5), (5, 5, 1), (0, 1, 1), (3, 2, 2)]
)
def test_course_day(previous, days, expected):
    assert course_day(previous, days) == expected


def test_request_from_order_uses_patient_and_todays_weight():
    order = {"product_id": "gamunex-c", "regimen_id": "pemphigus", "dose_g_per_kg": None, "course_days": None}
    patient = {"height_cm": 170, "sex": "female", "indication": "pemphigus"}
    result = calculate(request_from_order(order, patient, 70))
    assert result.daily_dose_g == pytest.approx(28)
    custom = {"product_id": "privigen", "regimen_id": None, "dose_g_per_kg": 1, "course_days": 2}
    r2 = calculate(request_from_order(custom, {"indication": "itp-2day"}, 70))
    assert r2.rate_ceiling_mg_kg_min == 4  # ITP row picked through the patient's regimen


WEIGHTS = [
    {"id": 3, "weight_kg": 74, "measured_on": "2025-06-01"},  # newest first, as the store lists
    {"id": 2, "weight_kg": 71, "measured_on": "2025-03-01"},
    {"id": 1, "weight_kg": 70, "measured_on": "2025-01-06"},
]


@pytest.mark.parametrize(
    "order_start, expected",
    [
        ("2025-03-01", BaselineWeight(71, "2025-03-01")),  # weighed on the start day
        ("2025-04-15", BaselineWeight(71, "2025-03-01")),  # last weighing before the start
        ("2026-01-01", BaselineWeight(74, "2025-06-01")),
        ("2024-12-01", BaselineWeight(70, "2025-01-06")),  # every weighing later: the first on record
        (None, BaselineWeight(70, "2025-01-06")),
    ],
)
def test_baseline_weight_is_the_weight_the_order_was_written_for(order_start, expected):
    assert baseline_weight(WEIGHTS, order_start) == expected


def test_no_weights_no_baseline():
    assert baseline_weight([], "2025-01-01") is None


def test_check_lots_against_the_plan_and_dose():
    calc = {"product": "privigen", "daily_dose_g": 27.94, "dispensed_g_per_day": 30}

    def lot(size, count, product="privigen"):
        return {
            "product_id": product,
            "lot_number": "L1",
            "expiry_date": "2099-01-01",
            "vial_size_g": size,
            "vial_count": count,
        }

    assert not check_lots([], calc).matches_plan
    short = check_lots([lot(20, 1)], calc)
    assert not short.matches_plan and short.alert and "short" in short.message
    ok = check_lots([lot(20, 1), lot(10, 1)], calc)
    assert ok.matches_plan and ok.dispensed_g == 30 and "match the vial plan" in ok.message
    over = check_lots([lot(20, 2)], calc)
    assert not over.matches_plan and "10 g more than the vial plan (30 g)" in over.message


def test_infusion_not_started():
    p = infusion_progress([], [], STEPS, at(0))
    assert not p.started and p.state.now_min is None


def test_infusion_progress_through_steps():
    events = [{"kind": START, "at": at(0), "rate_ml_h": 42}]
    p = infusion_progress(events, [at(-5)], STEPS, at(20))
    assert p.running and p.current_step == 0 and p.next_step == 1
    assert p.next_increase_in_min == pytest.approx(10)
    events.append({"kind": RATE_CHANGE, "at": at(32), "rate_ml_h": 84})
    p = infusion_progress(events, [at(-5), at(15), at(29)], STEPS, at(40))
    assert p.current_step == 1 and p.next_increase_in_min == pytest.approx(22)  # 32 + 30 - 40
    assert p.state.rate_changes_at_min == (32,)
    events.append({"kind": PAUSE, "at": at(45), "rate_ml_h": None})
    p = infusion_progress(events, [], STEPS, at(50))
    assert not p.running and p.next_increase_in_min is None
    events.append({"kind": END, "at": at(200), "rate_ml_h": None})
    p = infusion_progress(events, [], STEPS, at(201))
    assert p.ended and p.state.ended_at_min == 200


def test_at_max_rate_tracked():
    events = [
        {"kind": START, "at": at(0), "rate_ml_h": 42},
        {"kind": RATE_CHANGE, "at": at(95), "rate_ml_h": 336},
    ]
    p = infusion_progress(events, [], STEPS, at(100))
    assert p.current_step == 3 and p.next_step is None and p.state.at_max_since_min == 95


def test_suggested_rate_never_above_what_was_tolerated():
    def suggested(events, minute):
        return suggested_rate_ml_h(infusion_progress(events, [], STEPS, at(minute)), STEPS)

    assert suggested([], 0) == 42  # start at the first step
    events = [
        {"kind": START, "at": at(0), "rate_ml_h": 42},
        {"kind": RATE_CHANGE, "at": at(30), "rate_ml_h": 84},
    ]
    assert suggested(events, 40) == 168  # running: the next step
    events.append({"kind": PAUSE, "at": at(45), "rate_ml_h": None})
    p = infusion_progress(events, [], STEPS, at(50))
    assert p.halted_by == PAUSE and not p.running
    assert suggested(events, 50) == 84  # paused: resume where it was
    events.append({"kind": RESUME, "at": at(55), "rate_ml_h": 84})
    assert infusion_progress(events, [], STEPS, at(56)).halted_by is None
    events.append({"kind": STOP, "at": at(60), "rate_ml_h": None})
    assert infusion_progress(events, [], STEPS, at(61)).halted_by == STOP
    assert suggested(events, 61) == 42  # stopped: back to the first step
    events.append({"kind": RESUME, "at": at(90), "rate_ml_h": 42})
    events.append({"kind": RATE_CHANGE, "at": at(120), "rate_ml_h": 336})
    assert suggested(events, 125) is None  # at the top of the plan
    events.append({"kind": END, "at": at(200), "rate_ml_h": None})
    assert suggested(events, 201) is None
    assert suggested_rate_ml_h(infusion_progress([], [], [], at(0)), []) is None
