"""Raw-SQL attacks on every protected table (issue 12 §1), from a plain ``sqlite3``
connection with its default settings (no ``recursive_triggers``, no foreign keys): what
another program or the sqlite3 shell would use.

Every replacing form is tried on every table whose rows a signed visit freezes or that is
append-only: ``INSERT OR REPLACE``, ``REPLACE``, UPSERT (``INSERT ... ON CONFLICT DO
UPDATE``) and ``UPDATE OR REPLACE`` (colliding with the protected row's id, and in place).
Each must be refused, leave every protected row byte-for-byte as it was, and leave
``check-db`` reporting the record intact.
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from store_helpers import open_store, outside_connection, ready_visit

from nurse_app.store import Store, check_database
from nurse_app.store.schema import CLINICAL_TABLES, PROTECTED_TABLES

pytestmark = pytest.mark.reliability

FORMS = ("insert_or_replace", "replace", "upsert", "update_or_replace_id", "update_or_replace_in_place")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A record with a signed visit (every kind of entry, two addenda) and a draft visit
    of another patient with the same kinds of entries."""
    path = tmp_path_factory.mktemp("attack") / "record.db"
    with open_store(path) as store:
        signed = ready_visit(store, "MRN-1")
        draft = ready_visit(store, "MRN-2")
        for visit in (signed, draft):  # the IV line's rows are frozen with the visit too
            device = store.add_access_device(
                visit,
                device_type="peripheral-iv",
                gauge=22,
                length_mm=25,
                site="forearm",
                side="left",
                success=True,
                placed_at="2024-06-01T09:05:00+00:00",
                blood_return=True,
            )
            store.add_access_check(
                device,
                kind="assessment",
                phase="before",
                checked_at="2024-06-01T09:06:00+00:00",
                phlebitis_grade=0,
                infiltration_grade=0,
            )
            store.remove_access_device(
                device,
                removed_at="2024-06-01T13:20:00+00:00",
                catheter_intact=True,
                removal_condition="no-redness",
            )
        store.sign_visit(signed)
        store.add_addendum(signed, "Phoned next day: well.")
        store.add_addendum(signed, "Second addendum.")
        store.add_weight(store.get_visit(draft)["patient_id"], 70)
        for _ in range(2):  # follow-up call records (issue 16) are audited too
            store.create_followup_call(
                store.get_visit(draft)["patient_id"], rule_id="rash-check-call", notes="Left a message."
            )
        for version in ("aaaaaa111111", "bbbbbb222222"):  # content approvals (issue 15) are audited too
            store.record_content_approval(version, "Dana Educator", "RN", items={"x": "1"})
        ids = {"signed": signed, "draft": draft}
    return path, ids


@pytest.fixture
def record(template, tmp_path):
    source, ids = template
    path = tmp_path / "record.db"
    shutil.copy(source, path)
    return path, ids


def _raw(path) -> sqlite3.Connection:
    """An outside program's connection: SQLite defaults, autocommit."""
    return outside_connection(path)  # the record is encrypted: an SQLCipher tool with the key


def _dump(path) -> dict[str, list[tuple]]:
    conn = _raw(path)
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            for t in (*CLINICAL_TABLES, "audit_log")
        }
    finally:
        conn.close()


def _columns(conn, table) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _target_and_donor(conn, table, ids) -> tuple[int, int, dict[str, str]]:
    """The protected row to attack, an unprotected row of the same table, and the column
    changes the attack tries (SQL expressions)."""
    signed, draft = ids["signed"], ids["draft"]
    if table == "visits":
        return (
            signed,
            draft,
            {
                "status": "'draft'",
                "signed_by": "NULL",
                "signed_at": "NULL",
                "content_hash": "NULL",
                "weight_kg": "99",
            },
        )
    if table == "addenda":
        first, second = [r[0] for r in conn.execute("SELECT id FROM addenda ORDER BY id")]
        return first, second, {"text": "'rewritten'", "author": "'Mallory'"}
    if table == "audit_log":
        first = conn.execute("SELECT min(id) FROM audit_log").fetchone()[0]
        last = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
        return first, last, {"author": "'Mallory'"}
    target = conn.execute(f"SELECT min(id) FROM {table} WHERE visit_id = ?", [signed]).fetchone()[0]
    donor = conn.execute(f"SELECT min(id) FROM {table} WHERE visit_id = ?", [draft]).fetchone()[0]
    assert target is not None and donor is not None
    return target, donor, {"visit_id": str(draft)}  # move the signed entry to the draft


def _attack_sql(conn, table: str, form: str, ids) -> str:
    target, donor, changes = _target_and_donor(conn, table, ids)
    cols = _columns(conn, table)
    select = ", ".join(changes.get(c, c) for c in cols)
    insert = f"INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table} WHERE id = {target}"
    if form == "insert_or_replace":
        return f"INSERT OR REPLACE {insert}"
    if form == "replace":
        return f"REPLACE {insert}"
    if form == "upsert":
        updates = ", ".join(f"{c} = excluded.{c}" for c in changes)
        return f"INSERT {insert} ON CONFLICT (id) DO UPDATE SET {updates}"
    if form == "update_or_replace_id":
        return f"UPDATE OR REPLACE {table} SET id = {target} WHERE id = {donor}"
    assert form == "update_or_replace_in_place"
    sets = ", ".join(f"{c} = {e}" for c, e in changes.items())
    return f"UPDATE OR REPLACE {table} SET {sets} WHERE id = {target}"


def test_the_protected_tables_are_enumerated_from_the_schema():
    assert set(PROTECTED_TABLES) == {
        "visits",
        "checklist_entries",
        "vitals",
        "reactions",
        "product_lots",
        "infusion_events",
        "access_devices",
        "access_checks",
        "addenda",
        "audit_log",
    }


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_replacing_forms_cannot_touch_protected_rows(record, table, form):
    path, ids = record
    before = _dump(path)
    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
        sql = _attack_sql(conn, table, form, ids)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    finally:
        conn.close()
    assert _dump(path) == before, sql
    report = check_database(path)
    assert report.ok and report.broken_seals == [], report.lines()
    with Store.open(path) as store:
        assert store.verify_visit(ids["signed"]) is True


@pytest.mark.parametrize("table", [t for t in CLINICAL_TABLES if t not in PROTECTED_TABLES])
def test_replacing_an_audited_row_cannot_delete_it_without_an_audit_entry(record, table):
    """Patients, weights and orders are editable, but every change is audited: a REPLACE
    would delete the old row unseen, so it is refused too (update them instead)."""
    path, _ids = record
    before = _dump(path)
    conn = _raw(path)
    try:
        target = conn.execute(f"SELECT min(id) FROM {table}").fetchone()[0]
        other = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
        cols = ", ".join(_columns(conn, table))
        for sql in (
            f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM {table} WHERE id = {target}",
            f"REPLACE INTO {table} ({cols}) SELECT {cols} FROM {table} WHERE id = {target}",
            f"UPDATE OR REPLACE {table} SET id = {target} WHERE id = {other}",
        ):
            if target == other and sql.startswith("UPDATE"):
                continue
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(sql)
    finally:
        conn.close()
    assert _dump(path) == before


def test_a_patient_cannot_be_replaced_through_its_mrn(record):
    path, _ = record
    before = _dump(path)
    conn = _raw(path)
    try:
        cols = [c for c in _columns(conn, "patients") if c != "id"]
        with pytest.raises(sqlite3.IntegrityError, match="MRN"):
            conn.execute(
                f"INSERT OR REPLACE INTO patients ({', '.join(cols)}) SELECT "
                f"{', '.join(cols)} FROM patients WHERE mrn = 'MRN-1'"
            )
        with pytest.raises(sqlite3.IntegrityError, match="MRN"):
            conn.execute("UPDATE OR REPLACE patients SET mrn = 'MRN-1' WHERE mrn = 'MRN-2'")
    finally:
        conn.close()
    assert _dump(path) == before


def test_a_checklist_answer_cannot_be_replaced_through_its_item(record):
    path, ids = record
    before = _dump(path)
    conn = _raw(path)
    try:
        cols = [c for c in _columns(conn, "checklist_entries") if c != "id"]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                f"INSERT OR REPLACE INTO checklist_entries ({', '.join(cols)}) SELECT "
                f"{', '.join(cols)} FROM checklist_entries WHERE visit_id = {ids['draft']} "
                f"LIMIT 1"
            )
        first, second = [
            r[0]
            for r in conn.execute(
                "SELECT item_id FROM checklist_entries WHERE visit_id = ? ORDER BY id LIMIT 2", [ids["draft"]]
            )
        ]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "UPDATE OR REPLACE checklist_entries SET item_id = ? WHERE visit_id = ? AND item_id = ?",
                [first, ids["draft"], second],
            )
    finally:
        conn.close()
    assert _dump(path) == before


def test_a_visit_cannot_be_inserted_already_signed(record):
    """A signed visit is made only by signing a draft (so it is in the audit chain)."""
    path, ids = record
    conn = _raw(path)
    try:
        cols = [c for c in _columns(conn, "visits") if c != "id"]
        with pytest.raises(sqlite3.IntegrityError, match="signed"):
            conn.execute(
                f"INSERT INTO visits ({', '.join(cols)}) SELECT {', '.join(cols)} "
                f"FROM visits WHERE id = {ids['signed']}"
            )
    finally:
        conn.close()


def test_the_app_connection_fires_delete_triggers_on_replace(record):
    """The app's own connections turn recursive_triggers on, so even a REPLACE run through
    them (e.g. by a future code path) fires the delete triggers."""
    path, _ = record
    with Store.open(path) as store:
        assert store.db.conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 1


def test_the_app_still_reanswers_checklist_items(record):
    """Re-answering an item (the app's own update of an answer) still works and is audited
    as an update, now that a colliding insert is refused."""
    path, ids = record
    with Store.open(path) as store:
        item = store.visit_checklist(ids["draft"])[0]["item_id"]
        store.set_checklist_item(ids["draft"], item, "not_applicable")
        store.set_checklist_items(ids["draft"], {item: ("not_done", "patient declined")})
        entry = next(e for e in store.visit_checklist(ids["draft"]) if e["item_id"] == item)
        assert entry["status"] == "not_done" and entry["note"] == "patient declined"
        audit = store.audit_entries("checklist_entries", entry["entry_id"])
        assert [a["action"] for a in audit[:2]] == ["update", "update"]
