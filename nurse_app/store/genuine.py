"""Is a file a genuine nurse-app record?  Schema and content checks before open and restore.

A record file carries its own rules: triggers, views and indexes live inside it.  A file
with the right application id and version can still hold a trigger that deletes every
new vital reading, blanks allergies or rewrites a dose, or lack the triggers that keep a
signed visit read-only.  So before a file is opened or restored, its schema is compared
with the exact schema this app builds for that version, and (for a restore) every stored
value is checked against the same field rules the store API applies to new input.

The expected schema is not a hard-coded list: an empty record is built in memory by
running the app's own migrations up to the file's version, and its ``sqlite_master``
is read back.  Any migration added later is therefore picked up automatically.  (For the
current version that run is snapshotted once per schema.py, see :mod:`.expected_schema`.)
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from nurse_app.store import fields, schema
from nurse_app.store.errors import RecordValueError
from nurse_app.store.validation import Rule, choice, integer, moment, slug, text

_SPACES = re.compile(r"\s+")
MAX_LISTED = 5


def normalised_sql(sql: str | None) -> str:
    """SQL text with runs of whitespace made one space (layout is not meaning)."""
    return _SPACES.sub(" ", sql or "").strip()


def schema_objects(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """``{(type, name): normalised SQL}`` of the tables, indexes, triggers and views.

    SQLite's internal objects (:func:`sqlite_own`) are its own bookkeeping, not rules,
    and are left out; nothing else is, whatever its name.
    """
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        (kind, name): f"{tbl} {normalised_sql(sql)}"
        for kind, name, tbl, sql in rows
        if not sqlite_own(kind, name, sql)
    }


_SQLITE_OWN_TABLE = re.compile(r"^sqlite_(sequence|stat[1-4])$", re.IGNORECASE)
_SQLITE_OWN_INDEX = re.compile(r"^sqlite_autoindex_", re.IGNORECASE)


def sqlite_own(kind: str, name: str, sql: str | None) -> bool:
    """SQLite's own bookkeeping: the tables it makes itself (``sqlite_sequence`` for
    AUTOINCREMENT, ``sqlite_stat1``-``4`` for ANALYZE) and the indexes of UNIQUE and PRIMARY
    KEY constraints (``sqlite_autoindex_*``, which have no SQL).  Anything else whose name
    starts with ``sqlite_`` (a trigger or view written in with ``writable_schema``) is an
    object like any other and must be the app's own."""
    if kind == "table":
        return bool(_SQLITE_OWN_TABLE.match(name))
    if kind == "index":
        return bool(_SQLITE_OWN_INDEX.match(name)) and sql is None
    return False


@cache
def expected_objects(version: int) -> dict[tuple[str, str], str]:
    """The schema the app's own migrations build for ``version`` (built in memory once)."""
    from nurse_app.store import expected_schema  # (a committed snapshot: no run at start)

    return {
        (kind, name): f"{table} {normalised_sql(sql)}"
        for kind, name, table, sql in expected_schema.objects(version)
        if not sqlite_own(kind, name, sql)
    }


@dataclass(frozen=True)
class Difference:
    kind: str  # "table", "index", "trigger", "view"
    name: str
    problem: str  # "extra", "missing", "altered"

    def __str__(self) -> str:
        what = {"extra": "has an extra", "missing": "lacks the", "altered": "has an altered"}
        return f"{what[self.problem]} {self.kind} {self.name!r}"


def schema_differences(conn: sqlite3.Connection, version: int) -> list[Difference]:
    """How the file's schema differs from the exact schema of ``version`` (empty: identical)."""
    if version not in schema.MIGRATIONS:
        return [Difference("table", "(all)", "missing")]
    found, expected = schema_objects(conn), expected_objects(version)
    diffs = [Difference(k, n, "extra") for k, n in sorted(found.keys() - expected.keys())]
    diffs += [Difference(k, n, "missing") for k, n in sorted(expected.keys() - found.keys())]
    diffs += [
        Difference(k, n, "altered")
        for k, n in sorted(found.keys() & expected.keys())
        if found[(k, n)] != expected[(k, n)]
    ]
    order = {"table": 0, "view": 1, "trigger": 2, "index": 3}  # the weightiest named first
    return sorted(diffs, key=lambda d: (order.get(d.kind, 9), d.name))


def reinstalled_on_open(diff: Difference) -> bool:
    """An app's own trigger or view that is missing or altered: opening the record puts
    the app's own back (:func:`schema.reinstall_own_objects`), so it cannot act."""
    return diff.kind in ("trigger", "view") and diff.problem in ("missing", "altered")


def describe(diffs: list[Difference]) -> str:
    """ "has an extra trigger 'x'; lacks the trigger 'y' (and 3 more differences)"."""
    shown = "; ".join(str(d) for d in diffs[:MAX_LISTED])
    more = len(diffs) - MAX_LISTED
    return shown + (f" (and {more} more difference{'s' if more != 1 else ''})" if more > 0 else "")


# ----------------------------------------------------------------------- content

# Columns the store fills itself (not in the API's field rules), checked by the same
# converters: who and when, status and seal, checklist copies.
_STAMP = Rule("Author", text(300))
_WHEN = Rule("Time stamp", moment())
_ID = Rule("Row id", integer(1, 2**62))
_SELF_FILLED = {
    "id": _ID,
    "patient_id": _ID,
    "visit_id": _ID,
    "order_id": _ID,
    "row_id": _ID,
    "created_at": _WHEN,
    "updated_at": _WHEN,
    "recorded_at": _WHEN,
    "signed_at": _WHEN,
    "written_at": _WHEN,
    "answered_at": _WHEN,
    "at": _WHEN,
    "created_by": _STAMP,
    "recorded_by": _STAMP,
    "nurse_name": _STAMP,
    "signed_by": _STAMP,
    "author": _STAMP,
    "status": Rule("Status", choice("draft", "signed")),
    "content_hash": Rule("Content hash", text(200)),
    "checklist_template_id": Rule("Checklist template", slug),
    "checklist_template_version": Rule("Checklist template version", integer(1, 10_000)),
    "phase_id": Rule("Checklist phase", slug),
    "item_id": Rule("Checklist item", slug),
    "item_text": Rule("Checklist item text", text(2000, multiline=True)),
    "required": Rule("Required", integer(0, 1)),
}

# Table -> the API's field rules for it (stored values must pass them unchanged).
_TABLE_RULES: dict[str, dict[str, Rule]] = {
    "nurse_profile": {"name": Rule("Nurse name", text(200)), "credentials": Rule("Credentials", text(50))},
    "settings": {"key": Rule("Setting name", text(100))},
    "patients": fields.PATIENT,
    "patient_weights": fields.WEIGHT,
    "orders": fields.ORDER,
    "visits": fields.VISIT,
    "checklist_entries": fields.CHECKLIST_ANSWER,
    "vitals": fields.VITALS,
    "reactions": fields.REACTION,
    "product_lots": fields.LOT,
    "infusion_events": fields.INFUSION_EVENT,
    "addenda": fields.ADDENDUM,
    # "nurse_profile" (a change of the documenting nurse's name) and "security" (wrong
    # passphrase attempts) are written by the store itself (issue 13).
    "audit_log": {
        "table_name": Rule(
            "Audited table", choice(*schema.CLINICAL_TABLES, "audit_log", "nurse_profile", "security")
        ),
        "action": Rule("Audit action", choice("insert", "update", "delete")),
    },
}
# Columns holding JSON text (decoded before the rule sees them, or just parsed).
_JSON_TEXT = {"value", "before", "after"}


# More rows than this changed by another program: the whole tables are checked instead.
MAX_OUTSIDE_ROWS = 2000


def outside_changes(conn: sqlite3.Connection) -> dict[str, set[int]] | None:
    """The rows of the audited tables written by another program since the app last saved.

    Every insert or update of a clinical table writes an audit entry through the app's own
    triggers (their presence is checked first, see :func:`schema_differences`), and the app
    chains every entry when it saves (:func:`audit_chain.seal`).  So the entries after the
    last chained one are the changes made outside the app since then: reading them walks
    the end of the audit log only, however large the record.  ``None`` when that cannot be
    told cheaply (a record without the chain, or a very large outside change): the caller
    then checks every row.
    """
    columns = {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}
    if "entry_hash" not in columns:
        return None
    last = conn.execute(
        "SELECT id FROM audit_log WHERE entry_hash IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    rows = conn.execute(
        "SELECT table_name, row_id FROM audit_log WHERE id > ? "
        "AND entry_hash IS NULL AND action <> 'delete' LIMIT ?",
        [last[0] if last else 0, MAX_OUTSIDE_ROWS + 1],
    ).fetchall()
    if len(rows) > MAX_OUTSIDE_ROWS:
        return None
    changed: dict[str, set[int]] = {}
    for table, row_id in rows:
        changed.setdefault(table, set()).add(int(row_id))
    return changed


def quick_content_problems(
    conn: sqlite3.Connection, limit: int = MAX_LISTED, *, only: dict[str, set[int]] | None = None
) -> list[str]:
    """The cheap part of :func:`content_problems`, in SQL, for every open: text columns that
    are not text, longer than their rule allows, or hold control characters.

    ``only`` (from :func:`outside_changes`) limits the audited clinical tables to the rows
    named there; the small tables the store writes itself are always read in full.
    """
    problems: list[str] = []
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, api_rules in _TABLE_RULES.items():
        if table not in present:
            continue
        restrict = ""
        if only is not None and table in schema.CLINICAL_TABLES:
            ids = sorted(only.get(table, ()))
            if not ids:
                continue
            restrict = f" AND rowid IN ({', '.join(str(int(i)) for i in ids)})"
        columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        tests, labels = [], []
        for column, rule in api_rules.items():  # the fields people type (speed: every open)
            maximum = getattr(rule.convert, "max_length", None)
            if column not in columns or maximum is None:
                continue
            allowed = {9, 10} if getattr(rule.convert, "multiline", False) else set()
            controls = "".join(chr(c) for c in range(1, 32) if c not in allowed) + "\x7f"
            tests.append(
                f"({column} IS NOT NULL AND (typeof({column}) <> 'text' OR "
                f"length({column}) > {int(maximum)} OR {column} GLOB '*[{controls}]*' "
                f"OR instr({column}, char(0)) > 0))"
            )
            labels.append((column, rule.label, maximum))
        if not tests:
            continue
        for row in conn.execute(
            f"SELECT rowid, {', '.join(c for c, _, _ in labels)} FROM {table} "
            f"WHERE ({' OR '.join(tests)}){restrict} LIMIT {int(limit)}"
        ):
            for (column, _label, _maximum), value in zip(labels, row[1:], strict=True):
                problem = _value_problem(table, column, value, api_rules)
                if problem:
                    problems.append(f"{table} {row[0]!r}: {problem}")
                    break
            if len(problems) >= limit:
                return problems
    return problems


def _stored_rule(rule: Rule) -> Callable[[str, str, Any], Any]:
    """The converter applied to a stored value: "not in the future" is not re-checked (the
    laptop clock may have been behind when the entry was made)."""
    return getattr(rule.convert, "stored", rule.convert)


def _as_input(column: str, value: Any, rule: Rule) -> Any:
    """A stored value as the API was given it (booleans, JSON mappings)."""
    if column in schema.JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    if column in ("archived", "active") and value in (0, 1):
        return bool(value)
    return value


def content_problems(conn: sqlite3.Connection, limit: int = MAX_LISTED) -> list[str]:
    """Stored values the store API would refuse or store differently (up to ``limit``)."""
    problems: list[str] = []
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, api_rules in _TABLE_RULES.items():
        if table not in present:
            continue
        cursor = conn.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        for row in cursor:
            for column, value in zip(columns, row, strict=True):
                problem = _value_problem(table, column, value, api_rules)
                if problem:
                    key = row[columns.index("id")] if "id" in columns else row[0]
                    problems.append(f"{table} {key!r}: {problem}")
                    if len(problems) >= limit:
                        return problems
    return problems


def _value_problem(table: str, column: str, value: Any, api_rules: dict[str, Rule]) -> str | None:
    if value is None:
        return None
    if column in _JSON_TEXT or column in schema.JSON_COLUMNS:
        try:
            json.loads(value)
        except (TypeError, ValueError):
            return f"{column} is not valid JSON"
        if column in _JSON_TEXT:
            return None
    rule = api_rules.get(column) or _SELF_FILLED.get(column)
    if rule is None:
        return None
    # A value the API would accept is accepted, even if the API would now store it slightly
    # differently (an older version kept a direction mark that is stripped today): a genuine
    # record written under older rules stays openable and restorable.
    try:
        _stored_rule(rule)(column, rule.label, _as_input(column, value, rule))
    except RecordValueError as exc:
        return _shorten(str(exc))
    except (TypeError, ValueError) as exc:
        return _shorten(f"{rule.label}: {exc}")
    return None


def _shorten(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "\u2026"
