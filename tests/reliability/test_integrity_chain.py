"""The audit log is a hash chain and signed visits are anchored in it (issue 12 §1).

The attacker here has the file and the sqlite3 shell: drops the protecting triggers,
changes what they want, recomputes what they can (the visit's own SHA-256, an entry's
own hash), and puts the triggers back exactly as they were, so that only the chain can
tell.  ``check-db`` must report every one of these; the untouched record is "OK".
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from store_helpers import open_store, outside_connection, ready_visit

from nurse_app.cli import main as cli_main
from nurse_app.store import Store, check_database, schema
from nurse_app.store.hashing import CHAIN_GENESIS, audit_entry_hash, content_hash

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("chain") / "record.db"
    with open_store(path) as store:
        signed = ready_visit(store, "MRN-1")
        store.sign_visit(signed)
        store.add_addendum(signed, "Phoned next day: well.")
        draft = ready_visit(store, "MRN-2")
        store.update_visit(draft, notes="Draft note")
    return path, signed, draft


@pytest.fixture
def record(template, tmp_path):
    source, signed, draft = template
    path = tmp_path / "record.db"
    shutil.copy(source, path)
    return path, signed, draft


def _raw(path) -> sqlite3.Connection:
    return outside_connection(path)  # the record is encrypted: an SQLCipher tool with the key


class _Lifted:
    """Drop some of the app's triggers, then put them back exactly as the app made them."""

    def __init__(self, conn, *names):
        self.conn, self.names = conn, names

    def __enter__(self):
        for name in self.names:
            self.conn.execute(f"DROP TRIGGER {name}")
        return self.conn

    def __exit__(self, *exc):
        for name in self.names:
            self.conn.execute(schema.expected_objects()[name][1])


def _entries(conn) -> list[dict]:
    cursor = conn.execute("SELECT * FROM audit_log ORDER BY id")
    return [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor]


def _rehash_visit(conn, visit_id) -> str:
    """What an attacker does after changing a signed visit: recompute its own hash."""
    cursor = conn.execute("SELECT * FROM visits WHERE id = ?", [visit_id])
    visit = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    children = {}
    for table in schema.VISIT_CHILD_TABLES:
        c = conn.execute(f"SELECT * FROM {table} WHERE visit_id = ?", [visit_id])
        children[table] = [dict(zip([d[0] for d in c.description], r, strict=True)) for r in c]
    new_hash = content_hash(visit, children)
    conn.execute("UPDATE visits SET content_hash = ? WHERE id = ?", [new_hash, visit_id])
    return new_hash


def _report_text(path) -> str:
    return "\n".join(check_database(path).lines())


# --------------------------------------------------------------------------- the chain itself


def test_every_entry_is_chained_to_the_one_before(record):
    path, signed, _ = record
    conn = _raw(path)
    entries = _entries(conn)
    conn.close()
    assert len(entries) > 20
    prev = CHAIN_GENESIS
    for entry in entries:
        assert entry["prev_hash"] == prev
        assert entry["entry_hash"] == audit_entry_hash(entry, prev)
        prev = entry["entry_hash"]
    signing = [
        e
        for e in entries
        if e["table_name"] == "visits"
        and e["row_id"] == signed
        and e["after"]
        and json.loads(e["after"]).get("status") == "signed"
    ]
    assert len(signing) == 1
    conn = _raw(path)
    own = conn.execute("SELECT content_hash FROM visits WHERE id = ?", [signed]).fetchone()[0]
    conn.close()
    assert json.loads(signing[0]["after"])["content_hash"] == own
    report = check_database(path)
    assert report.ok and report.chain_problems == [] and report.chain_entries == len(entries)
    assert f"Audit chain: intact ({len(entries):,} entries)" in report.lines()


def test_an_entry_cannot_be_chained_twice_or_rewritten_while_being_chained(record):
    path, _, _ = record
    conn = _raw(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="audit log"):
            conn.execute("UPDATE audit_log SET entry_hash = 'sha256:00', prev_hash = 'x' WHERE id = 1")
        conn.execute(
            "INSERT INTO audit_log (at, author, table_name, row_id, action) "
            "VALUES ('2024-01-01', 'x', 'visits', 1, 'update')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="audit log"):
            conn.execute(
                "UPDATE audit_log SET entry_hash = 'h', prev_hash = 'p', author = 'y' "
                "WHERE entry_hash IS NULL"
            )
    finally:
        conn.close()


def test_entries_written_by_another_program_are_chained_at_the_next_save_and_named(record):
    """Raw SQL through the app's triggers is audited under the nurse's name; the entry is
    not the app's, and check-db says so before and after the app chains it (issue 22 §2)."""
    path, _, draft = record
    conn = _raw(path)
    conn.execute("UPDATE visits SET notes = 'edited in the sqlite3 shell' WHERE id = ?", [draft])
    outside = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    conn.close()
    report = check_database(path)
    assert not report.ok and report.chain_unchained == 1 and report.outside_entries == [outside]
    assert any("written by another program" in line for line in report.lines())
    with Store.open(path) as store:
        store.update_visit(draft, notes="edited in the app")
        marker = store.audit_entries("audit_log", limit=1)[0]
    assert marker["after"] == {"event": "written_outside_app", "entries": [outside]}
    report = check_database(path)
    assert report.chain_unchained == 0 and not report.chain_problems
    assert not report.ok and report.outside_entries == [outside]
    assert any("NOT WRITTEN BY NURSE-APP" in line for line in report.lines())


# --------------------------------------------------------------------------- tampering


def _delete_middle_entry(conn, signed):
    with _Lifted(conn, "audit_log_no_delete"):
        conn.execute("DELETE FROM audit_log WHERE id = 5")


def _rewrite_author(conn, signed):
    with _Lifted(conn, "audit_log_no_update"):
        conn.execute("UPDATE audit_log SET author = 'Mallory' WHERE id = 3")


def _rewrite_author_and_its_hash(conn, signed):
    entry = _entries(conn)[2]
    entry["author"] = "Mallory"
    with _Lifted(conn, "audit_log_no_update"):
        conn.execute(
            "UPDATE audit_log SET author = ?, entry_hash = ? WHERE id = ?",
            ["Mallory", audit_entry_hash(entry, entry["prev_hash"]), entry["id"]],
        )


def _swap_two_entries(conn, signed):
    a, b = _entries(conn)[3:5]
    with _Lifted(conn, "audit_log_no_update", "audit_log_no_replace"):
        conn.execute("UPDATE audit_log SET id = -1 WHERE id = ?", [a["id"]])
        conn.execute("UPDATE audit_log SET id = ? WHERE id = ?", [a["id"], b["id"]])
        conn.execute("UPDATE audit_log SET id = ? WHERE id = -1", [b["id"]])


def _rewrite_signed_visit_and_recompute_its_hash(conn, signed):
    with _Lifted(conn, "visits_signed_no_update", "audit_visits_update"):
        conn.execute("UPDATE visits SET weight_kg = 95 WHERE id = ?", [signed])
        _rehash_visit(conn, signed)


def _rewrite_signed_vitals_and_recompute(conn, signed):
    with _Lifted(
        conn,
        "vitals_signed_no_update",
        "visits_signed_no_update",
        "audit_vitals_update",
        "audit_visits_update",
    ):
        conn.execute("UPDATE vitals SET heart_rate = 60 WHERE visit_id = ?", [signed])
        _rehash_visit(conn, signed)


def _rewrite_visit_and_its_signing_entry(conn, signed):
    with _Lifted(conn, "visits_signed_no_update", "audit_visits_update", "audit_log_no_update"):
        conn.execute("UPDATE visits SET weight_kg = 95 WHERE id = ?", [signed])
        new_hash = _rehash_visit(conn, signed)
        for entry in _entries(conn):
            after = json.loads(entry["after"]) if entry["after"] else {}
            if entry["table_name"] == "visits" and after.get("status") == "signed":
                after["content_hash"] = new_hash
                entry["after"] = json.dumps(after)
                conn.execute(
                    "UPDATE audit_log SET after = ?, entry_hash = ? WHERE id = ?",
                    [entry["after"], audit_entry_hash(entry, entry["prev_hash"]), entry["id"]],
                )


def _rewrite_visit_and_append_a_forged_signing(conn, signed):
    _rewrite_signed_visit_and_recompute_its_hash(conn, signed)
    new_hash = conn.execute("SELECT content_hash FROM visits WHERE id = ?", [signed]).fetchone()[0]
    conn.execute(
        "INSERT INTO audit_log (at, author, table_name, row_id, action, before, after) "
        "VALUES ('2024-06-01T14:00:00.000Z', 'Ana Núñez, RN', 'visits', ?, 'update', "
        "'{\"status\":\"draft\"}', json_object('status', 'signed', 'content_hash', ?))",
        [signed, new_hash],
    )


def _delete_the_signing_entry(conn, signed):
    with _Lifted(conn, "audit_log_no_delete"):
        conn.execute(
            "DELETE FROM audit_log WHERE table_name = 'visits' AND row_id = ? AND "
            "json_extract(after, '$.status') = 'signed'",
            [signed],
        )


def _insert_entry_before_the_chain(conn, signed):
    conn.execute(
        "INSERT INTO audit_log (id, at, author, table_name, row_id, action, after) "
        "VALUES (-5, '2020-01-01T00:00:00.000Z', 'Mallory', 'visits', ?, 'update', "
        '\'{"notes":"backdated"}\')',
        [signed],
    )


TAMPERING = {
    "delete a middle entry": (_delete_middle_entry, "does not follow"),
    "rewrite an author": (_rewrite_author, "was changed after it was written"),
    "rewrite an author and recompute its hash": (_rewrite_author_and_its_hash, "does not follow"),
    "swap two entries": (_swap_two_entries, "audit entry"),
    "rewrite a signed visit, recompute its SHA-256": (
        _rewrite_signed_visit_and_recompute_its_hash,
        "recorded in the audit chain",
    ),
    "rewrite signed vitals, recompute the visit's SHA-256": (
        _rewrite_signed_vitals_and_recompute,
        "recorded in the audit chain",
    ),
    "rewrite the visit and its signing entry": (_rewrite_visit_and_its_signing_entry, "does not follow"),
    "delete the signing entry": (_delete_the_signing_entry, "no signing entry"),
    "insert a backdated entry before the chain": (_insert_entry_before_the_chain, "inserted out of order"),
    "rewrite the visit and append a forged signing": (
        _rewrite_visit_and_append_a_forged_signing,
        "recorded in the audit chain",
    ),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_check_db_detects_tampering_even_with_recomputed_hashes(record, case):
    path, signed, _ = record
    tamper, expected = TAMPERING[case]
    conn = _raw(path)
    try:
        tamper(conn, signed)
    finally:
        conn.close()
    report = check_database(path)
    assert not report.ok, report.lines()
    assert report.object_problems == []  # the triggers were put back as they were
    assert expected in _report_text(path)
    assert "Result: PROBLEMS FOUND" in report.lines()


def test_a_forged_signing_entry_is_caught_once_the_app_has_chained_it(record):
    """The app chains the outside entry at its next save; then the visit has two signings."""
    path, signed, draft = record
    conn = _raw(path)
    _rewrite_visit_and_append_a_forged_signing(conn, signed)
    conn.close()
    with Store.open(path) as store:
        store.update_visit(draft, notes="a later save")
    report = check_database(path)
    assert not report.ok and signed in report.broken_seals
    assert report.seal_details[signed] == "has more than one signing entry in the audit chain"


def test_check_db_command_reports_a_rehashed_signed_visit(record, capsys):
    path, signed, _ = record
    conn = _raw(path)
    _rewrite_signed_visit_and_recompute_its_hash(conn, signed)
    conn.close()
    code = cli_main(["--db", str(path), "check-db"])
    out = capsys.readouterr().out
    assert code != 0
    assert f"visit {signed}: does not match the content hash recorded in the audit chain" in out
    assert "Result: PROBLEMS FOUND" in out


# --------------------------------------------------------------------------- migration


def _file_before_the_chain(path):
    """A record as the version before the chain made it: audited entries, a signed visit."""
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, schema.INTEGRITY_VERSION - 1)
    conn.execute("INSERT INTO nurse_profile VALUES (1, 'Ana Núñez', 'RN', '2024-01-01')")
    conn.execute(
        "INSERT INTO patients (mrn, name, date_of_birth, sex, created_at, created_by, "
        "updated_at) VALUES ('M5', 'Old Patient', '1950-01-01', 'male', '2024-01-01T09:00:00.000Z', "
        "'Ana Núñez, RN', '2024-01-01T09:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO visits (patient_id, nurse_name, checklist_template_id, "
        "checklist_template_version, created_at, updated_at, weight_kg) VALUES "
        "(1, 'Ana Núñez, RN', 'ivig-home-visit', 1, '2024-01-01T09:30:00.000Z', "
        "'2024-01-01T09:30:00.000Z', 70)"
    )
    conn.execute(
        "INSERT INTO vitals (visit_id, recorded_at, heart_rate, recorded_by) VALUES "
        "(1, '2024-01-01T10:00:00.000Z', 72, 'Ana Núñez, RN')"
    )
    cursor = conn.execute("SELECT * FROM visits WHERE id = 1")
    visit = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    visit.update(signed_by="Ana Núñez, RN", signed_at="2024-01-01T12:00:00.000Z")
    c = conn.execute("SELECT * FROM vitals")
    vitals = [dict(zip([d[0] for d in c.description], r, strict=True)) for r in c]
    seal = content_hash(visit, {"vitals": vitals})
    conn.execute(
        "UPDATE visits SET signed_by = ?, signed_at = ?, content_hash = ?, status = 'signed' WHERE id = 1",
        [visit["signed_by"], visit["signed_at"], seal],
    )
    entries = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    conn.close()
    return entries


def test_migration_builds_the_chain_over_existing_entries(tmp_path):
    path = tmp_path / "record.db"
    existing = _file_before_the_chain(path)
    report = check_database(path)
    assert report.chain_entries is None and report.ok
    assert "Audit chain: not built yet" in "\n".join(report.lines())
    with Store.open(path) as store:
        assert store.migrated_versions[0] == schema.INTEGRITY_VERSION
        assert store.migration_backup is not None
        assert store.verify_visit(1) is True
    conn = _raw(path)
    entries = _entries(conn)
    conn.close()
    assert len(entries) == existing and all(e["entry_hash"] for e in entries)
    report = check_database(path)
    assert report.ok and report.chain_entries == existing and report.broken_seals == []


def test_the_summary_of_a_rehashed_visit_warns(record, tmp_path):
    """The visit's own SHA-256 matches again after the attacker recomputed it, but not the
    one its signing entry recorded: the app (and the PDF) no longer call it intact."""
    path, signed, _ = record
    conn = _raw(path)
    _rewrite_signed_visit_and_recompute_its_hash(conn, signed)
    conn.close()
    with Store.open(path) as store:
        assert store.verify_visit(signed) is False
        assert store.seal_problem(signed) == (
            "does not match the content hash recorded in the audit chain when it was signed"
        )
    from visit_export_helpers import flat, read_pdf

    out = tmp_path / "summary.pdf"
    assert cli_main(["--db", str(path), "visit-pdf", str(signed), "--out", str(out)]) == 0
    assert "WARNING: the record no longer matches this hash" in flat(" ".join(read_pdf(out)))
