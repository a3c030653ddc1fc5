"""The record API: :class:`Store`.  See the package docstring for the overview.

Every public method that changes something runs in its own transaction and has
committed when it returns (there is no Save button to forget).  Inside
``with store.transaction():`` several calls commit together instead.

Rows come back as plain dicts with the stored values: dates ``YYYY-MM-DD``, times
ISO-8601 UTC text (see :mod:`nurse_app.store.times` to show them in local time),
booleans as ``bool`` and a visit's ``calculation`` as the dict it was given.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import logging
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from nurse_app.core import checklists, infusion_record, lots, reactions, vitals
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import InputError, ResourceError
from nurse_app.core.formatting import fmt_count
from nurse_app.core.resources import nurse_source_wording
from nurse_app.core.visit_logic import visit_day
from nurse_app.store import audit_chain, fields, schema
from nurse_app.store.database import open_connection, open_read_only, translated
from nurse_app.store.errors import (
    ConflictError,
    NoNurseProfileError,
    NotFoundError,
    RecordRekeyedError,
    RecordValueError,
    SignedVisitError,
    StoreError,
    VoidedVisitError,
)
from nurse_app.store.followups import FollowupStore
from nurse_app.store.hashing import content_hash
from nurse_app.store.location import resolve_db_path
from nurse_app.store.times import now_text, today_local
from nurse_app.store.validation import Rule, clean
from nurse_app.store.validation import date as date_rule
from nurse_app.store.validation import text as text_rule

if TYPE_CHECKING:
    import sqlite_utils

_BOOLEAN_COLUMNS = {"archived", "active", "required"}
_WHAT = {
    "patients": "Patient",
    "patient_weights": "Weight entry",
    "orders": "Order",
    "visits": "Visit",
    "checklist_entries": "Checklist answer",
    "vitals": "Vital signs reading",
    "reactions": "Reaction",
    "product_lots": "Product lot",
    "addenda": "Addendum",
    "infusion_events": "Infusion event",
    "followup_calls": "Follow-up call",
    "content_approvals": "Content approval",
}
# Child tables edited through the generic helpers: rules, cross-check, sort column.
_CHILDREN = {
    "vitals": (fields.VITALS, fields.check_vitals, "recorded_at"),
    "reactions": (fields.REACTION, lambda row: _check_reaction(row), "occurred_at"),
    "product_lots": (fields.LOT, None, "id"),
    "infusion_events": (fields.INFUSION_EVENT, fields.check_infusion_event, "occurred_at"),
}
_name_text = text_rule(200)
# The signing snapshot (see :meth:`Store.sign_visit`).
SNAPSHOT_VERSION = 1
SNAPSHOT_PATIENT_FIELDS = (
    "id",
    "mrn",
    "name",
    "date_of_birth",
    "sex",
    "height_cm",
    "allergies",
    "indication",
    "prescriber",
)
_SNAPSHOT_ORDER_EXCLUDED = {"created_at", "created_by", "updated_at"}
_log = logging.getLogger("nurse_app.store")


def _check_reaction(row: dict[str, Any]) -> None:
    """The kind decides the severities that fit (core.reactions): anaphylaxis is never mild.
    The kind is stored as its id."""
    try:
        row["kind"] = reactions.check_reaction(row["kind"], row["severity"])
    except InputError as exc:
        raise RecordValueError(str(exc), field=exc.field) from None


def lots_product_name(product_id: str) -> str:
    """A product's brand for a lot message (the id when the catalogue does not know it)."""
    try:
        product = load_catalogue().products.get(product_id)
    except ResourceError:
        product = None
    return product.display_name if product else product_id


# Letters that Unicode does not decompose into a base letter plus an accent.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def _fold(value: str | None) -> str:
    """Case- and accent-insensitive form for searching names (SQLite's LIKE is ASCII-only):
    "Ødegård" and "Łucja" are found by typing "odegard" and "lucja"."""
    if value is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_UNDECOMPOSED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Store(FollowupStore):
    """One open record file.  Create with :meth:`Store.open`; close with :meth:`close`."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, migrated: list[int], migration_backup: Path | None
    ):
        self.path = path
        self.migrated_versions = migrated
        self.migration_backup = migration_backup
        # Own triggers/views found missing or altered and reinstalled by :meth:`open`.
        self.repaired_objects = schema.ObjectDifferences()
        # Called (no arguments) when a read or save finds the passphrase changed by another
        # program: the window locks and asks for the new one (see :meth:`reconnect`).
        self.on_rekeyed: list[Callable[[], None]] = []
        conn.create_function("nurse_fold", 1, _fold, deterministic=True)
        conn.execute("PRAGMA recursive_triggers=on")  # as sqlite_utils.Database sets it
        self.conn = conn

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts (what ``db.query`` gives, without loading sqlite-utils)."""
        cursor = self.conn.execute(sql, params)
        keys = [d[0] for d in cursor.description]
        return [dict(zip(keys, row, strict=True)) for row in cursor]

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the connection; imported on first use (~45 ms), not at start-up."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn, execute_plugins=False)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, path: str | Path | None = None, *, create_folder: bool | None = None) -> Store:
        """Open (creating or migrating if needed) the record at ``path``.

        ``path=None`` uses ``NURSE_APP_DB`` or the default user data location, whose
        folder is created on first use.  Raises :class:`CorruptDatabaseError`,
        :class:`DatabaseNewerError` or :class:`DatabaseLocationError` with a message for
        the nurse; the file is never overwritten in those cases.
        """
        path, is_default = resolve_db_path(path)
        conn, migrated, backup = open_connection(
            path, create_folder=is_default if create_folder is None else create_folder
        )
        try:
            with translated(path):
                repaired = schema.reinstall_own_objects(conn)
        except BaseException:
            conn.close()
            raise
        store = cls(conn, path, migrated, backup)
        store.repaired_objects = repaired
        if repaired.missing or repaired.altered:
            _log.warning(
                "Record %s: reinstalled the app's own triggers/views that were %s.",
                path,
                "; ".join(repaired.lines()[:2]),
            )
        return store

    @classmethod
    def open_read_only(cls, path: str | Path | None = None) -> Store:
        """Open an existing record for reading only (exports, checks, backups).

        Nothing is written to the file or beside it; an older record format is upgraded
        in a memory copy.  Every write method then fails.  Raises the same errors as
        :meth:`open`, and :class:`DatabaseLocationError` when there is no record.
        """
        path, _ = resolve_db_path(path)
        return cls(open_read_only(path), path, [], None)

    def close(self) -> None:
        """Close the connection (the last connection to close folds the WAL into the file)."""
        self.conn.close()

    def reconnect(self) -> None:
        """Open the record again with the unlocked passphrase (after it was changed
        elsewhere and the nurse gave the new one); the old connection is dropped."""
        from nurse_app.store.database import open_connection

        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        conn, _, _ = open_connection(self.path)
        conn.create_function("nurse_fold", 1, _fold, deterministic=True)
        conn.execute("PRAGMA recursive_triggers=on")
        self.conn = conn
        self.__dict__.pop("db", None)  # sqlite-utils over the new connection

    @contextlib.contextmanager
    def _rekey_watch(self) -> Iterator[None]:
        try:
            yield
        except RecordRekeyedError:
            for callback in list(self.on_rekeyed):
                callback()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        version: int = self.conn.execute("PRAGMA user_version").fetchone()[0]
        return version

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group several calls into one commit (all or nothing); nests with savepoints."""
        conn = self.conn
        with self._rekey_watch(), translated(self.path):
            if conn.in_transaction:
                with self.db.atomic():
                    yield self
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                started_at_entry = audit_chain.last_entry_id(conn)
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                # Chain the audit entries this transaction's triggers wrote, and any an
                # outside tool wrote since the last save (named as such), before commit.
                audit_chain.seal(conn, outside_up_to=started_at_entry)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        with self._rekey_watch(), translated(self.path):
            yield

    # ------------------------------------------------------------------ helpers

    @overload
    def _decode(self, row: dict[str, Any]) -> dict[str, Any]: ...
    @overload
    def _decode(self, row: None) -> None: ...
    def _decode(self, row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        for key in _BOOLEAN_COLUMNS & row.keys():
            row[key] = bool(row[key])
        for key in schema.JSON_COLUMNS & row.keys():
            if row[key] is not None:
                row[key] = json.loads(row[key])
        return row

    def _raw(self, table: str, row_id: int) -> dict[str, Any]:
        if isinstance(row_id, bool) or not isinstance(row_id, int):
            raise NotFoundError(f"{_WHAT[table]} id must be a whole number, not {row_id!r}.")
        if not 1 <= row_id < 2**63:  # SQLite ids are 64-bit; a bigger number is no row
            raise NotFoundError(f"{_WHAT[table]} {row_id} does not exist.")
        rows = self._query(f"SELECT * FROM {table} WHERE id = ?", [row_id])
        if not rows:
            raise NotFoundError(f"{_WHAT[table]} {row_id} does not exist (it may have been deleted).")
        return rows[0]

    def _get(self, table: str, row_id: int) -> dict[str, Any]:
        with self._reading():
            return self._decode(self._raw(table, row_id))

    def _list(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        with self._reading():
            return [self._decode(row) for row in self._query(sql, params)]

    def _check_unchanged(
        self, table: str, row: Mapping[str, Any], expected: Mapping[str, Any] | None
    ) -> None:
        """Optimistic concurrency: refuse if any field in ``expected`` (the values this
        window read) no longer holds that value (another window or program saved since)."""
        if not expected:
            return
        current = self._decode(dict(row))
        unknown = [k for k in expected if k not in current]
        if unknown:
            raise RecordValueError(f"Unknown field {unknown[0]!r} in if_unchanged.", field=unknown[0])
        changed = [k for k, v in expected.items() if current[k] != v]
        if changed:
            what = _WHAT[table].lower()
            raise ConflictError(
                f"This {what} was changed in another window or program since you opened it "
                f"({', '.join(c.replace('_', ' ') for c in changed)}); your change was not "
                f"saved. Reload it to see the other change, then make yours again."
            )

    def _append_note(
        self, table: str, row_id: int, rules: Mapping[str, Any], text: str, *, draft_visit: bool = False
    ) -> dict[str, Any]:
        """Append ``text`` as a new line of ``notes``.  Read and written under the write
        lock (``BEGIN IMMEDIATE``), so concurrent appends from other windows all land."""
        line = clean(rules, {"notes": text}, creating=False)["notes"]
        if not line:
            raise RecordValueError("The note to add is empty.", field="notes")
        with self.transaction():
            current = (self._draft_visit(row_id) if draft_visit else self._raw(table, row_id))["notes"]
            combined = clean(rules, {"notes": f"{current}\n{line}" if current else line}, creating=False)
            self._author()
            self.db.table(table).update(row_id, {**combined, "updated_at": now_text()})
        return self._get(table, row_id)

    def append_visit_note(self, visit_id: int, text: str) -> dict[str, Any]:
        """Add a line to a draft visit's notes (atomic: never loses another window's line)."""
        return self._append_note("visits", visit_id, fields.VISIT, text, draft_visit=True)

    def append_patient_note(self, patient_id: int, text: str) -> dict[str, Any]:
        """Add a line to a patient's notes (atomic: never loses another window's line)."""
        return self._append_note("patients", patient_id, fields.PATIENT, text)

    def _author(self) -> str:
        profile = self.nurse_profile()
        if profile is None:
            raise NoNurseProfileError()
        display: str = profile["display"]
        return display

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        row_id = self.db.table(table).insert(row).last_pk
        assert isinstance(row_id, int), "every table has an INTEGER PRIMARY KEY id"
        return row_id

    @staticmethod
    def _template(template_id: str, version: int | None) -> checklists.ChecklistTemplate:
        try:
            return checklists.load_template(template_id, version)
        except InputError as exc:
            raise RecordValueError(str(exc), field="template_id") from None

    @staticmethod
    def _item(template: checklists.ChecklistTemplate, item_id: str) -> checklists.ChecklistItem:
        try:
            return template.item(item_id)
        except InputError as exc:
            raise RecordValueError(str(exc), field="item_id") from None

    def _draft_visit(self, visit_id: int) -> dict[str, Any]:
        visit = self._raw("visits", visit_id)
        if visit["status"] == "signed":
            raise SignedVisitError(
                f"Visit {visit_id} was signed by {visit['signed_by']} at {visit['signed_at']} "
                f"and is read-only; write an addendum to correct or add to it."
            )
        if visit["status"] == "voided":
            raise VoidedVisitError(
                f"Visit {visit_id} was voided by {visit['voided_by']} at {visit['voided_at']} "
                f"({visit['void_reason']}) and is read-only; start a new visit instead."
            )
        return visit

    # ------------------------------------------------------------------ nurse profile, settings

    def nurse_profile(self) -> dict[str, Any] | None:
        """``{"name", "credentials", "display", "updated_at"}`` or None if not set up."""
        with self._reading():
            rows = self._query("SELECT name, credentials, updated_at FROM nurse_profile")
        if not rows:
            return None
        row = rows[0]
        row["display"] = f"{row['name']}, {row['credentials']}" if row["credentials"] else row["name"]
        return row

    def set_nurse_profile(self, name: str, credentials: str = "") -> dict[str, Any]:
        """Set who is documenting; stamps every entry, signature, addendum and audit row."""
        clean_name = _name_text("name", "Your name", name) if name is not None else ""
        if not clean_name:
            raise RecordValueError("Your name is required.", field="name")
        clean_credentials = text_rule(50)("credentials", "Credentials", credentials or "")
        before = self.nurse_profile()
        with self.transaction():
            if before and (before["name"], before["credentials"]) != (clean_name, clean_credentials):
                # Who documents is part of the record: a change of name is itself audited,
                # under the name in use until now.
                self.db.execute(
                    "INSERT INTO audit_log (at, author, table_name, row_id, action, before, after) "
                    "VALUES (?, ?, 'nurse_profile', 1, 'update', ?, ?)",
                    [
                        now_text(),
                        before["display"],
                        json.dumps(
                            {"name": before["name"], "credentials": before["credentials"]}, ensure_ascii=False
                        ),
                        json.dumps(
                            {"name": clean_name, "credentials": clean_credentials}, ensure_ascii=False
                        ),
                    ],
                )
            self.db.table("nurse_profile").upsert(
                {"id": 1, "name": clean_name, "credentials": clean_credentials, "updated_at": now_text()},
                pk="id",
            )
        profile = self.nurse_profile()
        assert profile is not None, "the profile was written just above"
        return profile

    def record_security_event(self, event: str, details: Mapping[str, Any]) -> None:
        """An audit-log entry that is not a row change (e.g. wrong passphrase attempts),
        stamped with the nurse who has the record unlocked."""
        profile = self.nurse_profile()
        author = profile["display"] if profile else "(no nurse profile yet)"
        with self.transaction():
            self.db.execute(
                "INSERT INTO audit_log (at, author, table_name, row_id, action, before, after) "
                "VALUES (?, ?, 'security', 0, 'insert', NULL, ?)",
                [now_text(), author, json.dumps({"event": event, **details}, ensure_ascii=False)],
            )

    def change_passphrase(self, old: str, new: str) -> list[tuple[Path, str]]:
        """Rekey the record and its backups (see :mod:`nurse_app.store.encryption`).

        The connection is closed for the rekey and opened again with the new key;
        returns the backups left under an older passphrase, as ``(path, problem)``.
        """
        from nurse_app.store.database import open_connection
        from nurse_app.store.encryption import change_passphrase

        self.close()
        try:
            return change_passphrase(self.path, old, new)
        finally:
            conn, _, _ = open_connection(self.path)
            conn.create_function("nurse_fold", 1, _fold, deterministic=True)
            conn.execute("PRAGMA recursive_triggers=on")
            self.conn = conn
            self.__dict__.pop("db", None)  # sqlite-utils over the new connection

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._reading():
            rows = self._query("SELECT value FROM settings WHERE key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-able preference (units, site policy choices...)."""
        key = text_rule(100)("key", "Setting name", key)
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise RecordValueError(f"The setting {key!r} cannot be stored: {exc}.", field=key) from None
        with self.transaction():
            self.db.table("settings").upsert({"key": key, "value": encoded}, pk="key")

    # ------------------------------------------------------------------ clinical content approval

    def record_content_approval(
        self,
        content_version: str,
        approver_name: str,
        approver_credentials: str = "",
        approved_on: str | None = None,
        *,
        items: Mapping[str, str],
        policy_file: str = "",
    ) -> dict[str, Any]:
        """Record the educator's approval of a clinical content version (issue 15).

        ``items`` is the approved value of every content item (id -> fingerprint) so a later
        report can mark what changed.  Append only; written to the audit log by its trigger.
        """
        name = _name_text("approver_name", "Approver's name", approver_name) if approver_name else ""
        if not name:
            raise RecordValueError("The approver's name is required.", field="approver_name")
        credentials = text_rule(50)("approver_credentials", "Credentials", approver_credentials or "")
        version = str(content_version or "").strip()
        if not 6 <= len(version) <= 64:
            raise RecordValueError("The content version to approve is missing.", field="content_version")
        day = date_rule(not_future=True)(
            "approved_on", "The approval date", str(approved_on or today_local().isoformat())
        )
        if not isinstance(items, Mapping) or not items:
            raise RecordValueError("The approved content items are missing.", field="items")
        with self.transaction():
            author = self._author()
            row_id = self._insert(
                "content_approvals",
                {
                    "content_version": version,
                    "approver_name": name,
                    "approver_credentials": credentials,
                    "approved_on": day,
                    "policy_file": str(policy_file or ""),
                    "approved_items": json.dumps(dict(items), ensure_ascii=False, sort_keys=True),
                    "recorded_at": now_text(),
                    "recorded_by": author,
                },
            )
        return self._get("content_approvals", row_id)

    def latest_content_approval(self) -> dict[str, Any] | None:
        """The most recent approval (with ``approved_items`` decoded), or None."""
        if not schema.existing_tables(self.conn, ("content_approvals",)):
            return None
        rows = self._list("SELECT * FROM content_approvals ORDER BY id DESC LIMIT 1", [])
        return rows[0] if rows else None

    # ------------------------------------------------------------------ patients

    def create_patient(self, **values: Any) -> int:
        """New patient; fields in :data:`fields.PATIENT` (mrn, name, date_of_birth, sex...)."""
        row = clean(fields.PATIENT, values, creating=True)
        fields.check_catalogue_patient(row)
        with self.transaction():
            stamp = now_text()
            row.update(created_at=stamp, updated_at=stamp, created_by=self._author())
            return self._insert("patients", row)

    def update_patient(
        self, patient_id: int, *, if_unchanged: Mapping[str, Any] | None = None, **changes: Any
    ) -> dict[str, Any]:
        row = clean(fields.PATIENT, changes, creating=False)
        fields.check_catalogue_patient(row)
        with self.transaction():
            self._check_unchanged("patients", self._raw("patients", patient_id), if_unchanged)
            self._author()
            self.db.table("patients").update(patient_id, {**row, "updated_at": now_text()})
        return self.get_patient(patient_id)

    def get_patient(self, patient_id: int) -> dict[str, Any]:
        return self._get("patients", patient_id)

    @staticmethod
    def _patient_filter(query: str, include_archived: bool) -> tuple[str, list[str]]:
        """The WHERE clause (over ``p``) and parameters of the patient search."""
        needle = _fold(query.strip()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses: list[str] = []
        params: list[str] = []
        if needle:  # no search text: every patient (name and MRN are never NULL)
            clauses.append("(nurse_fold(p.name) LIKE ? ESCAPE '\\' OR nurse_fold(p.mrn) LIKE ? ESCAPE '\\')")
            params += [f"%{needle}%"] * 2
        if not include_archived:
            clauses.append("p.archived = 0")
        return " AND ".join(clauses) or "1", params

    def find_patients(
        self, query: str = "", *, include_archived: bool = False, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Patients whose name or MRN contains ``query`` (ignoring case and accents)."""
        where, params = self._patient_filter(query, include_archived)
        return self._list(
            f"SELECT p.* FROM patients p WHERE {where} ORDER BY p.name COLLATE NOCASE, p.id LIMIT ?",
            [*params, limit],
        )

    def find_patients_with_last_visit(
        self, query: str = "", *, include_archived: bool = False, limit: int = 200
    ) -> list[dict[str, Any]]:
        """:meth:`find_patients`, each patient with ``last_visit_at``: the latest stored moment
        (started, else scheduled, else created) of any of their visits, None without one.
        One query (a GROUP BY over visits), not one per patient."""
        where, params = self._patient_filter(query, include_archived)
        return self._list(
            "SELECT p.*, lv.last_visit_at FROM patients p LEFT JOIN ("
            "SELECT patient_id, MAX(COALESCE(started_at, scheduled_at, created_at)) AS last_visit_at "
            "FROM visits GROUP BY patient_id) AS lv ON lv.patient_id = p.id "
            f"WHERE {where} ORDER BY p.name COLLATE NOCASE, p.id LIMIT ?",
            [*params, limit],
        )

    def delete_patient(self, patient_id: int) -> None:
        """Delete a patient entered by mistake (refused once any visit exists: archive instead)."""
        with self.transaction():
            self._raw("patients", patient_id)
            if self.db.execute("SELECT 1 FROM visits WHERE patient_id = ? LIMIT 1", [patient_id]).fetchone():
                raise StoreError(
                    "This patient has visits on record and cannot be deleted; archive the patient instead."
                )
            self._author()
            self.db.table("patients").delete(patient_id)

    # ------------------------------------------------------------------ weights

    def add_weight(self, patient_id: int, weight_kg: float, measured_on: Any = None, note: str = "") -> int:
        row = clean(
            fields.WEIGHT,
            {"weight_kg": weight_kg, "note": note, "measured_on": measured_on or today_local()},
            creating=True,
        )
        with self.transaction():
            self._raw("patients", patient_id)
            row.update(patient_id=patient_id, recorded_at=now_text(), recorded_by=self._author())
            return self._insert("patient_weights", row)

    def patient_weights(self, patient_id: int) -> list[dict[str, Any]]:
        """Weight history, newest first."""
        return self._list(
            "SELECT * FROM patient_weights WHERE patient_id = ? ORDER BY measured_on DESC, id DESC",
            [patient_id],
        )

    def delete_weight(self, weight_id: int) -> None:
        with self.transaction():
            self._raw("patient_weights", weight_id)
            self._author()
            self.db.table("patient_weights").delete(weight_id)

    # ------------------------------------------------------------------ orders

    def create_order(self, patient_id: int, **values: Any) -> int:
        """New order: product_id, regimen_id or dose_g_per_kg + course_days, interval_days,
        start_date, prescriber, active, notes."""
        row = clean(fields.ORDER, values, creating=True)
        fields.check_order(row)
        fields.check_catalogue_order(row)
        with self.transaction():
            self._raw("patients", patient_id)
            stamp = now_text()
            row.update(patient_id=patient_id, created_at=stamp, updated_at=stamp, created_by=self._author())
            return self._insert("orders", row)

    def update_order(
        self, order_id: int, *, if_unchanged: Mapping[str, Any] | None = None, **changes: Any
    ) -> dict[str, Any]:
        row = clean(fields.ORDER, changes, creating=False)
        with self.transaction():
            existing = self._raw("orders", order_id)
            self._check_unchanged("orders", existing, if_unchanged)
            merged = {**existing, **row}
            fields.check_order(merged)
            if row.keys() & {"product_id", "regimen_id", "dose_g_per_kg", "course_days"}:
                fields.check_catalogue_order(merged)
            self._author()
            self.db.table("orders").update(order_id, {**row, "updated_at": now_text()})
        return self.get_order(order_id)

    def get_order(self, order_id: int) -> dict[str, Any]:
        return self._get("orders", order_id)

    def patient_orders(self, patient_id: int, *, active_only: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM orders WHERE patient_id = ?"
        if active_only:
            sql += " AND active = 1"
        return self._list(sql + " ORDER BY start_date DESC, id DESC", [patient_id])

    def delete_order(self, order_id: int) -> None:
        """Delete an order entered by mistake (refused once a visit uses it: deactivate it)."""
        with self.transaction():
            self._raw("orders", order_id)
            if self.db.execute("SELECT 1 FROM visits WHERE order_id = ? LIMIT 1", [order_id]).fetchone():
                raise StoreError(
                    "Visits were documented under this order, so it cannot be "
                    "deleted; set it inactive instead."
                )
            self._author()
            self.db.table("orders").delete(order_id)

    # ------------------------------------------------------------------ visits

    def create_visit(
        self,
        patient_id: int,
        *,
        template_id: str = checklists.DEFAULT_TEMPLATE_ID,
        template_version: int | None = None,
        **values: Any,
    ) -> int:
        """New draft visit.  Fields: order_id, scheduled_at, started_at, ended_at,
        course_day, course_days, weight_kg, calculation (the dose engine's
        ``DoseResult.to_dict()``), notes.  The checklist template's newest version is
        used unless ``template_version`` is given, and stays with the visit."""
        row = clean(fields.VISIT, values, creating=True)
        fields.check_visit(row)
        template = self._template(template_id, template_version)
        with self.transaction():
            self._raw("patients", patient_id)
            self._check_order_belongs(row.get("order_id"), patient_id)
            stamp = now_text()
            row.update(
                patient_id=patient_id,
                nurse_name=self._author(),
                status="draft",
                checklist_template_id=template.id,
                checklist_template_version=template.version,
                created_at=stamp,
                updated_at=stamp,
            )
            visit_id = self._insert("visits", row)
            if row.get("weight_kg") is not None:
                self._visit_weight({**row, "id": visit_id})
            return visit_id

    def void_visit(self, visit_id: int, reason: str) -> dict[str, Any]:
        """Void a draft entered by mistake: it is kept (with its entries) and audited, but
        becomes read-only and no longer counts as a course day.  A signed visit cannot be
        voided (an addendum corrects it); a reason is required."""
        reason = clean(
            {"reason": Rule("Reason for voiding", text_rule(500), required=True)},
            {"reason": reason},
            creating=True,
        )["reason"]
        with self.transaction():
            visit = self._draft_visit(visit_id)
            self._visit_weight({**visit, "weight_kg": None})  # not a weighing of this patient
            stamp = now_text()
            self.db.table("visits").update(
                visit_id,
                {
                    "status": "voided",
                    "voided_at": stamp,
                    "voided_by": self._author(),
                    "void_reason": reason,
                    "updated_at": stamp,
                },
            )
        return self.get_visit(visit_id)

    def _check_order_belongs(self, order_id: int | None, patient_id: int) -> None:
        if order_id is not None and self._raw("orders", order_id)["patient_id"] != patient_id:
            raise RecordValueError(f"Order {order_id} belongs to another patient.", field="order_id")

    def update_visit(
        self, visit_id: int, *, if_unchanged: Mapping[str, Any] | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Change a draft visit (refused with :class:`SignedVisitError` once signed).

        ``if_unchanged``: fields as this window read them; :class:`ConflictError` if another
        window or program has changed any of them since (nothing is saved)."""
        row = clean(fields.VISIT, changes, creating=False)
        with self.transaction():
            visit = self._draft_visit(visit_id)
            self._check_unchanged("visits", visit, if_unchanged)
            fields.check_visit({**visit, **row})
            self._check_order_belongs(row.get("order_id"), visit["patient_id"])
            self._author()
            self.db.table("visits").update(visit_id, {**row, "updated_at": now_text()})
            if "weight_kg" in row:
                self._visit_weight({**visit, **row})
        return self.get_visit(visit_id)

    def _visit_weight(self, visit: Mapping[str, Any]) -> None:
        """The weight typed at a visit goes into the patient's weight history once: the
        entry follows a correction in the draft and goes when the weight is cleared."""
        existing = self.db.execute(
            "SELECT id FROM patient_weights WHERE visit_id = ?", [visit["id"]]
        ).fetchone()
        if visit.get("weight_kg") is None:
            if existing:
                self.db.table("patient_weights").delete(existing[0])
            return
        values = {
            "weight_kg": visit["weight_kg"],
            "measured_on": self._visit_day(visit).isoformat(),
            "recorded_at": now_text(),
            "recorded_by": self._author(),
        }
        if existing:
            self.db.table("patient_weights").update(existing[0], values)
        else:
            self._insert(
                "patient_weights",
                {
                    **values,
                    "patient_id": visit["patient_id"],
                    "visit_id": visit["id"],
                    "note": "Weighed at the visit",
                },
            )

    def get_visit(self, visit_id: int) -> dict[str, Any]:
        return self._get("visits", visit_id)

    def patient_visits(self, patient_id: int) -> list[dict[str, Any]]:
        """The patient's visits, newest first, without the calculation snapshot."""
        columns = ", ".join(
            row[1] for row in self.conn.execute("PRAGMA table_info(visits)") if row[1] != "calculation"
        )
        return self._list(
            f"SELECT {columns} FROM visits WHERE patient_id = ? "
            f"ORDER BY COALESCE(started_at, scheduled_at, created_at) DESC, id DESC",
            [patient_id],
        )

    def draft_visits(self) -> list[dict[str, Any]]:
        """Every draft visit of the record (``id``, ``patient_id``, ``started_at``,
        ``scheduled_at``, ``created_at``), newest first; voided and signed visits are not drafts."""
        return self._list(
            "SELECT id, patient_id, started_at, scheduled_at, created_at FROM visits WHERE status = 'draft' "
            "ORDER BY COALESCE(started_at, scheduled_at, created_at) DESC, id DESC",
            [],
        )

    def earlier_visits(self, patient_id: int, before_visit_id: int | None = None) -> list[dict[str, Any]]:
        """The patient's visits before ``before_visit_id`` (all of them when None), oldest first,
        each with ``id``, ``status``, ``course_day``, ``order_id``, the order's ``product_id``
        and the visit's ``started_at``/``created_at``."""
        sql = (
            "SELECT v.id, v.status, v.course_day, v.order_id, v.started_at, v.scheduled_at, v.created_at, "
            "o.product_id FROM visits v LEFT JOIN orders o ON o.id = v.order_id WHERE v.patient_id = ?"
        )
        params: list[Any] = [patient_id]
        if before_visit_id is not None:
            sql += " AND v.id < ?"
            params.append(before_visit_id)
        return self._list(
            sql + " ORDER BY COALESCE(v.started_at, v.scheduled_at, v.created_at), v.id", params
        )

    def delete_visit(self, visit_id: int) -> None:
        """Delete a draft visit opened by mistake, with its entries (signed: refused)."""
        with self.transaction():
            self._draft_visit(visit_id)
            self._author()
            self.db.table("visits").delete(visit_id)

    def visit_children(self, visit_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything recorded on a visit: checklist answers, vitals, reactions, lots,
        infusion events and addenda."""
        with self._reading():
            self._raw("visits", visit_id)
            return {
                "checklist": self._list(
                    "SELECT * FROM checklist_entries WHERE visit_id = ? ORDER BY id", [visit_id]
                ),
                "vitals": self.visit_vitals(visit_id),
                "reactions": self.visit_reactions(visit_id),
                "lots": self.visit_lots(visit_id),
                "infusion_events": self.visit_infusion_events(visit_id),
                "addenda": self.visit_addenda(visit_id),
            }

    def _visit_day(self, visit: Mapping[str, Any]) -> _dt.date:
        return visit_day(visit, created=False) or today_local()

    # ------------------------------------------------------------------ checklist

    def visit_template(self, visit_id: int) -> checklists.ChecklistTemplate:
        visit = self._get("visits", visit_id)
        return self._template(visit["checklist_template_id"], visit["checklist_template_version"])

    def visit_checklist(self, visit_id: int) -> list[dict[str, Any]]:
        """Every item of the visit's own template version, in order, with its answer.

        Unanswered items have ``status`` None.  Answers keep the item text they were
        given against, which is what is shown if it differs from the template.
        """
        answers = {
            e["item_id"]: e
            for e in self._list("SELECT * FROM checklist_entries WHERE visit_id = ? ORDER BY id", [visit_id])
        }
        try:
            template = self.visit_template(visit_id)
        except ResourceError:
            # That template version is no longer installed: show what was recorded.
            return [
                {
                    "phase_id": e["phase_id"],
                    "phase_title": e["phase_id"],
                    "item_id": e["item_id"],
                    "text": e["item_text"],
                    "required": e["required"],
                    "help": "",
                    "sources": [],
                    "unverified": False,
                    "status": e["status"],
                    "note": e["note"],
                    "answered_at": e["answered_at"],
                    "recorded_by": e["recorded_by"],
                    "entry_id": e["id"],
                }
                for e in answers.values()
            ]
        visit = self._raw("visits", visit_id)
        context = self._checklist_context(visit)
        product = self._checklist_product(visit)[0]
        locks = self._checklist_locks(visit, template, context)
        classes = template.source_classes or {}
        result = []
        for phase in template.phases:
            for item in phase.items:
                if not item.applies(context) and item.id not in answers:
                    continue
                entry = answers.get(item.id, {})
                lock = locks.get(item.id)
                result.append(
                    {
                        "phase_id": phase.id,
                        "phase_title": phase.title,
                        "item_id": item.id,
                        "text": entry.get("item_text", item.text),
                        "required": item.required,
                        "help": checklists.item_help(item, product),
                        "sources": list(item.sources),
                        "unverified": item.unverified,
                        "status": entry.get("status"),
                        "note": entry.get("note", ""),
                        "answered_at": entry.get("answered_at"),
                        "recorded_by": entry.get("recorded_by"),
                        "entry_id": entry.get("id"),
                        "source_wording": list(
                            dict.fromkeys(
                                nurse_source_wording(classes.get(k, "secondary")) for k in item.sources
                            )
                        ),
                        "locked": lock is not None,
                        "lock_text": lock.text if lock else "",
                        "unlocks_at": lock.available_at if lock else None,
                        "time_gated": item.unlock is not None,
                        "needs": item.needs,
                    }
                )
        return result

    def _checklist_locks(
        self,
        visit: Mapping[str, Any],
        template: checklists.ChecklistTemplate,
        context: checklists.VisitContext,
    ) -> dict[str, checklists.ItemLock]:
        """Time-gated items of a draft visit that cannot be answered "done" yet
        (:func:`nurse_app.core.checklists.item_lock`)."""
        if visit.get("status") != "draft" or not any(i.unlock for i in template.items):
            return {}
        events = self.visit_infusion_events(visit["id"])
        now = checklists.clock()
        locks = {}
        for item in template.items:
            lock = checklists.item_lock(item, context, events, now)
            if lock is not None:
                locks[item.id] = lock
        return locks

    def _refuse_locked(
        self, visit_id: int, template: checklists.ChecklistTemplate, answers: Mapping[str, str]
    ) -> None:
        """Refuse "done" on a time-gated item before its time (one rule in core)."""
        visit = self._raw("visits", visit_id)
        locks = self._checklist_locks(visit, template, self._checklist_context(visit))
        for item_id, status in answers.items():
            refused = checklists.refuse_locked_answer(
                self._item(template, item_id).text, status, locks.get(item_id)
            )
            if refused:
                raise RecordValueError(refused, field="status")

    def _checklist_context(self, visit: Mapping[str, Any]) -> checklists.VisitContext:
        """What decides the visit's product- and risk-specific items: the order's product
        (its caution and contraindication kinds) and the order's risk flags."""
        product, product_id, risks = self._checklist_product(visit)
        if product is None and not product_id:
            return checklists.VisitContext(
                frozenset(), frozenset(risks)
            )  # no product: nothing product-specific
        return checklists.visit_context(product, risks)

    def _checklist_product(self, visit: Mapping[str, Any]) -> tuple[Any, str | None, Any]:
        """The visit's product (catalogue Product or None), its id and the order's risk flags."""
        order = self._decode(self._raw("orders", visit["order_id"])) if visit.get("order_id") else None
        if visit.get("status") == "signed" and visit.get("signed_snapshot"):
            # A signed visit keeps the items of the order as it was signed under.
            order = json.loads(visit["signed_snapshot"]).get("order") or order
        if order is None:
            calc = json.loads(visit["calculation"]) if visit.get("calculation") else {}
            product_id, risks = calc.get("product"), calc.get("risks") or ()
        else:
            product_id, risks = order["product_id"], order.get("risks") or ()
        try:
            product = load_catalogue().products.get(product_id) if product_id else None
        except ResourceError:
            product = None
        return product, product_id, risks

    def set_checklist_item(
        self, visit_id: int, item_id: str, status: str, note: str = "", at: Any = None
    ) -> int:
        """Answer (or re-answer) an item: done, not_done (a note saying why is required)
        or not_applicable.  Returns the entry id."""
        row = clean(
            fields.CHECKLIST_ANSWER,
            {"status": status, "note": note, "answered_at": at or _dt.datetime.now(_dt.UTC)},
            creating=True,
        )
        if row["status"] == checklists.NOT_DONE and not row["note"]:
            raise RecordValueError("Say why the item was not done (a note is required).", field="note")
        with self.transaction():
            self._draft_visit(visit_id)
            template = self.visit_template(visit_id)
            item = self._item(template, item_id)
            self._refuse_locked(visit_id, template, {item.id: row["status"]})
            row.update(
                visit_id=visit_id,
                phase_id=item.phase_id,
                item_id=item.id,
                item_text=item.text,
                required=int(item.required),
                recorded_by=self._author(),
            )
            self._upsert_answers([row])
            entry_id: int = self.db.execute(
                "SELECT id FROM checklist_entries WHERE visit_id = ? AND item_id = ?", [visit_id, item.id]
            ).fetchone()[0]
            return entry_id

    def set_checklist_items(
        self, visit_id: int, answers: Mapping[str, str | tuple[str, str]], at: Any = None
    ) -> None:
        """Answer several items at once (``{item_id: status}`` or ``{item_id: (status, note)}``),
        e.g. "mark this phase done"; items already answered are re-answered."""
        for item_id, answer in answers.items():
            status, note = (answer, "") if isinstance(answer, str) else answer
            if status == checklists.NOT_DONE and not (note or "").strip():
                raise RecordValueError(
                    f"Say why {item_id!r} was not done (a note is required).", field="note"
                )
        with self.transaction():
            self._draft_visit(visit_id)
            template = self.visit_template(visit_id)
            self._refuse_locked(
                visit_id,
                template,
                {item_id: (a if isinstance(a, str) else a[0]) for item_id, a in answers.items()},
            )
            author = self._author()
            stamp = clean(
                fields.CHECKLIST_ANSWER,
                {"status": checklists.DONE, "answered_at": at or _dt.datetime.now(_dt.UTC)},
                creating=True,
            )["answered_at"]
            rows = []
            for item_id, answer in answers.items():
                status, note = (answer, "") if isinstance(answer, str) else answer
                item = self._item(template, item_id)
                row = clean(
                    fields.CHECKLIST_ANSWER,
                    {"status": status, "note": note, "answered_at": stamp},
                    creating=True,
                )
                rows.append(
                    {
                        **row,
                        "visit_id": visit_id,
                        "phase_id": item.phase_id,
                        "item_id": item.id,
                        "item_text": item.text,
                        "required": int(item.required),
                        "recorded_by": author,
                    }
                )
            self._upsert_answers(rows)

    def _upsert_answers(self, rows: list[dict[str, Any]]) -> None:
        """Insert answers, or update the existing answer to the same item (audited as update)."""
        if not rows:
            return
        # Update-then-insert rather than ON CONFLICT: the schema refuses any insert that
        # collides with an existing answer, so that no REPLACE can delete one unaudited.
        columns = list(rows[0])
        changing = [c for c in columns if c not in ("visit_id", "item_id")]
        conn = self.conn
        for r in rows:
            updated = conn.execute(
                f"UPDATE checklist_entries SET {', '.join(f'{c} = ?' for c in changing)} "
                f"WHERE visit_id = ? AND item_id = ?",
                [r[c] for c in changing] + [r["visit_id"], r["item_id"]],
            ).rowcount
            if not updated:
                conn.execute(
                    f"INSERT INTO checklist_entries ({', '.join(columns)}) VALUES "
                    f"({', '.join('?' * len(columns))})",
                    [r[c] for c in columns],
                )

    def clear_checklist_item(self, visit_id: int, item_id: str) -> None:
        """Withdraw an answer on a draft visit (the audit log keeps what it was)."""
        with self.transaction():
            self._draft_visit(visit_id)
            self._author()
            self.db.execute(
                "DELETE FROM checklist_entries WHERE visit_id = ? AND item_id = ?", [visit_id, item_id]
            )

    def unanswered_required_items(self, visit_id: int) -> list[dict[str, Any]]:
        return [i for i in self.visit_checklist(visit_id) if i["required"] and i["status"] is None]

    # ------------------------------------------------------------------ vitals, reactions, lots

    def _add_child(self, table: str, visit_id: int, values: dict[str, Any]) -> int:
        rules, cross_check, _ = _CHILDREN[table]
        row = clean(rules, values, creating=True)
        if cross_check:
            cross_check(row)
        if table == "product_lots":
            fields.check_catalogue_lot(row)
        with self.transaction():
            visit = self._draft_visit(visit_id)
            if table == "product_lots":
                fields.check_lot(row, self._visit_day(visit))
            row.update(visit_id=visit_id, recorded_by=self._author())
            return self._insert(table, row)

    def _update_child(self, table: str, row_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        rules, cross_check, _ = _CHILDREN[table]
        expected = changes.pop("if_unchanged", None)
        row = clean(rules, changes, creating=False)
        with self.transaction():
            existing = self._raw(table, row_id)
            visit = self._draft_visit(existing["visit_id"])
            self._check_unchanged(table, existing, expected)
            merged = {**existing, **row}
            if cross_check:
                cross_check(merged)
            if table == "product_lots":
                fields.check_lot(merged, self._visit_day(visit))
                if row.keys() & {"product_id", "vial_size_g"}:
                    fields.check_catalogue_lot(merged)
            self.db.table(table).update(row_id, {**row, "recorded_by": self._author()})
        return self._get(table, row_id)

    def _delete_child(self, table: str, row_id: int) -> None:
        with self.transaction():
            self._draft_visit(self._raw(table, row_id)["visit_id"])
            self._author()
            self.db.table(table).delete(row_id)

    def _children(self, table: str, visit_id: int) -> list[dict[str, Any]]:
        order = _CHILDREN[table][2]
        return self._list(f"SELECT * FROM {table} WHERE visit_id = ? ORDER BY {order}, id", [visit_id])

    def add_vitals(
        self,
        visit_id: int,
        *,
        recorded_at: Any = None,
        temperature_c: float | None = None,
        heart_rate: float | None = None,
        systolic_mmhg: float | None = None,
        diastolic_mmhg: float | None = None,
        respiratory_rate: float | None = None,
        spo2_percent: float | None = None,
        infusion_rate_ml_h: float | None = None,
        note: str = "",
    ) -> int:
        """Record one reading (any subset of values; time defaults to now). The time it was
        entered is the audit log's (:meth:`entered_times`): a reading timed earlier is a late entry."""
        values = dict(locals())
        del values["self"], values["visit_id"]
        values["recorded_at"] = recorded_at or _dt.datetime.now(_dt.UTC)
        return self._add_child("vitals", visit_id, values)

    def entered_times(self, table: str, visit_id: int) -> dict[int, _dt.datetime]:
        """When each row of ``table`` on the visit was entered (its audit-log insert), by row id."""
        rows = self.conn.execute(
            "SELECT a.row_id, a.at FROM audit_log a JOIN "
            f"{table} t ON t.id = a.row_id WHERE a.table_name = ? AND a.action = 'insert' AND t.visit_id = ?",
            [table, visit_id],
        ).fetchall()
        return {int(row_id): _dt.datetime.fromisoformat(at) for row_id, at in rows}

    def update_vitals(self, vitals_id: int, **changes: Any) -> dict[str, Any]:
        return self._update_child("vitals", vitals_id, changes)

    def delete_vitals(self, vitals_id: int) -> None:
        self._delete_child("vitals", vitals_id)

    def visit_vitals(self, visit_id: int) -> list[dict[str, Any]]:
        """Readings in time order (the first is the baseline for flags)."""
        return self._children("vitals", visit_id)

    def visit_vital_flags(self, visit_id: int) -> dict[int, list[vitals.VitalFlag]]:
        """Warnings per reading id: abnormal values, and changes from each measure's baseline
        (:func:`nurse_app.core.vitals.flag_series`)."""
        readings = self.visit_vitals(visit_id)
        flags = vitals.flag_series([fields.reading_measures(r) for r in readings])
        return {r["id"]: f for r, f in zip(readings, flags, strict=True)}

    def visit_lot_check(self, visit_id: int) -> lots.LotCheck:
        """The visit's lots checked against its product, the day's vial plan and dose, and
        the visit day (:func:`nurse_app.core.lots.check_lots`)."""
        visit = self._get("visits", visit_id)
        order = self.get_order(visit["order_id"]) if visit.get("order_id") else None
        return lots.check_lots(
            self.visit_lots(visit_id),
            visit.get("calculation"),
            product_id=order["product_id"] if order else None,
            visit_day=self._visit_day(visit),
            product_name=lots_product_name,
        )

    def add_reaction(
        self,
        visit_id: int,
        *,
        kind: str,
        severity: str,
        occurred_at: Any = None,
        rate_at_onset_ml_h: float | None = None,
        action_taken: str = "",
        outcome: str = "",
        note: str = "",
    ) -> int:
        """Record a reaction: kind (an id or title from resources/reactions.toml), severity
        mild/moderate/severe (only the tiers that fit the kind: anaphylaxis is always severe),
        what was done."""
        values = dict(locals())
        del values["self"], values["visit_id"]
        values["occurred_at"] = occurred_at or _dt.datetime.now(_dt.UTC)
        return self._add_child("reactions", visit_id, values)

    def update_reaction(self, reaction_id: int, **changes: Any) -> dict[str, Any]:
        return self._update_child("reactions", reaction_id, changes)

    def delete_reaction(self, reaction_id: int) -> None:
        self._delete_child("reactions", reaction_id)

    def visit_reactions(self, visit_id: int) -> list[dict[str, Any]]:
        return self._children("reactions", visit_id)

    def add_lot(
        self,
        visit_id: int,
        *,
        product_id: str,
        lot_number: str,
        expiry_date: Any,
        vial_size_g: float,
        vial_count: int,
    ) -> int:
        """Record the lot of vials given (refused if expired before the visit day)."""
        values = dict(locals())
        del values["self"], values["visit_id"]
        return self._add_child("product_lots", visit_id, values)

    def update_lot(self, lot_id: int, **changes: Any) -> dict[str, Any]:
        return self._update_child("product_lots", lot_id, changes)

    def delete_lot(self, lot_id: int) -> None:
        self._delete_child("product_lots", lot_id)

    def visit_lots(self, visit_id: int) -> list[dict[str, Any]]:
        return self._children("product_lots", visit_id)

    def add_infusion_event(
        self,
        visit_id: int,
        *,
        kind: str,
        rate_ml_h: float | None = None,
        occurred_at: Any = None,
        note: str = "",
        acknowledgements: Sequence[str] = (),
        volume_ml: float | None = None,
        reason: str | None = None,
    ) -> int:
        """Record a moment of the infusion timeline: start, rate_change, pause, resume,
        stop or end (time defaults to now; start, rate_change and resume need the rate).

        A rate above the hard limit of the visit's calculation (label maximum, the order's
        cap, the pump maximum: :func:`nurse_app.core.infusion_record.hard_limit`) is refused.
        ``acknowledgements``: the rate warnings the nurse acknowledged.  On stop/end,
        ``volume_ml`` is the volume infused (pump reading) and ``reason`` why it is less than
        planned."""
        values = dict(locals())
        del values["self"], values["visit_id"]
        values["occurred_at"] = occurred_at or _dt.datetime.now(_dt.UTC)
        values["acknowledgements"] = list(acknowledgements)
        with self.transaction():
            visit = self._draft_visit(visit_id)
            calculation = self._decode(dict(visit)).get("calculation")
            refused = infusion_record.hard_limit_message(rate_ml_h, calculation)
            if refused:
                raise RecordValueError(refused, field="rate_ml_h")
            return self._add_child("infusion_events", visit_id, values)

    def update_infusion_event(self, event_id: int, **changes: Any) -> dict[str, Any]:
        return self._update_child("infusion_events", event_id, changes)

    def delete_infusion_event(self, event_id: int) -> None:
        self._delete_child("infusion_events", event_id)

    def correct_infusion_event(self, event_id: int, reason: str) -> dict[str, Any]:
        """Strike through a mistaken event: it stays on the timeline with who, when and why,
        and no longer counts (rates, volume, outcome).  Once struck it cannot change."""
        why = text_rule(2000)("correction_reason", "Reason for the correction", reason or "")
        if not why:
            raise RecordValueError("Say why this event is struck through.", field="correction_reason")
        with self.transaction():
            existing = self._raw("infusion_events", event_id)
            self._draft_visit(existing["visit_id"])
            if existing.get("corrected_at"):
                raise RecordValueError("This event is already struck through.", field="correction_reason")
            self.db.table("infusion_events").update(
                event_id,
                {"corrected_at": now_text(), "corrected_by": self._author(), "correction_reason": why},
            )
        return self._get("infusion_events", event_id)

    def visit_infusion_events(self, visit_id: int) -> list[dict[str, Any]]:
        """The infusion timeline in time order."""
        return self._children("infusion_events", visit_id)

    def find_lot(self, lot_number: str) -> list[dict[str, Any]]:
        """Visits that used a lot (for a recall): lot rows joined with patient and visit."""
        return self._list(
            "SELECT l.*, v.patient_id, v.started_at, v.scheduled_at, p.name AS patient_name, "
            "p.mrn FROM product_lots l JOIN visits v ON v.id = l.visit_id "
            "JOIN patients p ON p.id = v.patient_id WHERE l.lot_number = ? ORDER BY l.id",
            [lot_number.strip()],
        )

    # ------------------------------------------------------------------ signing, addenda

    def signing_problems(self, visit_id: int) -> list[str]:
        """What still stops the visit from being signed (empty list: ready)."""
        visit = self._get("visits", visit_id)
        problems = []
        if visit["status"] == "signed":
            return [f"it was already signed by {visit['signed_by']}"]
        if visit["started_at"] is None:
            problems.append("the start time is not recorded")
        if visit["ended_at"] is None:
            problems.append("the end time is not recorded")
        missing = self.unanswered_required_items(visit_id)
        if missing:
            listed = "; ".join(f"\u201c{m['text']}\u201d" for m in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            verb = "is" if len(missing) == 1 else "are"
            problems.append(
                f"{fmt_count(len(missing), 'required checklist item')} {verb} not answered: {listed}{more}"
            )
        return problems

    def sign_visit(self, visit_id: int) -> dict[str, Any]:
        """Sign: stamps signer and time and seals the content with a hash.

        From then on the visit and its entries are read-only (API and SQL triggers);
        only addenda can be added.  Returns the signed visit.
        """
        with self.transaction():
            visit = self._draft_visit(visit_id)
            problems = self.signing_problems(visit_id)
            if problems:
                raise StoreError("This visit cannot be signed yet: " + "; ".join(problems) + ".")
            seal = {"signed_by": self._author(), "signed_at": now_text()}
            seal["signed_snapshot"] = json.dumps(
                self._signing_snapshot(visit, seal["signed_by"]),
                sort_keys=True,
                ensure_ascii=False,
                allow_nan=False,
            )
            seal["content_hash"] = content_hash({**visit, **seal}, self._raw_children(visit_id))
            self.db.table("visits").update(
                visit_id, {**seal, "status": "signed", "updated_at": seal["signed_at"]}
            )
        return self.get_visit(visit_id)

    def _signing_snapshot(self, visit: Mapping[str, Any], signer: str) -> dict[str, Any]:
        """What the signed summary shows that lives outside the visit row: the patient
        (identity, allergies...) and the order as they are now, and the nurse.  Stored
        in the visit (``signed_snapshot``) and so covered by its content hash; the
        calculation is already frozen in the visit row."""
        patient = self._raw("patients", visit["patient_id"])
        order = self._raw("orders", visit["order_id"]) if visit.get("order_id") else None
        return {
            "version": SNAPSHOT_VERSION,
            "patient": {k: patient[k] for k in SNAPSHOT_PATIENT_FIELDS if k in patient},
            "order": None
            if order is None
            else self._decode({k: v for k, v in order.items() if k not in _SNAPSHOT_ORDER_EXCLUDED}),
            "nurse": visit.get("nurse_name"),
            "signed_by": signer,
        }

    def _raw_children(self, visit_id: int) -> dict[str, list[dict[str, Any]]]:
        return {
            table: self._query(f"SELECT * FROM {table} WHERE visit_id = ?", [visit_id])
            for table in schema.existing_tables(self.conn, schema.VISIT_CHILD_TABLES)
        }

    def verify_visit(self, visit_id: int) -> bool | None:
        """True if a signed visit's seal holds (:meth:`seal_problem`); None for a draft."""
        with self._reading():
            if self._raw("visits", visit_id)["status"] != "signed":
                return None
        return self.seal_problem(visit_id) is None

    def seal_problem(self, visit_id: int) -> str | None:
        """Why a signed visit's seal does not hold, or None (also None for a draft).

        The content must match its own hash, and that hash must be the one recorded by the
        visit's signing entry in the audit chain: recomputing the visit's SHA-256 after
        changing it does not match the chain.
        """
        with self._reading():
            visit = self._raw("visits", visit_id)
            if visit["status"] != "signed":
                return None
            if content_hash(visit, self._raw_children(visit_id)) != visit["content_hash"]:
                return "its content no longer matches its own hash"
            if audit_chain.has_chain(self.conn):
                return audit_chain.signing_problem(self.conn, visit_id, visit["content_hash"])
            return None

    def seal_chain_position(self, visit_id: int) -> int | None:
        """The id of the audit entry that signed the visit (its place in the chain), if any."""
        from nurse_app.store import seals

        with self._reading():
            return seals.signing_position(self.conn, "visits", visit_id)

    def add_addendum(self, visit_id: int, text: str) -> int:
        """Append a correction or late entry to a signed visit (append-only)."""
        row = clean(fields.ADDENDUM, {"text": text}, creating=True)
        with self.transaction():
            visit = self._raw("visits", visit_id)
            if visit["status"] != "signed":
                raise StoreError(
                    "This visit is still a draft: change it directly. Addenda are "
                    "for visits that are already signed."
                )
            row.update(visit_id=visit_id, author=self._author(), written_at=now_text())
            return self._insert("addenda", row)

    def visit_addenda(self, visit_id: int) -> list[dict[str, Any]]:
        return self._list("SELECT * FROM addenda WHERE visit_id = ? ORDER BY written_at, id", [visit_id])

    # ------------------------------------------------------------------ audit

    def audit_entries(
        self, table: str | None = None, row_id: int | None = None, *, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Audit rows, newest first; ``before``/``after`` decoded from JSON."""
        sql = "SELECT * FROM audit_log WHERE 1 = 1"
        params: list[Any] = []
        if table is not None:
            sql, params = sql + " AND table_name = ?", [*params, table]
        if row_id is not None:
            sql, params = sql + " AND row_id = ?", [*params, row_id]
        rows = self._list(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        for row in rows:
            for key in ("before", "after"):
                row[key] = json.loads(row[key]) if row[key] is not None else None
        return rows
