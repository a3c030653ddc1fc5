"""Realistic visits for the visit summary / FHIR tests and benchmarks/bench_visit_pdf.py.

Everything goes through the public Store API and the real dose engine, so the
summary is tested on what a nurse would actually record: a dermatomyositis course
(2 g/kg over 5 days, Octagam 10 %), day 3 of 5, with a fever and a low SpO2 on the
flowsheet, a mild reaction, two lots, a checklist item not done, and notes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from nurse_app.core.dosing import DoseRequest, calculate
from nurse_app.services.agency import save_agency_details
from nurse_app.store import Store

UTC = dt.UTC
ACCENTED_NAME = "Zoë Ødegård-Müller"
NURSE = ("Siobhán Ní Bhriain", "RN")
AGENCY = {
    "agency": "Lakeside Home Infusion",
    "address": "12 Harbour Road, Kingston ON K7L 1A1",
    "phone": "555-0142",
    "after_hours": "555-0199",
}
VISIT_START = dt.datetime(2025, 3, 4, 14, 0, tzinfo=UTC)  # 09:00 in Toronto (EST)
WEIGHT_KG = 64.2


def open_record(path: Path) -> Store:
    store = Store.open(path)
    store.set_nurse_profile(*NURSE)
    save_agency_details(store, AGENCY)
    return store


def make_visit(
    store: Store,
    *,
    mrn: str = "MRN-0042",
    name: str = ACCENTED_NAME,
    readings: int = 8,
    sign: bool = False,
    addenda: tuple[str, ...] = (),
    allergies: str = "Penicillin (rash, hives); Latex",
) -> int:
    """A day-3-of-5 dermatomyositis visit with ``readings`` vital-sign rows.

    Reading 3 has a fever (38.4 °C) and reading 4 a low SpO2 (91 %); everything else
    is unremarkable.  ``sign`` signs it; ``addenda`` are then added in order.
    """
    patient = store.create_patient(
        mrn=mrn,
        name=name,
        date_of_birth="1961-08-23",
        sex="female",
        height_cm=168,
        allergies=allergies,
        indication="dermatomyositis",
        prescriber="Dr. L. Moreau",
    )
    order = store.create_order(
        patient,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        course_days=5,
        interval_days=28,
        start_date="2025-03-02",
        prescriber="Dr. L. Moreau",
    )
    calc = calculate(
        DoseRequest(
            product_id="octagam-10",
            weight_kg=WEIGHT_KG,
            height_cm=168,
            sex="female",
            regimen_id="dermatomyositis",
        )
    ).to_dict()
    end = VISIT_START + dt.timedelta(minutes=30 + 10 * readings + 60)
    visit = store.create_visit(
        patient,
        order_id=order,
        scheduled_at=VISIT_START,
        started_at=VISIT_START,
        course_day=3,
        course_days=5,
        weight_kg=WEIGHT_KG,
        calculation=calc,
        notes="Patient tolerated the infusion well.\nLeft forearm 22 G, site clean and dry on removal.",
    )
    steps = calc["rate_steps"]
    for n in range(readings):
        step = steps[min(n // 2, len(steps) - 1)]
        store.add_vitals(
            visit,
            recorded_at=VISIT_START + dt.timedelta(minutes=25 + 10 * n),
            temperature_c=38.4 if n == 3 else round(36.7 + (n % 3) / 10, 1),
            heart_rate=72 + n % 5,
            systolic_mmhg=124 - n % 4,
            diastolic_mmhg=78,
            respiratory_rate=14,
            spo2_percent=91 if n == 4 else 98,
            infusion_rate_ml_h=0 if n == 0 else round(step["ml_per_h"], 1),
            note="Chills, rate reduced" if n == 3 else ("Baseline before infusion" if n == 0 else ""),
        )
    store.add_reaction(
        visit,
        occurred_at=VISIT_START + dt.timedelta(minutes=56),
        kind="infusion-reaction",
        note="Chills and fever",
        severity="mild",
        rate_at_onset_ml_h=round(steps[min(1, len(steps) - 1)]["ml_per_h"], 1),
        action_taken="Infusion paused 15 minutes, acetaminophen 650 mg by mouth as ordered, "
        "restarted at the previous rate.",
        outcome="Settled within 30 minutes; infusion completed.",
    )
    vials = calc["vials"]
    store.add_lot(
        visit,
        product_id="octagam-10",
        lot_number="M2417A",
        expiry_date="2026-01-31",
        vial_size_g=vials[0]["size_g"],
        vial_count=vials[0]["count"],
    )
    for index, vial in enumerate(vials[1:], 1):
        store.add_lot(
            visit,
            product_id="octagam-10",
            lot_number=f"M2520B{index}",
            expiry_date="2026-06-30",
            vial_size_g=vial["size_g"],
            vial_count=vial["count"],
        )
    answers = {item["item_id"]: "done" for item in store.visit_checklist(visit)}
    answers["glucose-meter"] = (
        "not_done",
        "Patient has no glucose meter at home; told to use the clinic's meter for the next lab check.",
    )
    store.set_checklist_items(visit, answers, at=VISIT_START + dt.timedelta(minutes=5))
    if sign:
        store.update_visit(visit, ended_at=end)
        store.sign_visit(visit)
        for text in addenda:
            store.add_addendum(visit, text)
    return visit


def read_pdf(source) -> list[str]:
    """The text of every page (pypdf)."""
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(source).pages]


def flat(text: str) -> str:
    """Whitespace folded to single spaces (table cells come out one per line)."""
    return " ".join(text.split())
