"""The record API: connection settings, patients, orders, visits, entries, audit log."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from store_helpers import new_patient, raw_connection, ready_visit

from nurse_app.core.dosing import DoseRequest, calculate
from nurse_app.store import NoNurseProfileError, NotFoundError, RecordValueError, Store, StoreError
from nurse_app.store.schema import CURRENT_VERSION


def test_new_file_uses_wal_foreign_keys_busy_timeout_and_full_sync(store):
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.schema_version == CURRENT_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"NURS", "big")


def test_each_edit_is_committed_before_the_call_returns(store):
    patient = new_patient(store)
    store.add_weight(patient, 71.2, measured_on="2024-05-01")
    # A second connection (another process would see the same) reads it at once.
    other = raw_connection(store.path)
    assert other.execute("SELECT weight_kg FROM patient_weights").fetchall() == [(71.2,)]
    assert not store.db.conn.in_transaction
    other.close()


def test_clinical_writes_need_a_nurse_profile(tmp_path):
    with Store.open(tmp_path / "r.db") as store:
        assert store.nurse_profile() is None
        with pytest.raises(NoNurseProfileError, match="nurse profile"):
            new_patient(store)
        assert store.find_patients() == []


def test_profile_stamps_entries_and_audit_rows(store):
    patient = new_patient(store)
    assert store.get_patient(patient)["created_by"] == "Ana Núñez, RN"
    store.set_nurse_profile("  David Okafor ", "RN, IgCN")
    assert store.nurse_profile()["display"] == "David Okafor, RN, IgCN"
    store.update_patient(patient, notes="Key safe 1234")
    latest = store.audit_entries("patients", patient)[0]
    assert (latest["action"], latest["author"]) == ("update", "David Okafor, RN, IgCN")
    assert latest["before"] == {"notes": "", "updated_at": latest["before"]["updated_at"]}
    assert latest["after"]["notes"] == "Key safe 1234"
    with pytest.raises(RecordValueError, match="name is required"):
        store.set_nurse_profile("   ")


def test_patients_are_found_by_name_or_mrn_ignoring_case_and_accents(store):
    zoe = new_patient(store, "A-100", name="Zoë Ölund")
    new_patient(store, "B-200", name="Kenji Tanaka", sex="male")
    assert [p["id"] for p in store.find_patients("zoe olund")] == [zoe]
    assert [p["id"] for p in store.find_patients("a-1")] == [zoe]
    assert len(store.find_patients("")) == 2
    assert store.find_patients("100%") == []  # LIKE wildcards are literal
    store.update_patient(zoe, archived=True)
    assert [p["name"] for p in store.find_patients()] == ["Kenji Tanaka"]
    assert len(store.find_patients(include_archived=True)) == 2


def test_duplicate_mrn_is_refused_with_the_field_named(store):
    new_patient(store, "A-1")
    with pytest.raises(RecordValueError, match="already exists") as info:
        new_patient(store, "A-1", name="Someone Else")
    assert info.value.field == "mrn"


@pytest.mark.parametrize(
    "method, kwargs, field, message",
    [
        ("weight", {"weight_kg": -4}, "weight_kg", "Weight -4 kg is not possible"),
        ("weight", {"weight_kg": 0}, "weight_kg", "from 2 to 250 kg"),
        ("weight", {"weight_kg": 154.3 * 2.2}, "weight_kg", "not possible"),
        ("weight", {"weight_kg": float("nan")}, "weight_kg", "finite"),
        ("weight", {"weight_kg": "70"}, "weight_kg", "must be a number"),
        ("weight", {"weight_kg": 70, "measured_on": "2023-02-30"}, "measured_on", "not a real date"),
        ("weight", {"weight_kg": 70, "measured_on": "30/01/2023"}, "measured_on", "YYYY-MM-DD"),
        (
            "weight",
            {"weight_kg": 70, "measured_on": dt.date.today() + dt.timedelta(days=30)},
            "measured_on",
            "in the future",
        ),
        ("vitals", {"spo2_percent": 101}, "spo2_percent", "SpO2 101 % is not possible"),
        ("vitals", {"spo2_percent": -1}, "spo2_percent", "from 0 to 100 %"),
        ("vitals", {"temperature_c": 98.6}, "temperature_c", "Temperature 98.6 °C is not possible"),
        ("vitals", {"heart_rate": True}, "heart_rate", "must be a number"),
        ("vitals", {"systolic_mmhg": 80, "diastolic_mmhg": 120}, "systolic_mmhg", "higher than"),
        ("vitals", {"infusion_rate_ml_h": -10}, "infusion_rate_ml_h", "not possible"),
        ("vitals", {}, "temperature_c", "at least one value"),
        (
            "vitals",
            {"heart_rate": 70, "recorded_at": "2024-13-01T10:00"},
            "recorded_at",
            "not a real date and time",
        ),
        (
            "vitals",
            {"heart_rate": 70, "recorded_at": dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)},
            "recorded_at",
            "in the future",
        ),
        ("vitals", {"heart_rate": 70, "note": "bad \x00 byte"}, "note", "control character"),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message(store, method, kwargs, field, message):
    patient = new_patient(store)
    visit = store.create_visit(patient)
    with pytest.raises(RecordValueError, match=message) as info:
        if method == "weight":
            store.add_weight(patient, **kwargs)
        else:
            store.add_vitals(visit, **kwargs)
    assert info.value.field == field
    assert store.patient_weights(patient) == [] and store.visit_vitals(visit) == []


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"date_of_birth": "1999-02-29"}, "date_of_birth", "not a real date"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "before 1900"),
        (
            {"date_of_birth": (dt.date.today() + dt.timedelta(days=5)).isoformat()},
            "date_of_birth",
            "in the future",
        ),
        ({"sex": "f"}, "sex", "one of female, male"),
        ({"name": "   "}, "name", "required"),
        ({"name": "Line\nbreak"}, "name", "line break"),
        ({"name": "x" * 201}, "name", "too long"),
        ({"height_cm": 1.7}, "height_cm", "Height 1.7 cm is not possible"),
        ({"indication": "Derm Myositis"}, "indication", "must be an id"),
    ],
)
def test_invalid_patient_values_are_refused(store, overrides, field, message):
    with pytest.raises(RecordValueError, match=message) as info:
        new_patient(store, **overrides)
    assert info.value.field == field
    assert store.find_patients(include_archived=True) == []


def test_orders_need_a_regimen_or_a_dose_with_days(store):
    patient = new_patient(store)
    with pytest.raises(
        RecordValueError, match=re.escape("Dose per course must be more than 0, not -0.4 g/kg")
    ):
        store.create_order(
            patient,
            product_id="privigen",
            start_date="2024-01-01",
            prescriber="Dr. K",
            dose_g_per_kg=-0.4,
            course_days=1,
        )
    with pytest.raises(RecordValueError, match="regimen, or a dose"):
        store.create_order(
            patient, product_id="privigen", start_date="2024-01-01", prescriber="Dr. K", dose_g_per_kg=0.4
        )
    order = store.create_order(
        patient,
        product_id="gamunex-c",
        dose_g_per_kg=0.4,
        course_days=1,
        interval_days=28,
        start_date="2024-01-01",
        prescriber="Dr. K",
    )
    assert store.get_order(order)["active"] is True
    assert store.update_order(order, active=False)["active"] is False
    assert store.patient_orders(patient, active_only=True) == []
    with pytest.raises(RecordValueError, match="regimen, or a dose"):
        store.update_order(order, course_days=None)


def test_visit_keeps_the_engine_snapshot_exactly(store):
    patient = new_patient(store)
    snapshot = calculate(
        DoseRequest(
            product_id="octagam-10", weight_kg=82.4, height_cm=171, sex="female", regimen_id="dermatomyositis"
        )
    ).to_dict()
    visit = store.create_visit(patient, calculation=snapshot, weight_kg=82.4, course_day=2, course_days=5)
    stored = store.get_visit(visit)
    assert stored["calculation"] == snapshot
    assert (stored["course_day"], stored["course_days"], stored["status"]) == (2, 5, "draft")
    assert "calculation" not in store.patient_visits(patient)[0]
    with pytest.raises(RecordValueError, match="cannot be stored"):
        store.update_visit(visit, calculation={"rate": float("inf")})


def test_visit_days_and_times_are_checked(store):
    patient = new_patient(store)
    with pytest.raises(RecordValueError, match="beyond the 2 days") as info:
        store.create_visit(patient, course_day=3, course_days=2)
    assert info.value.field == "course_day"
    visit = store.create_visit(patient, started_at="2024-06-01T10:00:00+00:00")
    with pytest.raises(RecordValueError, match="before the start time"):
        store.update_visit(visit, ended_at="2024-06-01T09:00:00+00:00")
    other = new_patient(store, "OTHER")
    order = store.create_order(
        other, product_id="privigen", regimen_id="mg", start_date="2024-01-01", prescriber="Dr. K"
    )
    with pytest.raises(RecordValueError, match="another patient"):
        store.update_visit(visit, order_id=order)


def test_naive_times_are_local_and_stored_as_utc(store):
    visit = store.create_visit(new_patient(store))
    local = dt.datetime(2024, 6, 1, 9, 30)
    stored = store.update_visit(visit, started_at=local)["started_at"]
    assert stored.endswith("Z")
    assert dt.datetime.fromisoformat(stored) == local.astimezone(dt.UTC)


def test_visit_list_is_newest_first(store):
    patient = new_patient(store)
    first = store.create_visit(patient, scheduled_at="2024-01-01T10:00:00+00:00")
    third = store.create_visit(patient, scheduled_at="2024-03-01T10:00:00+00:00")
    second = store.create_visit(patient, scheduled_at="2024-02-01T10:00:00+00:00")
    assert [v["id"] for v in store.patient_visits(patient)] == [third, second, first]


def test_checklist_follows_the_visits_template_and_answers(store):
    visit = store.create_visit(new_patient(store))
    items = store.visit_checklist(visit)
    assert items[0]["phase_id"] == "preparation" and all(i["status"] is None for i in items)
    assert store.get_visit(visit)["checklist_template_version"] == store.visit_template(visit).version
    store.set_checklist_item(visit, "two-identifiers", "done")
    with pytest.raises(RecordValueError, match="why"):
        store.set_checklist_item(visit, "anaphylaxis-kit", "not_done")
    entry = store.set_checklist_item(
        visit, "anaphylaxis-kit", "not_done", "Kit expired; new kit delivered before start"
    )
    again = store.set_checklist_item(visit, "anaphylaxis-kit", "done")
    assert entry == again
    answered = {i["item_id"]: i for i in store.visit_checklist(visit) if i["status"]}
    assert answered["anaphylaxis-kit"]["status"] == "done"
    assert answered["two-identifiers"]["recorded_by"] == "Ana Núñez, RN"
    assert [a["action"] for a in store.audit_entries("checklist_entries", entry)] == ["update", "insert"]
    with pytest.raises(RecordValueError, match="no item 'no-such-item'"):
        store.set_checklist_item(visit, "no-such-item", "done")
    with pytest.raises(RecordValueError, match="one of done, not_done, not_applicable"):
        store.set_checklist_item(visit, "two-identifiers", "yes")
    store.clear_checklist_item(visit, "two-identifiers")
    assert "two-identifiers" in [i["item_id"] for i in store.unanswered_required_items(visit)]


def test_answers_keep_the_text_they_were_given_against(store):
    visit = store.create_visit(new_patient(store))
    store.set_checklist_item(visit, "two-identifiers", "done")
    entry = store.visit_children(visit)["checklist"][0]
    assert entry["item_text"] == store.visit_template(visit).item("two-identifiers").text
    assert (entry["phase_id"], entry["required"]) == ("pre-infusion", True)


def test_expired_lot_is_refused(store):
    visit = store.create_visit(new_patient(store), started_at="2024-06-01T09:00:00+00:00")
    with pytest.raises(RecordValueError, match="expired on 2024-05-31") as info:
        store.add_lot(
            visit,
            product_id="privigen",
            lot_number="P1",
            expiry_date="2024-05-31",
            vial_size_g=10,
            vial_count=2,
        )
    assert info.value.field == "expiry_date"
    lot = store.add_lot(
        visit, product_id="privigen", lot_number="P1", expiry_date="2024-06-01", vial_size_g=10, vial_count=2
    )
    assert store.update_lot(lot, vial_count=3)["vial_count"] == 3
    assert [hit["visit_id"] for hit in store.find_lot("P1")] == [visit]


def test_audit_log_records_every_change_and_cannot_be_edited(store):
    patient = new_patient(store)
    visit = store.create_visit(patient)
    reading = store.add_vitals(visit, heart_rate=88, note="baseline")
    store.update_vitals(reading, heart_rate=92)
    store.delete_vitals(reading)
    trail = store.audit_entries("vitals", reading)
    assert [t["action"] for t in trail] == ["delete", "update", "insert"]
    assert trail[2]["after"]["heart_rate"] == 88 and trail[2]["before"] is None
    assert trail[1]["before"]["heart_rate"] == 88 and trail[1]["after"]["heart_rate"] == 92
    assert trail[0]["before"]["heart_rate"] == 92 and trail[0]["after"] is None
    assert all(t["author"] == "Ana Núñez, RN" and t["at"].endswith("Z") for t in trail)
    tables = {t["table_name"] for t in store.audit_entries()}
    assert {"patients", "visits", "vitals"} <= tables
    raw = raw_connection(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="audit log cannot be changed"):
        raw.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.IntegrityError, match="audit log cannot be changed"):
        raw.execute("UPDATE audit_log SET author = 'someone else'")
    raw.close()


def test_deleting_records_is_limited_and_audited(store):
    patient = new_patient(store)
    visit = store.create_visit(patient)
    store.add_vitals(visit, heart_rate=70)
    with pytest.raises(StoreError, match="archive the patient instead"):
        store.delete_patient(patient)
    store.delete_visit(visit)
    with pytest.raises(NotFoundError, match=r"Visit .* does not exist"):
        store.get_visit(visit)
    assert [a["action"] for a in store.audit_entries("vitals")] == ["delete", "insert"]
    store.delete_patient(patient)
    with pytest.raises(NotFoundError):
        store.get_patient(patient)


def test_order_used_by_a_visit_cannot_be_deleted(store):
    patient = new_patient(store)
    order = store.create_order(
        patient, product_id="privigen", regimen_id="mg", start_date="2024-01-01", prescriber="Dr. K"
    )
    store.create_visit(patient, order_id=order)
    with pytest.raises(StoreError, match="set it inactive instead"):
        store.delete_order(order)


def test_settings_round_trip(store):
    assert store.get_setting("units", {"weight": "kg"}) == {"weight": "kg"}
    store.set_setting("units", {"weight": "lb", "temperature": "°F"})
    assert store.get_setting("units") == {"weight": "lb", "temperature": "°F"}
    with pytest.raises(RecordValueError, match="cannot be stored"):
        store.set_setting("bad", {1, 2})


def test_visit_children_returns_every_kind_of_entry(store):
    visit = ready_visit(store)
    children = store.visit_children(visit)
    assert set(children) == {
        "checklist",
        "vitals",
        "reactions",
        "lots",
        "infusion_events",
        "access_devices",
        "access_checks",
        "addenda",
    }
    assert [e["kind"] for e in children["infusion_events"]] == ["start", "end"]
    assert children["reactions"][0]["rate_at_onset_ml_h"] == 84.6
    assert children["lots"][0]["lot_number"] == "P4471"
    # Every required item that applies to this visit (product- and risk-specific items only when they apply).
    assert len(children["checklist"]) == len([i for i in store.visit_checklist(visit) if i["required"]])


def test_vital_sign_flags_compare_with_the_first_reading(store):
    visit = store.create_visit(new_patient(store))
    base = store.add_vitals(
        visit, temperature_c=36.8, heart_rate=76, systolic_mmhg=124, diastolic_mmhg=78, spo2_percent=98
    )
    calm = store.add_vitals(visit, temperature_c=37.0, heart_rate=80, spo2_percent=97)
    fever = store.add_vitals(
        visit, temperature_c=38.3, heart_rate=104, systolic_mmhg=98, diastolic_mmhg=60, spo2_percent=97
    )
    flags = store.visit_vital_flags(visit)
    assert flags[base] == [] and flags[calm] == []
    assert {(f.measure, f.kind) for f in flags[fever]} == {
        ("temperature", "high"),
        ("temperature", "change"),
        ("heart_rate", "high"),
        ("heart_rate", "change"),
        ("systolic", "change"),
    }


def test_infusion_timeline_is_kept_in_time_order(store):
    visit = store.create_visit(new_patient(store))
    end = store.add_infusion_event(visit, kind="end", occurred_at="2024-06-01T13:00:00+00:00")
    start = store.add_infusion_event(
        visit, kind="start", rate_ml_h=21.2, occurred_at="2024-06-01T09:10:00+00:00"
    )
    step = store.add_infusion_event(
        visit, kind="rate_change", rate_ml_h=42.4, occurred_at="2024-06-01T09:40:00+00:00"
    )
    assert [e["id"] for e in store.visit_infusion_events(visit)] == [start, step, end]
    with pytest.raises(RecordValueError, match="pump rate") as info:
        store.add_infusion_event(visit, kind="resume")
    assert info.value.field == "rate_ml_h"
    with pytest.raises(RecordValueError, match="A rate of 0 mL/h is not running") as info:
        store.add_infusion_event(visit, kind="rate_change", rate_ml_h=0)
    assert info.value.field == "rate_ml_h"
    with pytest.raises(RecordValueError, match="one of start, rate_change"):
        store.add_infusion_event(visit, kind="faster", rate_ml_h=50)
    assert store.update_infusion_event(step, rate_ml_h=40)["rate_ml_h"] == 40
    store.delete_infusion_event(step)
    assert [a["action"] for a in store.audit_entries("infusion_events", step)] == [
        "delete",
        "update",
        "insert",
    ]


def test_event_kinds_match_the_visit_logic():
    visit_logic = pytest.importorskip("nurse_app.core.visit_logic")
    from nurse_app.store.fields import INFUSION_EVENT_KINDS

    assert INFUSION_EVENT_KINDS == visit_logic.EVENT_KINDS


def test_old_template_version_missing_still_shows_recorded_answers(store):
    visit = store.create_visit(new_patient(store))
    store.set_checklist_item(visit, "two-identifiers", "done")
    raw = raw_connection(store.path)
    raw.execute("UPDATE visits SET checklist_template_version = 99 WHERE id = ?", [visit])
    raw.close()
    shown = store.visit_checklist(visit)
    assert [(i["item_id"], i["status"]) for i in shown] == [("two-identifiers", "done")]
