"""``nurse-app backup | restore | check-db | demo-data`` through the entry point ``cli.main``
(tests/cli/test_cli_smoke.py runs the installed ``nurse-app`` script as a real process)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from store_helpers import file_digest, raw_connection

from nurse_app.cli import main
from nurse_app.store import Store
from nurse_app.store.schema import CURRENT_VERSION


def assert_one_line_error(done, *fragments: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # module scope: capsys (per test) is not available here
        assert main(["--db", str(path), "demo-data", "--patients", "12", "--seed", "7"]) == 0
    assert out.getvalue().startswith("Added 12 demo patients")
    return path


def test_demo_data_is_realistic_signed_and_passes_check_db(cli, demo_db):
    done = cli("--db", str(demo_db), "check-db")
    assert done.returncode == 0, done.stderr
    assert "Integrity check: ok" in done.stdout
    assert f"Schema version: {CURRENT_VERSION}" in done.stdout
    assert "patients: 12" in done.stdout and "Result: OK" in done.stdout
    with Store.open(demo_db) as store:
        patients = store.find_patients("DEMO-")
        assert len(patients) == 12
        visits = store.patient_visits(patients[0]["id"])
        signed = [v for v in visits if v["status"] == "signed"]
        assert signed and all(store.verify_visit(v["id"]) for v in signed)
        full = store.get_visit(signed[0]["id"])
        assert full["calculation"]["product"] and full["calculation"]["rate_steps"]
        children = store.visit_children(full["id"])
        assert len(children["vitals"]) >= 4 and children["lots"]
        events = [e["kind"] for e in children["infusion_events"]]
        assert events[0] == "start" and events[-1] == "end" and "rate_change" in events
        assert not store.unanswered_required_items(full["id"])
        assert store.nurse_profile()["display"] == "Demo Nurse, RN"


def _clinical_content(path: Path) -> list:
    conn = raw_connection(path)
    rows = [
        conn.execute("SELECT mrn, name, date_of_birth, sex, height_cm FROM patients ORDER BY id").fetchall(),
        conn.execute(
            "SELECT recorded_at, heart_rate, spo2_percent, infusion_rate_ml_h FROM vitals ORDER BY id"
        ).fetchall(),
        conn.execute("SELECT calculation FROM visits ORDER BY id").fetchall(),
    ]
    conn.close()
    return rows


def test_demo_data_is_deterministic_with_a_seed(cli, demo_db, tmp_path):
    again = tmp_path / "again.db"
    assert cli("--db", str(again), "demo-data", "--patients", "12", "--seed", "7").returncode == 0
    assert _clinical_content(again) == _clinical_content(demo_db)
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "demo-data", "--patients", "12", "--seed", "8").returncode == 0
    assert _clinical_content(other) != _clinical_content(demo_db)


def test_demo_data_refuses_a_record_with_patients(cli, demo_db):
    digest = file_digest(demo_db)
    done = cli("--db", str(demo_db), "demo-data", "--patients", "2")
    assert_one_line_error(done, "already holds patients")
    assert file_digest(demo_db) == digest


@pytest.mark.parametrize(
    "value, message",
    [("abc", "expected a whole number"), ("0", "from 1 to 100,000"), ("-3", "from 1 to 100,000")],
)
def test_bad_patient_count_is_one_line_exit_2(cli, tmp_path, value, message):
    done = cli("--db", str(tmp_path / "x.db"), "demo-data", "--patients", value)
    assert_one_line_error(done, message)
    assert not (tmp_path / "x.db").exists()


def test_backup_and_restore_round_trip(cli, demo_db, tmp_path):
    work = tmp_path / "work.db"
    backup = tmp_path / "saved.db"
    assert cli("--db", str(demo_db), "backup", "--to", str(work)).returncode == 0
    done = cli("--db", str(work), "backup", "--to", str(backup))
    assert done.returncode == 0 and "integrity check ok" in done.stdout
    assert_one_line_error(cli("--db", str(work), "backup", "--to", str(backup)), "already exists")
    with Store.open(work) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        store.create_patient(
            mrn="REAL-1", name="Added After Backup", date_of_birth="1990-01-01", sex="female"
        )
    done = cli("--db", str(work), "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert f"Restored {work} from {backup}" in done.stdout and "kept as" in done.stdout
    with Store.open(work) as store:
        assert store.find_patients("REAL-1") == []
        assert len(store.find_patients("DEMO-")) == 12


def test_environment_variable_chooses_the_record(cli, demo_db, tmp_path):
    done = cli("check-db", env={"NURSE_APP_DB": str(demo_db)})
    assert done.returncode == 0 and str(demo_db) in done.stdout
    done = cli("--db", str(tmp_path / "missing.db"), "check-db", env={"NURSE_APP_DB": str(demo_db)})
    assert_one_line_error(done, "There is no record file at", "missing.db")


@pytest.mark.parametrize(
    "content, fragment", [(b"", "is empty"), (b"PK\x03\x04 not a database", "not an SQLite database")]
)
def test_damaged_file_is_one_line_exit_2_and_untouched(cli, tmp_path, content, fragment):
    path = tmp_path / "record.db"
    path.write_bytes(content)
    for command in (["check-db"], ["backup"], ["demo-data", "--patients", "1"]):
        assert_one_line_error(cli("--db", str(path), *command), fragment, "nurse-app restore FILE")
    assert path.read_bytes() == content


def test_newer_file_is_refused(cli, tmp_path):
    path = tmp_path / "record.db"
    Store.open(path).close()
    raw = raw_connection(path)
    raw.execute("PRAGMA user_version = 999")
    raw.close()
    assert_one_line_error(cli("--db", str(path), "check-db"), "newer version of nurse-app")


def test_missing_folder_is_one_line_exit_2(cli, tmp_path):
    done = cli("--db", str(tmp_path / "nowhere" / "r.db"), "demo-data", "--patients", "1")
    assert_one_line_error(done, "does not exist")


def test_check_db_reports_a_broken_seal_with_exit_1(cli, demo_db, tmp_path):
    work = tmp_path / "work.db"
    assert cli("--db", str(demo_db), "backup", "--to", str(work)).returncode == 0
    raw = raw_connection(work)
    raw.execute("DROP TRIGGER vitals_signed_no_update")
    raw.execute("UPDATE vitals SET heart_rate = 61 WHERE id = 1")
    raw.close()
    done = cli("--db", str(work), "check-db")
    assert done.returncode == 1
    assert "CONTENT CHANGED AFTER SIGNING in visit 1" in done.stdout
    assert "Result: PROBLEMS FOUND" in done.stdout
