"""The record file: migration from version 1, refusals, damaged files, location, backups."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from store_helpers import V1_FIXTURE, file_digest, new_patient, open_store, raw_connection, ready_visit

from nurse_app.store import (
    CorruptDatabaseError,
    DatabaseBusyError,
    DatabaseLocationError,
    DatabaseNewerError,
    SignedVisitError,
    Store,
    StoreError,
    backup_now,
    list_backups,
    resolve_db_path,
    restore_backup,
    schema,
)
from nurse_app.store.schema import CURRENT_VERSION, migrate

# --------------------------------------------------------------------------- migration


def test_version_1_fixture_is_backed_up_and_migrated_with_its_data(tmp_path):
    fixture_digest = file_digest(V1_FIXTURE)
    path = tmp_path / "record.db"
    shutil.copy(V1_FIXTURE, path)
    with Store.open(path) as store:
        assert store.migrated_versions == list(range(2, CURRENT_VERSION + 1))
        assert store.schema_version == CURRENT_VERSION
        # The backup was taken with the backup API before migrating: it is still version 1.
        backup = store.migration_backup
        assert backup is not None and backup.parent == tmp_path / "backups"
        assert "before-migration-v1" in backup.name
        old = raw_connection(backup)  # encrypted like the record
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
        assert old.execute("SELECT count(*) FROM visits").fetchone()[0] == 2
        old.close()
        assert [b.path for b in list_backups(path)] == [backup]
        # The data came through unchanged.
        zoe = store.find_patients("zoe")[0]
        assert zoe["name"] == "Zoë Ölund-Łukasiewicz" and zoe["date_of_birth"] == "1958-02-28"
        visit = store.patient_visits(zoe["id"])[0]
        assert visit["status"] == "signed" and store.verify_visit(visit["id"]) is True
        assert store.get_visit(visit["id"])["calculation"]["product"] == "privigen"
        assert store.visit_reactions(visit["id"])[0]["rate_at_onset_ml_h"] is None  # new column
        assert store.visit_addenda(visit["id"])[0]["text"].startswith("Phoned next day")
        assert store.get_setting("units") == {"weight": "kg"}
        # Signed stays signed; addenda and audit work on the upgraded file.
        with pytest.raises(SignedVisitError):
            store.add_vitals(visit["id"], heart_rate=70)
        raw = raw_connection(path)
        with pytest.raises(sqlite3.IntegrityError, match="signed"):
            raw.execute("DELETE FROM vitals WHERE visit_id = ?", [visit["id"]])
        raw.close()
        store.add_addendum(visit["id"], "Reviewed after the upgrade.")
        draft = store.patient_visits(store.find_patients("kenji")[0]["id"])[0]
        store.update_visit(draft["id"], notes="Rescheduled")
        audit = store.audit_entries()
        # (The oldest entry anchors the visit signed before the audit log existed in the
        # audit chain, made by the upgrade that added the chain.)
        assert [(a["table_name"], a["action"]) for a in audit] == [
            ("visits", "update"),
            ("addenda", "insert"),
            ("visits", "update"),
        ]
        assert audit[0]["author"] == "Ana Núñez, RN"
        assert audit[2]["row_id"] == visit["id"] and audit[2]["after"]["status"] == "signed"
        assert audit[2]["author"] == schema.UPGRADE_AUTHOR
    with Store.open(path) as again:
        assert again.migrated_versions == [] and again.migration_backup is None
    assert file_digest(V1_FIXTURE) == fixture_digest  # the checked-in fixture is never touched


@pytest.mark.parametrize("version", range(1, CURRENT_VERSION))
def test_every_older_schema_version_upgrades_to_the_current_one(tmp_path, version):
    path = tmp_path / "record.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=version)
    conn.close()
    with open_store(path) as store:
        assert store.migrated_versions == list(range(version + 1, CURRENT_VERSION + 1))
        visit = ready_visit(store)
        store.sign_visit(visit)
        assert store.verify_visit(visit) is True
        assert {a["table_name"] for a in store.audit_entries()} >= {"patients", "visits", "vitals"}
    fresh = tmp_path / "fresh.db"
    open_store(fresh).close()
    # Guards a future shortcut that would create new files from a latest-schema script.
    assert _schema(path) == _schema(fresh)


def _schema(path: Path) -> list:
    conn = raw_connection(path)
    rows = conn.execute("SELECT type, name, tbl_name FROM sqlite_master ORDER BY name").fetchall()
    columns = {
        name: conn.execute(f"PRAGMA table_info({name})").fetchall()
        for kind, name, _table in rows
        if kind == "table"
    }
    assert "infusion_events" in columns
    conn.close()
    return [rows, columns]


def test_a_newer_version_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        new_patient(store)
    raw = raw_connection(path)
    raw.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    raw.close()
    digest = file_digest(path)
    with pytest.raises(DatabaseNewerError, match="newer version of nurse-app") as info:
        Store.open(path)
    assert "has not been changed" in str(info.value)
    assert file_digest(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.db"]  # no backup, no -wal


# --------------------------------------------------------------------------- damaged files


def _valid_file(path: Path) -> bytes:
    with open_store(path) as store:
        for i in range(30):
            new_patient(store, f"MRN-{i}", notes="x" * 500)
    return path.read_bytes()


def _corrupt_middle(data: bytes) -> bytes:
    page = 4096  # the page size (an encrypted file's header is not readable)
    return data[:page] + os.urandom(len(data) - 2 * page) + data[-page:]


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda data: b"", "is empty"),
        (lambda data: b"name,dob\nZoe,1960-01-01\n", "not an SQLite database"),
        (lambda data: data[: len(data) // 2], "is truncated"),
        (lambda data: data[:50], "not an SQLite database"),
        (_corrupt_middle, "is damaged"),
    ],
)
def test_damaged_files_give_a_clear_message_and_are_never_overwritten(tmp_path, damage, problem):
    path = tmp_path / "record.db"
    data = damage(_valid_file(path))
    path.write_bytes(data)
    with pytest.raises(CorruptDatabaseError, match=problem) as info:
        Store.open(path)
    message = str(info.value)
    assert "has not been changed or overwritten" in message
    assert "nurse-app restore FILE" in message
    assert info.value.path == path and info.value.backups == []
    assert path.read_bytes() == data
    assert not path.with_name("record.db-wal").exists()


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "record.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.commit()
    other.close()
    digest = file_digest(path)
    with pytest.raises(CorruptDatabaseError, match="another program"):
        Store.open(path)
    assert file_digest(path) == digest


def test_damage_message_offers_the_newest_backup(tmp_path):
    path = tmp_path / "record.db"
    _valid_file(path)
    first = backup_now(path)
    second = backup_now(path)
    path.write_bytes(b"\0" * 4096)
    with pytest.raises(CorruptDatabaseError) as info:
        Store.open(path)
    assert [b.path for b in info.value.backups] == [second, first]
    assert f"2 backups found; the newest is {second}" in str(info.value)


# --------------------------------------------------------------------------- location


def test_missing_folder_is_reported_not_created(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "record.db"
    with pytest.raises(DatabaseLocationError, match="does not exist"):
        Store.open(path)
    assert not (tmp_path / "no").exists()


def test_default_location_is_created_under_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("NURSE_APP_DB", raising=False)
    path, is_default = resolve_db_path(None)
    assert is_default and path == tmp_path / "data" / "nurse-app" / "nurse-app.db"
    with Store.open() as store:
        assert store.path == path and path.exists()


def test_command_line_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("NURSE_APP_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(None) == (tmp_path / "env.db", False)
    assert resolve_db_path(str(tmp_path / "cli.db")) == (tmp_path / "cli.db", False)
    monkeypatch.setenv("NURSE_APP_DB", "  ")
    assert resolve_db_path(None)[1] is True


_OPEN_CHILD = """
import sys
from nurse_app.store import Store, StoreError
try:
    Store.open(sys.argv[1]).close()
except StoreError as exc:
    print(type(exc).__name__, exc)
else:
    print("opened")
"""


def _open_without_privileges(path: Path) -> str:
    """Open ``path`` in a child process that, even as root, obeys file permissions."""
    command = [sys.executable, "-c", _OPEN_CHILD, str(path)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        caps = "-dac_override,-dac_read_search"
        command = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.slow
def test_read_only_folder_gives_a_clear_message(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="nurse-ro-"))  # outside pytest's private tmp tree
    try:
        with open_store(folder / "existing.db") as store:
            new_patient(store)
        digest = file_digest(folder / "existing.db")
        folder.chmod(0o555)
        for name in ("existing.db", "new.db"):
            out = _open_without_privileges(folder / name)
            assert out.startswith("DatabaseLocationError"), out
            assert f"The folder {folder} is read-only" in out
        assert file_digest(folder / "existing.db") == digest
        assert not (folder / "new.db").exists()
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


# --------------------------------------------------------------------------- backup / restore


def test_backup_is_a_checked_single_file_copy(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        patient = new_patient(store)
        target = backup_now(path, tmp_path / "copy.db")  # while the record is open
        store.update_patient(patient, notes="after the backup")
    copy = raw_connection(target)
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert copy.execute("SELECT notes FROM patients").fetchall() == [("",)]
    copy.close()
    with pytest.raises(StoreError, match="already exists"):
        backup_now(path, target)
    with pytest.raises(StoreError, match="does not exist"):
        backup_now(path, tmp_path / "missing" / "copy.db")


def test_restore_keeps_the_current_record_as_a_backup(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        new_patient(store, "OLD")
        backup = backup_now(path, tmp_path / "monday.db")
        new_patient(store, "NEW")
    result = restore_backup(path, backup)
    assert not result.previous_was_damaged and "before-restore" in result.kept_previous.name
    with Store.open(path) as store:
        assert [p["mrn"] for p in store.find_patients()] == ["OLD"]
        assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Store.open(result.kept_previous) as kept:
        assert sorted(p["mrn"] for p in kept.find_patients()) == ["NEW", "OLD"]


def test_restore_over_a_damaged_file_moves_it_aside_unchanged(tmp_path):
    path = tmp_path / "record.db"
    _valid_file(path)
    backup = backup_now(path)
    path.write_bytes(b"garbage" * 1000)
    (tmp_path / "record.db-wal").write_bytes(b"stale wal")
    with pytest.raises(CorruptDatabaseError):
        Store.open(path)
    result = restore_backup(path, backup)
    assert result.previous_was_damaged
    assert result.kept_previous.read_bytes() == b"garbage" * 1000
    assert Path(f"{result.kept_previous}-wal").read_bytes() == b"stale wal"
    with Store.open(path) as store:
        assert len(store.find_patients()) == 30


def test_restore_refuses_a_bad_backup_and_leaves_the_record_alone(tmp_path):
    path = tmp_path / "record.db"
    _valid_file(path)
    digest = file_digest(path)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a backup")
    with pytest.raises(StoreError, match="cannot be restored: it is not a nurse-app record"):
        restore_backup(path, bad)
    with pytest.raises(StoreError, match="does not exist"):
        restore_backup(path, tmp_path / "missing.db")
    with pytest.raises(StoreError, match="the record file itself"):
        restore_backup(path, path)
    assert file_digest(path) == digest and not (tmp_path / "backups").exists()


def test_restore_is_refused_while_the_record_is_open_elsewhere(tmp_path):
    path = tmp_path / "record.db"
    _valid_file(path)
    backup = backup_now(path)
    with Store.open(path) as open_window:
        with pytest.raises(DatabaseBusyError, match=r"Close every nurse-app window|busy"):
            restore_backup(path, backup)
        assert len(open_window.find_patients()) == 30
