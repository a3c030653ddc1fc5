"""Reliability (issue 12 §2, §3): hostile restores, SIGKILL during restore/migration/creation,
full disks.  Marked ``reliability`` so they can run alone: ``pytest -m reliability``.

The hostile fixtures are generated here from a genuine record with a raw ``sqlite3``
connection, as someone with file access would do.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_helpers import V1_FIXTURE, file_digest, new_patient, open_store, raw_connection, ready_visit

from nurse_app.cli import main as cli_main
from nurse_app.store import (
    CorruptDatabaseError,
    Store,
    StoreError,
    backup_now,
    check_database,
    restore_backup,
    schema,
)
from nurse_app.store.backup import CRASH_ENV

pytestmark = pytest.mark.reliability

# --------------------------------------------------------------------------- helpers


def _genuine_record(path: Path) -> Path:
    """A record with a patient, an order, a signed visit and readings."""
    with open_store(path) as store:
        visit = ready_visit(store, "OLD-1")
        store.sign_visit(visit)
    return path


def _tampered_backup(tmp_path: Path, name: str, *sql: str) -> Path:
    source = _genuine_record(tmp_path / f"source-{name}.db")
    backup = backup_now(source, tmp_path / f"{name}.db")
    raw = raw_connection(backup)
    for statement in sql:
        raw.execute(statement)
    raw.close()
    return backup


def _no_tables_but_right_id(tmp_path: Path) -> Path:
    path = tmp_path / "empty-shell.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    raw.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION}")
    raw.commit()
    raw.close()
    return path


_LONG_NAME = "A\x01B\x1b[2J" + "x" * 40_000  # 40,006 characters with control characters

# name -> (tampering SQL, a word the refusal must name)
HOSTILE = {
    "eats-new-vitals": (
        [
            "CREATE TRIGGER keep_it_quiet AFTER INSERT ON vitals BEGIN "
            "DELETE FROM vitals WHERE id = NEW.id; END"
        ],
        "keep_it_quiet",
    ),
    "blanks-allergies": (
        [
            "CREATE TRIGGER tidy_allergies AFTER UPDATE ON patients BEGIN "
            "UPDATE patients SET allergies = '' WHERE id = NEW.id "
            "AND allergies <> ''; END"
        ],
        "tidy_allergies",
    ),
    "rewrites-dose": (
        [
            "CREATE TRIGGER fix_dose AFTER INSERT ON orders BEGIN "
            "UPDATE orders SET dose_g_per_kg = 2 WHERE id = NEW.id; END"
        ],
        "fix_dose",
    ),
    "no-audit-triggers": (
        [
            f"DROP TRIGGER audit_{t}_{a}"
            for t in schema.CLINICAL_TABLES
            for a in ("insert", "update", "delete")
        ],
        "audit_",
    ),
    "no-signing-triggers": (
        [
            "DROP TRIGGER visits_signed_no_update",
            "DROP TRIGGER visits_signed_no_delete",
            "DROP TRIGGER vitals_signed_no_insert",
        ],
        "signed_no",
    ),
    "extra-view": (["CREATE VIEW everyone AS SELECT name, allergies FROM patients"], "everyone"),
    "huge-control-name": ([f"UPDATE patients SET name = '{_LONG_NAME}'"], "Name"),
}


def _hostile_file(tmp_path: Path, name: str) -> tuple[Path, str]:
    if name == "no-tables":
        return _no_tables_but_right_id(tmp_path), "lacks the table"
    sql, word = HOSTILE[name]
    return _tampered_backup(tmp_path, name, *sql), word


ALL_HOSTILE = [*HOSTILE, "no-tables"]


def _mrns(path: Path) -> list[str]:
    with Store.open(path) as store:
        return sorted(p["mrn"] for p in store.find_patients(include_archived=True))


# --------------------------------------------------------------------------- §2.1 hostile files


@pytest.mark.parametrize("name", ALL_HOSTILE)
def test_restore_refuses_hostile_file_and_touches_nothing(tmp_path, name):
    record = _genuine_record(tmp_path / "record.db")
    hostile, word = _hostile_file(tmp_path, name)
    before = file_digest(record), file_digest(hostile)
    with pytest.raises(StoreError, match="cannot be restored") as refused:
        restore_backup(record, hostile)
    assert word in str(refused.value)
    assert (file_digest(record), file_digest(hostile)) == before
    assert not (tmp_path / "backups").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("name", ALL_HOSTILE)
def test_cli_restore_of_hostile_file_is_one_line_exit_2(tmp_path, name, capsys):
    record = _genuine_record(tmp_path / "record.db")
    hostile, word = _hostile_file(tmp_path, name)
    before = file_digest(record), file_digest(hostile)
    assert cli_main(["--db", str(record), "restore", str(hostile)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0] and "Traceback" not in err[0]
    assert (file_digest(record), file_digest(hostile)) == before


# Dropped or altered triggers of the app's own are put back when the record is opened
# (issue 12 §1, logged); a restore refuses them (§2).  Everything else is refused by both.
REINSTALLED_ON_OPEN = ("no-audit-triggers", "no-signing-triggers")


@pytest.mark.parametrize("name", [n for n in ALL_HOSTILE if n not in REINSTALLED_ON_OPEN])
def test_open_refuses_hostile_file_untouched_and_check_db_agrees(tmp_path, name):
    hostile, word = _hostile_file(tmp_path, name)
    before = file_digest(hostile)
    with pytest.raises(CorruptDatabaseError) as refused:
        Store.open(hostile)
    assert word in str(refused.value) and "has not been changed" in str(refused.value)
    with pytest.raises(CorruptDatabaseError):
        Store.open_read_only(hostile)
    assert file_digest(hostile) == before
    assert not Path(f"{hostile}-wal").exists() and not Path(f"{hostile}-shm").exists()
    report = check_database(hostile)
    assert not report.ok and "Result: PROBLEMS FOUND" in report.lines()
    assert word in "\n".join(report.lines())
    assert file_digest(hostile) == before


@pytest.mark.parametrize("name", REINSTALLED_ON_OPEN)
def test_open_puts_back_dropped_triggers_of_the_app(tmp_path, name):
    from nurse_app.store import genuine

    hostile, word = _hostile_file(tmp_path, name)
    report = check_database(hostile)
    assert not report.ok and word in "\n".join(report.lines())
    with Store.open(hostile) as store:
        assert store.repaired_objects.missing
        assert genuine.schema_differences(store.db.conn, store.schema_version) == []
    assert check_database(hostile).ok


def test_genuine_backups_of_every_version_pass_the_schema_check(tmp_path):
    """The expected schema is built from the migrations, so every released version is accepted."""
    for version in schema.MIGRATIONS:
        path = tmp_path / f"v{version}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        schema.migrate(conn, target=version)
        conn.close()
        from nurse_app.store import genuine

        conn = sqlite3.connect(path)
        assert genuine.schema_differences(conn, version) == []
        conn.close()
    copy = tmp_path / "fixture-v1.db"
    shutil.copy(V1_FIXTURE, copy)
    record = _genuine_record(tmp_path / "record.db")
    result = restore_backup(record, copy)
    assert result.restored_from == copy
    with Store.open(record) as store:
        assert store.schema_version == schema.CURRENT_VERSION
    report = check_database(record)
    assert report.ok, report.lines()


def test_records_made_by_released_versions_still_open(tmp_path):
    """Files in the field were made by the released migration steps: a change to a helper
    those steps call (e.g. how audit triggers are written) must come as a new migration,
    or every existing record would be refused as not genuine.  store_v5.db was made by
    the v5 release (one signed visit)."""
    for fixture in (V1_FIXTURE, V1_FIXTURE.with_name("store_v5.db")):
        copy = tmp_path / fixture.name
        shutil.copy(fixture, copy)
        conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        from nurse_app.store import genuine

        assert genuine.schema_differences(conn, version) == [], fixture.name
        assert genuine.content_problems(conn) == [], fixture.name
        conn.close()
        with Store.open(copy) as store:
            assert store.schema_version == schema.CURRENT_VERSION
            assert store.find_patients()
        assert check_database(copy).ok


# --------------------------------------------------------------------------- §2.3 audited restore


def test_restore_carries_later_audit_entries_and_records_itself(tmp_path):
    record = tmp_path / "record.db"
    with open_store(record) as store:
        patient = new_patient(store, "KEEP-1")
        backup = backup_now(record, tmp_path / "monday.db")
        store.update_patient(patient, allergies="Penicillin (rash)")
        later = new_patient(store, "LATER-1")
        before_restore = store.audit_entries(limit=10_000)
    result = restore_backup(record, backup)
    assert result.carried_audit_entries == 2
    with Store.open(record) as store:
        assert [p["mrn"] for p in store.find_patients()] == ["KEEP-1"]  # data went back...
        log = store.audit_entries(limit=10_000)
    # ...but the trail did not: every entry of the replaced record is still in the log,
    # whole (carried inside entries of the log itself, so they are not taken for changes
    # of the restored rows)
    carried = [
        e["after"] for e in log if e["table_name"] == "audit_log" and e["after"].get("carried_by_restore")
    ]
    present = {
        (
            e["at"],
            e["author"],
            e["table_name"],
            e["row_id"],
            e["action"],
            json.dumps(e["before"], sort_keys=True),
            json.dumps(e["after"], sort_keys=True),
        )
        for e in log
    }
    present |= {
        (
            c["at"],
            c["author"],
            c["table_name"],
            c["row_id"],
            c["action"],
            json.dumps(c["before"], sort_keys=True),
            json.dumps(c["after"], sort_keys=True),
        )
        for c in carried
    }
    for e in before_restore:
        assert (
            e["at"],
            e["author"],
            e["table_name"],
            e["row_id"],
            e["action"],
            json.dumps(e["before"], sort_keys=True),
            json.dumps(e["after"], sort_keys=True),
        ) in present, e
    assert [(c["table_name"], c["row_id"], c["action"]) for c in reversed(carried)] == [
        ("patients", patient, "update"),
        ("patients", later, "insert"),
    ]
    event = log[0]
    assert event["table_name"] == "audit_log" and event["after"]["event"] == "restore"
    assert event["after"]["restored_from"] == str(backup)
    assert event["after"]["carried_audit_entries"] == 2
    assert event["after"]["previous_record_kept_as"] == str(result.kept_previous)
    assert event["author"] == "Ana Núñez, RN"
    assert check_database(record).ok


# --------------------------------------------------------------------------- §2.2 SIGKILL

_RESTORE_CHILD = r"""
import sys
from nurse_app.store import restore_backup
restore_backup(sys.argv[1], sys.argv[2])
print("done", flush=True)
"""

RESTORE_STEPS = [
    "restore-after-keeping-old",
    "restore-before-building",
    "restore-after-copy",
    "restore-after-upgrade",
    "restore-before-fsync",
    "restore-before-rename",
    "restore-after-rename",
]


def _prepare_restore(tmp_path: Path, old_version_backup: bool = False) -> tuple[Path, Path]:
    record = tmp_path / "record.db"
    with open_store(record) as store:
        new_patient(store, "OLD-1")
        if old_version_backup:
            backup = tmp_path / "v1.db"
            shutil.copy(V1_FIXTURE, backup)
        else:
            backup = backup_now(record, tmp_path / "backup.db")
            store.update_patient(store.find_patients("OLD-1")[0]["id"], notes="newer")
        new_patient(store, "OLD-2")
    return record, backup


def _assert_old_or_new(record: Path, old: list[str], new: list[str]) -> str:
    with Store.open(record) as store:
        mrns = sorted(p["mrn"] for p in store.find_patients(include_archived=True))
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert mrns in (old, new), mrns
    assert check_database(record).ok
    return "old" if mrns == old else "new"


@pytest.mark.slow
@pytest.mark.parametrize("old_version", [False, True], ids=["same-version", "v1-backup"])
@pytest.mark.parametrize("step", RESTORE_STEPS)
def test_sigkill_at_each_restore_step_leaves_old_or_new_record(tmp_path, step, old_version):
    record, backup = _prepare_restore(tmp_path, old_version)
    old = _mrns(record)
    shutil.copy(backup, tmp_path / "expected.db")
    new = _mrns(tmp_path / "expected.db")
    env = {**os.environ, CRASH_ENV: step}
    done = subprocess.run(
        [sys.executable, "-c", _RESTORE_CHILD, str(record), str(backup)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    state = _assert_old_or_new(record, old, new)
    assert state == ("new" if step == "restore-after-rename" else "old")
    # and a second restore after the crash works
    restore_backup(record, backup)
    assert _mrns(record) == new


@pytest.mark.slow
def test_sigkill_at_random_moments_of_restore(tmp_path):
    """12 kills at increasing delays while a large backup replaces a small record: each
    leaves the old or the new record, openable.  (Before, the backup was copied into the
    live file: a kill mid-copy left a file every command refused as "truncated".)"""
    big = tmp_path / "big.db"
    with open_store(big) as store, store.transaction():
        for i in range(1500):
            new_patient(store, f"NEW-{i:04d}", allergies="Latex " * 200)
    backup = backup_now(big, tmp_path / "backup.db")
    record = tmp_path / "record.db"
    with open_store(record) as store:
        new_patient(store, "OLD-1")
    old, new = _mrns(record), _mrns(backup)
    outcomes = []
    for delay in [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2]:
        # each round starts from the old record, in its own folder
        target = tmp_path / f"round-{int(delay * 1000)}" / "record.db"
        target.parent.mkdir()
        shutil.copy(record, target)
        child = subprocess.Popen(
            [sys.executable, "-c", _RESTORE_CHILD, str(target), str(backup)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        outcomes.append(_assert_old_or_new(target, old, new))
    assert len(outcomes) == 12


_OPEN_CHILD = r"""
import sys
from nurse_app.store import Store
Store.open(sys.argv[1]).close()
print("done", flush=True)
"""

MIGRATION_STEPS = [
    "migrate-after-backup",
    *(f"migrate-v{v}-before-commit" for v in range(2, schema.CURRENT_VERSION + 1)),
]


@pytest.mark.slow
@pytest.mark.parametrize("step", MIGRATION_STEPS)
def test_sigkill_during_migration_leaves_an_openable_record(tmp_path, step):
    record = tmp_path / "old.db"
    shutil.copy(V1_FIXTURE, record)
    expected = _mrns_readonly(record)
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_CHILD, str(record)],
        env={**os.environ, CRASH_ENV: step},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    from nurse_app.store import crypto

    raw = sqlite3.connect(record) if crypto.is_plain(record) else raw_connection(record)
    version = raw.execute("PRAGMA user_version").fetchone()[0]
    raw.close()
    assert version < schema.CURRENT_VERSION  # the step in flight was not committed
    assert _mrns(record) == expected  # the next open finishes the migration
    with Store.open(record) as store:
        assert store.schema_version == schema.CURRENT_VERSION
    assert check_database(record).ok


def _mrns_readonly(path: Path) -> list[str]:
    from nurse_app.store import crypto

    if crypto.is_plain(path):  # an old plain record (the v1 fixture)
        raw = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    else:  # an encrypted record: SQLCipher with its key
        raw = crypto.connect(path, target=f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in raw.execute("SELECT mrn FROM patients"))
    finally:
        raw.close()


@pytest.mark.slow
def test_sigkill_while_creating_a_record_leaves_no_unusable_file(tmp_path):
    record = tmp_path / "new.db"
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_CHILD, str(record)],
        env={**os.environ, CRASH_ENV: "create-before-rename"},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL
    assert not record.exists()
    with Store.open(record) as store:
        assert store.schema_version == schema.CURRENT_VERSION
    assert [p.name for p in tmp_path.iterdir() if ".creating" in p.name] == []


# --------------------------------------------------------------------------- §3.4 full disk


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (root only); skipped with the reason when it cannot be mounted."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'}); "
            f"the full-disk cases need a real full file system"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Fill the file system until not one more byte fits."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def _record_on(disk: Path) -> tuple[Path, int]:
    record = disk / "record.db"
    with open_store(record) as store:
        visit = ready_visit(store)
    return record, visit


@pytest.mark.slow
def test_new_record_on_a_full_disk_leaves_no_file(small_disk):
    filler = _fill(small_disk)
    record = small_disk / "new.db"
    with pytest.raises(StoreError, match=r"could not be created at .*: the disk is full") as refused:
        Store.open(record)
    assert "damaged" not in str(refused.value).replace(str(small_disk), "<disk>")
    assert not record.exists()
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    filler.unlink()
    with Store.open(record) as store:
        assert store.schema_version == schema.CURRENT_VERSION


@pytest.mark.slow
def test_healthy_record_on_a_full_disk_is_never_called_damaged(small_disk, tmp_path, capsys):
    record, visit = _record_on(small_disk)
    digest = file_digest(record)
    _fill(small_disk)
    # check-db reads only: OK, nothing left beside the record
    assert cli_main(["--db", str(record), "check-db"]) == 0
    out = capsys.readouterr()
    assert "Result: OK" in out.out and "damaged" not in (out.out + out.err).replace(str(small_disk), "")
    # exports read the record read-only and say the disk is full
    for command, says in (
        (
            ["visit-fhir", str(visit), "--out", str(small_disk / "v.json")],
            "the disk is full, so nothing was saved",
        ),
        (
            ["visit-pdf", str(visit), "--out", str(small_disk / "v.pdf")],
            "the disk is full, so nothing was saved",
        ),
        (["backup"], "the disk it is on is full"),
    ):
        assert cli_main(["--db", str(record), *command]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        message = err[0].replace(str(small_disk), "<disk>")
        assert says in message and "damaged" not in message and "restore" not in message, err
    # the exports to another disk work, and nothing was left beside the record
    assert cli_main(["--db", str(record), "visit-fhir", str(visit), "--out", str(tmp_path / "v.json")]) == 0
    assert json.loads((tmp_path / "v.json").read_text())["resourceType"] == "Bundle"
    assert cli_main(["--db", str(record), "visit-pdf", str(visit), "--out", str(tmp_path / "v.pdf")]) == 0
    capsys.readouterr()
    assert file_digest(record) == digest
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "record.db"]


@pytest.mark.slow
def test_restore_onto_a_full_disk_says_so_and_keeps_the_record(small_disk, tmp_path):
    record, _ = _record_on(small_disk)
    backup = backup_now(record, tmp_path / "backup.db")
    digest = file_digest(record)
    _fill(small_disk)
    with pytest.raises(StoreError) as refused:
        restore_backup(record, backup)
    message = str(refused.value).replace(str(small_disk), "<disk>")
    assert "is full" in message and "damaged" not in message
    assert file_digest(record) == digest
    assert _mrns(tmp_path / "backup.db") == ["MRN-1"]
    (small_disk / "filler").unlink()
    assert _mrns(record) == ["MRN-1"]


@pytest.mark.slow
def test_backup_to_a_full_or_read_only_target_names_the_target(small_disk, tmp_path, capsys):
    record, _ = _record_on(tmp_path)
    _fill(small_disk)
    target = small_disk / "copy.db"
    assert cli_main(["--db", str(record), "backup", "--to", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(target) in err[0] and "the disk it is on is full" in err[0]
    assert "damaged" not in err[0].replace(str(tmp_path), "<tmp>") and not target.exists()
    assert not Path(f"{target}.partial").exists()


@pytest.mark.slow
def test_backup_to_a_read_only_folder_names_the_target(tmp_path, capsys):
    if os.geteuid() == 0:
        # root ignores permission bits: use a read-only mount instead
        folder = tmp_path / "ro"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(folder)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a read-only tmpfs ({done.stderr.strip()})")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
    try:
        record, _ = _record_on(tmp_path)
        target = folder / "copy.db"
        assert cli_main(["--db", str(record), "backup", "--to", str(target)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(target) in err[0] and "read-only" in err[0], err
        assert str(record) not in err[0].replace(str(target), "")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_read_only_commands_leave_no_wal_or_shm(tmp_path, capsys):
    record, visit = _record_on(tmp_path)
    digest = file_digest(record)
    for command in (
        ["check-db"],
        ["visit-fhir", str(visit), "--out", str(tmp_path / "v.json")],
        ["visit-pdf", str(visit), "--out", str(tmp_path / "v.pdf")],
        ["backup", "--to", str(tmp_path / "b.db")],
    ):
        assert cli_main(["--db", str(record), *command]) == 0
        assert not Path(f"{record}-wal").exists() and not Path(f"{record}-shm").exists(), command
    capsys.readouterr()
    assert file_digest(record) == digest


def test_read_only_export_of_an_older_record_does_not_migrate_it(tmp_path, capsys):
    record = tmp_path / "old.db"
    shutil.copy(V1_FIXTURE, record)
    digest = file_digest(record)
    assert cli_main(["--db", str(record), "check-db"]) == 0
    with Store.open_read_only(record) as store:
        assert store.schema_version == schema.CURRENT_VERSION  # upgraded in memory only
        assert store.find_patients()
    capsys.readouterr()
    assert file_digest(record) == digest and not (tmp_path / "backups").exists()


# --------------------------------------------------------------------------- §3.5 one-line errors


@pytest.mark.parametrize(
    "args",
    [
        ["visit-pdf", "99999999999999999999999", "--out", "x.pdf"],
        ["visit-fhir", "99999999999999999999999", "--out", "x.json"],
        ["visit-pdf", "9223372036854775807", "--out", "x.pdf"],
    ],
)
def test_huge_visit_ids_are_one_line_exit_2(tmp_path, args, capsys):
    record, _ = _record_on(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        code = cli_main(["--db", str(record), *args])
        raise SystemExit(code)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]


@pytest.mark.parametrize(
    "command",
    [
        ["check-db"],
        ["backup"],
        ["visit-pdf", "1", "--out", "x.pdf"],
        ["visit-fhir", "1", "--out", "x.json"],
        ["restore", "backup.db"],
        ["demo-data", "--patients", "1"],
    ],
)
def test_a_folder_given_as_db_is_one_line_exit_2(tmp_path, command, capsys, monkeypatch):
    folder = tmp_path / "folder"
    folder.mkdir()
    _genuine_record(tmp_path / "backup.db")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        raise SystemExit(cli_main(["--db", str(folder), *command]))
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "folder" in err[0], err


def _newer(tmp_path: Path) -> Path:
    path = _genuine_record(tmp_path / "newer.db")
    raw = raw_connection(path)  # the record is encrypted: SQLCipher with its key
    raw.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    raw.close()
    return path


def _in_read_only_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = _genuine_record(folder / "record.db")
    if os.geteuid() == 0:
        snapshot = tmp_path / "ro-source"
        shutil.copytree(folder, snapshot)
        done = subprocess.run(
            ["mount", "--bind", "-o", "ro", str(snapshot), str(folder)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot bind-mount read-only ({done.stderr.strip()})")
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True)
    else:
        folder.chmod(0o555)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case", ["genuine", "v1", *ALL_HOSTILE, "newer", "read-only-folder"])
def test_check_db_ok_if_and_only_if_the_record_opens(tmp_path, case, capsys):
    if case == "genuine":
        path = _genuine_record(tmp_path / "record.db")
    elif case == "v1":
        path = tmp_path / "v1.db"
        shutil.copy(V1_FIXTURE, path)
    elif case == "newer":
        path = _newer(tmp_path)
    elif case == "read-only-folder":
        path = _in_read_only_folder(tmp_path)
    else:
        path, _ = _hostile_file(tmp_path, case)
    try:
        checked = cli_main(["--db", str(path), "check-db"])
        capsys.readouterr()
        try:
            Store.open(path).close()
            opened = True
        except StoreError:
            opened = False
        if checked == 0:
            assert opened  # check-db OK means it opens
        assert opened == (case in ("genuine", "v1", *REINSTALLED_ON_OPEN))
        assert (checked == 0) == (case in ("genuine", "v1"))
    finally:
        if case == "read-only-folder" and os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(path.parent)], capture_output=True)


_HOT_JOURNAL_CHILD = r"""
import os, signal, sys
from pathlib import Path
from nurse_app.store import crypto
# The record is encrypted: an outside program with the passphrase (NURSE_APP_PASSPHRASE).
conn = crypto.connect(Path(sys.argv[1]), isolation_level=None)
conn.execute("PRAGMA journal_mode = DELETE")
conn.execute("PRAGMA cache_size = 1")   # spill pages to the file before the commit
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE patients SET notes = ? ", ["x" * 3000])
conn.execute("INSERT INTO settings VALUES ('big', ?)", ['"' + "y" * 200000 + '"'])
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_a_change_interrupted_in_rollback_journal_mode_is_undone_not_refused(tmp_path, capsys):
    """A kill mid-write in rollback-journal mode leaves a hot -journal: every command must
    still read the record (as it was before that change), not call it damaged."""
    record = _genuine_record(tmp_path / "record.db")
    before = _mrns_readonly(record)
    done = subprocess.run(
        [sys.executable, "-c", _HOT_JOURNAL_CHILD, str(record)], capture_output=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    journal = Path(f"{record}-journal")
    assert journal.exists() and journal.stat().st_size > 0
    assert cli_main(["--db", str(record), "check-db"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    with Store.open(record) as store:
        assert store.get_setting("big") is None
        assert all(p["notes"] == "" for p in store.find_patients())
    assert _mrns_readonly(record) == before
