"""Screenshots of every page and every Visit tab at the three screen sizes (issue 11 §4).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py --out DIR

Opens the real main window on a new demo record (25 patients, seed 1, with the Week page's
examples, as File ▸ Load demo data makes it) and saves ``DIR/<size>-<page>-<tab>-<state>.png``:
the pages (Week, Patients with a patient chosen, Calculator, Guides) and each Visit tab for

* ``signed``: the demo's signed visit stopped for a reaction (a partly given day), and
* ``draft``: a draft started today with its infusion running (started an hour ago, one
  step-up, readings), made through the store API as the Visit page would make it,

at 1280×720, 1366×768 and 1920×1080 (``QWidget.grab()``).  The record and the window
settings are temporary.  ``--sizes 1280x720`` limits the sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZES = ((1280, 720), (1366, 768), (1920, 1080))


def _slug(text: str) -> str:
    text = re.sub(r"&(\w)", r"\1", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _running_draft(store) -> int:
    """A draft visit started today with its infusion running: the first plan step an hour
    ago, the next step when the plan says, a reading before the start and at each step."""
    from nurse_app.core.dosing import calculate
    from nurse_app.core.visit_logic import request_from_order, visit_risks

    patient_id, order_id = store.db.execute(
        "SELECT p.id, o.id FROM patients p JOIN orders o ON o.patient_id = p.id "
        "WHERE o.product_id = 'octagam-10' ORDER BY p.id LIMIT 1"
    ).fetchone()
    order, patient = store.get_order(order_id), store.get_patient(patient_id)
    weight = 70.0
    calc = calculate(
        request_from_order(
            order, patient, weight, on=dt.date.today(), risks=visit_risks(order, first_infusion=False)
        )
    ).to_dict()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(minutes=75)
    done = store.db.execute(
        "SELECT COUNT(*) FROM visits WHERE order_id = ? AND status = 'signed'", (order_id,)
    ).fetchone()[0]
    visit_id = store.create_visit(
        patient_id,
        order_id=order_id,
        scheduled_at=start,
        started_at=start,
        course_day=min(done + 1, order["course_days"]),
        course_days=order["course_days"],
        weight_kg=weight,
        calculation=calc,
    )
    infusion_start = start + dt.timedelta(minutes=15)
    store.add_vitals(
        visit_id,
        recorded_at=infusion_start - dt.timedelta(minutes=5),
        temperature_c=36.8,
        heart_rate=74,
        systolic_mmhg=124,
        diastolic_mmhg=78,
        respiratory_rate=16,
        spo2_percent=98,
        infusion_rate_ml_h=0,
    )
    for index, step in enumerate(calc["rate_steps"]):
        at = infusion_start + dt.timedelta(minutes=step["start_min"])
        if at > now - dt.timedelta(minutes=5):
            break
        rate = round(step["ml_per_h"], 1)
        store.add_infusion_event(
            visit_id, kind="start" if index == 0 else "rate_change", rate_ml_h=rate, occurred_at=at
        )
        store.add_vitals(
            visit_id,
            recorded_at=at + dt.timedelta(minutes=2),
            temperature_c=36.9,
            heart_rate=76 + index,
            systolic_mmhg=122,
            diastolic_mmhg=76,
            respiratory_rate=16,
            spo2_percent=98,
            infusion_rate_ml_h=rate,
        )
    for vial in calc["vials"]:
        store.add_lot(
            visit_id,
            product_id=calc["product"],
            lot_number="A123456",
            expiry_date=dt.date.today() + dt.timedelta(days=300),
            vial_size_g=vial["size_g"],
            vial_count=vial["count"],
        )
    # the place confirmed at arrival and the IV line: a first attempt missed, the second in place
    store.confirm_location(visit_id, at_service_address=True)
    placed = start + dt.timedelta(minutes=10)
    store.add_access_device(
        visit_id,
        device_type="peripheral-iv",
        attempt_number=1,
        gauge=22,
        length_mm=25,
        site="hand",
        side="left",
        success=False,
        placed_at=placed - dt.timedelta(minutes=4),
        note="Vein rolled",
    )
    iv = store.add_access_device(
        visit_id,
        device_type="peripheral-iv",
        attempt_number=2,
        gauge=22,
        length_mm=25,
        site="forearm",
        side="right",
        success=True,
        placed_at=placed,
        blood_return=True,
    )
    store.add_access_check(
        iv, kind="assessment", phase="before", checked_at=placed, phlebitis_grade=0, infiltration_grade=0
    )
    store.add_access_check(iv, kind="flush", checked_at=placed, solution="normal-saline", volume_ml=10)
    store.add_access_check(
        iv,
        kind="assessment",
        phase="during",
        checked_at=infusion_start + dt.timedelta(minutes=30),
        phlebitis_grade=1,
        infiltration_grade=0,
    )
    return visit_id


def _signed_stopped_for_reaction(store) -> int:
    return store.db.execute(
        "SELECT v.id FROM visits v JOIN reactions r ON r.visit_id = v.id JOIN infusion_events e "
        "ON e.visit_id = v.id WHERE v.status = 'signed' AND e.kind = 'stop' ORDER BY v.id LIMIT 1"
    ).fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG files")
    parser.add_argument(
        "--sizes",
        nargs="*",
        default=[f"{w}x{h}" for w, h in SIZES],
        help="sizes as WIDTHxHEIGHT (default: the three of issue 11)",
    )
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes]

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from nurse_app.store import Store
    from nurse_app.store.demo import generate
    from nurse_app.ui.app import get_app
    from nurse_app.ui.main_window import MainWindow

    args.out.mkdir(parents=True, exist_ok=True)
    app = get_app()
    # the running draft: closing the window asks "Quit anyway?" — yes, it is a throwaway record
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    written = 0
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "demo.db")
        generate(store, patients=25, seed=1, week_examples=True)
        signed, draft = _signed_stopped_for_reaction(store), _running_draft(store)

        def settle():
            for _ in range(5):
                app.processEvents()

        def save(window, name):
            nonlocal written
            settle()
            path = args.out / f"{name}.png"
            if not window.grab().save(str(path)):
                print(f"could not write {path}", file=sys.stderr)
                return
            written += 1

        for width, height in sizes:
            size = f"{width}x{height}"
            window = MainWindow(
                store=store, settings=QSettings(str(Path(tmp) / f"ui-{size}.ini"), QSettings.IniFormat)
            )
            window.resize(width, height)
            window.show()
            settle()
            for key in list(window.pages):
                if key == "visit":
                    continue
                window.show_page(key)
                if key == "patients":
                    window.patients.select_patient(store.get_visit(signed)["patient_id"])
                save(window, f"{size}-{key}-page-demo")
            for state, visit in (("signed", signed), ("draft", draft)):
                window.open_visit(visit)
                tabs = window.visit_page.tabs
                for index in range(tabs.count()):
                    tabs.setCurrentIndex(index)
                    save(window, f"{size}-visit-{_slug(tabs.tabText(index))}-{state}")
            window.close()
            settle()
        store.close()
    print(f"wrote {written} screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
