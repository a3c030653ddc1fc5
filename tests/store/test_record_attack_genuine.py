"""Issue 22 §1: the genuine-schema check counts every trigger and view, whatever its name;
only SQLite's own bookkeeping (sqlite_sequence, sqlite_stat*, sqlite_autoindex_*) is left out."""

from __future__ import annotations

from store_helpers import open_store, raw_connection

from nurse_app.store import genuine, schema


def test_a_trigger_named_sqlite_is_an_extra_trigger_of_the_schema(tmp_path):
    path = tmp_path / "record.db"
    open_store(path).close()
    conn = raw_connection(path)
    conn.execute("PRAGMA writable_schema = ON")  # how such a name gets in, and is read back
    conn.execute(
        "INSERT INTO sqlite_master VALUES ('trigger', 'sqlite_evil', 'vitals', 0, ?)",
        ["CREATE TRIGGER sqlite_evil AFTER INSERT ON vitals BEGIN UPDATE patients SET allergies = ''; END"],
    )
    conn.execute(
        "INSERT INTO sqlite_master VALUES ('view', 'SQLITE_all', 'SQLITE_all', 0, ?)",
        ["CREATE VIEW SQLITE_all AS SELECT name FROM patients"],
    )
    found = [str(d) for d in genuine.schema_differences(conn, schema.CURRENT_VERSION)]
    conn.close()
    assert "has an extra trigger 'sqlite_evil'" in found
    assert "has an extra view 'SQLITE_all'" in found


def test_sqlite_s_own_tables_and_indexes_are_not_differences(tmp_path):
    path = tmp_path / "record.db"
    open_store(path).close()
    conn = raw_connection(path)
    conn.execute("ANALYZE")  # sqlite_stat1
    assert genuine.schema_differences(conn, schema.CURRENT_VERSION) == []
    conn.close()
