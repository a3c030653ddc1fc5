"""Start-up: opening a record compares its schema with a snapshot, not a fresh in-memory run.

The genuineness check (``genuine.schema_differences``) and the own-objects check
(``schema.object_differences``) stay exactly as strict: they compare with the rows the
migrations build.  Only *when* those rows are built changes: once per ``schema.py``
(``nurse_app/store/_schema_snapshot.py``), not at every start.
"""

from __future__ import annotations

import sqlite3

import pytest
from repo_paths import ROOT
from store_helpers import raw_connection

from nurse_app.store import Store, expected_schema, genuine, schema
from nurse_app.store import _schema_snapshot as snap


def _clear_caches() -> None:
    expected_schema.objects.cache_clear()
    schema.expected_objects.cache_clear()
    genuine.expected_objects.cache_clear()


@pytest.fixture
def fresh_caches():
    _clear_caches()
    yield
    _clear_caches()


def _in_memory(conn: sqlite3.Connection) -> bool:
    return all(not row[2] for row in conn.execute("PRAGMA database_list"))


def test_snapshot_is_up_to_date_with_schema_py():
    """Fails when schema.py changed (e.g. a new migration) and the snapshot was not regenerated:
    run ``python -m nurse_app.store.expected_schema --write``."""
    assert snap.VERSION == schema.CURRENT_VERSION
    assert expected_schema.schema_source_sha256() == snap.SCHEMA_SHA256, (
        "stale: python -m nurse_app.store.expected_schema --write"
    )
    assert expected_schema.SNAPSHOT_FILE.read_text(encoding="utf-8") == expected_schema.render()
    assert expected_schema.snapshot() == expected_schema.build(schema.CURRENT_VERSION)


def test_opening_a_record_runs_no_migration_in_memory(tmp_path, monkeypatch, fresh_caches):
    path = tmp_path / "record.db"
    Store.open(path).close()  # created (and migrated) on disk
    _clear_caches()
    runs: list[bool] = []
    real_migrate = schema.migrate

    def spy(conn, target=schema.CURRENT_VERSION):
        runs.append(_in_memory(conn))
        return real_migrate(conn, target)

    monkeypatch.setattr(schema, "migrate", spy)
    store = Store.open(path)
    try:
        assert store.schema_version == schema.CURRENT_VERSION
    finally:
        store.close()
    assert True not in runs, "the expected schema was rebuilt in memory at open"


def test_open_still_refuses_a_foreign_trigger_with_the_snapshot(tmp_path, fresh_caches):
    """The snapshot is as strict as the in-memory run: an extra trigger is still found."""
    path = tmp_path / "record.db"
    Store.open(path).close()
    raw = raw_connection(path)  # the record is encrypted: SQLCipher with its key
    raw.execute("CREATE TRIGGER sneaky AFTER INSERT ON vitals BEGIN DELETE FROM vitals; END")
    diffs = genuine.schema_differences(raw, schema.CURRENT_VERSION)
    raw.close()
    assert [str(d) for d in diffs] == ["has an extra trigger 'sneaky'"]


def test_a_stale_snapshot_is_not_trusted(monkeypatch, fresh_caches):
    """schema.py edited without regenerating: the app builds the schema in memory, as before."""
    monkeypatch.setattr(snap, "SCHEMA_SHA256", "0" * 64)
    assert expected_schema.snapshot() is None
    built: list[int] = []
    real_build = expected_schema.build
    monkeypatch.setattr(expected_schema, "build", lambda v: built.append(v) or real_build(v))
    rows = expected_schema.objects(schema.CURRENT_VERSION)
    assert built == [schema.CURRENT_VERSION] and rows == real_build(schema.CURRENT_VERSION)


def test_a_snapshot_of_another_version_is_not_used(monkeypatch, fresh_caches):
    monkeypatch.setattr(snap, "VERSION", schema.CURRENT_VERSION - 1)
    assert expected_schema.snapshot() is None


def test_older_versions_are_still_built_from_the_migrations(fresh_caches):
    old = schema.CURRENT_VERSION - 1
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(conn, old)
    assert genuine.schema_differences(conn, old) == []
    conn.close()


_MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master"


def _migrated_in_memory() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(conn)
    return conn


def _assert_as_migrated(path) -> None:
    """The file has exactly the schema, version and application id the migrations build, and no rows."""
    raw = raw_connection(path)
    migrated = _migrated_in_memory()
    try:
        assert raw.execute(_MASTER).fetchall() == migrated.execute(_MASTER).fetchall()
        for pragma in ("user_version", "application_id"):
            assert (
                raw.execute(f"PRAGMA {pragma}").fetchone() == migrated.execute(f"PRAGMA {pragma}").fetchone()
            )
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {t: raw.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables} == dict.fromkeys(
            tables, 0
        )
        assert genuine.schema_differences(raw, schema.CURRENT_VERSION) == []
    finally:
        raw.close()
        migrated.close()


def test_a_new_record_gets_the_final_schema_without_running_a_migration(tmp_path, monkeypatch, fresh_caches):
    """A new record is made from the snapshot: no migration step runs, and the file is the one
    the migrations would have made (migrations stay tested from tests/fixtures/store_v*.db)."""

    def refuse(_conn):
        raise AssertionError("a migration step ran for a new record (is the schema snapshot stale?)")

    for version in list(schema.MIGRATIONS):
        monkeypatch.setitem(schema.MIGRATIONS, version, refuse)
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        assert store.schema_version == schema.CURRENT_VERSION and store.migrated_versions == []
        store.set_nurse_profile("Ana Núñez", "RN")
        store.create_patient(mrn="S-1", name="Snap Shot", date_of_birth="1970-01-02", sex="female")
        assert [e["action"] for e in store.audit_entries("patients")] == ["insert"]
    monkeypatch.undo()
    with Store.open(path) as store:  # reopened: the app's own checks find its own schema
        assert store.repaired_objects.lines() == [] and store.migrated_versions == []


def test_a_new_record_from_the_snapshot_is_the_one_the_migrations_make(tmp_path, fresh_caches):
    path = tmp_path / "record.db"
    Store.open(path).close()
    _assert_as_migrated(path)


def test_with_a_stale_snapshot_a_new_record_is_made_by_the_migrations(tmp_path, monkeypatch, fresh_caches):
    monkeypatch.setattr(snap, "SCHEMA_SHA256", "0" * 64)
    steps: list[int] = []  # the steps run on a file (the checks build theirs in memory)

    def counted(version, step):
        def run(conn):
            if not _in_memory(conn):
                steps.append(version)
            step(conn)

        return run

    for version, step in list(schema.MIGRATIONS.items()):
        monkeypatch.setitem(schema.MIGRATIONS, version, counted(version, step))
    path = tmp_path / "record.db"
    Store.open(path).close()
    assert steps == sorted(schema.MIGRATIONS)
    monkeypatch.undo()
    _assert_as_migrated(path)


def test_create_current_refuses_a_database_that_is_not_empty():
    conn = _migrated_in_memory()
    try:
        with pytest.raises(RuntimeError, match="empty database"):
            expected_schema.create_current(conn)
        assert not conn.in_transaction
    finally:
        conn.close()


@pytest.mark.slow
def test_benchmark_reference_window_with_a_table_is_ready(tmp_path):
    """benchmarks/bare_window.py --table (the benchmark's reference row) paints and reports."""
    import os
    import subprocess
    import sys

    script = ROOT / "benchmarks" / "bare_window.py"
    p = subprocess.run(
        [sys.executable, str(script), "--table"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
    )
    assert p.returncode == 0 and p.stdout.strip() == "ready", p.stdout + p.stderr
