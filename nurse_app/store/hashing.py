"""The content hash that seals a signed visit.

The hash covers the visit row (including who signed and when) and every checklist
answer, vital-sign reading, reaction, product lot and infusion event, as canonical
JSON: keys sorted, rows in id order, NULL fields and empty tables left out.  Leaving
those out keeps old signatures valid when a later schema version adds a column
(existing rows get NULL there) or a child table (old visits have no rows in it).
Addenda are not covered: they are written after signing, and are append-only.

A mismatch on :func:`content_hash` recomputation means the signed content was changed
outside the app (the triggers stop ordinary SQL; this also catches someone who dropped
them), and ``check-db`` reports it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

PREFIX = "sha256:"
# Visit columns that change at signing time or are the seal itself.
_VISIT_EXCLUDED = {"status", "content_hash", "updated_at"}


def _canonical_row(row: Mapping[str, Any], excluded: AbstractSet[str] = frozenset()) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None and k not in excluded}


def content_hash(visit: Mapping[str, Any], children: Mapping[str, Iterable[Mapping[str, Any]]]) -> str:
    """``sha256:<hex>`` of a visit row (as stored) and its child rows by table name."""
    document = {
        "visit": _canonical_row(visit, _VISIT_EXCLUDED),
        "children": {
            table: [_canonical_row(r) for r in sorted(rows, key=lambda r: r["id"])]
            for table, rows in sorted(children.items())
            if rows
        },
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- audit chain
#
# Each audit entry carries ``prev_hash`` (the ``entry_hash`` of the entry before it in id
# order; GENESIS for the first) and ``entry_hash`` over its own content plus ``prev_hash``.
# Deleting, reordering or rewriting an entry breaks the chain at that point.  A signed
# visit is in the chain too: its signing entry (the audit row of the update that signed it)
# records the visit's content hash, so rewriting a signed visit and recomputing its own
# hash no longer matches the chain.
#
# Plain SHA-256 can still be recomputed by someone who rewrites every entry from the
# point of change onwards.  Seam for the keyed MAC (PHI/encryption issue): when the record
# has a key, :func:`_chain_digest` becomes HMAC-SHA256 with a key derived from it and the
# prefix changes (e.g. ``hmac-sha256:``), so entries chained before stay verifiable.
# There is deliberately no key here until there is a real one.

CHAIN_GENESIS = "genesis"
AUDIT_ENTRY_FIELDS = ("id", "at", "author", "table_name", "row_id", "action", "before", "after")


def _chain_digest(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


def audit_entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    """The ``entry_hash`` of an audit row (as stored: ``before``/``after`` JSON text)."""
    document = {"entry": {k: entry[k] for k in AUDIT_ENTRY_FIELDS}, "prev": prev_hash}
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _chain_digest(text.encode("utf-8"))
