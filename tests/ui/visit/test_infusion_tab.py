"""pytest-qt, issue 11 §1: the infusion record must be true, through the real main window.

Rates are checked as they are entered (hard limit refused with mg/kg/min; soft limits
acknowledged and recorded), Stop/Finish record the volume given, mistaken events are struck
through, flagged vital signs hold the titration, vital signs due shows on every page, and
quitting a running infusion asks first while the clock survives a restart.
"""

import datetime as dt

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QPushButton
from qt_helpers import run_in_dialog

from nurse_app.core import infusion_record
from nurse_app.store import RecordValueError, Store
from nurse_app.ui.main_window import MainWindow

UTC = dt.UTC


def _ago(minutes: float) -> str:
    return (dt.datetime.now(UTC) - dt.timedelta(minutes=minutes)).isoformat()


@pytest.fixture(autouse=True)
def quit_anyway(monkeypatch):
    """Closing a window with a running infusion asks first: these tests answer Yes at the end."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="M-11",
            name="Rosa Vidal",
            date_of_birth="1966-02-02",
            sex="female",
            height_cm=165,
            indication="dermatomyositis",
        )
        store.add_weight(pid, 75, measured_on="2025-12-20")
        order = store.create_order(
            pid,
            product_id="octagam-10",
            regimen_id="dermatomyositis",
            start_date="2026-01-01",
            prescriber="Dr. B",
        )
        # Octagam given before (a signed earlier visit): not a first infusion, so the ladder climbs.
        earlier = store.create_visit(
            pid,
            order_id=order,
            started_at="2026-01-05T09:00:00+00:00",
            ended_at="2026-01-05T13:00:00+00:00",
            weight_kg=75,
        )
        store.set_checklist_items(
            earlier, {i["item_id"]: "done" for i in store.visit_checklist(earlier) if i["required"]}
        )
        store.sign_visit(earlier)
    return path


def open_window(qtbot, path, tmp_path):
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    return window, store


def start_visit(qtbot, window, store):
    [patient] = store.find_patients("Vidal")
    window.start_visit(patient["id"])
    vp = window.visit_page
    vid = vp.visit_id
    calc = vp.dose_tab.calculator
    calc.weight.edit.clear()
    qtbot.keyClicks(calc.weight.edit, "75")
    qtbot.waitUntil(
        lambda: bool((store.get_visit(vid).get("calculation") or {}).get("daily_dose_g")), timeout=3000
    )
    for code in [w.code for w in calc.pending_warnings()]:
        calc.findChild(QCheckBox, f"ack_{code}").setChecked(True)
    qtbot.waitUntil(lambda: not store.get_visit(vid)["calculation"]["pending_warnings"], timeout=3000)
    return vp, vid


def reading(qtbot, inf, temp, hr):
    inf.inputs["temperature_c"].setText(temp)
    inf.inputs["heart_rate"].setText(hr)
    qtbot.keyClick(inf.inputs["heart_rate"], Qt.Key_Return)


def press(dialog_text, button_text):
    """An action for run_in_dialog: check the dialog's text, press a button by its text."""

    def act(dialog):
        assert dialog is not None
        if dialog_text:
            assert dialog_text in dialog.text()
        [button] = [b for b in dialog.findChildren(QPushButton) if b.text() == button_text]
        button.click()

    return act


def test_rate_above_the_label_maximum_is_refused_with_mg_per_kg_min(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    inf = vp.infusion_tab
    reading(qtbot, inf, "36.8", "72")
    qtbot.mouseClick(inf.buttons["start"], Qt.LeftButton)
    [start] = store.visit_infusion_events(vid)
    assert start["rate_ml_h"] == pytest.approx(45)  # 1 mg/kg/min at 75 kg, Octagam 10%
    assert "45 mL/h (1 mg/kg/min)" in inf.status.text()  # every rate in both units
    inf.new_rate.setValue(250)
    assert inf.rate_hint.text() == "= 5.56 mg/kg/min"
    qtbot.mouseClick(inf.buttons["rate_change"], Qt.LeftButton)
    assert len(store.visit_infusion_events(vid)) == 1  # refused: not recorded
    assert not inf.event_error.isHidden()
    assert "250 mL/h (5.56 mg/kg/min)" in inf.event_error.text()
    assert "label maximum of 4 mg/kg/min" in inf.event_error.text()
    with pytest.raises(RecordValueError, match="label maximum"):  # the store refuses it too
        store.add_infusion_event(vid, kind="rate_change", rate_ml_h=250)
    window.close()
    store.close()


def test_an_early_step_up_needs_an_acknowledgement_recorded_with_the_event(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    inf = vp.infusion_tab
    reading(qtbot, inf, "36.8", "72")
    qtbot.mouseClick(inf.buttons["start"], Qt.LeftButton)
    inf.new_rate.setValue(90)  # the next step, at minute 0 instead of 30
    seen = run_in_dialog(qtbot, press("earlier than the plan", "Cancel"))
    qtbot.mouseClick(inf.buttons["rate_change"], Qt.LeftButton)
    assert "dialog" in seen and len(store.visit_infusion_events(vid)) == 1  # cancelled: nothing recorded
    run_in_dialog(qtbot, press("90 mL/h (2 mg/kg/min)", "Acknowledge and record"))
    qtbot.mouseClick(inf.buttons["rate_change"], Qt.LeftButton)
    step = store.visit_infusion_events(vid)[-1]
    assert step["rate_ml_h"] == 90
    assert any("earlier than the plan" in a for a in step["acknowledgements"])
    assert (
        "Acknowledged: 90 mL/h (2 mg/kg/min) is earlier than the plan" in inf.events_table.item(1, 1).text()
    )
    window.close()
    store.close()


def test_stop_asks_for_the_volume_and_reason_and_fhir_says_stopped(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    store.add_vitals(vid, recorded_at=_ago(20), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=45, occurred_at=_ago(16))
    inf = vp.infusion_tab
    inf.refresh()

    def fill(dialog):
        assert dialog.objectName() == "volume_dialog"
        estimate = float(dialog.volume.text())
        assert estimate == pytest.approx(12, abs=1)  # 45 mL/h for 16 min, from the timeline
        dialog.volume.setText("11")
        assert "1.1 g given" in dialog.grams.text()
        dialog.ok_button.click()  # less than planned and no reason: refused
        assert dialog.isVisible() and "enter the reason" in dialog.error.text()
        dialog.reason.setText("Stopped for chills and fever")
        dialog.ok_button.click()

    run_in_dialog(qtbot, fill)
    qtbot.mouseClick(inf.buttons["stop"], Qt.LeftButton)
    stop = store.visit_infusion_events(vid)[-1]
    assert (
        stop["kind"] == "stop"
        and stop["volume_ml"] == 11
        and stop["reason"] == "Stopped for chills and fever"
    )
    outcome = infusion_record.infusion_outcome(store.visit_infusion_events(vid))
    assert outcome.status == "stopped" and outcome.partial

    import json

    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.reports.visit_data import load_visit

    bundle = json.loads(bundle_json(visit_bundle(load_visit(store, vid))))
    [admin] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    assert admin["status"] == "stopped"
    assert admin["statusReason"][0]["text"] == "Stopped for chills and fever"
    assert admin["dosage"]["dose"] == {
        "value": 1.1,
        "unit": "g",
        "system": "http://unitsofmeasure.org",
        "code": "g",
    }
    window.close()
    store.close()


def test_a_mistaken_event_is_struck_through_not_deleted(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    store.add_vitals(vid, recorded_at=_ago(50), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=45, occurred_at=_ago(45))
    store.add_infusion_event(vid, kind="pause", occurred_at=_ago(5))  # pressed by mistake
    inf = vp.infusion_tab
    inf.refresh()
    assert not inf.buttons["rate_change"].isEnabled()  # paused
    inf.events_table.selectRow(1)

    def why(dialog):
        dialog.setTextValue("Pressed Pause by mistake")
        dialog.accept()

    run_in_dialog(qtbot, why)
    qtbot.mouseClick(inf.correct_button, Qt.LeftButton)
    events = store.visit_infusion_events(vid)
    assert len(events) == 2  # kept
    assert (
        events[1]["corrected_by"] == "Maria Santos, RN"
        and events[1]["correction_reason"] == "Pressed Pause by mistake"
    )
    assert inf.events_table.item(1, 1).font().strikeOut()
    assert "Struck through by Maria Santos, RN" in inf.events_table.item(1, 1).text()
    assert inf.buttons["rate_change"].isEnabled()  # it no longer counts: running
    actions = [a["action"] for a in store.audit_entries("infusion_events", events[1]["id"])]
    assert sorted(actions) == ["insert", "update"]  # audited
    with pytest.raises(Exception, match="struck through"):
        store.delete_infusion_event(events[1]["id"])
    window.close()
    store.close()


def test_flagged_vital_signs_hold_the_titration(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    store.add_vitals(vid, recorded_at=_ago(40), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=45, occurred_at=_ago(35))
    inf = vp.infusion_tab
    vp.tabs.setCurrentWidget(inf)
    inf.inputs["temperature_c"].setFocus()  # (the rate box is never refilled while typed in)
    inf.refresh()
    inf._tick()
    assert inf.new_rate.value() == pytest.approx(90)  # the next step is offered while all is well
    reading(qtbot, inf, "38.2", "112")
    inf._tick()
    assert inf.new_rate.value() == pytest.approx(45)  # flagged: not suggested or prefilled
    assert "Titration held" in inf.status.text() and "38.2" in inf.status.text()
    inf.new_rate.setValue(90)
    seen = run_in_dialog(qtbot, press("38.2", "Acknowledge and record"))
    qtbot.mouseClick(inf.buttons["rate_change"], Qt.LeftButton)
    assert "112" in seen["dialog"].text()
    step = store.visit_infusion_events(vid)[-1]
    assert step["rate_ml_h"] == 90 and any("flagged" in a and "38.2" in a for a in step["acknowledgements"])
    window.close()
    store.close()


def test_a_reaction_that_slows_the_infusion_writes_the_rate_change_into_the_timeline(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    store.add_vitals(vid, recorded_at=_ago(40), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=45, occurred_at=_ago(35))
    store.add_infusion_event(vid, kind="rate_change", rate_ml_h=90, occurred_at=_ago(5))
    vp.infusion_tab.refresh()
    rx = vp.reactions_tab
    vp.tabs.setCurrentWidget(rx)
    rx.kind.setCurrentIndex(rx.kind.findData("infusion-reaction"))
    rx.severity_buttons["mild"].setChecked(True)
    rx.action.setText("Slowed to the last tolerated rate")
    rx.infusion.setCurrentIndex(rx.infusion.findData("rate_change"))
    assert rx.slowed_rate.isEnabled()
    rx.slowed_rate.setValue(45)
    assert rx.slowed_rate.text() == "45 mL/h"  # never 45.0 (ISMP: no trailing zero)
    qtbot.mouseClick(rx.add_button, Qt.LeftButton)
    [reaction] = store.visit_reactions(vid)
    assert reaction["rate_at_onset_ml_h"] == 90
    slowed = store.visit_infusion_events(vid)[-1]
    assert slowed["kind"] == "rate_change" and slowed["rate_ml_h"] == 45
    assert slowed["note"].startswith("For a reaction: Infusion (rate-related) reaction")
    inf = vp.infusion_tab
    last = inf.events_table.item(inf.events_table.rowCount() - 1, 1).text()
    assert last.startswith("Rate changed at 45 mL/h (1 mg/kg/min)") and "For a reaction" in last
    window.close()
    store.close()


def test_vital_signs_due_shows_on_every_page_and_in_the_title(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    store.add_vitals(vid, recorded_at=_ago(30), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=45, occurred_at=_ago(20))
    vp.infusion_tab.refresh()
    window.show_page("patients")
    window.update_due()
    assert window.due_strip.isVisible()
    assert "Vital signs due since" in window.due_strip.text() and "after the start" in window.due_strip.text()
    assert window.windowTitle().startswith("! ")
    window.show_page("calculator")
    assert window.due_strip.isVisible()
    window.show_page("visit")
    vp.tabs.setCurrentWidget(vp.lots_tab)
    assert window.due_strip.isVisible()
    reading(qtbot, vp.infusion_tab, "36.9", "74")
    window.update_due()
    assert not window.due_strip.isVisible() and not window.windowTitle().startswith("!")
    window.close()
    store.close()


def test_quitting_a_running_infusion_asks_and_the_clock_survives_a_restart(
    qtbot, record, tmp_path, monkeypatch
):
    window, store = open_window(qtbot, record, tmp_path)
    vp, vid = start_visit(qtbot, window, store)
    store.add_vitals(vid, recorded_at=_ago(30), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=45, occurred_at=_ago(25))
    vp.infusion_tab.refresh()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.No)
    window.close()
    assert window.isVisible() and asked and "infusion is running" in asked[0]  # No: stays open
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    window.close()
    assert not window.isVisible()
    store.close()
    again, store2 = open_window(qtbot, record, tmp_path)
    inf = again.visit_page.infusion_tab
    assert again.visit_page.visit_id == vid
    inf._tick()
    assert inf.status.text().startswith("Running for 25 min")  # the clock came from the events
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    again.close()
    store2.close()


def test_demo_data_includes_a_visit_stopped_for_a_reaction_and_the_window_shows_it(qtbot, tmp_path):
    import json

    from nurse_app.reports.fhir import bundle_json, visit_bundle
    from nurse_app.reports.visit_data import load_visit
    from nurse_app.store.demo import generate

    path = tmp_path / "demo.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        generate(store, patients=3, seed=1)
        stopped = store.db.execute("SELECT visit_id FROM infusion_events WHERE kind = 'stop'").fetchall()
        assert stopped, "the demo has a day stopped for a reaction"
        vid = stopped[0][0]
        visit = store.get_visit(vid)
        outcome = infusion_record.infusion_outcome(
            store.visit_infusion_events(vid), infusion_record.planned_volume_ml(visit["calculation"])
        )
        assert visit["status"] == "signed" and outcome.partial and 0 < outcome.volume_ml < outcome.planned_ml
        assert store.visit_reactions(vid) and store.verify_visit(vid)
        bundle = json.loads(bundle_json(visit_bundle(load_visit(store, vid))))
        [admin] = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "MedicationAdministration"
        ]
        assert admin["status"] == "stopped"
    window, store = open_window(qtbot, path, tmp_path)
    window.open_visit(vid)
    inf = window.visit_page.infusion_tab
    labels = [inf.events_table.item(r, 1).text() for r in range(inf.events_table.rowCount())]
    assert labels[-1].startswith("Stopped\nVolume given")
    inf._tick()
    assert inf.status.text().startswith("Stopped after") and "planned" in inf.status.text()
    # a stopped infusion has no "now"/"next" step on its plan
    assert [inf.plan.item(r, 3).text() for r in range(inf.plan.rowCount())] == [""] * inf.plan.rowCount()
    # the narrowest window: the stop's reason wraps onto more lines instead of being cut to "…"
    window.resize(1280, 720)
    window.visit_page.tabs.setCurrentWidget(inf)
    qtbot.waitUntil(lambda: inf.events_table.isVisible(), timeout=2000)
    last = inf.events_table.rowCount() - 1
    qtbot.waitUntil(
        lambda: inf.events_table.rowHeight(last) >= inf.events_table.sizeHintForRow(last), timeout=2000
    )
    rx = window.visit_page.reactions_tab  # the reaction's outcome is not cut to "…" either
    window.visit_page.tabs.setCurrentWidget(rx)
    qtbot.waitUntil(lambda: rx.table.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: rx.table.rowHeight(0) >= rx.table.sizeHintForRow(0), timeout=2000)
    window.close()
    store.close()
