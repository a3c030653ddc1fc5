"""Realistic generated patients for demos, tests and benchmarks (``nurse-app demo-data``).

Everything goes through the public :class:`Store` API, so demo records obey the same
validation, audit and signing rules as real ones, and every visit's calculation is a
real snapshot from the dose engine (:func:`nurse_app.core.dosing.calculate`).

Deterministic: the same ``seed`` and patient count give the same patients, orders,
visits, values and lots (only the record-keeping times - created, signed, audited -
are the real clock).  The visit history ends on :data:`DEMO_ANCHOR`, a fixed date, so
it does not move from one day to the next.  Only home-infusion regimens are used
(Kawasaki disease and Guillain-Barré syndrome are treated in hospital).

MRNs start with ``DEMO-`` and the command refuses a record that already holds
patients, so demo data never mixes with real patients.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nurse_app.core import checklists, infusion_record, visit_proof
from nurse_app.core.dosing import calculate
from nurse_app.core.visit_logic import request_from_order, visit_risks
from nurse_app.store.api import Store
from nurse_app.store.errors import StoreError
from nurse_app.store.times import UTC, today_local

if TYPE_CHECKING:
    from nurse_app.core.catalogue import Regimen

DEMO_ANCHOR = _dt.datetime(2025, 1, 31, 17, 0, tzinfo=UTC)
MRN_PREFIX = "DEMO-"
PATIENTS_PER_TRANSACTION = 25

# (regimen id, relative frequency, ordered g/kg when the regimen has no fixed dose)
_REGIMENS = (
    ("pi-replacement", 30, (0.3, 0.4, 0.5, 0.6)),
    ("cidp-maintenance", 18, None),
    ("cidp-loading", 4, None),
    ("dermatomyositis", 10, None),
    ("pemphigus", 6, None),
    ("pemphigoid", 6, None),
    ("mmn", 8, (1, 1.5, 2)),
    ("mg", 5, None),
    ("itp-2day", 5, None),
)
_PRODUCTS = ("privigen", "gamunex-c", "octagam-10", "panzyga", "gammagard-liquid")
_NURSES = (
    ("Maria Santos", "RN"),
    ("David Okafor", "RN, IgCN"),
    ("Aoife Ní Bhriain", "RN"),
    ("Tomasz Wójcik", "LPN"),
)
_GIVEN = {
    "female": (
        "Anna",
        "Zoë",
        "Siobhán",
        "María José",
        "Chloé",
        "Ayşe",
        "Mei",
        "Fatima",
        "Ingrid",
        "Priya",
        "Olga",
        "Grace",
        "Nguyễn Thị",
        "Łucja",
        "Amélie",
        "Hana",
    ),
    "male": (
        "James",
        "José",
        "Søren",
        "Łukasz",
        "Mohammed",
        "Kenji",
        "Đorđe",
        "Björn",
        "Rahul",
        "Seán",
        "Pedro",
        "Ivan",
        "Luis",
        "Omar",
        "Tomás",
        "Wei",
    ),
}
_FAMILY = (
    "Smith",
    "García",
    "O'Brien",
    "Müller",
    "Nguyễn",
    "Kowalski",
    "Andersson",
    "Rossi",
    "Patel",
    "Yılmaz",
    "Dubois",
    "Tanaka",
    "Ivanova",
    "Haddad",
    "MacLeod",
    "Fernández",
    "Papadopoulos",
    "Novák",
    "Okonkwo",
    "Lefèvre",
)
_PRESCRIBERS = ("Dr. R. Patel", "Dr. L. Moreau", "Dr. S. Kim", "Dr. H. Adeyemi")
_ALLERGIES = ("", "", "", "Penicillin (rash)", "Latex", "Sulfonamides", "Shellfish")
_REACTION = ("Headache and chills", "Flushing and mild nausea", "Back pain", "Itching")


@dataclass(frozen=True)
class DemoSummary:
    patients: int
    orders: int
    visits: int
    signed_visits: int
    vitals: int


class _Counter:
    def __init__(self) -> None:
        self.orders = self.visits = self.signed = self.vitals = 0


def generate(
    store: Store,
    patients: int,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
    *,
    week_examples: bool = False,
    today: _dt.date | None = None,
) -> DemoSummary:
    """Add ``patients`` demo patients with their orders and visit history.

    ``week_examples``: also add the few patients of :func:`add_week_examples`, whose
    dates are relative to ``today`` (default: today) so that the Week page has something
    to show: mid-course, a missed course, a rash check call due and one done."""
    if not 1 <= patients <= 100_000:
        raise StoreError("The number of demo patients must be from 1 to 100,000.")
    if store.db.execute("SELECT 1 FROM patients LIMIT 1").fetchone():
        error = StoreError(
            f"{store.path} already holds patients; demo data goes only into a new, empty record file."
        )
        error.cli_hint = "Name a new file with --db NEW_FILE."
        raise error
    previous_profile = store.nurse_profile()
    count = _Counter()
    for first in range(0, patients, PATIENTS_PER_TRANSACTION):
        with store.transaction():
            for index in range(first, min(first + PATIENTS_PER_TRANSACTION, patients)):
                _patient(store, random.Random(f"{seed}/{index}"), index, count)
        if progress:
            progress(min(first + PATIENTS_PER_TRANSACTION, patients), patients)
    if week_examples:
        with store.transaction():
            extra = add_week_examples(store, today or today_local(), first_index=patients, count=count)
        patients += extra
    name, credentials = (
        (previous_profile["name"], previous_profile["credentials"])
        if previous_profile
        else ("Demo Nurse", "RN")
    )
    store.set_nurse_profile(name, credentials)
    return DemoSummary(patients, count.orders, count.visits, count.signed, count.vitals)


def _patient(store: Store, rng: random.Random, index: int, count: _Counter) -> None:
    store.set_nurse_profile(*rng.choice(_NURSES))
    regimen_id, _, doses = rng.choices(_REGIMENS, weights=[r[1] for r in _REGIMENS])[0]
    sex = rng.choice(("female", "male"))
    age = rng.randint(19, 88)
    height = round(rng.gauss(163 if sex == "female" else 177, 7), 1)
    weight = round(min(max(rng.uniform(19.5, 36) * (height / 100) ** 2, 40), 180), 1)
    born = DEMO_ANCHOR.date() - _dt.timedelta(days=age * 365 + rng.randint(0, 364))
    patient_id = store.create_patient(
        mrn=f"{MRN_PREFIX}{index + 1:06d}",
        name=f"{rng.choice(_GIVEN[sex])} {rng.choice(_FAMILY)}",
        date_of_birth=born,
        sex=sex,
        height_cm=height,
        allergies=rng.choice(_ALLERGIES),
        indication=regimen_id,
        prescriber=rng.choice(_PRESCRIBERS),
        **_contact(index),
    )
    product = "octagam-10" if regimen_id == "dermatomyositis" else rng.choice(_PRODUCTS)
    dose = rng.choice(doses) if doses else None
    regimen = _regimen(regimen_id)
    interval = regimen.repeat_min_days or 28
    courses = rng.randint(1, 3)
    first_day = DEMO_ANCHOR.date() - _dt.timedelta(days=interval * (courses - 1) + regimen.days)
    order_id = store.create_order(
        patient_id,
        product_id=product,
        regimen_id=regimen_id,
        dose_g_per_kg=dose,
        course_days=regimen.days,
        interval_days=interval,
        start_date=first_day,
        prescriber=rng.choice(_PRESCRIBERS),
    )
    count.orders += 1
    store.add_weight(patient_id, weight, measured_on=first_day)
    in_progress = rng.random() < 0.1
    order, patient = store.get_order(order_id), store.get_patient(patient_id)
    for course in range(courses):
        course_weight = round(weight + rng.uniform(-1.5, 1.5), 1)
        for day in range(regimen.days):
            date = first_day + _dt.timedelta(days=course * interval + day)
            # The one builder the visits use: the order, the age on the day, first infusion on the first visit.
            result = calculate(
                request_from_order(
                    order,
                    patient,
                    course_weight,
                    on=date,
                    risks=visit_risks(order, first_infusion=course == 0 and day == 0),
                )
            )
            calc = result.to_dict()
            last = course == courses - 1 and day == regimen.days - 1
            sign = not (last and in_progress)
            if (
                sign
            ):  # a signed visit's warnings were acknowledged before signing (as the Dose tab records them)
                calc["acknowledgements"] = [
                    {"code": w.code, "message": w.message, "acknowledged_at": None}
                    for w in result.warnings
                    if getattr(w, "needs_ack", False)
                ]
            _visit(
                store,
                rng,
                patient_id,
                order_id,
                date,
                day + 1,
                regimen.days,
                course_weight,
                calc,
                sign=sign,
                count=count,
            )


# (name, sex, regimen, product, weight, first day as days before today, courses given as
#  (days before today of day 1, days given, day stopped early or 0), rash call signed)
_WEEK_EXAMPLES = (
    ("Hana Novák", "female", "dermatomyositis", "octagam-10", 64.0, 2, ((2, 2, 0),), False),
    ("Luis Fernández", "male", "cidp-maintenance", "gamunex-c", 81.0, 41, ((41, 1, 0),), False),
    ("Grace MacLeod", "female", "pemphigus", "privigen", 70.5, 14, ((14, 5, 0),), True),
    ("Omar Haddad", "male", "pemphigoid", "panzyga", 77.0, 13, ((13, 5, 4),), False),
    ("Ada Brennan", "female", "cidp-maintenance", "privigen", 60.0, 90, ((90, 1, 0),), False),
)


def add_week_examples(
    store: Store, today: _dt.date, *, first_index: int = 0, count: _Counter | None = None
) -> int:
    """Patients whose schedule this week shows each state: mid-course (day 3 due today),
    a missed course (and the next one due), a rash check call done and signed, a rash
    check call due after a course with a day stopped early, an order with no visit for more
    than two intervals (may be inactive: confirm with the pharmacy).  Returns how many."""
    count = count or _Counter()
    for n, (name, sex, regimen_id, product, weight, first, courses, called) in enumerate(_WEEK_EXAMPLES):
        rng = random.Random(f"week/{n}")
        regimen = _regimen(regimen_id)
        first_day = today - _dt.timedelta(days=first)
        patient_id = store.create_patient(
            mrn=f"{MRN_PREFIX}{first_index + n + 1:06d}",
            name=name,
            date_of_birth=today - _dt.timedelta(days=365 * (40 + 7 * n)),
            sex=sex,
            height_cm=165.0 if sex == "female" else 178.0,
            indication=regimen_id,
            prescriber="Dr. L. Moreau",
            **_contact(first_index + n),
        )
        order_id = store.create_order(
            patient_id,
            product_id=product,
            regimen_id=regimen_id,
            course_days=regimen.days,
            interval_days=regimen.repeat_min_days or 28,
            start_date=first_day,
            prescriber="Dr. L. Moreau",
        )
        count.orders += 1
        store.add_weight(patient_id, weight, measured_on=first_day)
        order, patient = store.get_order(order_id), store.get_patient(patient_id)
        last_day = first_day
        for before, given, stopped in courses:
            for day in range(given):
                last_day = today - _dt.timedelta(days=before - day)
                calc = calculate(
                    request_from_order(
                        order, patient, weight, on=last_day, risks=visit_risks(order, first_infusion=day == 0)
                    )
                ).to_dict()
                _visit(
                    store,
                    rng,
                    patient_id,
                    order_id,
                    last_day,
                    day + 1,
                    regimen.days,
                    weight,
                    calc,
                    sign=True,
                    count=count,
                    stop_early=(day + 1 == stopped),
                )
        if called:
            call_day = last_day + _dt.timedelta(days=8)
            call_at = _dt.datetime.combine(
                min(call_day, today - _dt.timedelta(days=1)), _dt.time(10, 0), tzinfo=UTC
            )
            call_id = store.create_followup_call(
                patient_id,
                order_id=order_id,
                rule_id="rash-check-call",
                course_number=1,
                due_date=call_day,
                called_at=call_at,
                reached=True,
                answers={"new-itchy-rash": "no", "blisters": "no", "spreading": "no", "fever": "no"},
                advice="Told to call if an itchy rash or small blisters appear on the palms or soles.",
            )
            store.sign_followup_call(call_id)
    return len(_WEEK_EXAMPLES)


def _regimen(regimen_id: str) -> Regimen:
    from nurse_app.core.catalogue import load_catalogue

    return load_catalogue().regimen(regimen_id)


def _visit(
    store: Store,
    rng: random.Random,
    patient_id: int,
    order_id: int,
    date: _dt.date,
    course_day: int,
    course_days: int,
    weight: float,
    calc: dict[str, Any],
    *,
    sign: bool,
    count: _Counter,
    stop_early: bool = False,
) -> None:
    start = _dt.datetime.combine(date, _dt.time(rng.randint(13, 16), rng.choice((0, 15, 30, 45))), tzinfo=UTC)
    for ack in calc.get("acknowledgements", ()):
        ack["acknowledged_at"] = (start + _dt.timedelta(minutes=5)).isoformat(timespec="seconds")
    visit_id = store.create_visit(
        patient_id,
        order_id=order_id,
        scheduled_at=start,
        started_at=start,
        course_day=course_day,
        course_days=course_days,
        weight_kg=weight,
        calculation=calc,
    )
    count.visits += 1
    proof = random.Random(f"proof-{visit_id}")  # its own stream: the rest of the demo is unchanged
    store.confirm_location(visit_id, at_service_address=True)
    infusion_start = start + _dt.timedelta(minutes=30)
    minutes = calc["infusion_minutes_per_day"]
    base = {
        "temperature_c": round(rng.uniform(36.3, 37.1), 1),
        "heart_rate": rng.randint(60, 90),
        "systolic_mmhg": rng.randint(108, 142),
        "diastolic_mmhg": rng.randint(64, 88),
        "respiratory_rate": rng.randint(12, 18),
        "spo2_percent": rng.randint(95, 99),
    }
    reaction_step = (
        rng.randrange(1, len(calc["rate_steps"]))
        if (len(calc["rate_steps"]) > 1 and rng.random() < 0.06)
        else None
    )
    # The second visit of the demo is a partly given day: stopped for a reaction (issue 11).
    stopped_for_reaction = count.visits == 2 and sign and len(calc["rate_steps"]) > 1
    if stopped_for_reaction:
        reaction_step = 1
    # (time, pump rate, any observed values): a reading at the onset of a reaction shows it
    readings: list[tuple[Any, ...]] = [(infusion_start - _dt.timedelta(minutes=5), 0.0)]
    for index, step in enumerate(calc["rate_steps"]):
        if step["start_min"] >= minutes:
            break
        at, rate = infusion_start + _dt.timedelta(minutes=step["start_min"]), round(step["ml_per_h"], 1)
        readings.append((at, rate))
        store.add_infusion_event(
            visit_id, kind="start" if index == 0 else "rate_change", rate_ml_h=rate, occurred_at=at
        )
        if index == reaction_step and stopped_for_reaction:
            onset = at + _dt.timedelta(minutes=10)
            store.add_reaction(
                visit_id,
                occurred_at=onset,
                kind="infusion-reaction",
                note="Chills, temperature 38.2 °C, HR 112.",
                severity="moderate",
                rate_at_onset_ml_h=rate,
                action_taken="Infusion stopped; acetaminophen given as ordered; prescriber called.",
                outcome="Settled within 45 minutes; not restarted today on the prescriber's advice.",
            )
            stop_at = onset + _dt.timedelta(minutes=1)
            given = round(
                infusion_record.estimated_volume_ml(
                    [
                        *store.visit_infusion_events(visit_id),
                        {"kind": "stop", "occurred_at": stop_at.isoformat()},
                    ]
                )
            )
            store.add_infusion_event(
                visit_id,
                kind="stop",
                occurred_at=stop_at,
                volume_ml=given,
                reason="Stopped for a moderate infusion reaction; prescriber informed.",
                note="For a reaction: Infusion (rate-related) reaction",
            )
            # the reading at onset shows what the reaction note says, at the rate then running
            readings.append((onset, rate, {"temperature_c": 38.2, "heart_rate": 112}))
            break
        if index == reaction_step:
            onset, lower = at + _dt.timedelta(minutes=10), readings[-2][1]
            store.add_reaction(
                visit_id,
                occurred_at=onset,
                kind="infusion-reaction",
                note=rng.choice(_REACTION),
                severity="mild",
                rate_at_onset_ml_h=rate,
                action_taken="Rate reduced to the previous step; acetaminophen given as ordered.",
                outcome="Settled within 30 minutes; infusion completed at the lower rate.",
            )
            store.add_infusion_event(
                visit_id,
                kind="rate_change",
                rate_ml_h=lower,
                occurred_at=onset + _dt.timedelta(minutes=2),
                note="Reduced after a mild reaction.",
            )
            readings.append((onset, lower))
            break  # no further increases after a reaction
    end = infusion_start + _dt.timedelta(minutes=minutes)
    if stopped_for_reaction:
        end = readings[-1][0] + _dt.timedelta(minutes=1)
    hour = readings[-1][0] + _dt.timedelta(hours=1)
    while hour < end:
        readings.append((hour, readings[-1][1]))
        hour += _dt.timedelta(hours=1)
    readings += [(end, 0.0), (end + _dt.timedelta(minutes=30), 0.0)]
    if stopped_for_reaction:
        pass  # the stop, with the volume given, was recorded with the reaction
    elif stop_early:  # a day stopped before finishing (counts as partly given)
        end = infusion_start + _dt.timedelta(minutes=minutes / 2)
        readings = [r for r in readings if r[0] < end] + [(end, 0.0)]
        given = round(
            infusion_record.estimated_volume_ml(
                [*store.visit_infusion_events(visit_id), {"kind": "stop", "occurred_at": end.isoformat()}]
            )
        )
        store.add_infusion_event(
            visit_id,
            kind="stop",
            occurred_at=end,
            volume_ml=given,
            reason="Patient unwell; prescriber informed.",
            note="Stopped before finishing: patient unwell.",
        )
    elif sign:  # an unsigned last visit is still running
        store.add_infusion_event(
            visit_id, kind="end", occurred_at=end, volume_ml=round(calc["daily_volume_ml"])
        )
    for at, rate, *observed in readings:
        values: dict[str, Any] = {
            k: v + (rng.choice((-1, 0, 1)) if k != "temperature_c" else round(rng.uniform(-0.2, 0.2), 1))
            for k, v in base.items()
        }
        values["spo2_percent"] = min(values["spo2_percent"], 100)
        values.update(*observed)
        store.add_vitals(visit_id, recorded_at=at, infusion_rate_ml_h=rate, **values)
        count.vitals += 1
    for vial in calc["vials"]:
        store.add_lot(
            visit_id,
            product_id=calc["product"],
            lot_number=f"{calc['product'][:2].upper()}{rng.randint(100000, 999999)}",
            expiry_date=date + _dt.timedelta(days=rng.randint(120, 700)),
            vial_size_g=vial["size_g"],
            vial_count=vial["count"],
        )
    answers = {
        item_id: answer
        for item_id, (answer, required) in _answers(calc, reaction_step is not None).items()
        if required or rng.random() < 0.5
    }
    # A visit still running leaves its time-gated items (observation after the infusion) open.
    locked = {i["item_id"] for i in store.visit_checklist(visit_id) if i["locked"]}
    answers = {k: a for k, a in answers.items() if k not in locked}
    store.set_checklist_items(visit_id, answers, at=start)
    _access(store, proof, visit_id, start, infusion_start, end if sign else None)
    if sign:
        store.update_visit(visit_id, ended_at=end + _dt.timedelta(minutes=30))
        if proof.random() < 0.8:
            store.record_patient_signature(
                visit_id,
                signer="patient",
                strokes=visit_proof.demo_strokes(visit_id),
                png=visit_proof.render_png(visit_proof.demo_strokes(visit_id), 520, 170),
                at=end + _dt.timedelta(minutes=28),
            )
        else:
            store.record_no_signature(
                visit_id, reason="physically-unable", note="Hand splinted; no caregiver home."
            )
        store.sign_visit(visit_id)
        count.signed += 1


_STREETS = (
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Lincoln Rd",
    "Prairie Dr",
    "Elm Ct",
    "Walnut St",
    "Lake View Rd",
)
_CITIES = (("Springfield", "IL", "627"), ("Decatur", "IL", "625"), ("Champaign", "IL", "618"))


def _contact(index: int) -> dict[str, Any]:
    """A made-up service address and 555-01xx phone numbers (fictional), from the patient's index."""
    rng = random.Random(f"contact-{index}")
    city, state, zip3 = rng.choice(_CITIES)
    return {
        "address_line": f"{rng.randint(10, 2999)} {rng.choice(_STREETS)}",
        "address_city": city,
        "address_state": state,
        "address_postal_code": f"{zip3}{rng.randint(0, 99):02d}",
        "phone_home": f"(217) 555-01{rng.randint(0, 99):02d}",
        "phone_mobile": f"(217) 555-01{rng.randint(0, 99):02d}",
        "emergency_contact_name": f"{rng.choice(('Ann', 'Luis', 'Grace', 'Omar'))} {rng.choice(('Baker', 'Nguyen', 'Kowalski'))}",
        "emergency_contact_relation": rng.choice(("daughter", "son", "spouse", "neighbour")),
        "emergency_contact_phone": f"(217) 555-01{rng.randint(0, 99):02d}",
    }


def _access(
    store: Store,
    rng: random.Random,
    visit_id: int,
    start: _dt.datetime,
    infusion_start: _dt.datetime,
    end: _dt.datetime | None,
) -> None:
    """The IV line of a demo visit: mostly a peripheral IV (a quarter need two attempts), sometimes
    an existing port; site checks before, during and after; a flush; removal, intact, at the end."""
    placed = start + _dt.timedelta(minutes=15)
    if rng.random() < 0.15:
        store.add_access_device(
            visit_id,
            device_type="port",
            site="chest",
            side=rng.choice(("left", "right")),
            placed_at=placed,
            patency=True,
            blood_return=True,
            dressing="clean-dry-intact",
        )
        return
    attempt = 1
    if rng.random() < 0.25:
        store.add_access_device(
            visit_id,
            device_type="peripheral-iv",
            attempt_number=1,
            gauge=22,
            length_mm=25,
            site="hand",
            side="left",
            success=False,
            placed_at=placed - _dt.timedelta(minutes=5),
            note="Vein rolled",
        )
        attempt = 2
    device = store.add_access_device(
        visit_id,
        device_type="peripheral-iv",
        attempt_number=attempt,
        gauge=rng.choice((22, 24)),
        length_mm=25,
        site=rng.choice(("forearm", "hand", "antecubital")),
        side=rng.choice(("left", "right")),
        success=True,
        placed_at=placed,
        blood_return=True,
    )
    store.add_access_check(
        device, kind="assessment", phase="before", checked_at=placed, phlebitis_grade=0, infiltration_grade=0
    )
    store.add_access_check(device, kind="flush", checked_at=placed, solution="normal-saline", volume_ml=10)
    store.add_access_check(
        device,
        kind="assessment",
        phase="during",
        checked_at=infusion_start + _dt.timedelta(minutes=60),
        phlebitis_grade=0,
        infiltration_grade=0,
    )
    if end is not None:
        store.add_access_check(device, kind="flush", checked_at=end, solution="normal-saline", volume_ml=10)
        store.add_access_check(
            device, kind="assessment", phase="after", checked_at=end, phlebitis_grade=0, infiltration_grade=0
        )
        store.remove_access_device(
            device,
            removed_at=end + _dt.timedelta(minutes=25),
            catheter_intact=True,
            removal_condition="no-redness",
        )


def _answers(calc: dict[str, Any], reacted: bool) -> dict[str, tuple[str, bool]]:
    """``{item: (answer, required)}``: everything done, except what does not apply."""
    not_applicable = {"iv-prehydration", "in-line-filter", "spiking-pooling"}
    if not calc["product"].startswith("octagam"):
        not_applicable |= {"glucose-meter", "octagam-glucose-warning"}
    if not reacted:
        not_applicable.add("reaction-response")
    template = checklists.load_template()
    return {
        item.id: (checklists.NOT_APPLICABLE if item.id in not_applicable else checklists.DONE, item.required)
        for item in template.items
    }
