"""The audit log as a hash chain, and signed visits anchored in it.

Audit rows are written by SQLite triggers (so raw SQL is audited too), which cannot
compute SHA-256.  They are inserted unchained (``entry_hash`` NULL) and the app chains
them in the same transaction, just before it commits (:func:`seal`, called by
``Store.transaction``).  The only update the ``audit_log_no_update`` trigger allows is
that one: filling the two hash columns of an entry that has none, content unchanged.

Entries written by another program (raw SQL) stay unchained until the app next saves;
``check-db`` says how many.  :func:`verify` walks the whole chain: a deleted, reordered
or rewritten entry breaks it, and every signed visit must have exactly one signing
entry in the chain whose content hash is the visit's own.  See
:mod:`nurse_app.store.hashing` for the hash and the seam for a keyed MAC.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from nurse_app.store.hashing import AUDIT_ENTRY_FIELDS, CHAIN_GENESIS, audit_entry_hash

_SELECT = f"SELECT {', '.join(AUDIT_ENTRY_FIELDS)}, prev_hash, entry_hash FROM audit_log"


def has_chain(conn: sqlite3.Connection) -> bool:
    """True if this file's audit log has the chain columns (schema version 6 and later)."""
    return any(row[1] == "entry_hash" for row in conn.execute("PRAGMA table_info(audit_log)"))


def _row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, values, strict=True)}


OUTSIDE_EVENT = "written_outside_app"
OUTSIDE_AUTHOR = "nurse-app (audit check)"


def last_entry_id(conn: sqlite3.Connection) -> int:
    """The id of the newest audit entry (0: none); taken when a write transaction begins."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0])


def seal(conn: sqlite3.Connection, outside_up_to: int | None = None) -> int:
    """Chain every unchained entry after the last chained one (id order); returns how many.

    ``outside_up_to``: the newest entry id when the caller's transaction began.  Unchained
    entries up to it were written by another program (raw SQL through the app's triggers,
    or a forged row), whatever author they carry: an entry saying so, naming them, is
    added before they are chained, so the chain never passes them off as the app's.
    Must run inside the caller's write transaction.
    """
    if outside_up_to:
        outside = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM audit_log WHERE entry_hash IS NULL AND id <= ? ORDER BY id", [outside_up_to]
            )
        ]
        if outside:
            conn.execute(
                "INSERT INTO audit_log (at, author, table_name, row_id, action, before, after) "
                "VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, 'audit_log', ?, 'insert', NULL, ?)",
                [
                    OUTSIDE_AUTHOR,
                    outside[0],
                    json.dumps({"event": OUTSIDE_EVENT, "entries": outside}, sort_keys=True),
                ],
            )
    last = conn.execute(
        "SELECT id, entry_hash FROM audit_log WHERE entry_hash IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if last is None:
        cursor = conn.execute(f"{_SELECT} WHERE entry_hash IS NULL ORDER BY id")
        prev = CHAIN_GENESIS
    else:
        cursor = conn.execute(f"{_SELECT} WHERE entry_hash IS NULL AND id > ? ORDER BY id", [last[0]])
        prev = last[1]
    rows = [_row(cursor, values) for values in cursor.fetchall()]
    for row in rows:
        digest = audit_entry_hash(row, prev)
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?, entry_hash = ? WHERE id = ?", [prev, digest, row["id"]]
        )
        prev = digest
    return len(rows)


@dataclass
class ChainReport:
    entries: int = 0
    unchained_tail: int = 0  # written outside the app since its last save
    problems: list[str] = field(default_factory=list)
    # visit id -> content hashes recorded by its signing entries (in chain order)
    signings: dict[int, list[str]] = field(default_factory=dict)

    def visit_problem(self, visit_id: int, content_hash: str | None) -> str | None:
        """Why a signed visit's seal does not match the chain (None: it matches)."""
        recorded = self.signings.get(visit_id, [])
        if not recorded:
            return "has no signing entry in the audit chain"
        if len(recorded) > 1:
            return "has more than one signing entry in the audit chain"
        if recorded[0] != content_hash:
            return "does not match the content hash recorded in the audit chain when it was signed"
        return None


def signing_problem(conn: sqlite3.Connection, visit_id: int, content_hash: str | None) -> str | None:
    """Quick check of one signed visit against its signing entry (not the whole chain):
    exactly one chained signing entry, intact, recording this content hash."""
    cursor = conn.execute(
        f"{_SELECT} WHERE table_name = 'visits' AND row_id = ? AND "
        f"action = 'update' AND entry_hash IS NOT NULL ORDER BY id",
        [visit_id],
    )
    rows = [_row(cursor, values) for values in cursor.fetchall()]
    signings = [r for r in rows if _signing_hash(r) is not None]
    report = ChainReport(signings={visit_id: [h for h in map(_signing_hash, signings) if h is not None]})
    problem = report.visit_problem(visit_id, content_hash)
    if (
        problem is None
        and audit_entry_hash(signings[0], signings[0]["prev_hash"]) != signings[0]["entry_hash"]
    ):
        problem = "has a signing entry that was changed after it was written"
    return problem


def _signing_hash(row: dict[str, Any]) -> str | None:
    """The content hash a visits audit entry records as signed, if it is a signing entry."""
    if row["table_name"] != "visits" or row["action"] != "update" or not row["after"]:
        return None
    try:
        after = json.loads(row["after"])
    except (TypeError, ValueError):
        return None
    if isinstance(after, dict) and after.get("status") == "signed":
        return after.get("content_hash")
    return None


def verify(conn: sqlite3.Connection) -> ChainReport:
    """Walk the chain in id order (read-only)."""
    report = ChainReport()
    prev, prev_id, unchained = CHAIN_GENESIS, None, []
    cursor = conn.execute(f"{_SELECT} ORDER BY id")
    for values in cursor:
        row = _row(cursor, values)
        report.entries += 1
        if row["entry_hash"] is None:
            unchained.append(row["id"])
            continue
        if unchained:
            report.problems.append(
                f"audit {'entry' if len(unchained) == 1 else 'entries'} "
                f"{', '.join(map(str, unchained[:5]))} {'is' if len(unchained) == 1 else 'are'} "
                f"not in the chain but come before chained entries (inserted out of order)"
            )
            unchained = []
        after_text = f"entry {prev_id}" if prev_id is not None else "the start of the log"
        if row["prev_hash"] != prev:
            report.problems.append(
                f"audit entry {row['id']} does not follow {after_text} (an entry was deleted, "
                f"reordered or rewritten)"
            )
        if audit_entry_hash(row, row["prev_hash"]) != row["entry_hash"]:
            report.problems.append(f"audit entry {row['id']} was changed after it was written")
        signed_hash = _signing_hash(row)
        if signed_hash is not None:
            report.signings.setdefault(row["row_id"], []).append(signed_hash)
        prev, prev_id = row["entry_hash"], row["id"]
    report.unchained_tail = len(unchained)
    return report


def outside_entries(conn: sqlite3.Connection) -> list[int]:
    """Audit entries written by another program: those the app found unchained when it
    next saved (named by its ``written_outside_app`` entries) and those still unchained."""
    found: set[int] = set()
    for (after,) in conn.execute(
        "SELECT after FROM audit_log WHERE table_name = 'audit_log' AND after LIKE ?", [f"%{OUTSIDE_EVENT}%"]
    ):
        try:
            event = json.loads(after)
        except (TypeError, ValueError):
            continue
        if isinstance(event, dict) and event.get("event") == OUTSIDE_EVENT:
            found.update(int(i) for i in event.get("entries", []) if isinstance(i, int))
    found.update(r[0] for r in conn.execute("SELECT id FROM audit_log WHERE entry_hash IS NULL"))
    return sorted(found)
