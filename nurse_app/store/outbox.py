"""The outbox: what is waiting to be handed over to the agency's FHIR server (part of :class:`Store`).

A row is written in the same transaction as the signing it follows (a signed visit, a signed
follow-up call, an addendum), so nothing signed can be missed by the hand-off, whatever happens
to the app afterwards.  Its state is ``waiting`` until the server answers: ``sent`` with the
receipt (the server's resource ids, ``versionId`` and ``lastUpdated``) next to the seal that was
sent, or ``refused`` with the server's OperationOutcome.  A sent row never changes (triggers of
schema version 14).  A failed try that never reached the server (no network, server down) keeps
the row waiting and sets when the next automatic try is due (backoff).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nurse_app.store.times import now_text

if TYPE_CHECKING:
    import contextlib
    import sqlite3

    import sqlite_utils

WAITING, SENT, REFUSED = "waiting", "sent", "refused"
VISIT, CALL, ADDENDUM = "visit", "followup_call", "addendum"


def least_advanced(rows: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per visit, the least advanced of its outbox ``rows`` (in id order): refused, else
    waiting, else sent (the newest ``sent_at``)."""
    result: dict[int, dict[str, Any]] = {}
    rank = {REFUSED: 0, WAITING: 1, SENT: 2}
    for row in rows:
        visit = int(row["visit_id"])
        best = result.get(visit)
        if (
            best is None
            or rank[row["state"]] < rank[best["state"]]
            or (
                row["state"] == SENT
                and best["state"] == SENT
                and (row["sent_at"] or "") > (best["sent_at"] or "")
            )
        ):
            result[visit] = row
    return result


class OutboxStore:
    """Mixed into :class:`nurse_app.store.api.Store`."""

    if TYPE_CHECKING:  # what this mixin uses of Store (defined there)
        conn: sqlite3.Connection

        @property
        def db(self) -> sqlite_utils.Database: ...
        def transaction(self) -> contextlib.AbstractContextManager[object]: ...
        def _reading(self) -> contextlib.AbstractContextManager[None]: ...
        def _list(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]: ...
        def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    def _enqueue(
        self,
        kind: str,
        seal: str,
        *,
        visit_id: int | None = None,
        call_id: int | None = None,
        addendum_id: int | None = None,
    ) -> None:
        """Queue an item for the agency (call inside the signing transaction)."""
        self.conn.execute(
            "INSERT OR IGNORE INTO outbox (kind, visit_id, call_id, addendum_id, seal, queued_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [kind, visit_id, call_id, addendum_id, seal, now_text()],
        )

    def outbox(self, states: Sequence[str] = (WAITING, SENT, REFUSED)) -> list[dict[str, Any]]:
        """Outbox rows in the given states, oldest first (``refusal``/``receipt`` decoded)."""
        marks = ", ".join("?" for _ in states)
        return self._list(f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY id", list(states))

    def outbox_due(self, now: str | None = None) -> list[dict[str, Any]]:
        """Waiting rows whose backoff has passed (``now``: UTC text, default now)."""
        moment = now or now_text()
        return self._list(
            "SELECT * FROM outbox WHERE state = 'waiting' AND (next_try_at IS NULL OR next_try_at <= ?) "
            "ORDER BY id",
            [moment],
        )

    def outbox_item(self, item_id: int) -> dict[str, Any]:
        rows = self._list("SELECT * FROM outbox WHERE id = ?", [item_id])
        if not rows:
            from nurse_app.store.errors import NotFoundError

            raise NotFoundError(f"Outbox item {item_id} does not exist.")
        return rows[0]

    def handoff_states(self, visit_ids: Sequence[int] | None = None) -> dict[int, dict[str, Any]]:
        """Per visit, the hand-off state the screens show: the least advanced of the visit's
        rows (the visit itself and its addenda): refused, else waiting, else sent (with the
        newest ``sent_at``).  Visits with no row (drafts) are absent."""
        sql = "SELECT * FROM outbox WHERE visit_id IS NOT NULL"
        params: list[Any] = []
        if visit_ids is not None:
            sql += f" AND visit_id IN ({', '.join('?' for _ in visit_ids)})"
            params = list(visit_ids)
        return least_advanced(self._list(sql + " ORDER BY id", params))

    def record_send_failure(self, item_id: int, error: str, next_try_at: str | None) -> None:
        """A try that did not get an answer about the content (no network, server error)."""
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try_at = ? "
                "WHERE id = ? AND state = 'waiting'",
                [error, next_try_at, item_id],
            )

    def record_refusal(self, item_id: int, outcome: Mapping[str, Any], sent_to: str) -> None:
        """The server refused the content: its OperationOutcome is kept for the nurse."""
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, state = 'refused', refusal = ?, sent_to = ?, "
                "last_error = NULL, next_try_at = NULL WHERE id = ? AND state = 'waiting'",
                [json.dumps(outcome, ensure_ascii=False), sent_to, item_id],
            )

    def record_receipt(self, item_id: int, receipt: Sequence[Sequence[str]], sent_to: str) -> None:
        """The server took it: keep what it answered (ids, versionId, lastUpdated) by the seal."""
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, state = 'sent', sent_at = ?, sent_to = ?, "
                "receipt = ?, last_error = NULL, next_try_at = NULL, refusal = NULL "
                "WHERE id = ? AND state != 'sent'",
                [now_text(), sent_to, json.dumps(list(receipt), separators=(",", ":")), item_id],
            )

    def retry_refused(self, item_id: int) -> None:
        """Put a refused item back in the queue (after the agency changed its server's rule)."""
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET state = 'waiting', next_try_at = NULL WHERE id = ? AND state = 'refused'",
                [item_id],
            )
