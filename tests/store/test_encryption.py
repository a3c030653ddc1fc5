"""Issue 13 §1: the record, its WAL and every backup are encrypted (SQLCipher 4).

The suite's conftest unlocks every test with one passphrase; the tests here also lock,
use wrong passphrases, convert plain records of older versions (and kill the process
at each step of that), change the passphrase and restore backups made under another.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlcipher3
from conftest import TEST_PASSPHRASE
from store_helpers import V1_FIXTURE, file_digest, open_store, raw_connection, ready_visit

from nurse_app.store import Store, backup_now, crypto, keys, list_backups
from nurse_app.store.encryption import change_passphrase
from nurse_app.store.schema import CURRENT_VERSION

NAME, MRN, ALLERGY = "Bartholomew Quincey", "MRN-774411", "Sulfamethoxazole"
SECRETS = [NAME.encode(), MRN.encode(), ALLERGY.encode(), b"Quincey", b"774411"]
NURSE_APP = Path(sys.executable).parent / "nurse-app"


def make_record(path: Path, *, signed: bool = True) -> int:
    with open_store(path) as store:
        visit = ready_visit(store, mrn="MRN-OTHER")
        store.create_patient(mrn=MRN, name=NAME, date_of_birth="1950-03-04", sex="male", allergies=ALLERGY)
        if signed:
            store.sign_visit(visit)
    return visit


def leaks(path: Path) -> list[bytes]:
    data = Path(path).read_bytes()
    return [s for s in SECRETS if s in data]


def strings_output(path: Path) -> str:
    if shutil.which("strings"):
        return subprocess.run(
            ["strings", "-n", "4", str(path)], capture_output=True, text=True, check=True
        ).stdout
    return Path(path).read_bytes().decode("latin-1")


def run_cli(*args: str, passphrase: str | None = TEST_PASSPHRASE, **extra_env: str):
    env = {k: v for k, v in os.environ.items() if k not in ("NURSE_APP_DB", "NURSE_APP_PASSPHRASE")}
    if passphrase is not None:
        env["NURSE_APP_PASSPHRASE"] = passphrase
    env.update(extra_env)
    return subprocess.run(
        [str(NURSE_APP), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- at rest


@pytest.mark.slow
def test_no_patient_detail_in_the_record_its_wal_or_any_backup(tmp_path):
    path = tmp_path / "record.db"
    make_record(path)
    with Store.open(path) as store:
        store.update_patient(store.find_patients(MRN)[0]["id"], notes=f"{NAME} allergy {ALLERGY}")
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 0
        files = [path, wal, backup_now(path), backup_now(path, tmp_path / "elsewhere.db")]
        for file in files:
            assert leaks(file) == [], file
            text = strings_output(file)
            assert not any(s.decode() in text for s in SECRETS), file
    assert list_backups(path)


@pytest.mark.slow
def test_sqlite_cannot_read_it_and_sqlcipher_with_the_passphrase_can(tmp_path):
    """What agency IT does: any SQLCipher 4 tool, PRAGMA key = 'the passphrase'."""
    path = tmp_path / "record.db"
    make_record(path)
    plain = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        plain.execute("SELECT count(*) FROM sqlite_master").fetchone()
    plain.close()
    if shutil.which("sqlite3"):
        shell = subprocess.run(
            ["sqlite3", str(path), "SELECT name FROM patients;"], capture_output=True, text=True
        )
        assert shell.returncode != 0 and "not a database" in shell.stderr
    tool = sqlcipher3.connect(str(path))
    tool.execute(f"PRAGMA key = '{TEST_PASSPHRASE}'")  # SQLCipher's own KDF, default settings
    assert tool.execute("SELECT name FROM patients WHERE mrn = ?", [MRN]).fetchone() == (NAME,)
    settings = {row[0] for row in tool.execute("PRAGMA cipher_settings")}
    assert "PRAGMA kdf_iter = 256000;" in settings
    assert "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512;" in settings
    tool.close()


def test_a_wrong_passphrase_is_refused_and_the_file_is_untouched(tmp_path, monkeypatch):
    path = tmp_path / "record.db"
    make_record(path)
    digest = file_digest(path)
    monkeypatch.delenv("NURSE_APP_PASSPHRASE")
    keys.lock()
    with pytest.raises(crypto.RecordLockedError):
        Store.open(path)
    keys.unlock("not the right passphrase")
    with pytest.raises(crypto.WrongPassphraseError, match="wrong passphrase, or not a nurse-app record"):
        Store.open(path)
    assert file_digest(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.db"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [["check-db"], ["backup"], ["visit-pdf", "1", "--out", "x.pdf"], ["visit-fhir", "1", "--out", "x.json"]],
)
def test_cli_wrong_passphrase_is_one_line_exit_2_and_the_file_byte_identical(tmp_path, command):
    path = tmp_path / "record.db"
    make_record(path)
    digest = file_digest(path)
    done = run_cli("--db", str(path), *command, passphrase="a wrong passphrase!")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"nurse-app: {path}: wrong passphrase, or not a nurse-app record"
    ]
    assert "Traceback" not in done.stderr and "a wrong passphrase!" not in done.stderr + done.stdout
    assert file_digest(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.db"]


@pytest.mark.slow
def test_cli_never_takes_the_passphrase_as_an_argument_and_needs_it(tmp_path):
    path = tmp_path / "record.db"
    make_record(path)
    done = run_cli("--db", str(path), "check-db", "--passphrase", TEST_PASSPHRASE)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr
    done = run_cli("--db", str(path), "check-db", passphrase=None)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "nurse-app: The record is encrypted: set NURSE_APP_PASSPHRASE or run the command in a "
        "terminal to be asked for the passphrase."
    ]


@pytest.mark.slow
def test_demo_data_into_a_new_file_uses_the_given_passphrase(tmp_path):
    path = tmp_path / "demo.db"
    weak = run_cli("--db", str(path), "demo-data", "--patients", "2", passphrase="password")
    assert weak.returncode == 2 and "refused" in weak.stderr and not path.exists()
    chosen = "blue kettle under the stairs"
    done = run_cli("--db", str(path), "demo-data", "--patients", "2", passphrase=chosen)
    assert done.returncode == 0, done.stderr
    assert not crypto.is_plain(path)
    tool = sqlcipher3.connect(str(path))
    tool.execute(f"PRAGMA key = '{chosen}'")
    assert tool.execute("SELECT count(*) FROM patients").fetchone() == (2,)
    tool.close()
    assert run_cli("--db", str(path), "check-db", passphrase=chosen).returncode == 0


def test_search_triggers_and_fts5_work_on_the_encrypted_file(tmp_path):
    path = tmp_path / "record.db"
    visit = make_record(path)
    with Store.open(path) as store:
        assert [p["mrn"] for p in store.find_patients("quincey")] == [MRN]  # accent/case fold
        assert store.verify_visit(visit)
    raw = raw_connection(path)
    with pytest.raises(sqlite3.IntegrityError, match="signed"):
        raw.execute("UPDATE visits SET notes = 'edited' WHERE id = ?", [visit])
    raw.execute("CREATE VIRTUAL TABLE scratch USING fts5(body)")
    raw.execute("INSERT INTO scratch VALUES ('intravenous immunoglobulin at home')")
    assert raw.execute("SELECT body FROM scratch WHERE scratch MATCH 'immunoglobulin'").fetchall()
    raw.execute("DROP TABLE scratch")
    raw.close()


def test_unlock_derivation_is_under_a_second_and_reopening_is_fast(tmp_path):
    path = tmp_path / "record.db"
    make_record(path, signed=False)
    keys.lock()
    keys.unlock(TEST_PASSPHRASE)
    started = time.perf_counter()
    Store.open(path).close()  # full PBKDF2-HMAC-SHA512, 256,000 iterations
    first = time.perf_counter() - started
    started = time.perf_counter()
    Store.open(path).close()  # the derived key, kept in memory
    again = time.perf_counter() - started
    assert first < 1.0
    assert again < first / 2


# --------------------------------------------------------------------------- open reads little


def _bytes_read() -> int:
    """Bytes this process has read from files so far (read/pread calls, cache hits too)."""
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])


def _large_record(path: Path, patients: int = 300) -> None:
    with open_store(path) as store, store.transaction():
        for number in range(patients):
            store.create_patient(
                mrn=f"BIG-{number}",
                name=f"Patient {number}",
                date_of_birth="1960-01-01",
                sex="female",
                notes="n" * 3000,
            )


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_opening_an_encrypted_record_reads_a_small_part_of_it_not_every_page(tmp_path):
    """Every page of an encrypted record is decrypted and HMAC-checked when read, so the
    old open-time quick_check and scan of every stored text made a large record open
    several times slower than the plain one (issue 13 §4 benchmark)."""
    path = tmp_path / "record.db"
    _large_record(path, patients=600)
    size = path.stat().st_size
    assert size > 5_000_000
    Store.open(path).close()  # the key derived, the WAL folded in
    before = _bytes_read()
    Store.open(path).close()
    read = _bytes_read() - before
    # the schema (read by the check and by the connection), the audit log's tail, a few pages
    assert read < size / 4, f"opening read {read} bytes of a {size}-byte record"


def test_damage_that_opening_does_not_read_is_reported_when_read_and_by_check_db(tmp_path, capsys):
    """Opening no longer reads every page; a damaged page is still never used silently:
    SQLCipher's HMAC refuses it at its first read, said as damage (the file unchanged)."""
    from nurse_app.cli import main as cli_main
    from nurse_app.store import CorruptDatabaseError

    path = tmp_path / "record.db"
    with open_store(path):
        pass
    grown_from = path.stat().st_size
    _large_record(path)
    data = bytearray(path.read_bytes())
    page = crypto.CIPHER_PAGE_SIZE
    start = -(-grown_from // page) * page  # the patients' pages, after the schema's
    data[start : len(data) - 4 * page] = os.urandom(len(data) - 4 * page - start)
    path.write_bytes(bytes(data))
    digest = file_digest(path)
    # Either at open, or at the first read.
    with pytest.raises(CorruptDatabaseError, match="is damaged"), Store.open(path) as store:
        store.find_patients("Patient", include_archived=True)
    assert file_digest(path) == digest
    assert cli_main(["--db", str(path), "check-db"]) != 0
    out, err = capsys.readouterr()
    assert "damaged" in out + err and "Traceback" not in out + err
    assert file_digest(path) == digest


def test_values_written_by_another_program_are_refused_at_open(tmp_path):
    """Found without reading every row: the audit log's unchained tail names the rows
    written outside the app since its last save (and every row is read when any of the
    app's own triggers is missing, as they would not have logged the change)."""
    from nurse_app.store import CorruptDatabaseError

    for drop in (False, True):
        path = tmp_path / f"record-{drop}.db"
        _large_record(path, patients=50)
        raw = raw_connection(path)
        if drop:
            raw.execute("DROP TRIGGER audit_patients_update")
        raw.execute("UPDATE patients SET notes = 'ok\x01\x1b[2J' WHERE mrn = 'BIG-3'")
        raw.close()
        with pytest.raises(CorruptDatabaseError, match="values the app would refuse"):
            Store.open(path)


def test_a_read_only_command_upgrades_an_older_encrypted_record_in_memory_only(tmp_path, capsys):
    """Exports and checks of a record of an older format (made before an update) read an
    upgraded copy in memory; SQLite's backup API cannot copy an encrypted database into a
    plain memory one (it was a TypeError traceback), so the copy is sqlcipher_export's."""
    from nurse_app.cli import main as cli_main
    from nurse_app.store import audit_chain, schema

    path = tmp_path / "older.db"
    conn = crypto.connect(path, isolation_level=None)
    schema.migrate(conn, target=CURRENT_VERSION - 1)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO patients (mrn, name, date_of_birth, sex, created_at, created_by, "
        "updated_at) VALUES (?, ?, '1950-03-04', 'male', '2026-01-05T10:00:00Z', 'Ana', "
        "'2026-01-05T10:00:00Z')",
        [MRN, NAME],
    )
    audit_chain.seal(conn)  # as the older version saved it
    conn.execute("COMMIT")
    conn.close()
    digest = file_digest(path)
    with Store.open_read_only(path) as store:
        assert store.schema_version == CURRENT_VERSION
        assert [p["mrn"] for p in store.find_patients()] == [MRN]
    assert cli_main(["--db", str(path), "check-db"]) == 0, capsys.readouterr()
    assert file_digest(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["older.db"]
    assert not leaks(path)


# --------------------------------------------------------------------------- plain records


def make_plain(path: Path) -> int:
    """A plain (unencrypted) record as every version before issue 13 wrote it."""
    encrypted = path.with_name("source.db")
    visit = make_record(encrypted)
    conn = raw_connection(encrypted)
    conn.execute("ATTACH DATABASE ? AS plain KEY ''", [str(path)])
    conn.execute("SELECT sqlcipher_export('plain')")
    conn.execute(f"PRAGMA plain.user_version = {conn.execute('PRAGMA user_version').fetchone()[0]}")
    conn.execute(f"PRAGMA plain.application_id = {conn.execute('PRAGMA application_id').fetchone()[0]}")
    conn.execute("DETACH DATABASE plain")
    conn.close()
    encrypted.unlink()
    with sqlite3.connect(path) as plain:  # in WAL mode, with a pending WAL, as the app left it
        plain.execute("PRAGMA journal_mode = WAL")
        plain.execute("PRAGMA wal_autocheckpoint = 0")
    assert crypto.is_plain(path) and leaks(path)
    return visit


def test_a_plain_record_and_its_backups_are_encrypted_on_first_open(tmp_path):
    path = tmp_path / "record.db"
    visit = make_plain(path)
    backups = tmp_path / "backups"
    backups.mkdir()
    plain_backup = backups / "record-20240101T000000000000Z-manual.db"
    shutil.copy(path, plain_backup)
    with Store.open(path) as store:
        assert store.verify_visit(visit) and store.find_patients(MRN)[0]["allergies"] == ALLERGY
    for file in (path, plain_backup):
        assert not crypto.is_plain(file) and leaks(file) == []
    assert not path.with_name("record.db.encrypting").exists()
    with Store.open(path) as again:
        assert again.get_visit(visit)["status"] == "signed"


def test_version_1_fixture_is_encrypted_then_migrated(tmp_path):
    path = tmp_path / "record.db"
    shutil.copy(V1_FIXTURE, path)
    with Store.open(path) as store:
        assert store.schema_version == CURRENT_VERSION
        assert store.find_patients("zoe")[0]["name"] == "Zoë Ölund-Łukasiewicz"
        backup = store.migration_backup
    assert not crypto.is_plain(path) and not crypto.is_plain(backup)
    assert b"Zo\xc3\xab" not in path.read_bytes() and b"Zo\xc3\xab" not in backup.read_bytes()


CONVERT_CHILD = r"""
import os, signal, sys
from pathlib import Path
from nurse_app.store import Store, crypto, keys
kill_at, kill_on = sys.argv[2], int(sys.argv[3])
seen = []
def hook(step):
    seen.append(step)
    if step == kill_at and seen.count(step) == kill_on:
        os.kill(os.getpid(), signal.SIGKILL)
crypto._step_hook = hook
keys.unlock(os.environ["NURSE_APP_PASSPHRASE"])
Store.open(sys.argv[1]).close()
print("finished")
"""


@pytest.mark.slow
@pytest.mark.parametrize("step", ["checkpointed", "exported", "verified", "replaced"])
@pytest.mark.parametrize("file_no", [1, 2], ids=["record", "backup"])
def test_sigkill_at_each_step_of_the_conversion_loses_nothing(tmp_path, step, file_no):
    path = tmp_path / "record.db"
    visit = make_plain(path)
    backups = tmp_path / "backups"
    backups.mkdir()
    plain_backup = backups / "record-20240101T000000000000Z-manual.db"
    shutil.copy(path, plain_backup)
    child = subprocess.run(
        [sys.executable, "-c", CONVERT_CHILD, str(path), step, str(file_no)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    with Store.open(path) as store:  # the next open completes the conversion
        assert store.verify_visit(visit)
        assert store.find_patients(MRN)[0]["allergies"] == ALLERGY
    for file in (path, plain_backup):
        assert not crypto.is_plain(file) and leaks(file) == []
        with crypto.connect(file) as conn:
            assert conn.execute("SELECT count(*) FROM patients").fetchone() == (2,)
    assert not list(tmp_path.glob("**/*.encrypting"))


# --------------------------------------------------------------------------- passphrase change, restore


def test_change_passphrase_rekeys_the_record_and_every_backup(tmp_path):
    path = tmp_path / "record.db"
    make_record(path)
    first, second = backup_now(path), backup_now(path)
    # A backup made under an even older passphrase, which the nurse no longer uses.
    older = first.with_name(first.name.replace("manual", "older"))
    shutil.copy(first, older)
    crypto.rekey_file(older, TEST_PASSPHRASE, "an old passphrase from 2023")
    new = "seven green bottles on the wall"
    left = change_passphrase(path, TEST_PASSPHRASE, new)
    assert left == [(older, "needs the passphrase it was made with")]
    for file in (path, first, second):
        with pytest.raises(crypto.WrongPassphraseError):
            crypto.connect(file, passphrases=[TEST_PASSPHRASE])
        tool = sqlcipher3.connect(str(file))
        tool.execute(f"PRAGMA key = '{new}'")
        assert tool.execute("SELECT count(*) FROM patients").fetchone() == (2,)
        tool.close()
    with Store.open(path) as store:  # unlocked with the new one now
        assert store.find_patients(MRN)


@pytest.mark.slow
def test_restore_of_a_backup_made_under_another_passphrase_asks_for_it(tmp_path):
    path = tmp_path / "record.db"
    make_record(path)
    backup = backup_now(path, tmp_path / "old-backup.db")
    crypto.rekey_file(backup, TEST_PASSPHRASE, "the passphrase of last year")
    digest = file_digest(path)
    refused = run_cli("--db", str(path), "restore", str(backup))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"nurse-app: {backup}: wrong passphrase, or not a nurse-app record"
    ]
    assert file_digest(path) == digest
    done = run_cli(
        "--db", str(path), "restore", str(backup), NURSE_APP_BACKUP_PASSPHRASE="the passphrase of last year"
    )
    assert done.returncode == 0, done.stderr
    with Store.open(path) as store:  # the record's own passphrase opens it
        assert store.find_patients(MRN)


@pytest.mark.slow
def test_cli_change_passphrase_reads_the_new_one_from_the_environment(tmp_path):
    path = tmp_path / "record.db"
    make_record(path)
    backup = backup_now(path)
    weak = run_cli("--db", str(path), "change-passphrase", NURSE_APP_NEW_PASSPHRASE="short")
    assert weak.returncode == 2 and "refused" in weak.stderr
    new = "four quiet owls at dawn"
    done = run_cli("--db", str(path), "change-passphrase", NURSE_APP_NEW_PASSPHRASE=new)
    assert done.returncode == 0, done.stderr
    assert new not in done.stdout + done.stderr
    for file in (path, backup):
        with pytest.raises(crypto.WrongPassphraseError):
            crypto.connect(file, passphrases=[TEST_PASSPHRASE])
        crypto.connect(file, passphrases=[new]).close()
    assert run_cli("--db", str(path), "check-db", passphrase=new).returncode == 0
