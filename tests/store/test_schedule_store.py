"""Follow-up call records in the store: migration, autosave, audit, signing, triggers."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from store_helpers import outside_connection

from nurse_app.store import Store
from nurse_app.store.errors import RecordValueError, SignedVisitError, StoreError
from nurse_app.store.schema import CURRENT_VERSION, MIGRATIONS, SCHEDULE_VERSION


def _patient_order(store):
    pid = store.create_patient(
        mrn="M1", name="Ann Lee", date_of_birth="1970-01-01", sex="female", indication="dermatomyositis"
    )
    oid = store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        course_days=5,
        interval_days=28,
        start_date="2025-01-06",
        prescriber="Dr. K",
    )
    return pid, oid


def test_schema_has_the_call_table_and_order_tolerance(store):
    assert store.schema_version == CURRENT_VERSION >= SCHEDULE_VERSION
    _pid, oid = _patient_order(store)
    assert store.update_order(oid, tolerance_days=2)["tolerance_days"] == 2
    with pytest.raises(RecordValueError):
        store.update_order(oid, tolerance_days=45)


def test_call_autosaves_is_audited_and_signs_read_only(store, tmp_path):
    pid, oid = _patient_order(store)
    cid = store.create_followup_call(
        pid, order_id=oid, rule_id="rash-check-call", course_number=1, due_date="2025-01-18"
    )
    store.update_followup_call(cid, called_at=dt.datetime(2025, 1, 18, 10, tzinfo=dt.UTC), reached=True)
    with pytest.raises(StoreError, match="not answered"):
        store.sign_followup_call(cid)
    answers = {
        "new-itchy-rash": "yes",
        "blisters": {"answer": "yes", "note": "palms"},
        "spreading": "no",
        "fever": "no",
        "where": {"text": "both palms"},
    }
    store.update_followup_call(cid, answers=answers)
    with pytest.raises(StoreError, match="prescriber"):
        store.sign_followup_call(cid)
    store.update_followup_call(
        cid, escalated_to="Dr. K", escalated_at=dt.datetime(2025, 1, 18, 10, 20, tzinfo=dt.UTC)
    )
    signed = store.sign_followup_call(cid)
    assert signed["status"] == "signed" and signed["signed_by"] == "Ana Núñez, RN"
    assert signed["answers"]["blisters"] == {"answer": "yes", "note": "palms"}
    assert store.followup_call_intact(cid) is True
    with pytest.raises(SignedVisitError):
        store.update_followup_call(cid, notes="late change")
    with pytest.raises(SignedVisitError):
        store.delete_followup_call(cid)
    actions = [e["action"] for e in store.audit_entries("followup_calls", cid)]
    assert actions.count("update") >= 4 and "insert" in actions
    # raw SQL from another program cannot change or delete it either
    raw = outside_connection(store.path)  # the record is encrypted: an SQLCipher tool with the key
    try:
        with pytest.raises(sqlite3.IntegrityError, match="signed"):
            raw.execute("UPDATE followup_calls SET notes = 'x' WHERE id = ?", [cid])
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute("DELETE FROM followup_calls WHERE id = ?", [cid])
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute(
                "INSERT OR REPLACE INTO followup_calls SELECT * FROM followup_calls WHERE id = ?", [cid]
            )
    finally:
        raw.close()
    from nurse_app.store.maintenance import check_database

    report = check_database(store.path)
    assert report.ok, report.lines()


def test_unknown_rule_and_bad_answer_are_refused(store):
    pid, _oid = _patient_order(store)
    with pytest.raises(RecordValueError, match="Unknown follow-up"):
        store.create_followup_call(pid, rule_id="nope")
    with pytest.raises(RecordValueError, match="yes, no or unknown"):
        store.create_followup_call(pid, rule_id="rash-check-call", answers={"fever": "maybe"})


def test_not_reached_call_signs_without_answers(store):
    pid, oid = _patient_order(store)
    cid = store.create_followup_call(
        pid,
        order_id=oid,
        rule_id="rash-check-call",
        course_number=1,
        called_at="2025-01-18T10:00:00+00:00",
        reached=False,
        notes="No answer; left a message.",
    )
    assert store.sign_followup_call(cid)["reached"] is False
    assert [c["id"] for c in store.calls_since(pid, None)] == [cid]


def test_the_previous_version_upgrades_with_a_backup_and_passes_check_db(tmp_path):
    from store_helpers import ready_visit

    from nurse_app.store.maintenance import check_database
    from nurse_app.store.schema import migrate

    path = tmp_path / "previous.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=SCHEDULE_VERSION - 1)
    conn.close()
    with Store.open(path) as store:
        # Later steps (issue 15's content approvals) run in the same upgrade.
        assert store.migrated_versions[0] == SCHEDULE_VERSION
        assert store.migrated_versions == [v for v in sorted(MIGRATIONS) if v >= SCHEDULE_VERSION]
        assert store.migration_backup is not None and store.migration_backup.exists()
        store.set_nurse_profile("Maria Santos", "RN")
        visit = ready_visit(store)
        store.sign_visit(visit)
        assert store.verify_visit(visit) is True
        pid = store.get_visit(visit)["patient_id"]
        store.sign_followup_call(
            store.create_followup_call(
                pid, rule_id="rash-check-call", called_at="2024-06-10T10:00:00+00:00", reached=False
            )
        )
    report = check_database(path)
    assert report.ok and report.broken_seals == [], report.lines()


def test_an_order_with_the_renal_flag_gets_the_kidney_check_after_each_course(store):
    from nurse_app.services.schedule import build_schedule

    pid = store.create_patient(mrn="R1", name="Rita Cole", date_of_birth="1950-01-01", sex="female")
    plain = store.create_order(
        pid,
        product_id="privigen",
        regimen_id="cidp-maintenance",
        start_date="2025-01-06",
        prescriber="Dr. K",
        active=False,
    )
    renal = store.create_order(
        pid,
        product_id="privigen",
        regimen_id="cidp-maintenance",
        start_date="2025-01-06",
        prescriber="Dr. K",
        risks=["renal"],
    )
    store.create_visit(pid, order_id=renal, started_at="2025-01-06T10:00:00+00:00")
    items = build_schedule(
        store, dt.date(2025, 1, 6), days=5, today=dt.date(2025, 1, 6), with_doses=False
    ).items
    lab = [i for i in items if i.kind == "lab"]
    assert [(i.order_id, i.rule_id, i.date) for i in lab] == [(renal, "renal-check", dt.date(2025, 1, 7))]
    assert all(i.order_id != plain for i in items)  # inactive orders are not scheduled
