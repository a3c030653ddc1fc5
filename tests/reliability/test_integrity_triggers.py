"""check-db reports missing or altered triggers and views, and opening the record
reinstalls the app's own (logged), instead of running without them (issue 12 §1)."""

from __future__ import annotations

import logging
import shutil
import sqlite3

import pytest
from store_helpers import open_store, outside_connection, ready_visit

from nurse_app.cli import main as cli_main
from nurse_app.store import SignedVisitError, Store, check_database, schema

pytestmark = pytest.mark.reliability

OWN = schema.expected_objects()
TRIGGERS = sorted(name for name, (kind, _) in OWN.items() if kind == "trigger")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("triggers") / "record.db"
    with open_store(path) as store:
        visit = ready_visit(store)
        store.sign_visit(visit)
    return path, visit


@pytest.fixture
def record(template, tmp_path):
    source, visit = template
    path = tmp_path / "record.db"
    shutil.copy(source, path)
    return path, visit


def _raw(path):
    return outside_connection(path)  # the record is encrypted: an SQLCipher tool with the key


def _sql_of(path, name):
    conn = _raw(path)
    try:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def test_an_untouched_record_has_exactly_the_apps_own_triggers(record):
    path, _ = record
    report = check_database(path)
    assert report.ok and report.object_problems == []
    assert "Triggers and views: as the app installs them" in report.lines()
    assert len(TRIGGERS) > 60


@pytest.mark.parametrize("name", TRIGGERS)
def test_a_dropped_trigger_is_reported_then_reinstalled_on_open(record, name, caplog):
    path, _ = record
    conn = _raw(path)
    conn.execute(f"DROP TRIGGER {name}")
    conn.close()
    report = check_database(path)
    assert not report.ok and report.object_problems == [f"missing: {name}"]
    with caplog.at_level(logging.WARNING, logger="nurse_app.store"), Store.open(path) as store:
        assert store.repaired_objects.missing == (name,)
    assert any(name in r.getMessage() and "reinstalled" in r.getMessage() for r in caplog.records)
    assert _sql_of(path, name) == OWN[name][1]
    assert check_database(path).ok


def test_an_altered_trigger_is_reported_then_reinstalled_and_protects_again(record, caplog):
    path, visit = record
    conn = _raw(path)
    conn.execute("DROP TRIGGER visits_signed_no_update")
    conn.execute(
        "CREATE TRIGGER visits_signed_no_update BEFORE UPDATE ON visits WHEN 0 "
        "BEGIN SELECT RAISE(ABORT, 'never'); END"
    )
    conn.close()
    assert check_database(path).object_problems == ["altered: visits_signed_no_update"]
    with caplog.at_level(logging.WARNING, logger="nurse_app.store"), Store.open(path) as store:
        assert store.repaired_objects.altered == ("visits_signed_no_update",)
        with pytest.raises(SignedVisitError):
            store.update_visit(visit, notes="after signing")
    assert "visits_signed_no_update" in caplog.text
    conn = _raw(path)
    with pytest.raises(sqlite3.IntegrityError, match="signed"):
        conn.execute("UPDATE visits SET weight_kg = 99 WHERE id = ?", [visit])
    conn.close()


def test_every_trigger_dropped_at_once_is_all_reinstalled(record, caplog):
    path, _visit = record
    conn = _raw(path)
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.close()
    assert check_database(path).object_problems == ["missing: " + ", ".join(TRIGGERS)]
    with caplog.at_level(logging.WARNING, logger="nurse_app.store"):
        Store.open(path).close()
    assert "reinstalled" in caplog.text
    assert check_database(path).ok


def test_triggers_and_views_that_are_not_the_apps_own_are_reported(record):
    path, _ = record
    conn = _raw(path)
    conn.execute(
        "CREATE TRIGGER sneaky AFTER INSERT ON vitals BEGIN DELETE FROM vitals WHERE id = NEW.id; END"
    )
    conn.execute("CREATE VIEW extra_view AS SELECT 1")
    conn.close()
    report = check_database(path)
    assert not report.ok
    assert report.object_problems == ["not the app's own: extra_view, sneaky"]


def test_check_db_command_names_the_missing_trigger(record, capsys):
    path, _ = record
    conn = _raw(path)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.close()
    code = cli_main(["--db", str(path), "check-db"])
    out = capsys.readouterr().out
    assert code != 0 and "missing: audit_log_no_delete" in out
    assert "Result: PROBLEMS FOUND" in out
