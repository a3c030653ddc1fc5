"""Proof of visit in the record (part of :class:`Store`, issue 23).

Arrival and departure (``visits.started_at``/``ended_at``) and their corrections with a
reason, where the visit took place, the patient's or caregiver's signature (or why there is
none), and the IV line: ``access_devices`` (each attempt or existing line) and
``access_checks`` (site assessments and flushes).  Every change goes through a draft visit
(a signed or voided one refuses), is audited by the triggers of every clinical table, and
belongs to the visit's sealed content (visit row, child tables).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nurse_app.core import visit_proof
from nurse_app.core.errors import InputError
from nurse_app.store import fields
from nurse_app.store.errors import RecordValueError
from nurse_app.store.times import now_text
from nurse_app.store.validation import clean, moment, text

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Sequence

    import sqlite_utils

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_reason_text = text(500)
_when = moment(not_future=True)


def _record_error(exc: InputError) -> RecordValueError:
    return RecordValueError(str(exc), field=exc.field)


class ProofStore:
    """Mixed into :class:`nurse_app.store.api.Store`."""

    if TYPE_CHECKING:  # what this mixin uses of Store (defined there)

        @property
        def db(self) -> sqlite_utils.Database: ...
        def transaction(self) -> contextlib.AbstractContextManager[object]: ...
        def _raw(self, table: str, row_id: int) -> dict[str, Any]: ...
        def _get(self, table: str, row_id: int) -> dict[str, Any]: ...
        def _list(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]: ...
        def _decode(self, row: dict[str, Any]) -> dict[str, Any]: ...
        def _author(self) -> str: ...
        def _insert(self, table: str, row: dict[str, Any]) -> int: ...
        def _draft_visit(self, visit_id: int) -> dict[str, Any]: ...
        def get_visit(self, visit_id: int) -> dict[str, Any]: ...
        def get_patient(self, patient_id: int) -> dict[str, Any]: ...

    # ------------------------------------------------------------------ EVV

    def visits_arrived_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Visits (not voided) whose arrival is in [start, end) (UTC text), oldest first, with
        the patient's name and MRN; without the calculation and signature image."""
        return self._list(
            "SELECT v.id, v.patient_id, v.status, v.started_at, v.ended_at, v.nurse_name, v.signed_by, "
            "v.signed_at, v.signed_snapshot, v.location_kind, v.location_address, v.location_latitude, "
            "v.location_longitude, v.course_day, v.course_days, p.name AS patient_name, p.mrn AS patient_mrn "
            "FROM visits v JOIN patients p ON p.id = v.patient_id "
            "WHERE v.status <> 'voided' AND v.started_at >= ? AND v.started_at < ? ORDER BY v.started_at, v.id",
            [start, end],
        )

    # ------------------------------------------------------------------ arrival, departure

    def correct_visit_time(self, visit_id: int, field: str, new_time: Any, reason: str) -> dict[str, Any]:
        """Correct the arrival (``started_at``) or departure (``ended_at``) of a draft, with the
        reason; each correction is kept in ``time_corrections`` (who, when, from, to, why)."""
        try:
            visit_proof.check_time_correction(field, reason or "")
        except InputError as exc:
            raise _record_error(exc) from None
        why = _reason_text("reason", "Reason for the correction", reason)
        label = "Arrival time" if field == "started_at" else "Departure time"
        value = _when(field, label, new_time)
        with self.transaction():
            visit = self._decode(dict(self._draft_visit(visit_id)))
            merged = {**visit, field: value}
            fields.check_visit(merged)
            corrections = list(visit.get("time_corrections") or [])
            corrections.append(
                {
                    "field": field,
                    "from": visit.get(field),
                    "to": value,
                    "reason": why,
                    "by": self._author(),
                    "at": now_text(),
                }
            )
            self.db.table("visits").update(
                visit_id,
                {
                    field: value,
                    "time_corrections": json.dumps(corrections, ensure_ascii=False),
                    "updated_at": now_text(),
                },
            )
        return self.get_visit(visit_id)

    # ------------------------------------------------------------------ where

    def confirm_location(
        self,
        visit_id: int,
        *,
        at_service_address: bool,
        address: str | None = None,
        latitude: Any = None,
        longitude: Any = None,
    ) -> dict[str, Any]:
        """At arrival: the visit is at the patient's service address (copied into the visit, so
        the signed record keeps it), or at the place typed.  Coordinates are typed, never read
        from the device."""
        with self.transaction():
            visit = self._draft_visit(visit_id)
            if at_service_address:
                address = visit_proof.address_text(self.get_patient(visit["patient_id"]))
            row = clean(
                fields.LOCATION,
                {
                    "location_kind": visit_proof.SERVICE_ADDRESS
                    if at_service_address
                    else visit_proof.OTHER_PLACE,
                    "location_address": address or None,
                    "location_latitude": None if latitude in (None, "") else latitude,
                    "location_longitude": None if longitude in (None, "") else longitude,
                },
                creating=True,
            )
            try:
                visit_proof.check_location(row)
            except InputError as exc:
                raise _record_error(exc) from None
            self._author()
            self.db.table("visits").update(visit_id, {**row, "updated_at": now_text()})
        return self.get_visit(visit_id)

    # ------------------------------------------------------------------ patient's signature

    def record_patient_signature(
        self,
        visit_id: int,
        *,
        signer: str,
        strokes: Any,
        png: bytes,
        name: str | None = None,
        relation: str | None = None,
        at: Any = None,
    ) -> dict[str, Any]:
        """The patient's (``signer="patient"``) or a named caregiver's signature: vector strokes
        (a list of [x, y] point lists) and the PNG rendered from them; stamped now."""
        try:
            clean_strokes = visit_proof.check_strokes(strokes)
        except InputError as exc:
            raise _record_error(exc) from None
        if not isinstance(png, (bytes, bytearray)) or not bytes(png).startswith(_PNG_MAGIC):
            raise RecordValueError("The signature image is not a PNG.", field="patient_signature_png")
        row = clean(
            fields.PATIENT_SIGNATURE,
            {
                "patient_signer": signer,
                "patient_signer_name": name or None,
                "patient_signer_relation": relation or None,
                "patient_signature_png": base64.b64encode(bytes(png)).decode("ascii"),
            },
            creating=True,
        )
        row["patient_signature_strokes"] = json.dumps(clean_strokes)
        row["no_signature_reason"] = row["no_signature_note"] = None
        if signer == "patient":
            row["patient_signer_relation"] = None
        try:
            visit_proof.check_patient_signature({**row, "patient_signature_strokes": clean_strokes})
        except InputError as exc:
            raise _record_error(exc) from None
        with self.transaction():
            visit = self._draft_visit(visit_id)
            if signer == "patient":
                row["patient_signer_name"] = self.get_patient(visit["patient_id"])["name"]
            row["patient_signed_at"] = _when("patient_signed_at", "Time signed", at) if at else now_text()
            self._author()
            self.db.table("visits").update(visit_id, {**row, "updated_at": now_text()})
        return self.get_visit(visit_id)

    def record_no_signature(self, visit_id: int, *, reason: str, note: str = "") -> dict[str, Any]:
        """Nobody could sign: the reason (an id from resources/visit_proof.toml) and a note."""
        row = clean(
            fields.PATIENT_SIGNATURE,
            {"no_signature_reason": reason, "no_signature_note": note or None},
            creating=True,
        )
        try:
            visit_proof.check_patient_signature(row)
        except InputError as exc:
            raise _record_error(exc) from None
        row.update(patient_signature_strokes=None, patient_signed_at=None)
        with self.transaction():
            self._draft_visit(visit_id)
            self._author()
            self.db.table("visits").update(visit_id, {**row, "updated_at": now_text()})
        return self.get_visit(visit_id)

    def clear_patient_signature(self, visit_id: int) -> dict[str, Any]:
        """Take back a patient signature or no-signature reason of a draft (audited)."""
        with self.transaction():
            self._draft_visit(visit_id)
            self._author()
            self.db.table("visits").update(
                visit_id,
                {
                    **dict.fromkeys(fields.PATIENT_SIGNATURE),
                    "patient_signature_strokes": None,
                    "patient_signed_at": None,
                    "updated_at": now_text(),
                },
            )
        return self.get_visit(visit_id)

    @staticmethod
    def signature_png(visit: Mapping[str, Any]) -> bytes | None:
        """The stored signature image as PNG bytes (None without one)."""
        return visit_proof.signature_png(visit)

    # ------------------------------------------------------------------ the IV line

    def _check_device(self, row: Mapping[str, Any]) -> None:
        try:
            visit_proof.check_device(row)
        except InputError as exc:
            raise _record_error(exc) from None

    def add_access_device(self, visit_id: int, **values: Any) -> int:
        """One IV attempt or existing line (fields in :data:`fields.ACCESS_DEVICE`); a new
        attempt is placed by the nurse documenting unless ``placed_by`` says otherwise."""
        row = clean(fields.ACCESS_DEVICE, values, creating=True)
        self._check_device(row)
        with self.transaction():
            self._draft_visit(visit_id)
            author = self._author()
            device = visit_proof.load_rules().device(row["device_type"])
            if device is not None and not device.existing and not row.get("placed_by"):
                row["placed_by"] = author
            row.update(visit_id=visit_id, recorded_by=author)
            return self._insert("access_devices", row)

    def update_access_device(self, device_id: int, **changes: Any) -> dict[str, Any]:
        """Change a device row of a draft (e.g. its removal)."""
        row = clean(fields.ACCESS_DEVICE, changes, creating=False)
        with self.transaction():
            existing = self._raw("access_devices", device_id)
            self._draft_visit(existing["visit_id"])
            self._check_device({**existing, **row})
            self.db.table("access_devices").update(device_id, {**row, "recorded_by": self._author()})
        return self._get("access_devices", device_id)

    def remove_access_device(
        self,
        device_id: int,
        *,
        removed_at: Any = None,
        catheter_intact: bool,
        removal_condition: str,
        note: str = "",
    ) -> dict[str, Any]:
        """Removal of a peripheral catheter placed at the visit: time, intact, site condition."""
        from nurse_app.store.times import now_utc

        changes: dict[str, Any] = {
            "removed_at": removed_at or now_utc(),
            "catheter_intact": catheter_intact,
            "removal_condition": removal_condition,
        }
        if note:
            changes["note"] = note
        return self.update_access_device(device_id, **changes)

    def delete_access_device(self, device_id: int) -> None:
        with self.transaction():
            self._draft_visit(self._raw("access_devices", device_id)["visit_id"])
            self._author()
            self.db.table("access_devices").delete(device_id)

    def visit_access_devices(self, visit_id: int) -> list[dict[str, Any]]:
        rows = self._list(
            "SELECT * FROM access_devices WHERE visit_id = ? ORDER BY COALESCE(placed_at, ''), attempt_number, id",
            [visit_id],
        )
        for r in rows:
            for key in ("success", "blood_return", "patency", "catheter_intact"):
                if r.get(key) is not None:
                    r[key] = bool(r[key])
        return rows

    def add_access_check(self, device_id: int, **values: Any) -> int:
        """A site assessment (phase, phlebitis and infiltration grades) or a flush (solution,
        volume) of one device; the grades are checked against the scales in resources/."""
        values.setdefault("checked_at", _now())
        row = clean(fields.ACCESS_CHECK, values, creating=True)
        rules = visit_proof.load_rules()
        if row["kind"] == visit_proof.ASSESSMENT:
            if row.get("phase") is None:
                raise RecordValueError(
                    "Say when the site was assessed: before, during or after.", field="phase"
                )
            if row.get("phlebitis_grade") is None and row.get("infiltration_grade") is None:
                raise RecordValueError(
                    "Grade the site on the phlebitis and infiltration scales.", field="phlebitis_grade"
                )
            for scale_id in ("phlebitis", "infiltration"):
                grade, scale = row.get(f"{scale_id}_grade"), rules.scales[scale_id]
                if grade is not None and grade >= len(scale.grades):
                    raise RecordValueError(
                        f"{scale.title}: grade {grade} is not on the scale (0 to {len(scale.grades) - 1}).",
                        field=f"{scale_id}_grade",
                    )
            if row.get("solution") is not None or row.get("volume_ml") is not None:
                raise RecordValueError("A flush is recorded as its own entry.", field="solution")
        else:
            if row.get("solution") not in visit_proof.ids(rules.flushes):
                raise RecordValueError(
                    f"Flush solution must be one of {', '.join(visit_proof.ids(rules.flushes))}.",
                    field="solution",
                )
            if row.get("volume_ml") is None:
                raise RecordValueError("Enter the flush volume (mL).", field="volume_ml")
            if row["volume_ml"] > rules.flush_max_ml:
                raise RecordValueError(
                    f"A flush of {row['volume_ml']:g} mL cannot be right (more than {rules.flush_max_ml:g} mL): "
                    "check for a typing mistake.",
                    field="volume_ml",
                )
        with self.transaction():
            device = self._raw("access_devices", device_id)
            self._draft_visit(device["visit_id"])
            row.update(visit_id=device["visit_id"], device_id=device_id, recorded_by=self._author())
            return self._insert("access_checks", row)

    def delete_access_check(self, check_id: int) -> None:
        with self.transaction():
            self._draft_visit(self._raw("access_checks", check_id)["visit_id"])
            self._author()
            self.db.table("access_checks").delete(check_id)

    def visit_access_checks(self, visit_id: int) -> list[dict[str, Any]]:
        return self._list(
            "SELECT * FROM access_checks WHERE visit_id = ? ORDER BY checked_at, id", [visit_id]
        )


def _now() -> Any:
    from nurse_app.store.times import now_utc

    return now_utc()
