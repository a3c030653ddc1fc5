"""Records for the Week tests: patients with orders and the courses given on them."""

from __future__ import annotations

import datetime as dt


def add_patient(
    store,
    name: str,
    *,
    indication: str,
    product: str,
    regimen: str,
    start: dt.date,
    interval: int,
    course_days: int,
    courses: int,
    born: str = "1970-01-01",
    dose: float | None = None,
    risks: tuple[str, ...] = (),
    patient_id: int | None = None,
) -> tuple[int, int]:
    """A patient (or ``patient_id``) with an order and ``courses`` courses given, each on its due
    day (drafts count as given)."""
    if patient_id is None:
        patient_id = store.create_patient(
            mrn=f"MRN-{name.split()[0].upper()}",
            name=name,
            date_of_birth=born,
            sex="female",
            height_cm=165,
            indication=indication,
            prescriber="Dr. K",
        )
        store.add_weight(patient_id, 65, measured_on=start - dt.timedelta(days=1))
    extra = {"dose_g_per_kg": dose} if dose else {}
    order_id = store.create_order(
        patient_id,
        product_id=product,
        regimen_id=regimen,
        course_days=course_days,
        interval_days=interval,
        start_date=start,
        prescriber="Dr. K",
        risks=list(risks),
        **extra,
    )
    for course in range(courses):
        for day in range(course_days):
            date = start + dt.timedelta(days=course * interval + day)
            store.create_visit(
                patient_id,
                order_id=order_id,
                scheduled_at=f"{date.isoformat()}T12:00:00+00:00",
                course_day=day + 1,
                course_days=course_days,
            )
    return patient_id, order_id


def add_week20_patients(store, today: dt.date) -> None:
    """The issue 20 week examples (dates relative to ``today``)."""
    # Dermatomyositis, every 4 weeks, courses kept up: week 16 (day 112) began 2 days ago.
    add_patient(
        store,
        "Dora Mill",
        indication="dermatomyositis",
        product="octagam-10",
        regimen="dermatomyositis",
        start=today - dt.timedelta(days=114),
        interval=28,
        course_days=5,
        courses=5,
    )
    # PI every 28 days, course 5 given 9 days ago: the rash-call window (8-10 days) is today.
    add_patient(
        store,
        "Piet Long",
        indication="pi",
        product="gamunex-c",
        regimen="pi-replacement",
        dose=0.4,
        start=today - dt.timedelta(days=9 + 4 * 28),
        interval=28,
        course_days=1,
        courses=5,
    )
    # A product switch: Gamunex-C before, Privigen now (course 1, 9 days ago).
    pid, old = add_patient(
        store,
        "Sana Wick",
        indication="pi",
        product="gamunex-c",
        regimen="pi-replacement",
        dose=0.4,
        start=today - dt.timedelta(days=9 + 28),
        interval=28,
        course_days=1,
        courses=1,
    )
    store.update_order(old, active=False)
    add_patient(
        store,
        "Sana Wick",
        indication="pi",
        product="privigen",
        regimen="pi-replacement",
        dose=0.4,
        start=today - dt.timedelta(days=9),
        interval=28,
        course_days=1,
        courses=1,
        patient_id=pid,
    )
    # 72 years old, no renal flag: course 1 (1 day) given yesterday.
    add_patient(
        store,
        "Olga Grey",
        indication="cidp",
        product="privigen",
        regimen="cidp-maintenance",
        start=today - dt.timedelta(days=1),
        interval=21,
        course_days=1,
        courses=1,
        born=(today - dt.timedelta(days=int(72 * 365.25))).isoformat(),
    )
    # Every 21 days, last visit 90 days ago: more than two intervals without a visit.
    add_patient(
        store,
        "Ivo Stale",
        indication="cidp",
        product="gamunex-c",
        regimen="cidp-maintenance",
        start=today - dt.timedelta(days=90),
        interval=21,
        course_days=1,
        courses=1,
    )
