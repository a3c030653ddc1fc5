"""Signing: signer, time and content hash; read-only through the API and raw SQL; addenda."""

from __future__ import annotations

import sqlite3

import pytest
from store_helpers import new_patient, raw_connection, ready_visit

from nurse_app.store import SignedVisitError, StoreError, check_database


@pytest.fixture
def signed(store):
    visit = ready_visit(store)
    store.sign_visit(visit)
    return visit


def test_signing_is_refused_until_the_visit_is_complete(store):
    patient = new_patient(store)
    visit = store.create_visit(patient)
    problems = store.signing_problems(visit)
    assert problems[0] == "the start time is not recorded"
    assert problems[1] == "the end time is not recorded"
    assert "required checklist items are not answered" in problems[2]
    assert "Patient identity confirmed with two identifiers" in problems[2]
    with pytest.raises(StoreError, match="cannot be signed yet: the start time"):
        store.sign_visit(visit)
    assert store.get_visit(visit)["status"] == "draft"


def test_signing_records_signer_time_and_content_hash(store):
    visit = ready_visit(store)
    store.set_nurse_profile("David Okafor", "RN, IgCN")
    result = store.sign_visit(visit)
    assert result["status"] == "signed"
    assert result["signed_by"] == "David Okafor, RN, IgCN"
    assert result["signed_at"].endswith("Z")
    assert result["content_hash"].startswith("sha256:") and len(result["content_hash"]) == 71
    assert store.verify_visit(visit) is True
    assert store.signing_problems(visit) == ["it was already signed by David Okafor, RN, IgCN"]
    audit = store.audit_entries("visits", visit)[0]
    assert audit["after"]["status"] == "signed" and audit["author"] == "David Okafor, RN, IgCN"


def _first(store, visit, kind):
    return store.visit_children(visit)[kind][0]["id"]


@pytest.mark.parametrize(
    "change",
    [
        lambda s, v: s.update_visit(v, notes="changed later"),
        lambda s, v: s.delete_visit(v),
        lambda s, v: s.sign_visit(v),
        lambda s, v: s.add_vitals(v, heart_rate=80),
        lambda s, v: s.update_vitals(_first(s, v, "vitals"), heart_rate=80),
        lambda s, v: s.delete_vitals(_first(s, v, "vitals")),
        lambda s, v: s.add_reaction(v, kind="infusion-reaction", severity="mild"),
        lambda s, v: s.update_reaction(_first(s, v, "reactions"), severity="severe"),
        lambda s, v: s.delete_reaction(_first(s, v, "reactions")),
        lambda s, v: s.add_lot(
            v, product_id="privigen", lot_number="X1", expiry_date="2030-01-01", vial_size_g=10, vial_count=1
        ),
        lambda s, v: s.update_lot(_first(s, v, "lots"), vial_count=9),
        lambda s, v: s.delete_lot(_first(s, v, "lots")),
        lambda s, v: s.set_checklist_item(v, "two-identifiers", "not_applicable"),
        lambda s, v: s.set_checklist_items(v, {"kit-packed": "done"}),
        lambda s, v: s.clear_checklist_item(v, "two-identifiers"),
        lambda s, v: s.add_infusion_event(v, kind="pause"),
        lambda s, v: s.update_infusion_event(_first(s, v, "infusion_events"), rate_ml_h=300),
        lambda s, v: s.delete_infusion_event(_first(s, v, "infusion_events")),
    ],
)
def test_signed_visit_is_read_only_through_the_api(store, signed, change):
    before = store.visit_children(signed), store.get_visit(signed)
    with pytest.raises(SignedVisitError, match="read-only"):
        change(store, signed)
    assert (store.visit_children(signed), store.get_visit(signed)) == before
    assert store.verify_visit(signed) is True


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE visits SET notes = 'edited' WHERE id = :v",
        "UPDATE visits SET status = 'draft' WHERE id = :v",
        "DELETE FROM visits WHERE id = :v",
        "INSERT INTO vitals (visit_id, recorded_at, heart_rate, recorded_by) "
        "VALUES (:v, '2024-06-01T12:00:00.000Z', 99, 'x')",
        "UPDATE vitals SET heart_rate = 150 WHERE visit_id = :v",
        "DELETE FROM vitals WHERE visit_id = :v",
        "UPDATE checklist_entries SET status = 'not_done' WHERE visit_id = :v",
        "DELETE FROM checklist_entries WHERE visit_id = :v",
        "INSERT INTO reactions (visit_id, occurred_at, kind, severity, recorded_by) "
        "VALUES (:v, '2024-06-01T12:00:00.000Z', 'x', 'mild', 'x')",
        "UPDATE reactions SET severity = 'severe' WHERE visit_id = :v",
        "UPDATE product_lots SET lot_number = 'OTHER' WHERE visit_id = :v",
        "DELETE FROM product_lots WHERE visit_id = :v",
        "INSERT INTO infusion_events (visit_id, occurred_at, kind, recorded_by) "
        "VALUES (:v, '2024-06-01T12:00:00.000Z', 'pause', 'x')",
        "UPDATE infusion_events SET rate_ml_h = 500 WHERE visit_id = :v",
        "DELETE FROM infusion_events WHERE visit_id = :v",
    ],
)
def test_signed_visit_is_read_only_through_raw_sql(store, signed, sql):
    raw = raw_connection(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="signed and read-only"):
        raw.execute(sql, {"v": signed})
    raw.close()
    assert store.verify_visit(signed) is True
    assert store.get_visit(signed)["status"] == "signed"


def test_rows_cannot_be_moved_into_a_signed_visit(store, signed):
    draft = store.create_visit(store.get_visit(signed)["patient_id"])
    reading = store.add_vitals(draft, heart_rate=70)
    raw = raw_connection(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="signed and read-only"):
        raw.execute("UPDATE vitals SET visit_id = ? WHERE id = ?", [signed, reading])
    raw.close()


def test_addenda_are_allowed_after_signing_and_append_only(store, signed):
    store.set_nurse_profile("Maria Santos", "RN")
    first = store.add_addendum(signed, "Late entry: patient phoned at 20:00 with a mild headache.")
    store.add_addendum(signed, "Correction: lot P4471 was 2 vials of 20 g, not 3.")
    addenda = store.visit_addenda(signed)
    assert addenda[0]["id"] == first
    assert addenda[0]["author"] == "Maria Santos, RN" and addenda[0]["written_at"].endswith("Z")
    assert store.visit_children(signed)["addenda"] == addenda
    assert store.verify_visit(signed) is True  # addenda do not break the seal
    raw = raw_connection(store.path)
    for sql in ("UPDATE addenda SET text = 'rewritten'", "DELETE FROM addenda"):
        with pytest.raises(sqlite3.IntegrityError, match="Addenda cannot be changed"):
            raw.execute(sql)
    raw.close()
    assert [a["action"] for a in store.audit_entries("addenda")] == ["insert", "insert"]


def test_addenda_are_for_signed_visits_only(store):
    draft = store.create_visit(new_patient(store))
    with pytest.raises(StoreError, match="still a draft"):
        store.add_addendum(draft, "note")
    store.update_visit(draft, notes="edited directly")  # drafts stay editable


def test_tampering_behind_the_triggers_is_detected(store, signed):
    # Someone with a raw SQL tool removes the protection and edits a signed reading.
    raw = raw_connection(store.path)
    raw.execute("DROP TRIGGER vitals_signed_no_update")
    raw.execute("UPDATE vitals SET heart_rate = 60 WHERE visit_id = ?", [signed])
    raw.close()
    assert store.verify_visit(signed) is False
    report = check_database(store.path)
    assert report.broken_seals == [signed] and not report.ok
    assert any("CONTENT CHANGED AFTER SIGNING" in line for line in report.lines())
