"""Reading one visit and everything it refers to in one statement (part of :class:`Store`).

:meth:`VisitReadStore.visit_rows` asks SQLite for the visit, its patient and order, every
entry recorded on it, the patient's weights, visits and signed follow-up calls, the agency
details and the nurse profile as one row of JSON values (``json_object`` and
``json_group_array``), so opening a visit is one statement whatever it holds.  The column
lists come from the file's own schema, read once per connection.  SQLite's JSON keeps every
stored value as it is (integers, reals to the last digit, text), so the raw rows are the
ones the content hash of a signed visit is computed over.

:meth:`checklist_of`, :meth:`signing_problems_of` and :meth:`seal_problem_of` give what
:meth:`Store.visit_checklist`, :meth:`Store.signing_problems` and :meth:`Store.seal_problem`
give, from those rows.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nurse_app.core import visit_proof
from nurse_app.core.agency import AGENCY_SETTING
from nurse_app.core.formatting import fmt_count
from nurse_app.store import audit_chain, schema
from nurse_app.store.errors import NotFoundError
from nurse_app.store.hashing import content_hash
from nurse_app.store.outbox import least_advanced

if TYPE_CHECKING:
    import contextlib
    import sqlite3

    Row = dict[str, Any]

# Entry tables of a visit and the order they are listed in (as the store's own readers do).
_ENTRIES = {
    "checklist_entries": "id",
    "vitals": "recorded_at, id",
    "reactions": "occurred_at, id",
    "product_lots": "id",
    "infusion_events": "occurred_at, id",
    "access_devices": "COALESCE(placed_at, ''), attempt_number, id",
    "access_checks": "checked_at, id",
    "addenda": "written_at, id",
}
# Yes/no columns of the IV line rows, read back as booleans (as ProofStore.visit_access_devices does).
_ACCESS_BOOLEANS = ("success", "blood_return", "patency", "catheter_intact")
_PATIENT_VISIT_COLUMNS = (
    "id",
    "status",
    "course_day",
    "order_id",
    "started_at",
    "scheduled_at",
    "created_at",
    "ended_at",
)


@dataclass(frozen=True)
class VisitRows:
    """One visit as stored: ``raw_visit``/``raw_entries`` exactly as in the file (for the seal),
    the rest decoded like every other read of the store (booleans, JSON columns)."""

    visit: dict[str, Any]
    patient: dict[str, Any]
    order: dict[str, Any] | None
    entries: dict[str, list[dict[str, Any]]]  # by table, decoded, in display order
    weights: list[dict[str, Any]]  # the patient's weights, newest first
    patient_visits: list[dict[str, Any]]  # the patient's visits (no calculation), oldest first
    signed_calls: list[dict[str, Any]]  # the patient's signed follow-up calls, in time order
    agency: Any  # the agency setting as stored (None when not set)
    nurse_profile: dict[str, Any] | None
    handoff: dict[str, Any] | None  # the outbox row the screens show for the visit (None: none)
    vitals_entered: dict[int, _dt.datetime]  # when each reading was entered (its audit insert)
    raw_visit: dict[str, Any]
    raw_entries: dict[str, list[dict[str, Any]]]


class VisitReadStore:
    """The one-statement visit read; mixed into :class:`nurse_app.store.api.Store`."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:

        def _reading(self) -> contextlib.AbstractContextManager[None]: ...
        def _decode(self, row: Row) -> Row: ...
        def _call_row(self, row: Row) -> Row: ...
        def _checklist_rows(
            self, visit: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], read: Mapping[str, Any]
        ) -> list[Row]: ...

    def _table_columns(self) -> dict[str, tuple[str, ...]]:
        """Every table's columns, read once per connection (one statement)."""
        cached = self.__dict__.get("_columns_cache")
        if cached is not None and cached[0] is self.conn:
            columns: dict[str, tuple[str, ...]] = cached[1]
            return columns
        found: dict[str, list[str]] = {}
        for table, column in self.conn.execute(
            "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
            "WHERE m.type = 'table' ORDER BY m.name, p.cid"
        ):
            found.setdefault(table, []).append(column)
        columns = {table: tuple(names) for table, names in found.items()}
        self.__dict__["_columns_cache"] = (self.conn, columns)
        return columns

    def visit_rows(self, visit_id: int) -> VisitRows:
        """The visit ``visit_id`` and all it refers to, in one statement (NotFoundError if none)."""
        if isinstance(visit_id, bool) or not isinstance(visit_id, int) or not 1 <= visit_id < 2**63:
            raise NotFoundError(f"Visit {visit_id!r} does not exist.")
        columns = self._table_columns()

        def obj(table: str, alias: str, only: Sequence[str] | None = None) -> str:
            names = [c for c in columns[table] if only is None or c in only]
            return "json_object(" + ", ".join(f"'{c}', {alias}.\"{c}\"" for c in names) + ")"

        def rows(table: str, where: str, order: str, only: Sequence[str] | None = None) -> str:
            if table not in columns:
                return "'[]'"
            return (
                f"(SELECT json_group_array(json(j)) FROM (SELECT {obj(table, 't', only)} AS j "
                f"FROM {table} AS t WHERE {where} ORDER BY {order}))"
            )

        patient_of = "(SELECT patient_id FROM visits WHERE id = :visit)"
        parts = {
            "visit": f"(SELECT {obj('visits', 'v')} FROM visits AS v WHERE v.id = :visit)",
            "patient": f"(SELECT {obj('patients', 'p')} FROM patients AS p WHERE p.id = {patient_of})",
            "order": f"(SELECT {obj('orders', 'o')} FROM orders AS o "
            f"WHERE o.id = (SELECT order_id FROM visits WHERE id = :visit))",
            **{
                table: rows(table, "t.visit_id = :visit", order)
                for table, order in _ENTRIES.items()
                if table in columns
            },
            "weights": rows("patient_weights", f"t.patient_id = {patient_of}", "measured_on DESC, id DESC"),
            "patient_visits": rows(
                "visits",
                f"t.patient_id = {patient_of}",
                "COALESCE(started_at, scheduled_at, created_at), id",
                _PATIENT_VISIT_COLUMNS,
            ),
            "orders": rows("orders", f"t.patient_id = {patient_of}", "id", ("id", "product_id")),
            "calls": rows(
                "followup_calls",
                f"t.patient_id = {patient_of} AND t.status = 'signed'",
                "called_at, id",
            ),
            # From the visit's readings to their audit entries (CROSS JOIN keeps that order: the
            # other way round reads every reading's entry of the record).
            "vitals_entered": "(SELECT json_group_object(a.row_id, a.at) FROM vitals AS t "
            "CROSS JOIN audit_log AS a ON a.table_name = 'vitals' AND a.row_id = t.id "
            "WHERE t.visit_id = :visit AND a.action = 'insert')",
            "outbox": rows("outbox", "t.visit_id = :visit", "id"),
            "agency": "(SELECT value FROM settings WHERE key = :agency)",
            "nurse_profile": "(SELECT json_object('name', name, 'credentials', credentials, "
            "'updated_at', updated_at) FROM nurse_profile LIMIT 1)",
        }
        sql = "SELECT " + ", ".join(f'{value} AS "{key}"' for key, value in parts.items())
        with self._reading():
            row = self.conn.execute(sql, {"visit": visit_id, "agency": AGENCY_SETTING}).fetchone()
        values = dict(zip(parts, row, strict=True))
        if values["visit"] is None:
            raise NotFoundError(f"Visit {visit_id} does not exist (it may have been deleted).")
        raw_visit = json.loads(values["visit"])
        raw_entries = {table: json.loads(values[table]) for table in _ENTRIES if table in values}
        product_of = {o["id"]: o["product_id"] for o in json.loads(values["orders"])}
        patient_visits = [self._decode(v) for v in json.loads(values["patient_visits"])]
        for v in patient_visits:
            v["product_id"] = product_of.get(v["order_id"])
        profile = json.loads(values["nurse_profile"]) if values["nurse_profile"] else None
        if profile is not None:
            profile["display"] = (
                f"{profile['name']}, {profile['credentials']}" if profile["credentials"] else profile["name"]
            )
        return VisitRows(
            visit=self._decode(copy.deepcopy(raw_visit)),
            patient=self._decode(json.loads(values["patient"])),
            order=self._decode(json.loads(values["order"])) if values["order"] else None,
            entries={
                table: [_entry(table, self._decode(dict(r))) for r in rows]
                for table, rows in raw_entries.items()
            },
            weights=[self._decode(w) for w in json.loads(values["weights"])],
            patient_visits=patient_visits,
            signed_calls=[self._call_row(self._decode(c)) for c in json.loads(values["calls"])],
            agency=json.loads(values["agency"]) if values["agency"] is not None else None,
            nurse_profile=profile,
            handoff=least_advanced([self._decode(r) for r in json.loads(values["outbox"])]).get(visit_id),
            vitals_entered={
                int(row_id): _dt.datetime.fromisoformat(at)
                for row_id, at in json.loads(values["vitals_entered"] or "{}").items()
            },
            raw_visit=raw_visit,
            raw_entries=raw_entries,
        )

    def checklist_of(self, rows: VisitRows) -> list[dict[str, Any]]:
        """:meth:`Store.visit_checklist` of the visit read as ``rows`` (no statement)."""
        return self._checklist_rows(
            rows.raw_visit,
            rows.entries.get("checklist_entries", []),
            {"order": rows.order, "infusion_events": rows.entries.get("infusion_events", [])},
        )

    def signing_problems_of(self, rows: VisitRows, checklist: Sequence[Mapping[str, Any]]) -> list[str]:
        """:meth:`Store.signing_problems` of the visit read as ``rows`` and its checklist."""
        return signing_problems(
            rows.visit,
            checklist,
            rows.entries.get("access_devices", []),
            rows.entries.get("access_checks", []),
        )

    def seal_position_of(self, rows: VisitRows) -> int | None:
        """:meth:`Store.seal_chain_position` of the visit read as ``rows`` (one statement when signed)."""
        if rows.raw_visit["status"] != "signed":
            return None
        from nurse_app.store import seals

        chained = "entry_hash" in self._table_columns().get("audit_log", ())
        with self._reading():
            return seals.signing_position(self.conn, "visits", rows.raw_visit["id"], chained=chained)

    def seal_problem_of(self, rows: VisitRows) -> str | None:
        """:meth:`Store.seal_problem` of the visit read as ``rows`` (one statement when signed)."""
        sealed = {t: rows.raw_entries[t] for t in schema.VISIT_CHILD_TABLES if t in rows.raw_entries}
        chained = "entry_hash" in self._table_columns().get("audit_log", ())
        with self._reading():
            return seal_problem(self.conn, rows.raw_visit, sealed, chained=chained)


def _entry(table: str, row: dict[str, Any]) -> dict[str, Any]:
    if table == "access_devices":
        for key in _ACCESS_BOOLEANS:
            if row.get(key) is not None:
                row[key] = bool(row[key])
    return row


def signing_problems(
    visit: Mapping[str, Any],
    checklist: Sequence[Mapping[str, Any]],
    access_devices: Sequence[Mapping[str, Any]] = (),
    access_checks: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """What still stops ``visit`` from being signed, given its checklist and IV line records
    (empty list: ready)."""
    if visit["status"] == "signed":
        return [f"it was already signed by {visit['signed_by']}"]
    problems = []
    if visit["started_at"] is None:
        problems.append("the start time is not recorded")
    if visit["ended_at"] is None:
        problems.append("the end time is not recorded")
    missing = [i for i in checklist if i["required"] and i["status"] is None]
    if missing:
        listed = "; ".join(f"\u201c{m['text']}\u201d" for m in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        verb = "is" if len(missing) == 1 else "are"
        problems.append(
            f"{fmt_count(len(missing), 'required checklist item')} {verb} not answered: {listed}{more}"
        )
    problems += visit_proof.access_problems(list(access_devices), list(access_checks))
    problems += visit_proof.signature_problems(visit)
    return problems


def seal_problem(
    conn: sqlite3.Connection,
    visit: Mapping[str, Any],
    children: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    chained: bool,
) -> str | None:
    """Why a signed visit (raw row and sealed child rows) no longer holds its seal, or None
    (None for a draft too): its own hash, then its signing entry in the audit chain."""
    if visit["status"] != "signed":
        return None
    if content_hash(visit, children) != visit["content_hash"]:
        return "its content no longer matches its own hash"
    if chained:
        return audit_chain.signing_problem(conn, visit["id"], visit["content_hash"])
    return None
