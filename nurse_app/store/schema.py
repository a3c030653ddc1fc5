"""The schema of the record file and its numbered migrations.

``PRAGMA user_version`` holds the schema version.  :data:`MIGRATIONS` maps each
version to the step that brings a file from the previous version to it; opening a
file runs the missing steps in order, each in its own transaction, after a backup
(see :mod:`nurse_app.store.database`).  A released step is NEVER edited: files in the
field were made by it.  Change the schema by appending a new step.

``PRAGMA application_id`` marks the file as a nurse-app record, so another program's
SQLite file is refused instead of being "migrated".

Rules enforced by SQLite itself, so that they hold for raw SQL too:

* a signed visit and its checklist answers, vital signs, reactions and product lots
  cannot be inserted, updated or deleted (triggers ``*_signed_*``);
* addenda and the audit log are append-only;
* every insert, update and delete on a clinical table writes an audit row with the
  author taken from the nurse profile (triggers ``audit_*``, regenerated from the
  table's columns whenever a migration changes a clinical table);
* the replacing forms (``INSERT OR REPLACE``, ``REPLACE``, ``UPDATE OR REPLACE``), which
  delete the row they collide with without firing its delete triggers unless the writing
  connection turned ``recursive_triggers`` on, are refused on every audited and
  protected table by ``*_no_replace`` / ``*_no_id_change`` guards (version 6), so this
  holds for any program's connection, not only the app's;
* the audit log is a hash chain (version 6, see :mod:`nurse_app.store.audit_chain`).

:func:`expected_objects` gives the app's own triggers and views for a version (by running
the steps on an empty database); ``check-db`` compares a file with them and opening the
record reinstalls any that are missing or altered (logged).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from nurse_app.store.backup import crash_point

APPLICATION_ID = int.from_bytes(b"NURS", "big")

# Tables holding clinical information: audited, and part of the record's meaning.
CLINICAL_TABLES = (
    "patients",
    "patient_weights",
    "orders",
    "visits",
    "checklist_entries",
    "vitals",
    "reactions",
    "product_lots",
    "addenda",
    "infusion_events",
    "followup_calls",
    "content_approvals",
)
# Children of a visit that freeze when the visit is signed (and are sealed by its hash).
_V1_CHILD_TABLES = ("checklist_entries", "vitals", "reactions", "product_lots")  # frozen
VISIT_CHILD_TABLES = (*_V1_CHILD_TABLES, "infusion_events")

# Columns holding JSON text.
JSON_COLUMNS = {
    "calculation",
    "acknowledgements",
    "signed_snapshot",
    "risks",
    "start_acknowledgements",
    "answers",
    "approved_items",
}

# Messages raised by triggers.  The store recognises the prefix before the colon and
# turns it into the matching error class; a raw SQL user reads the sentence.
SIGNED_MESSAGE = "SIGNED: This visit is signed and read-only; write an addendum to correct it."
CALL_SIGNED_MESSAGE = (
    "SIGNED: This follow-up call record is signed and read-only; record a new call to add to it."
)
ADDENDUM_MESSAGE = "APPEND-ONLY: Addenda cannot be changed or deleted; write a new addendum."
AUDIT_MESSAGE = "APPEND-ONLY: The audit log cannot be changed or deleted."
# INSERT OR REPLACE / REPLACE / UPDATE OR REPLACE would delete the old row without firing
# its delete triggers (unless the writer set recursive_triggers): refused on every audited
# or frozen table, whatever the writing connection's settings.
REPLACE_MESSAGE = (
    "REPLACE: A row with this id already exists; change it with UPDATE (a "
    "replacing insert would delete it without an audit entry)."
)
ID_MESSAGE = "REPLACE: The id of a record cannot be changed."
MRN_MESSAGE = "DUPLICATE-MRN: A patient with this medical record number (MRN) already exists."
# Tables whose rows a signed visit freezes or that are append-only: guarded most strictly.
PROTECTED_TABLES = ("visits", *VISIT_CHILD_TABLES, "addenda", "audit_log")

# The author of an audit row: the nurse profile at the moment of the change.
AUTHOR_SQL = (
    "COALESCE((SELECT name || CASE WHEN credentials <> '' THEN ', ' || credentials "
    "ELSE '' END FROM nurse_profile WHERE id = 1), '(no nurse profile)')"
)
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute several statements inside the caller's transaction.

    (``Connection.executescript`` would COMMIT the open transaction first.)
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:60]}")


def _v1_tables(conn: sqlite3.Connection) -> None:
    """Version 1: the clinical tables, settings, and signed-visit protection."""
    run_script(
        conn,
        """
    CREATE TABLE nurse_profile (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        name        TEXT NOT NULL,
        credentials TEXT NOT NULL DEFAULT '',
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL              -- JSON
    );
    CREATE TABLE patients (
        id            INTEGER PRIMARY KEY,
        mrn           TEXT NOT NULL UNIQUE,
        name          TEXT NOT NULL,
        date_of_birth TEXT NOT NULL,     -- YYYY-MM-DD
        sex           TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
        height_cm     REAL CHECK (height_cm > 0),
        allergies     TEXT NOT NULL DEFAULT '',
        indication    TEXT,              -- a regimen id from resources/regimens.toml
        prescriber    TEXT NOT NULL DEFAULT '',
        notes         TEXT NOT NULL DEFAULT '',
        archived      INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE patient_weights (
        id          INTEGER PRIMARY KEY,
        patient_id  INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        measured_on TEXT NOT NULL,       -- YYYY-MM-DD
        weight_kg   REAL NOT NULL CHECK (weight_kg > 0),
        note        TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL
    );
    CREATE TABLE orders (
        id            INTEGER PRIMARY KEY,
        patient_id    INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        product_id    TEXT NOT NULL,
        regimen_id    TEXT,
        dose_g_per_kg REAL CHECK (dose_g_per_kg > 0),
        course_days   INTEGER CHECK (course_days >= 1),
        interval_days INTEGER CHECK (interval_days >= 1),
        start_date    TEXT NOT NULL,     -- YYYY-MM-DD
        prescriber    TEXT NOT NULL,
        active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        notes         TEXT NOT NULL DEFAULT '',
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        CHECK (regimen_id IS NOT NULL OR (dose_g_per_kg IS NOT NULL AND course_days IS NOT NULL))
    );
    CREATE TABLE visits (
        id                         INTEGER PRIMARY KEY,
        patient_id                 INTEGER NOT NULL REFERENCES patients(id) ON DELETE RESTRICT,
        order_id                   INTEGER REFERENCES orders(id) ON DELETE RESTRICT,
        scheduled_at               TEXT,
        started_at                 TEXT,
        ended_at                   TEXT,
        course_day                 INTEGER NOT NULL DEFAULT 1,
        course_days                INTEGER NOT NULL DEFAULT 1,
        weight_kg                  REAL CHECK (weight_kg > 0),
        nurse_name                 TEXT NOT NULL,
        status                     TEXT NOT NULL DEFAULT 'draft'
                                   CHECK (status IN ('draft', 'signed')),
        calculation                TEXT,  -- the dose engine's result, JSON, frozen
        checklist_template_id      TEXT NOT NULL,
        checklist_template_version INTEGER NOT NULL,
        notes                      TEXT NOT NULL DEFAULT '',
        signed_by                  TEXT,
        signed_at                  TEXT,
        content_hash               TEXT,
        created_at                 TEXT NOT NULL,
        updated_at                 TEXT NOT NULL,
        CHECK (course_day BETWEEN 1 AND course_days),
        CHECK ((status = 'signed') = (signed_by IS NOT NULL AND signed_at IS NOT NULL
                                      AND content_hash IS NOT NULL))
    );
    CREATE TABLE checklist_entries (
        id          INTEGER PRIMARY KEY,
        visit_id    INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        phase_id    TEXT NOT NULL,
        item_id     TEXT NOT NULL,
        item_text   TEXT NOT NULL,       -- copy of the template text the nurse answered
        required    INTEGER NOT NULL CHECK (required IN (0, 1)),
        status      TEXT NOT NULL CHECK (status IN ('done', 'not_done', 'not_applicable')),
        note        TEXT NOT NULL DEFAULT '',
        answered_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        UNIQUE (visit_id, item_id)
    );
    CREATE TABLE vitals (
        id                 INTEGER PRIMARY KEY,
        visit_id           INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        recorded_at        TEXT NOT NULL,
        temperature_c      REAL,
        heart_rate         REAL,
        systolic_mmhg      REAL,
        diastolic_mmhg     REAL,
        respiratory_rate   REAL,
        spo2_percent       REAL CHECK (spo2_percent BETWEEN 0 AND 100),
        infusion_rate_ml_h REAL CHECK (infusion_rate_ml_h >= 0),
        note               TEXT NOT NULL DEFAULT '',
        recorded_by        TEXT NOT NULL
    );
    CREATE TABLE reactions (
        id           INTEGER PRIMARY KEY,
        visit_id     INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        occurred_at  TEXT NOT NULL,
        kind         TEXT NOT NULL,
        severity     TEXT NOT NULL CHECK (severity IN ('mild', 'moderate', 'severe')),
        action_taken TEXT NOT NULL DEFAULT '',
        outcome      TEXT NOT NULL DEFAULT '',
        note         TEXT NOT NULL DEFAULT '',
        recorded_by  TEXT NOT NULL
    );
    CREATE TABLE product_lots (
        id          INTEGER PRIMARY KEY,
        visit_id    INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        product_id  TEXT NOT NULL,
        lot_number  TEXT NOT NULL,
        expiry_date TEXT NOT NULL,       -- YYYY-MM-DD
        vial_size_g REAL NOT NULL CHECK (vial_size_g > 0),
        vial_count  INTEGER NOT NULL CHECK (vial_count >= 1),
        recorded_by TEXT NOT NULL
    );
    CREATE TABLE addenda (
        id         INTEGER PRIMARY KEY,
        visit_id   INTEGER NOT NULL REFERENCES visits(id) ON DELETE RESTRICT,
        author     TEXT NOT NULL,
        written_at TEXT NOT NULL,
        text       TEXT NOT NULL
    );
    """,
    )
    conn.execute(f"""CREATE TRIGGER visits_signed_no_update BEFORE UPDATE ON visits
        WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER visits_signed_no_delete BEFORE DELETE ON visits
        WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")
    for table in _V1_CHILD_TABLES:
        _freeze_with_visit(conn, table)
    for action in ("UPDATE", "DELETE"):
        conn.execute(f"""CREATE TRIGGER addenda_no_{action.lower()} BEFORE {action} ON addenda
            BEGIN SELECT RAISE(ABORT, '{ADDENDUM_MESSAGE}'); END""")


def _freeze_with_visit(conn: sqlite3.Connection, table: str) -> None:
    """Triggers refusing any insert, update or delete of ``table`` rows of a signed visit."""
    signed = "(SELECT status FROM visits WHERE id = {}.visit_id) = 'signed'"
    conn.execute(f"""CREATE TRIGGER {table}_signed_no_insert BEFORE INSERT ON {table}
        WHEN {signed.format("NEW")} BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER {table}_signed_no_update BEFORE UPDATE ON {table}
        WHEN {signed.format("OLD")} OR {signed.format("NEW")}
        BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER {table}_signed_no_delete BEFORE DELETE ON {table}
        WHEN {signed.format("OLD")} BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def existing_tables(conn: sqlite3.Connection, names: tuple[str, ...]) -> list[str]:
    """Those of ``names`` present in this file (an older schema lacks later tables)."""
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [n for n in names if n in present]


def install_audit_triggers(conn: sqlite3.Connection) -> None:
    """(Re)create the audit triggers of every clinical table from its current columns.

    An insert stores the whole new row (``after``), a delete the whole old row
    (``before``), an update only the columns that changed, before and after: a
    visit's calculation snapshot is several kB and must not be copied on every edit.
    Generated rather than written out so that a column added by a later migration is
    never silently missing: every migration that changes a clinical table calls this.
    """
    for table in existing_tables(conn, CLINICAL_TABLES):
        cols = _columns(conn, table)

        def value(ref: str, col: str) -> str:
            # JSON columns are embedded as JSON, not as a quoted string.
            return f"json({ref}.{col})" if col in JSON_COLUMNS else f"{ref}.{col}"

        def image(ref: str, cols: list[str] = cols) -> str:
            return "json_object(" + ", ".join(f"'{c}', {value(ref, c)}" for c in cols) + ")"

        def changed(ref: str, cols: list[str] = cols) -> str:
            selects = " UNION ALL ".join(
                f"SELECT '{c}', {ref}.{c} WHERE OLD.{c} IS NOT NEW.{c}" for c in cols
            )
            return (
                f"(SELECT json_group_object(k, v) FROM (SELECT NULL AS k, NULL AS v "
                f"WHERE 0 UNION ALL {selects}))"
            )

        for action, row_ref, before, after in (
            ("insert", "NEW", "NULL", image("NEW")),
            ("update", "NEW", changed("OLD"), changed("NEW")),
            ("delete", "OLD", image("OLD"), "NULL"),
        ):
            name = f"audit_{table}_{action}"
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute(f"""CREATE TRIGGER {name} AFTER {action.upper()} ON {table} BEGIN
                INSERT INTO audit_log (at, author, table_name, row_id, action, before, after)
                VALUES ({NOW_SQL}, {AUTHOR_SQL}, '{table}', {row_ref}.id, '{action}',
                        {before}, {after});
                END""")


def _v2_audit_and_indexes(conn: sqlite3.Connection) -> None:
    """Version 2: audit log, rate at onset of a reaction, indexes for the visit screens."""
    run_script(
        conn,
        """
    CREATE TABLE audit_log (
        id         INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        author     TEXT NOT NULL,
        table_name TEXT NOT NULL,
        row_id     INTEGER NOT NULL,
        action     TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
        before     TEXT,                 -- JSON image of the row before (NULL for insert)
        after      TEXT                  -- JSON image after (NULL for delete)
    );
    CREATE INDEX audit_log_row ON audit_log (table_name, row_id);
    ALTER TABLE reactions ADD COLUMN rate_at_onset_ml_h REAL CHECK (rate_at_onset_ml_h >= 0);
    CREATE INDEX visits_patient ON visits (patient_id, scheduled_at);
    CREATE INDEX orders_patient ON orders (patient_id);
    CREATE INDEX weights_patient ON patient_weights (patient_id, measured_on);
    CREATE INDEX vitals_visit ON vitals (visit_id, recorded_at);
    CREATE INDEX reactions_visit ON reactions (visit_id);
    CREATE INDEX lots_visit ON product_lots (visit_id);
    CREATE INDEX lots_lot ON product_lots (lot_number);
    CREATE INDEX addenda_visit ON addenda (visit_id);
    """,
    )
    for action in ("UPDATE", "DELETE"):
        conn.execute(f"""CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log
            BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""")
    install_audit_triggers(conn)


def _v3_infusion_events(conn: sqlite3.Connection) -> None:
    """Version 3: the infusion timeline (start, rate changes, pauses, stop, end)."""
    run_script(
        conn,
        """
    CREATE TABLE infusion_events (
        id          INTEGER PRIMARY KEY,
        visit_id    INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        occurred_at TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('start', 'rate_change', 'pause', 'resume',
                                                   'stop', 'end')),
        rate_ml_h   REAL CHECK (rate_ml_h >= 0),
        note        TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL
    );
    CREATE INDEX infusion_events_visit ON infusion_events (visit_id, occurred_at);
    """,
    )
    _freeze_with_visit(conn, "infusion_events")
    install_audit_triggers(conn)


def _v4_order_acknowledgements(conn: sqlite3.Connection) -> None:
    """Version 4: the soft-limit warnings acknowledged when an order was entered (JSON)."""
    conn.execute("ALTER TABLE orders ADD COLUMN acknowledgements TEXT")
    install_audit_triggers(conn)


def _v5_order_weight_basis_and_rate_cap(conn: sqlite3.Connection) -> None:
    """Version 5: the order's weight basis and the prescriber's maximum rate, so a visit
    takes both from the order instead of letting them be changed at the bedside."""
    conn.execute(
        "ALTER TABLE orders ADD COLUMN weight_basis TEXT NOT NULL DEFAULT 'auto' "
        "CHECK (weight_basis IN ('actual', 'ideal', 'adjusted', 'auto'))"
    )
    conn.execute("ALTER TABLE orders ADD COLUMN max_rate_mg_kg_min REAL CHECK (max_rate_mg_kg_min > 0)")
    install_audit_triggers(conn)


def _no_replace_guards(conn: sqlite3.Connection, table: str) -> None:
    """Refuse an insert that collides with an existing id, and an update of the id."""
    conn.execute(f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
            WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, '{REPLACE_MESSAGE}'); END""")
    if table not in ("audit_log", "addenda"):  # those refuse every update already
        conn.execute(f"""CREATE TRIGGER {table}_no_id_change BEFORE UPDATE ON {table}
                WHEN NEW.id IS NOT OLD.id BEGIN SELECT RAISE(ABORT, '{ID_MESSAGE}'); END""")


def _replace_guards(conn: sqlite3.Connection) -> None:
    """Triggers that hold whatever the writing connection's settings.

    ``INSERT OR REPLACE``, ``REPLACE`` and ``UPDATE OR REPLACE`` delete the row they
    collide with without firing its delete triggers (unless that connection turned
    ``recursive_triggers`` on, which an outside tool does not), so the signed-visit and
    audit triggers never saw it.  Refused here at the insert or update itself: an insert
    whose id (or unique key) is taken, an update that changes an id, and an insert of a
    visit that is already signed (a visit is signed only by updating its draft).
    """
    signed_row = (
        "EXISTS (SELECT 1 FROM {t} x JOIN visits v ON v.id = x.visit_id "
        "WHERE x.id = NEW.id AND v.status = 'signed')"
    )
    # (the tables present at this version: a table added later gets its guards in its step)
    for table in existing_tables(conn, (*CLINICAL_TABLES, "audit_log")):
        _no_replace_guards(conn, table)
        if table in VISIT_CHILD_TABLES:
            conn.execute(f"""CREATE TRIGGER {table}_signed_no_replace BEFORE INSERT ON {table}
                WHEN {signed_row.format(t=table)}
                BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER visits_signed_no_insert BEFORE INSERT ON visits
        WHEN NEW.status = 'signed' OR EXISTS (SELECT 1 FROM visits WHERE id = NEW.id
                                              AND status = 'signed')
        BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER patients_no_replace_mrn BEFORE INSERT ON patients
        WHEN EXISTS (SELECT 1 FROM patients WHERE mrn = NEW.mrn)
        BEGIN SELECT RAISE(ABORT, '{MRN_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER patients_no_replace_mrn_update BEFORE UPDATE ON patients
        WHEN NEW.mrn IS NOT OLD.mrn AND EXISTS (SELECT 1 FROM patients WHERE mrn = NEW.mrn
                                                AND id IS NOT OLD.id)
        BEGIN SELECT RAISE(ABORT, '{MRN_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER checklist_entries_no_replace_item BEFORE INSERT
        ON checklist_entries
        WHEN EXISTS (SELECT 1 FROM checklist_entries WHERE visit_id = NEW.visit_id
                     AND item_id = NEW.item_id)
        BEGIN SELECT RAISE(ABORT, '{REPLACE_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER checklist_entries_no_replace_item_update BEFORE UPDATE
        ON checklist_entries
        WHEN (NEW.visit_id IS NOT OLD.visit_id OR NEW.item_id IS NOT OLD.item_id)
             AND EXISTS (SELECT 1 FROM checklist_entries WHERE visit_id = NEW.visit_id
                         AND item_id = NEW.item_id AND id IS NOT OLD.id)
        BEGIN SELECT RAISE(ABORT, '{REPLACE_MESSAGE}'); END""")


# The version whose step adds the REPLACE guards, the signing snapshot and the audit chain
# (renumber here, in MIGRATIONS and nowhere else if another step lands before it).
INTEGRITY_VERSION = 6
UPGRADE_AUTHOR = f"(nurse-app record upgrade to version {INTEGRITY_VERSION})"
_V6_AUDIT_CONTENT = ("id", "at", "author", "table_name", "row_id", "action", "before", "after")


def _v6_integrity(conn: sqlite3.Connection) -> None:
    """Version 6: REPLACE guards, the signing snapshot, and the audit log as a hash chain.

    * triggers refusing the REPLACE forms that deleted protected rows unseen;
    * ``visits.signed_snapshot``: the patient, order and nurse as they were at signing
      (JSON, covered by the content hash);
    * ``audit_log.prev_hash``/``entry_hash``, built here over every existing entry; a
      signed visit whose signing predates the audit log gets a signing entry recording
      its existing seal, so every signed visit is anchored in the chain.
    """
    from nurse_app.store import audit_chain

    conn.execute("ALTER TABLE visits ADD COLUMN signed_snapshot TEXT")
    conn.execute("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT")
    conn.execute("ALTER TABLE audit_log ADD COLUMN entry_hash TEXT")
    conn.execute("DROP TRIGGER audit_log_no_update")
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _V6_AUDIT_CONTENT)
    conn.execute(f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        WHEN NOT (OLD.entry_hash IS NULL AND OLD.prev_hash IS NULL
                  AND NEW.entry_hash IS NOT NULL AND NEW.prev_hash IS NOT NULL AND {unchanged})
        BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""")
    _replace_guards(conn)
    install_audit_triggers(conn)
    conn.execute(f"""
        INSERT INTO audit_log (at, author, table_name, row_id, action, before, after)
        SELECT {NOW_SQL}, '{UPGRADE_AUTHOR}', 'visits', v.id, 'update',
               NULL, json_object('status', 'signed', 'signed_by', v.signed_by,
                                 'signed_at', v.signed_at, 'content_hash', v.content_hash)
        FROM visits v WHERE v.status = 'signed' AND NOT EXISTS (
            SELECT 1 FROM audit_log a WHERE a.table_name = 'visits' AND a.row_id = v.id
            AND a.action = 'update' AND json_extract(a.after, '$.status') = 'signed')
        ORDER BY v.id""")
    audit_chain.seal(conn)


# The version whose step adds the order's risk flags and the visit's start acknowledgements.
ORDER_RISKS_VERSION = INTEGRITY_VERSION + 1


def _v7_order_risks_and_start_acknowledgements(conn: sqlite3.Connection) -> None:
    """Version 7: the order's risk flags (renal, thrombosis, first-infusion; a JSON list) so
    every visit takes them from the order instead of having them ticked again, and the
    warnings a nurse acknowledged when starting a visit (e.g. a course sooner than the
    order's interval; JSON)."""
    conn.execute(
        "ALTER TABLE orders ADD COLUMN risks TEXT NOT NULL DEFAULT '[]' "
        "CHECK (json_valid(risks) AND json_type(risks) = 'array')"
    )
    conn.execute(
        "ALTER TABLE visits ADD COLUMN start_acknowledgements TEXT "
        "CHECK (start_acknowledgements IS NULL OR json_valid(start_acknowledgements))"
    )
    install_audit_triggers(conn)


# The version whose step adds the follow-up call records (issue 16).
SCHEDULE_VERSION = ORDER_RISKS_VERSION + 1


def _v8_followup_calls(conn: sqlite3.Connection) -> None:
    """Version 8: follow-up call records (rash check call, response review, lab check) and
    each order's own tolerance for a course's due date.

    A call record is autosaved as a draft, audited like every clinical table, and signed
    like a visit note: once signed, triggers refuse any change or deletion.
    """
    run_script(
        conn,
        """
    CREATE TABLE followup_calls (
        id            INTEGER PRIMARY KEY,
        patient_id    INTEGER NOT NULL REFERENCES patients(id) ON DELETE RESTRICT,
        order_id      INTEGER REFERENCES orders(id) ON DELETE RESTRICT,
        rule_id       TEXT NOT NULL,     -- a rule id from resources/followups.toml
        course_number INTEGER CHECK (course_number >= 1),
        due_date      TEXT,              -- YYYY-MM-DD: first day of the rule's window
        called_at     TEXT,
        reached       INTEGER CHECK (reached IN (0, 1)),
        answers       TEXT,              -- JSON {question id: {"answer", "note", "text"}}
        advice        TEXT NOT NULL DEFAULT '',
        escalated_to  TEXT NOT NULL DEFAULT '',
        escalated_at  TEXT,
        notes         TEXT NOT NULL DEFAULT '',
        nurse_name    TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
        signed_by     TEXT,
        signed_at     TEXT,
        content_hash  TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        CHECK ((status = 'signed') = (signed_by IS NOT NULL AND signed_at IS NOT NULL
                                      AND content_hash IS NOT NULL))
    );
    CREATE INDEX followup_calls_order ON followup_calls (order_id, rule_id, course_number);
    CREATE INDEX followup_calls_patient ON followup_calls (patient_id, called_at);
    ALTER TABLE orders ADD COLUMN tolerance_days INTEGER CHECK (tolerance_days BETWEEN 0 AND 30);
    -- the schedule reads every visit of the active orders: a covering index keeps it off
    -- the wide visit rows (calculation snapshots); and the few visits that were stopped
    CREATE INDEX visits_schedule ON visits (order_id, course_day, status, started_at,
                                            scheduled_at, created_at, patient_id);
    CREATE INDEX infusion_events_kind ON infusion_events (kind, visit_id);
    """,
    )
    conn.execute(f"""CREATE TRIGGER followup_calls_signed_no_update BEFORE UPDATE ON followup_calls
        WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{CALL_SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER followup_calls_signed_no_delete BEFORE DELETE ON followup_calls
        WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{CALL_SIGNED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER followup_calls_signed_no_insert BEFORE INSERT ON followup_calls
        WHEN NEW.status = 'signed' BEGIN SELECT RAISE(ABORT, '{CALL_SIGNED_MESSAGE}'); END""")
    _no_replace_guards(conn, "followup_calls")
    install_audit_triggers(conn)


# The version whose step adds the clinical-content approvals (issue 15); renumber here and in
# MIGRATIONS only, if another step lands before it.
CONTENT_APPROVALS_VERSION = SCHEDULE_VERSION + 1
APPROVAL_MESSAGE = (
    "APPEND-ONLY: A clinical content approval is never changed or deleted; record a new approval instead."
)


def _v9_content_approvals(conn: sqlite3.Connection) -> None:
    """Version 9: the nurse educator's approvals of a clinical content version (issue 15).

    Append only: an approval is never edited or deleted (a newer one supersedes it).  The
    approved items' values (JSON: item id -> value, sources, status) let a later report
    mark what changed since.  Every insert is written to the audit log by the generated
    audit trigger, like every clinical table.
    """
    run_script(
        conn,
        """
    CREATE TABLE content_approvals (
        id                   INTEGER PRIMARY KEY,
        content_version      TEXT NOT NULL CHECK (length(content_version) BETWEEN 6 AND 64),
        approver_name        TEXT NOT NULL CHECK (length(trim(approver_name)) > 0),
        approver_credentials TEXT NOT NULL DEFAULT '',
        approved_on          TEXT NOT NULL CHECK (approved_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        policy_file          TEXT NOT NULL DEFAULT '',
        approved_items       TEXT NOT NULL CHECK (json_valid(approved_items)),
        recorded_at          TEXT NOT NULL,
        recorded_by          TEXT NOT NULL
    );
    """,
    )
    for action in ("UPDATE", "DELETE"):
        conn.execute(f"""CREATE TRIGGER content_approvals_no_{action.lower()} BEFORE {action}
            ON content_approvals BEGIN SELECT RAISE(ABORT, '{APPROVAL_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER content_approvals_no_replace BEFORE INSERT ON content_approvals
        WHEN EXISTS (SELECT 1 FROM content_approvals WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, '{REPLACE_MESSAGE}'); END""")
    install_audit_triggers(conn)


# The version whose step adds voided visits and the visit lifecycle columns (issue 11 §2;
# renumber here only if another step lands before it).
LIFECYCLE_VERSION = CONTENT_APPROVALS_VERSION + 1
VOIDED_MESSAGE = (
    "VOIDED: This visit was voided (entered by mistake) and is read-only; start a new visit instead."
)
_OLD_STATUS_CHECK = r"CHECK\s*\(\s*status\s+IN\s*\(\s*'draft',\s*'signed'\s*\)\s*\)"
_NEW_STATUS_CHECK = "CHECK (status IN ('draft', 'signed', 'voided'))"


def _v10_visit_lifecycle(conn: sqlite3.Connection) -> None:
    """Version 10: a draft entered by mistake is voided (kept, audited, read-only, not a
    course day) rather than left behind; a second visit on the same day records why.

    * ``visits.status`` also allows ``'voided'``.  Widening a CHECK constraint does not
      change any stored row, so the table's SQL text is edited in place (SQLite's documented
      procedure for such changes: ``writable_schema`` and a schema version bump) instead of
      rebuilding the table under its foreign keys, triggers and audit chain;
    * ``voided_at``, ``voided_by``, ``void_reason``; ``same_day_reason``;
    * ``patient_weights.visit_id``: the weight typed at a visit, kept in the history once;
    * triggers refusing any change to a voided visit and to its entries.
    """
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'visits'").fetchone()
    widened = re.sub(_OLD_STATUS_CHECK, _NEW_STATUS_CHECK, sql, count=1)
    if widened == sql:
        raise RuntimeError("the visits table's status check is not the app's own")
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'visits'", [widened])
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    for column in ("voided_at", "voided_by", "void_reason", "same_day_reason"):
        conn.execute(f"ALTER TABLE visits ADD COLUMN {column} TEXT")
    # the weight taken at a visit is the patient's weight history entry of that day (one)
    conn.execute(
        "ALTER TABLE patient_weights ADD COLUMN visit_id INTEGER REFERENCES visits(id) ON DELETE CASCADE"
    )
    conn.execute(
        "CREATE UNIQUE INDEX patient_weights_visit ON patient_weights (visit_id) WHERE visit_id IS NOT NULL"
    )
    conn.execute(f"""CREATE TRIGGER visits_voided_no_update BEFORE UPDATE ON visits
        WHEN OLD.status = 'voided' BEGIN SELECT RAISE(ABORT, '{VOIDED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER visits_voided_no_delete BEFORE DELETE ON visits
        WHEN OLD.status = 'voided' BEGIN SELECT RAISE(ABORT, '{VOIDED_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER visits_voided_no_insert BEFORE INSERT ON visits
        WHEN NEW.status = 'voided' BEGIN SELECT RAISE(ABORT, '{VOIDED_MESSAGE}'); END""")
    voided = "(SELECT status FROM visits WHERE id = {}.visit_id) = 'voided'"
    for table in existing_tables(conn, (*VISIT_CHILD_TABLES, "addenda")):
        conn.execute(f"""CREATE TRIGGER {table}_voided_no_insert BEFORE INSERT ON {table}
            WHEN {voided.format("NEW")} BEGIN SELECT RAISE(ABORT, '{VOIDED_MESSAGE}'); END""")
        if table == "addenda":  # addenda refuse every update and delete already
            continue
        conn.execute(f"""CREATE TRIGGER {table}_voided_no_update BEFORE UPDATE ON {table}
            WHEN {voided.format("OLD")} OR {voided.format("NEW")}
            BEGIN SELECT RAISE(ABORT, '{VOIDED_MESSAGE}'); END""")
        conn.execute(f"""CREATE TRIGGER {table}_voided_no_delete BEFORE DELETE ON {table}
            WHEN {voided.format("OLD")} BEGIN SELECT RAISE(ABORT, '{VOIDED_MESSAGE}'); END""")
    install_audit_triggers(conn)


# The version whose step makes the infusion record true (issue 11 §1): renumber here, in
# MIGRATIONS and nowhere else if another step lands before it.
INFUSION_RECORD_VERSION = LIFECYCLE_VERSION + 1
CORRECTED_EVENT_MESSAGE = (
    "APPEND-ONLY: This infusion event was struck through by a correction; it cannot be changed or deleted."
)


def _v11_infusion_record(conn: sqlite3.Connection) -> None:
    """Version 11: what each infusion event says beyond its rate.

    * ``acknowledgements``: the rate warnings acknowledged when it was recorded (JSON list);
    * ``volume_ml`` and ``reason``: on a stop or finish, the volume given (pump reading) and
      why it was less than planned;
    * ``corrected_at``/``corrected_by``/``correction_reason``: a mistaken event is struck
      through, never deleted; once struck, triggers refuse any change or deletion of it.
    All new columns are NULL on existing rows, so signed visits keep their content hash.
    """
    run_script(
        conn,
        """
    ALTER TABLE infusion_events ADD COLUMN acknowledgements TEXT;
    ALTER TABLE infusion_events ADD COLUMN volume_ml REAL CHECK (volume_ml IS NULL OR volume_ml >= 0);
    ALTER TABLE infusion_events ADD COLUMN reason TEXT;
    ALTER TABLE infusion_events ADD COLUMN corrected_at TEXT;
    ALTER TABLE infusion_events ADD COLUMN corrected_by TEXT;
    ALTER TABLE infusion_events ADD COLUMN correction_reason TEXT;
    """,
    )
    conn.execute(f"""CREATE TRIGGER infusion_events_corrected_no_update BEFORE UPDATE ON infusion_events
        WHEN OLD.corrected_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{CORRECTED_EVENT_MESSAGE}'); END""")
    conn.execute(f"""CREATE TRIGGER infusion_events_corrected_no_delete BEFORE DELETE ON infusion_events
        WHEN OLD.corrected_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{CORRECTED_EVENT_MESSAGE}'); END""")
    install_audit_triggers(conn)


# version -> step bringing the file from version - 1 to version.  Append only.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _v1_tables,
    2: _v2_audit_and_indexes,
    3: _v3_infusion_events,
    4: _v4_order_acknowledgements,
    5: _v5_order_weight_basis_and_rate_cap,
    INTEGRITY_VERSION: _v6_integrity,
    ORDER_RISKS_VERSION: _v7_order_risks_and_start_acknowledgements,
    SCHEDULE_VERSION: _v8_followup_calls,
    CONTENT_APPROVALS_VERSION: _v9_content_approvals,
    LIFECYCLE_VERSION: _v10_visit_lifecycle,
    INFUSION_RECORD_VERSION: _v11_infusion_record,
}
CURRENT_VERSION = max(MIGRATIONS)


def migrate(conn: sqlite3.Connection, target: int = CURRENT_VERSION) -> list[int]:
    """Run the missing steps up to ``target``; returns the versions applied.

    Each step runs inside ``BEGIN IMMEDIATE`` and re-reads ``user_version`` inside the
    transaction, so two windows opening an old file at once cannot both migrate it.
    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    from nurse_app.store import audit_chain

    applied = []
    for version in range(1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current >= version:
                conn.execute("ROLLBACK")
                continue
            if current != version - 1:
                raise RuntimeError(f"schema version {current} cannot be migrated to {version}")
            before = audit_chain.last_entry_id(conn) if version > INTEGRITY_VERSION else 0
            MIGRATIONS[version](conn)
            if version > INTEGRITY_VERSION:  # what the step wrote is the app's own
                audit_chain.seal(conn, outside_up_to=before)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version}")
            crash_point(f"migrate-v{version}-before-commit")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


# --------------------------------------------------------------------------- own objects


def _normalised(sql: str | None) -> str:
    return " ".join((sql or "").split())


@functools.cache
def expected_objects(version: int = CURRENT_VERSION) -> dict[str, tuple[str, str]]:
    """The app's own triggers and views at ``version``: name -> (type, SQL as created).

    Built by running the migrations on an empty in-memory database, so it is exactly
    what opening a file creates (the definitions live once, in the steps above); the
    current version's comes from the snapshot of that run (:mod:`.expected_schema`).
    """
    from nurse_app.store import expected_schema  # (a committed snapshot: no run at start)

    return {
        name: (kind, sql)
        for kind, name, _table, sql in expected_schema.objects(version)
        if kind in ("trigger", "view") and sql is not None
    }


@dataclass(frozen=True)
class ObjectDifferences:
    missing: tuple[str, ...] = ()
    altered: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.altered or self.extra)

    def lines(self) -> list[str]:
        out = []
        for label, names in (
            ("missing", self.missing),
            ("altered", self.altered),
            ("not the app's own", self.extra),
        ):
            if names:
                out.append(f"{label}: {', '.join(names)}")
        return out


def object_differences(conn: sqlite3.Connection, version: int) -> ObjectDifferences:
    """Triggers and views of the file compared with the app's own at ``version``."""
    expected = expected_objects(version)
    found = {
        name: (kind, sql)
        for kind, name, sql in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')"
        )
    }
    missing = tuple(sorted(n for n in expected if n not in found))
    altered = tuple(
        sorted(
            n
            for n in expected
            if n in found
            and (found[n][0] != expected[n][0] or _normalised(found[n][1]) != _normalised(expected[n][1]))
        )
    )
    extra = tuple(sorted(n for n in found if n not in expected))
    return ObjectDifferences(missing, altered, extra)


def reinstall_own_objects(conn: sqlite3.Connection) -> ObjectDifferences:
    """Recreate the app's missing or altered triggers and views (one transaction).

    Objects that are not the app's own are left for the schema validation to judge and
    are only reported.  ``conn`` must be in autocommit mode.  Returns what was found.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version != CURRENT_VERSION:
        return ObjectDifferences()
    differences = object_differences(conn, version)
    if not (differences.missing or differences.altered):
        return differences
    expected = expected_objects(version)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name in (*differences.altered, *differences.missing):
            present = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", [name]).fetchone()
            if present is not None and present[0] in ("trigger", "view"):
                conn.execute(f'DROP {present[0].upper()} "{name}"')
            conn.execute(expected[name][1])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return differences
