"""A record and a visit as the issue-27 walk left them, for the window tests and the soak run.

``make_record`` writes a record with one patient and an active order; ``open_infusion`` opens
today's visit through the real main window, types the weight on the Dose tab (so the visit has
its rate plan), records baseline vital signs and starts the infusion at the plan's first rate.
"""

from __future__ import annotations

from pathlib import Path


def make_record(path: Path, *, order: bool = True) -> int:
    """A record at ``path`` with a nurse profile and one patient; unless ``order`` is False, an
    order with a signed earlier visit. Returns the patient's id."""
    from nurse_app.store import Store

    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="M-27",
            name="Rosa Vidal",
            date_of_birth="1966-02-02",
            sex="female",
            height_cm=165,
            indication="dermatomyositis",
        )
        store.add_weight(pid, 75, measured_on="2025-12-20")
        if order:
            oid = store.create_order(
                pid,
                product_id="octagam-10",
                regimen_id="dermatomyositis",
                start_date="2026-01-01",
                prescriber="Dr. B",
            )
            # Given before (a signed earlier visit): not a first infusion, so the rate plan climbs.
            earlier = store.create_visit(
                pid,
                order_id=oid,
                started_at="2026-01-05T09:00:00+00:00",
                ended_at="2026-01-05T13:00:00+00:00",
                weight_kg=75,
            )
            store.set_checklist_items(
                earlier, {i["item_id"]: "done" for i in store.visit_checklist(earlier) if i["required"]}
            )
            store.sign_visit(earlier)
    return pid


def wait_until(condition, timeout_s: float = 5.0) -> None:
    """Run the event loop until ``condition()`` (no qtbot: the soak run uses this too)."""
    import time

    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        QApplication.processEvents()
        time.sleep(0.01)


def dose_visit(window, patient_id: int) -> int:
    """Start today's visit in the window and type the weight; returns the visit id once the
    calculation is saved with its warnings acknowledged."""
    from PySide6.QtWidgets import QCheckBox

    window.start_visit(patient_id)
    page = window.visit_page
    vid = page.visit_id
    calc = page.dose_tab.calculator
    calc.weight.edit.setText("75")
    store = window.store
    wait_until(lambda: bool((store.get_visit(vid).get("calculation") or {}).get("daily_dose_g")))
    for code in [w.code for w in calc.pending_warnings()]:
        calc.findChild(QCheckBox, f"ack_{code}").setChecked(True)
    wait_until(lambda: not store.get_visit(vid)["calculation"]["pending_warnings"])
    return vid


def open_infusion(window, patient_id: int) -> int:
    """:func:`dose_visit`, baseline vital signs, then Start at the plan's first rate."""
    from nurse_app.services.infusion import record_infusion_event

    vid = dose_visit(window, patient_id)
    store = window.store
    page = window.visit_page
    store.add_vitals(vid, temperature_c=36.8, heart_rate=72, systolic_mmhg=120, diastolic_mmhg=80)
    steps = store.get_visit(vid)["calculation"]["rate_steps"]
    record_infusion_event(store, vid, "start", rate_ml_h=steps[0]["ml_per_h"])
    page.ctx.changed.emit("events")
    page.tabs.setCurrentWidget(page.infusion_tab)
    return vid
