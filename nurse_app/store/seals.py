"""Seals that leave the laptop, and the checks that need no trust in the file.

Whoever holds the passphrase can rewrite a signed visit, recompute its SHA-256 and rebuild
the audit chain: every check made inside the file alone then passes.  What they cannot
change is a copy of the seal kept elsewhere: the short form printed on the summary PDF the
patient keeps (:func:`nurse_app.core.seal_text.short_seal`), the FHIR ``Provenance``, and
the seal list exported with ``nurse-app seals --out FILE``.  ``check-db --seals FILE``
compares the record with such a list (:func:`compare_with_list`) and names every signed
visit, signed follow-up call and addendum that no longer matches.

The seal list is a JSON document::

    {"format": "nurse-app-seal-list", "version": 1, "exported_at": "...",
     "seals": [{"kind": "visit", "id": 12, "content_hash": "sha256:...",
                "chain_position": 345, "entry_hash": "sha256:...", "short": "..."}]}

``kind`` is ``visit``, ``call`` (a signed follow-up call) or ``addendum``;
``chain_position`` is the id of the audit entry that signed it (for an addendum: that
recorded it) and ``entry_hash`` that entry's hash in the chain.  :func:`seal_entries`,
:func:`write_list` and :func:`read_list` are the pieces an export (FHIR Provenance, a
hand-over receipt) reuses.

:func:`replay_problems` is the check that needs no outside copy: the audit log, replayed
in order, must give exactly the rows the tables hold.  A row changed while its table's
audit trigger was dropped (allergies, an order's dose, an addendum, a content approval,
a signed call) no longer matches the last chained image of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nurse_app.core.seal_text import short_seal
from nurse_app.store import audit_chain, schema
from nurse_app.store.errors import StoreError
from nurse_app.store.hashing import content_hash
from nurse_app.store.times import now_text

LIST_FORMAT = "nurse-app-seal-list"
LIST_VERSION = 1
KINDS = {"visit": "visit", "call": "signed follow-up call", "addendum": "addendum"}
MAX_LISTED = 10
# The app's own audit entries about the log itself (restore, outside writes): not row images.
_LOG_TABLE = "audit_log"


@dataclass(frozen=True)
class SealEntry:
    kind: str  # "visit", "call", "addendum"
    id: int
    content_hash: str
    chain_position: int | None  # audit entry id of the signing (or recording) entry
    entry_hash: str | None  # that entry's hash in the chain

    @property
    def short(self) -> str:
        return short_seal(self.content_hash, self.chain_position)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "short": self.short}

    def label(self) -> str:
        return f"{KINDS.get(self.kind, self.kind)} {self.id}"


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _present(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _signing_entries(conn: sqlite3.Connection, table: str) -> dict[int, tuple[int, str | None]]:
    """row id -> (audit entry id, entry hash) of the entry that signed it (the first)."""
    if not audit_chain.has_chain(conn):
        return {}
    found: dict[int, tuple[int, str | None]] = {}
    for entry in _rows(
        conn,
        "SELECT id, row_id, after, entry_hash FROM audit_log WHERE table_name = ? AND action = 'update' "
        "AND after LIKE '%signed%' ORDER BY id",
        [table],
    ):
        try:
            after = json.loads(entry["after"] or "null")
        except ValueError:
            continue
        if isinstance(after, dict) and after.get("status") == "signed":
            found.setdefault(int(entry["row_id"]), (int(entry["id"]), entry["entry_hash"]))
    return found


def signing_position(conn: sqlite3.Connection, table: str, row_id: int) -> int | None:
    """The audit entry id that signed one visit (``table`` "visits") or call, if any."""
    if not audit_chain.has_chain(conn):
        return None
    for entry_id, after in conn.execute(
        "SELECT id, after FROM audit_log WHERE table_name = ? AND row_id = ? AND action = 'update' "
        "AND after LIKE '%signed%' ORDER BY id",
        [table, row_id],
    ):
        try:
            values = json.loads(after or "null")
        except ValueError:
            continue
        if isinstance(values, dict) and values.get("status") == "signed":
            return int(entry_id)
    return None


def _insert_entries(conn: sqlite3.Connection, table: str) -> dict[int, tuple[int, str | None]]:
    if not audit_chain.has_chain(conn):
        return {}
    return {
        int(row_id): (int(entry_id), entry_hash)
        for entry_id, row_id, entry_hash in conn.execute(
            "SELECT id, row_id, entry_hash FROM audit_log WHERE table_name = ? AND action = 'insert' "
            "ORDER BY id DESC",
            [table],
        )
    }


def addendum_hash(row: dict[str, Any]) -> str:
    """The content hash of an addendum row (it has no stored seal: it is append-only)."""
    return content_hash(row, {})


def seal_entries(conn: sqlite3.Connection) -> list[SealEntry]:
    """The seal of every signed visit, signed follow-up call and addendum, as stored."""
    present = _present(conn)
    out: list[SealEntry] = []
    if "visits" in present:
        chain = _signing_entries(conn, "visits")
        for vid, digest in conn.execute(
            "SELECT id, content_hash FROM visits WHERE status = 'signed' ORDER BY id"
        ):
            out.append(SealEntry("visit", int(vid), str(digest), *chain.get(int(vid), (None, None))))
    if "followup_calls" in present:
        chain = _signing_entries(conn, "followup_calls")
        for cid, digest in conn.execute(
            "SELECT id, content_hash FROM followup_calls WHERE status = 'signed' ORDER BY id"
        ):
            out.append(SealEntry("call", int(cid), str(digest), *chain.get(int(cid), (None, None))))
    if "addenda" in present:
        chain = _insert_entries(conn, "addenda")
        for row in _rows(conn, "SELECT * FROM addenda ORDER BY id"):
            rid = int(row["id"])
            out.append(SealEntry("addendum", rid, addendum_hash(row), *chain.get(rid, (None, None))))
    return out


def write_list(path: Path, entries: list[SealEntry]) -> Path:
    """Write the seal list to ``path`` (a new or regular file, 0600); returns it."""
    path = Path(path)
    document = {
        "format": LIST_FORMAT,
        "version": LIST_VERSION,
        "exported_at": now_text(),
        "seals": [e.as_json() for e in entries],
    }
    data = (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_list(path: Path) -> list[SealEntry]:
    """Read a seal list written by :func:`write_list`; one clear error if it is not one."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"The seal list {path} cannot be read ({exc.strerror or exc}).") from None
    except ValueError:
        raise StoreError(f"{path} is not a nurse-app seal list (it is not JSON).") from None
    if not isinstance(document, dict) or document.get("format") != LIST_FORMAT:
        raise StoreError(f"{path} is not a nurse-app seal list.")
    if document.get("version") != LIST_VERSION:
        raise StoreError(f"The seal list {path} has format version {document.get('version')!r}; expected 1.")
    entries = []
    for item in document.get("seals", []):
        try:
            position = item.get("chain_position")
            entries.append(
                SealEntry(
                    kind=str(item["kind"]),
                    id=int(item["id"]),
                    content_hash=str(item["content_hash"]),
                    chain_position=None if position is None else int(position),
                    entry_hash=item.get("entry_hash"),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise StoreError(f"The seal list {path} has an entry that is not a seal: {item!r:.80}.") from None
    return entries


def compare_with_list(conn: sqlite3.Connection, listed: list[SealEntry]) -> list[str]:
    """Every sealed item of ``listed`` the record no longer matches (empty: all match).

    An item matches when it is still there, its stored seal is the listed one, its content
    still gives that hash, and its entry in the audit chain is the listed one.
    """
    current = {(e.kind, e.id): e for e in seal_entries(conn)}
    recomputed = _recomputed(conn)
    problems = []
    for item in listed:
        found = current.get((item.kind, item.id))
        if found is None:
            problems.append(f"{item.label()}: no longer signed in the record (or gone)")
        elif found.content_hash != item.content_hash:
            problems.append(f"{item.label()}: its seal is not the one handed over ({item.short})")
        elif recomputed.get((item.kind, item.id), item.content_hash) != item.content_hash:
            problems.append(f"{item.label()}: its content no longer gives the seal handed over")
        elif item.chain_position is not None and (found.chain_position, found.entry_hash) != (
            item.chain_position,
            item.entry_hash,
        ):
            problems.append(f"{item.label()}: its entry in the audit chain is not the one handed over")
    return problems


def _recomputed(conn: sqlite3.Connection) -> dict[tuple[str, int], str]:
    """The content hash each signed item's rows give now."""
    present = _present(conn)
    out: dict[tuple[str, int], str] = {}
    if "visits" in present:
        children = schema.existing_tables(conn, schema.VISIT_CHILD_TABLES)
        for visit in _rows(conn, "SELECT * FROM visits WHERE status = 'signed'"):
            kids = {t: _rows(conn, f"SELECT * FROM {t} WHERE visit_id = ?", [visit["id"]]) for t in children}
            out[("visit", int(visit["id"]))] = content_hash(visit, kids)
    if "followup_calls" in present:
        for call in _rows(conn, "SELECT * FROM followup_calls WHERE status = 'signed'"):
            out[("call", int(call["id"]))] = content_hash(call, {})
    return out


def call_problems(conn: sqlite3.Connection) -> dict[int, str]:
    """Signed follow-up calls whose seal does not hold: own hash, and the signing entry."""
    if "followup_calls" not in _present(conn):
        return {}
    chained = audit_chain.has_chain(conn)
    signing = _signing_entries(conn, "followup_calls")
    out: dict[int, str] = {}
    for call in _rows(conn, "SELECT * FROM followup_calls WHERE status = 'signed' ORDER BY id"):
        cid = int(call["id"])
        if content_hash(call, {}) != call["content_hash"]:
            out[cid] = "its content no longer matches its own hash"
        elif chained and cid not in signing:
            out[cid] = "has no signing entry in the audit chain"
        elif chained:
            entry = conn.execute("SELECT after FROM audit_log WHERE id = ?", [signing[cid][0]]).fetchone()
            after = json.loads(entry[0]) if entry and entry[0] else {}
            if after.get("content_hash") != call["content_hash"]:
                out[cid] = "does not match the content hash recorded in the audit chain when it was signed"
    return out


def _decoded(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns as values (an insert's image embeds them as JSON, an update's as text)."""
    out = {}
    for k, v in row.items():
        if k in schema.JSON_COLUMNS and isinstance(v, str):
            with contextlib.suppress(ValueError):
                v = json.loads(v)
        out[k] = v
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def replay_problems(conn: sqlite3.Connection, limit: int = MAX_LISTED) -> list[str]:
    """Rows of the audited tables that the audit log, replayed, does not give.

    Each row's image is rebuilt from its insert entry and the changed columns of every
    update after it; the row as stored must hold exactly those values.  Rows older than
    their table's audit (records made before it existed) are left out.
    """
    if not audit_chain.has_chain(conn):
        return []
    present = _present(conn)
    tables = [t for t in schema.CLINICAL_TABLES if t in present]
    images: dict[tuple[str, int], dict[str, Any] | None] = {}
    first_insert: dict[str, int] = {}
    for table, row_id, action, after in conn.execute(
        "SELECT table_name, row_id, action, after FROM audit_log WHERE table_name <> ? ORDER BY id",
        [_LOG_TABLE],
    ):
        key = (table, int(row_id))
        if action == "delete":
            images[key] = None
            continue
        try:
            values = json.loads(after) if after else {}
        except ValueError:
            continue
        if not isinstance(values, dict):
            continue
        if action == "insert":
            images[key] = dict(values)
            first_insert[table] = min(first_insert.get(table, key[1]), key[1])
        elif images.get(key) is not None:
            images[key].update(values)  # type: ignore[union-attr]  # checked just above
    problems: list[str] = []
    for table in tables:
        if table not in first_insert:
            continue
        for row in _rows(conn, f"SELECT * FROM {table} WHERE id >= ? ORDER BY id", [first_insert[table]]):
            key = (table, int(row["id"]))
            if key not in images:
                problems.append(f"{table} {key[1]}: has no audit entry (written with the audit switched off)")
            elif images[key] is None:
                problems.append(f"{table} {key[1]}: its audit says it was deleted, but it is there")
            else:
                image, stored = _decoded(table, images[key] or {}), _decoded(table, row)
                changed = sorted(c for c in image if c in stored and not _same(image[c], stored[c]))
                if changed:
                    problems.append(
                        f"{table} {key[1]}: {', '.join(changed[:3])} differ from its audit "
                        f"(changed with the audit switched off)"
                    )
            if len(problems) >= limit:
                return problems
    return problems


def record_problems(conn: sqlite3.Connection, limit: int = MAX_LISTED) -> list[str]:
    """Everything the file alone can tell against its seals: the audit chain, every signed
    visit's and signed call's seal and signing entry, and the audit replay."""
    problems: list[str] = []
    chain = audit_chain.verify(conn) if audit_chain.has_chain(conn) else None
    if chain is not None:
        problems += chain.problems[:limit]
    recomputed = _recomputed(conn)
    if "visits" in _present(conn):
        for vid, stored in conn.execute("SELECT id, content_hash FROM visits WHERE status = 'signed'"):
            if recomputed.get(("visit", int(vid))) != stored:
                problems.append(f"visit {vid}: its content no longer matches its own hash")
            elif chain is not None and (why := chain.visit_problem(int(vid), stored)):
                problems.append(f"visit {vid}: {why}")
    problems += [f"signed follow-up call {cid}: {why}" for cid, why in call_problems(conn).items()]
    problems += replay_problems(conn, limit)
    return problems[: max(limit, 1)] if len(problems) > limit else problems
