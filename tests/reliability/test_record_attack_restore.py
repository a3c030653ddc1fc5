"""Issue 22 §1-2: restore over a damaged record, hidden ``sqlite_*`` objects, backups with a
broken seal or chain, no plain or world-readable copy left by a killed restore, seals that
leave the laptop, and changes made with the audit switched off."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import new_patient, open_store, raw_connection, ready_visit

from nurse_app.store import Store, StoreError, backup_now, check_database, crypto, restore_backup
from nurse_app.store.backup import CRASH_ENV, remove_stale_temporaries

pytestmark = pytest.mark.reliability


def _record(path: Path) -> tuple[Path, int]:
    with open_store(path) as store:
        for n in range(5):
            new_patient(store, f"P-{n}")
        visit = ready_visit(store, "SIGNED-1")
        store.sign_visit(visit)
    return path, visit


def _plain_copy(encrypted: Path, plain: Path) -> Path:
    """An unencrypted copy, as an older version of the app wrote its backups."""
    conn = raw_connection(encrypted)
    conn.execute("ATTACH DATABASE ? AS plain KEY ''", [str(plain)])
    conn.execute("SELECT sqlcipher_export('plain')")
    for pragma in ("user_version", "application_id"):
        value = conn.execute(f"PRAGMA {pragma}").fetchone()[0]
        conn.execute(f"PRAGMA plain.{pragma} = {int(value)}")
    conn.execute("DETACH DATABASE plain")
    conn.close()
    assert crypto.is_plain(plain)
    return plain


def _hide(conn, kind: str, name: str, sql: str, table: str = "patients") -> None:
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("INSERT INTO sqlite_master VALUES (?, ?, ?, 0, ?)", [kind, name, table, sql])
    conn.execute("PRAGMA writable_schema = OFF")


EVIL_TRIGGER = (
    "CREATE TRIGGER sqlite_evil AFTER INSERT ON vitals BEGIN "
    "UPDATE patients SET allergies = '' WHERE id = 1; END"
)


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "plain"])
@pytest.mark.parametrize("kind", ["trigger", "view"])
def test_restore_refuses_an_object_named_sqlite_whatever_the_backup(tmp_path, kind, encrypted):
    record, _ = _record(tmp_path / "record.db")
    backup = backup_now(record, tmp_path / "backup.db")
    if not encrypted:
        backup = _plain_copy(backup, tmp_path / "plain.db")
    conn = raw_connection(backup) if encrypted else sqlite3.connect(backup, isolation_level=None)
    sql = EVIL_TRIGGER if kind == "trigger" else "CREATE VIEW sqlite_everyone AS SELECT name FROM patients"
    _hide(conn, kind, "sqlite_evil" if kind == "trigger" else "sqlite_everyone", sql)
    conn.close()
    with pytest.raises(StoreError, match=r"cannot be restored.*sqlite_e"):
        restore_backup(record, backup)


def test_a_record_with_a_hidden_sqlite_trigger_does_not_open(tmp_path):
    record, _ = _record(tmp_path / "record.db")
    conn = raw_connection(record)
    _hide(conn, "trigger", "sqlite_evil", EVIL_TRIGGER)
    conn.close()
    with pytest.raises(StoreError, match="sqlite_evil"):
        Store.open(record)


def test_restore_works_over_a_record_damaged_anywhere(tmp_path):
    record, _ = _record(tmp_path / "record.db")
    good = backup_now(record, tmp_path / "good.db")
    original = record.read_bytes()
    size = len(original)
    for n, position in enumerate(range(size // 40, size, size // 20)):
        folder = tmp_path / f"case-{n}"
        folder.mkdir()
        damaged = folder / "record.db"
        data = bytearray(original)
        data[position] ^= 0x40
        damaged.write_bytes(bytes(data))
        result = restore_backup(damaged, good)
        with Store.open(damaged) as store:
            assert len(store.find_patients()) == 6, f"byte {position}"
        if result.previous_was_damaged:
            assert result.kept_previous.read_bytes() == bytes(data)


def test_cli_restore_over_a_damaged_record_names_where_it_was_kept(tmp_path, cli):
    record, _ = _record(tmp_path / "record.db")
    good = backup_now(record, tmp_path / "good.db")
    data = bytearray(record.read_bytes())
    data[len(data) // 2] ^= 0x40
    record.write_bytes(bytes(data))
    done = cli("--db", record, "restore", good)
    assert done.returncode == 0, done.stderr
    assert "damaged" in done.stdout and "kept as" in done.stdout


def _rewrite_signed_vitals(path: Path, visit: int, *, rehash: bool) -> None:
    """What someone with the passphrase does: lift the triggers, change, reseal the visit."""
    from nurse_app.store.hashing import content_hash

    conn = raw_connection(path)
    _lift_audit(conn, "vitals", "UPDATE vitals SET heart_rate = 181 WHERE visit_id = ?", [visit])
    if rehash:
        cur = conn.execute("SELECT * FROM visits WHERE id = ?", [visit])
        row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
        kids = {}
        for table in ("checklist_entries", "vitals", "reactions", "product_lots", "infusion_events"):
            c = conn.execute(f"SELECT * FROM {table} WHERE visit_id = ?", [visit])
            kids[table] = [dict(zip([d[0] for d in c.description], r, strict=True)) for r in c.fetchall()]
        _lift_audit(
            conn,
            "visits",
            "UPDATE visits SET content_hash = ? WHERE id = ?",
            [content_hash(row, kids), visit],
        )
    conn.close()


@pytest.mark.parametrize("tamper", ["seal", "chain", "call"])
def test_restore_refuses_a_backup_whose_seal_or_chain_is_broken(tmp_path, tamper):
    record, visit = _record(tmp_path / "record.db")
    if tamper == "call":
        with Store.open(record) as store:
            patient = store.find_patients()[0]["id"]
            call = _signed_call(store, patient)
    backup = backup_now(record, tmp_path / "backup.db")
    conn = raw_connection(backup)
    if tamper == "seal":
        conn.close()
        _rewrite_signed_vitals(backup, visit, rehash=False)
    elif tamper == "chain":
        _lift_audit(conn, "audit_log", "UPDATE audit_log SET author = 'Someone Else' WHERE id = 3", [])
        conn.close()
    else:
        _lift_audit(conn, "followup_calls", "UPDATE followup_calls SET notes = 'fine' WHERE id = ?", [call])
        conn.close()
    before = record.read_bytes()
    with pytest.raises(StoreError, match="cannot be restored: its seals or audit chain do not hold"):
        restore_backup(record, backup)
    assert record.read_bytes() == before


def _signed_call(store: Store, patient: int) -> int:
    call = store.create_followup_call(patient, rule_id="rash-check-call", course_number=1)
    store.update_followup_call(
        call,
        called_at="2024-06-03T15:00:00+00:00",
        reached=True,
        answers={"new-itchy-rash": "no", "blisters": "no", "spreading": "no", "fever": "no"},
    )
    store.sign_followup_call(call)
    return call


def _restore_killed_at(record: Path, backup: Path, step: str) -> int:
    env = {**os.environ, CRASH_ENV: step}
    code = "import sys; from nurse_app.store import restore_backup; restore_backup(sys.argv[1], sys.argv[2])"
    return subprocess.run(
        [sys.executable, "-c", code, str(record), str(backup)], env=env, capture_output=True, timeout=120
    ).returncode


@pytest.mark.parametrize("step", ["restore-after-copy", "restore-after-upgrade", "restore-before-rename"])
def test_a_killed_restore_of_a_plain_backup_leaves_no_plain_or_readable_copy(tmp_path, step):
    record, _ = _record(tmp_path / "record.db")
    plain = _plain_copy(backup_now(record, tmp_path / "old.db"), tmp_path / "plain-backup.db")
    old_umask = os.umask(0o022)
    try:
        assert _restore_killed_at(record, plain, step) == -9
    finally:
        os.umask(old_umask)
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".record.db.restoring-")]
    assert leftovers, "the kill left its temporary file (what the next open must handle)"
    for leftover in leftovers:
        assert stat.S_IMODE(leftover.stat().st_mode) == 0o600
        assert not crypto.is_plain(leftover) or leftover.stat().st_size == 0
    with Store.open(record) as store:
        assert len(store.find_patients()) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".record.db.restoring-")]


def test_after_restoring_a_plain_backup_the_record_is_private_and_encrypted(tmp_path):
    record, _ = _record(tmp_path / "record.db")
    plain = _plain_copy(backup_now(record, tmp_path / "old.db"), tmp_path / "plain-backup.db")
    old_umask = os.umask(0o022)
    try:
        assert _restore_killed_at(record, plain, "restore-after-rename") == -9
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert not crypto.is_plain(record)


def test_stale_partial_and_encrypting_files_are_removed_at_the_next_open(tmp_path):
    record, _ = _record(tmp_path / "record.db")
    (tmp_path / "backups").mkdir(exist_ok=True)
    stale = [
        tmp_path / "record.db.encrypting",
        tmp_path / "backups" / "record-20240101T000000000000Z-manual.db.partial",
        tmp_path / ".record.db.restoring-999999999",
    ]
    for path in stale:
        path.write_bytes(b"SQLite format 3\x00 patient data")
    Store.open(record).close()
    assert [p for p in stale if p.exists()] == []
    assert remove_stale_temporaries(record) == []


# --------------------------------------------------------------------------- §2 seals


def test_seal_list_names_a_visit_rewritten_and_resealed_by_the_passphrase_holder(tmp_path, cli):
    from nurse_app.store.seals import read_list

    record, visit = _record(tmp_path / "record.db")
    listing = tmp_path / "seals.json"
    done = cli("--db", record, "seals", "--out", listing)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(listing.stat().st_mode) == 0o600
    listed = read_list(listing)
    assert [(s.kind, s.id) for s in listed if s.kind == "visit"] == [("visit", visit)]
    assert cli("--db", record, "check-db", "--seals", listing).returncode == 0
    _rewrite_signed_vitals(record, visit, rehash=True)
    # rebuild the chain's signing entry too: the file alone then looks consistent
    conn = raw_connection(record)
    new_hash = conn.execute("SELECT content_hash FROM visits WHERE id = ?", [visit]).fetchone()[0]
    conn.close()
    assert new_hash != listed[0].content_hash
    report = cli("--db", record, "check-db", "--seals", listing)
    assert report.returncode == 1
    assert f"visit {visit}: its seal is not the one handed over" in report.stdout
    assert "Result: PROBLEMS FOUND" in report.stdout


def test_check_db_refuses_a_file_that_is_not_a_seal_list(tmp_path, cli):
    record, _ = _record(tmp_path / "record.db")
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"format": "something else"}))
    done = cli("--db", record, "check-db", "--seals", bogus)
    assert done.returncode == 2 and "not a nurse-app seal list" in done.stderr
    assert "Traceback" not in done.stderr


def _lift_audit(conn, table: str, statement: str, params: list) -> None:
    """Drop the table's triggers, change the row, and put the triggers back as they were."""
    saved = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table]
    ).fetchall()
    for name, _ in saved:
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute(statement, params)
    for _, sql in saved:
        conn.execute(sql)


@pytest.mark.parametrize(
    "table,statement",
    [
        ("addenda", "UPDATE addenda SET text = 'Nothing to add' WHERE id = 1"),
        ("patients", "UPDATE patients SET allergies = '' WHERE id = 6"),
        ("orders", "UPDATE orders SET dose_g_per_kg = 2 WHERE id = 1"),
        ("followup_calls", "UPDATE followup_calls SET notes = 'all fine' WHERE id = 1"),
        ("content_approvals", "UPDATE content_approvals SET approver_name = 'Dr. Nobody' WHERE id = 1"),
    ],
)
def test_a_change_made_with_the_triggers_dropped_and_recreated_is_found(tmp_path, table, statement):
    record, visit = _record(tmp_path / "record.db")
    with Store.open(record) as store:
        store.add_addendum(visit, "Patient called: headache resolved.")
        patient = store.find_patients()[-1]["id"]
        store.update_patient(patient, allergies="Penicillin")
        _signed_call(store, patient)
        _approve_content(store)
    assert check_database(record).ok
    conn = raw_connection(record)
    _lift_audit(conn, table, statement, [])
    conn.close()
    report = check_database(record)
    assert not report.ok
    text = "\n".join(report.lines())
    assert table in text and "Result: PROBLEMS FOUND" in text


def _approve_content(store: Store) -> None:
    store.record_content_approval("aaaaaa111111", "Dana Educator", "RN", items={"x": "1"})


def test_a_forged_audit_entry_is_a_problem_and_says_who_wrote_it(tmp_path):
    record, visit = _record(tmp_path / "record.db")
    conn = raw_connection(record)
    conn.execute(
        "INSERT INTO audit_log (at, author, table_name, row_id, action, before, after) "
        "VALUES ('2024-06-01T10:00:00Z', 'Ana Núñez, RN', 'visits', ?, 'update', NULL, '{}')",
        [visit],
    )
    forged = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    conn.close()
    report = check_database(record)
    assert not report.ok and forged in report.outside_entries
    with Store.open(record) as store:  # the next save chains it, and says it was not the app's
        new_patient(store, "AFTER")
    report = check_database(record)
    assert not report.ok and forged in report.outside_entries
    assert any("NOT WRITTEN BY NURSE-APP" in line for line in report.lines())
