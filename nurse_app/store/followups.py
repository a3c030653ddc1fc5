"""Follow-up call records and the bulk reads of the schedule (part of :class:`Store`).

A follow-up call (the day 8-10 rash check call, a response review, a lab check; rules
in ``resources/followups.toml``) is kept like a visit note: saved as a draft on every
change (autosave), audited by the triggers of every clinical table, and signed with a
content hash, after which triggers refuse any change.

:meth:`FollowupStore.schedule_rows` reads everything the week's schedule needs in three
queries for the whole record (not one per patient).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nurse_app.core.schedule import escalation_needed, load_followups
from nurse_app.store.errors import RecordValueError, SignedVisitError, StoreError
from nurse_app.store.hashing import content_hash
from nurse_app.store.times import now_text
from nurse_app.store.validation import Rule, boolean, clean, date, integer, moment, text

if TYPE_CHECKING:
    import contextlib
    import sqlite3
    from collections.abc import Sequence

    import sqlite_utils

    from nurse_app.core.schedule import FollowupRule

_ROW_ID = integer(1, 2**62)
_ANSWERS = ("yes", "no", "unknown")


def _answers(field: str, label: str, value: Any) -> str:
    """``{question_id: {"answer": yes/no/unknown or None, "note": text, "text": text}}``."""
    if not isinstance(value, Mapping):
        raise RecordValueError(f"{label} must be a mapping of question to answer.", field=field)
    out = {}
    for key, entry in value.items():
        if not isinstance(entry, Mapping):
            entry = {"answer": entry}
        unknown = set(entry) - {"answer", "note", "text"}
        if unknown:
            raise RecordValueError(f"{label}: unknown part(s) {', '.join(sorted(unknown))}.", field=field)
        answer = entry.get("answer")
        if answer not in (None, "", *_ANSWERS):
            raise RecordValueError(
                f"{label}: the answer to {key!r} is yes, no or unknown, not {answer!r}.", field=field
            )
        clean_entry = {"answer": answer or None}
        for part in ("note", "text"):
            if entry.get(part):
                clean_entry[part] = text(2000, multiline=True)(field, label, entry[part])
        out[str(key)] = clean_entry
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


FOLLOWUP_CALL = {
    "order_id": Rule("Order", _ROW_ID),
    "rule_id": Rule("Follow-up", text(64), required=True),
    "course_number": Rule("Course", integer(1, 10_000)),
    "due_date": Rule("Due date", date()),
    "called_at": Rule("Call time", moment(not_future=True)),
    "reached": Rule("Reached", boolean),
    "answers": Rule("Answers", _answers),
    "advice": Rule("Advice given", text(4000, multiline=True), default=""),
    "escalated_to": Rule("Escalated to", text(200), default=""),
    "escalated_at": Rule("Escalated at", moment(not_future=True)),
    "notes": Rule("Notes", text(10000, multiline=True), default=""),
}


class FollowupStore:
    """Mixed into :class:`nurse_app.store.api.Store`."""

    if TYPE_CHECKING:  # what this mixin uses of Store (defined there)
        conn: sqlite3.Connection

        @property
        def db(self) -> sqlite_utils.Database: ...
        def transaction(self) -> contextlib.AbstractContextManager[object]: ...
        def _reading(self) -> contextlib.AbstractContextManager[None]: ...
        def _decode(self, row: dict[str, Any]) -> dict[str, Any]: ...
        def _raw(self, table: str, row_id: int) -> dict[str, Any]: ...
        def _get(self, table: str, row_id: int) -> dict[str, Any]: ...
        def _list(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]: ...
        def _check_unchanged(
            self, table: str, row: Mapping[str, Any], expected: Mapping[str, Any] | None
        ) -> None: ...
        def _author(self) -> str: ...
        def _insert(self, table: str, row: dict[str, Any]) -> int: ...
        def _check_order_belongs(self, order_id: int | None, patient_id: int) -> None: ...
        def _enqueue(
            self,
            kind: str,
            seal: str,
            *,
            visit_id: int | None = None,
            call_id: int | None = None,
            addendum_id: int | None = None,
        ) -> None: ...

    # ------------------------------------------------------------------ call records

    def _check_rule(self, rule_id: str) -> FollowupRule:
        rule = load_followups().rule(rule_id)
        if rule is None:
            raise RecordValueError(f"Unknown follow-up {rule_id!r}.", field="rule_id")
        return rule

    def _draft_call(self, call_id: int) -> dict[str, Any]:
        call = self._raw("followup_calls", call_id)
        if call["status"] == "signed":
            raise SignedVisitError(
                f"Follow-up call {call_id} was signed by {call['signed_by']} at "
                f"{call['signed_at']} and is read-only; record a new call to add to it."
            )
        return call

    def create_followup_call(self, patient_id: int, **values: Any) -> int:
        """New draft call record: rule_id (resources/followups.toml), order_id,
        course_number, due_date, called_at, reached, answers, advice, escalated_to,
        escalated_at, notes."""
        row = clean(FOLLOWUP_CALL, values, creating=True)
        if "reached" in row and row["reached"] is not None:
            row["reached"] = int(row["reached"])
        self._check_rule(row["rule_id"])
        with self.transaction():
            self._raw("patients", patient_id)
            self._check_order_belongs(row.get("order_id"), patient_id)
            stamp = now_text()
            row.update(
                patient_id=patient_id,
                nurse_name=self._author(),
                status="draft",
                created_at=stamp,
                updated_at=stamp,
            )
            return self._insert("followup_calls", row)

    def update_followup_call(
        self, call_id: int, *, if_unchanged: Mapping[str, Any] | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Change a draft call record (autosave); refused once signed."""
        row = clean(FOLLOWUP_CALL, changes, creating=False)
        if row.get("reached") is not None:
            row["reached"] = int(row["reached"])
        if "rule_id" in row:
            self._check_rule(row["rule_id"])
        with self.transaction():
            call = self._draft_call(call_id)
            self._check_unchanged("followup_calls", call, if_unchanged)
            self._check_order_belongs(row.get("order_id"), call["patient_id"])
            self._author()
            self.db.table("followup_calls").update(call_id, {**row, "updated_at": now_text()})
        return self.get_followup_call(call_id)

    def get_followup_call(self, call_id: int) -> dict[str, Any]:
        return self._call_row(self._get("followup_calls", call_id))

    @staticmethod
    def _call_row(row: dict[str, Any]) -> dict[str, Any]:
        if row.get("reached") is not None:
            row["reached"] = bool(row["reached"])
        row["answers"] = row.get("answers") or {}
        return row

    def delete_followup_call(self, call_id: int) -> None:
        """Delete a draft call record made by mistake (signed: refused)."""
        with self.transaction():
            self._draft_call(call_id)
            self._author()
            self.db.table("followup_calls").delete(call_id)

    def patient_followup_calls(self, patient_id: int) -> list[dict[str, Any]]:
        """The patient's call records, newest first."""
        return [
            self._call_row(r)
            for r in self._list(
                "SELECT * FROM followup_calls WHERE patient_id = ? "
                "ORDER BY COALESCE(called_at, created_at) DESC, id DESC",
                [patient_id],
            )
        ]

    def followup_call_problems(self, call_id: int) -> list[str]:
        """What still stops the call record from being signed (empty: ready)."""
        call = self.get_followup_call(call_id)
        if call["status"] == "signed":
            return [f"it was already signed by {call['signed_by']}"]
        problems = []
        rule = load_followups().rule(call["rule_id"])
        if call["called_at"] is None:
            problems.append("the call time is not recorded")
        if call["reached"] is None:
            problems.append("say whether the patient was reached")
        if call["reached"] and rule is not None:
            missing = [
                q.text
                for q in rule.questions
                if q.answer == "yes-no" and not (call["answers"].get(q.id) or {}).get("answer")
            ]
            if missing:
                problems.append(
                    "not answered: "
                    + "; ".join(f"\u201c{m}\u201d" for m in missing[:3])
                    + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
                )
            if escalation_needed(rule, call["answers"]) and not (
                call["escalated_to"] and call["escalated_at"]
            ):
                problems.append("an answer calls for the prescriber: record who was told and when")
        return problems

    def sign_followup_call(self, call_id: int) -> dict[str, Any]:
        """Sign the call record: stamps signer and time and seals it with a hash; from then
        on it is read-only (API and triggers)."""
        with self.transaction():
            call = self._draft_call(call_id)
            problems = self.followup_call_problems(call_id)
            if problems:
                raise StoreError("This call record cannot be signed yet: " + "; ".join(problems) + ".")
            seal = {"signed_by": self._author(), "signed_at": now_text()}
            seal["content_hash"] = content_hash({**call, **seal}, {})
            self.db.table("followup_calls").update(
                call_id, {**seal, "status": "signed", "updated_at": seal["signed_at"]}
            )
            self._enqueue("followup_call", seal["content_hash"], call_id=call_id)
        return self.get_followup_call(call_id)

    def followup_call_intact(self, call_id: int) -> bool | None:
        """True if a signed call's content still matches its hash; None for a draft."""
        with self._reading():
            call = self._raw("followup_calls", call_id)
        if call["status"] != "signed":
            return None
        return bool(content_hash(call, {}) == call["content_hash"])

    def calls_since(
        self, patient_id: int, since: str | None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Signed call records of a patient made after ``since`` (UTC text; None: all) and
        up to ``until``: what the next visit summary prints."""
        sql = "SELECT * FROM followup_calls WHERE patient_id = ? AND status = 'signed'"
        params: list[Any] = [patient_id]
        if since:
            sql, params = sql + " AND COALESCE(called_at, signed_at) > ?", [*params, since]
        if until:
            sql, params = sql + " AND COALESCE(called_at, signed_at) <= ?", [*params, until]
        return [self._call_row(r) for r in self._list(sql + " ORDER BY called_at, id", params)]

    # ------------------------------------------------------------------ schedule reads

    def schedule_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Everything the schedule needs, for the whole record, in four queries:

        * active orders of patients not archived, with the patient's name, MRN,
          indication, height, sex, date of birth and latest weight, and the product of the
          patient's previous given order (``previous_product_id``, None for the first);
        * every visit on those orders (``status``, ``course_day``, its moment) and, for
          the visits with a stop event, the kinds of their start/resume/stop/end events
          in time order (``event_kinds``; empty for the others);
        * every follow-up call record on those orders.
        """
        conn = self.conn  # (not self.db: no sqlite-utils import at start-up)
        with self._reading():
            cur = conn.execute(
                "SELECT o.*, p.name AS patient_name, p.mrn AS patient_mrn, "
                "p.indication AS patient_indication, p.height_cm AS patient_height_cm, "
                "p.sex AS patient_sex, p.date_of_birth AS patient_date_of_birth, "
                "(SELECT w.weight_kg FROM patient_weights w WHERE w.patient_id = p.id "
                " ORDER BY w.measured_on DESC, w.id DESC LIMIT 1) AS patient_weight_kg, "
                # the product of the patient's previous order that was given (a product switch
                # when it differs; NULL: this is the patient's first)
                "(SELECT o2.product_id FROM orders o2 WHERE o2.patient_id = o.patient_id AND o2.id < o.id "
                " AND EXISTS (SELECT 1 FROM visits v2 WHERE v2.order_id = o2.id AND v2.status <> 'voided') "
                " ORDER BY o2.id DESC LIMIT 1) AS previous_product_id "
                "FROM orders o JOIN patients p ON p.id = o.patient_id "
                "WHERE o.active = 1 AND p.archived = 0 ORDER BY p.name COLLATE NOCASE, o.id"
            )
            names = [d[0] for d in cur.description]
            orders = [self._decode(dict(zip(names, r, strict=True))) for r in cur]
            visits = [
                {
                    "id": r[0],
                    "patient_id": r[1],
                    "order_id": r[2],
                    "status": r[3],
                    "course_day": r[4],
                    "moment": r[5],
                    "arrived_at": r[6],
                    "departed_at": r[7],
                    "event_kinds": [],
                }
                for r in conn.execute(
                    "SELECT v.id, v.patient_id, v.order_id, v.status, v.course_day, "
                    "COALESCE(v.started_at, v.scheduled_at, v.created_at), v.started_at, v.ended_at "
                    "FROM orders o JOIN visits v ON v.order_id = o.id WHERE o.active = 1"
                )
            ]
            # Only a visit with a stop event can have been stopped before finishing; the
            # rule (core.infusion_record) reads the kinds of those visits' events.
            by_id = {v["id"]: v for v in visits}
            for visit_id, kind in conn.execute(
                "SELECT e.visit_id, e.kind FROM infusion_events e WHERE e.visit_id IN "
                "(SELECT visit_id FROM infusion_events WHERE kind = 'stop') "
                "AND e.kind IN ('start', 'resume', 'stop', 'end') "
                "ORDER BY e.visit_id, e.occurred_at, e.id"
            ):
                if visit_id in by_id:
                    by_id[visit_id]["event_kinds"].append(kind)
            calls = [
                {
                    "id": r[0],
                    "patient_id": r[1],
                    "order_id": r[2],
                    "rule_id": r[3],
                    "course_number": r[4],
                    "status": r[5],
                    "reached": r[6],
                }
                for r in conn.execute(
                    "SELECT id, patient_id, order_id, rule_id, course_number, status, reached "
                    "FROM followup_calls WHERE order_id IS NOT NULL"
                )
            ]
        return orders, visits, calls
