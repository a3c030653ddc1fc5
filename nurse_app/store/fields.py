"""The fields a caller may set on each record, with their rules, and cross-field checks.

Column names here are the names used by the store API (``add_vitals(spo2_percent=...)``)
and in the returned row dicts.  Columns the store fills itself (ids, who and when,
status, signature) are not listed and cannot be set by a caller.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from nurse_app.core import order_checks
from nurse_app.core.checklists import ANSWERS
from nurse_app.core.dosing import RISKS
from nurse_app.core.errors import InputError
from nurse_app.core.weights import BASES
from nurse_app.store.errors import RecordValueError
from nurse_app.store.validation import (
    Rule,
    boolean,
    choice,
    date,
    integer,
    json_object,
    measure,
    moment,
    positive_number,
    shown,
    slug,
    text,
)

SEXES = ("female", "male", "other", "unknown")


def risk_flags(field: str, label: str, value: Any) -> str:
    """A collection of risk flags from ``dosing.RISKS``, stored as a sorted JSON list."""
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise RecordValueError(f"{label} must be a list of {', '.join(RISKS)}, not {value!r}.", field=field)
    unknown = sorted(str(v) for v in value if v not in RISKS)
    if unknown:
        raise RecordValueError(
            f"{label}: unknown flag(s) {', '.join(unknown)}; use {', '.join(RISKS)}.", field=field
        )
    return json.dumps(sorted(set(value)))


_PHONE_CHARS = frozenset("0123456789 +-().x/")


def phone(field: str, label: str, value: Any) -> str:
    """A telephone number as typed: digits with spaces, + ( ) - . / and x for an extension."""
    cleaned = text(40)(field, label, value)
    if cleaned and (
        not set(cleaned.lower().replace("ext", "x")) <= _PHONE_CHARS
        or sum(ch.isdigit() for ch in cleaned) < 3
    ):
        raise RecordValueError(
            f"{label} {cleaned!r} is not a telephone number (digits, spaces, + ( ) - and x for an extension).",
            field=field,
        )
    return cleaned


def _coordinate(limit: float) -> Callable[[str, str, Any], float]:
    def convert(field: str, label: str, value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise RecordValueError(
                    f"{label} must be a number in degrees, not {value!r}.", field=field
                ) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise RecordValueError(f"{label} must be a number in degrees, not {value!r}.", field=field)
        if not -limit <= value <= limit:
            raise RecordValueError(
                f"{label} must be from -{limit:g} to {limit:g} degrees, not {value:g}.", field=field
            )
        return float(value)

    return convert


SEVERITIES = ("mild", "moderate", "severe")
_ROW_ID = integer(1, 2**62)

PATIENT = {
    "mrn": Rule("Medical record number (MRN)", text(64, identifier=True), required=True),
    # The name as entered, in parts (US Core: family and given); ``name`` is the one line made
    # from them (core.names.full_name).  A caller giving only ``name`` has it split once.
    "family_name": Rule("Family name", text(100), default=""),
    "given_name": Rule("Given name(s)", text(100), default=""),
    "name": Rule("Name", text(200)),
    "date_of_birth": Rule("Date of birth", date(not_future=True), required=True),
    "sex": Rule("Sex", choice(*SEXES), required=True),
    "height_cm": Rule("Height", measure("height")),
    "allergies": Rule("Allergies", text(2000, multiline=True), default=""),
    "indication": Rule("Indication (regimen id)", slug),
    "prescriber": Rule("Prescriber", text(200), default=""),
    "notes": Rule("Notes", text(10000, multiline=True), default=""),
    "archived": Rule("Archived", boolean, default=False),
    # Where the visits take place, and who to call (issue 23).
    "address_line": Rule("Service address (street)", text(200)),
    "address_city": Rule("City", text(100)),
    "address_state": Rule("State", text(60)),
    "address_postal_code": Rule("ZIP code", text(20, identifier=True)),
    "phone_home": Rule("Home phone", phone),
    "phone_mobile": Rule("Mobile phone", phone),
    "emergency_contact_name": Rule("Emergency contact", text(200)),
    "emergency_contact_relation": Rule("Emergency contact's relation", text(100)),
    "emergency_contact_phone": Rule("Emergency contact's phone", phone),
    # a BCP 47 tag of resources/languages.toml, or "other" with the language's name typed
    "preferred_language": Rule("Preferred language", text(35, identifier=True)),
    "preferred_language_other": Rule("Preferred language (other)", text(100)),
    "interpreter_needed": Rule("Interpreter needed", boolean),
}

WEIGHT = {
    "weight_kg": Rule("Weight", measure("weight"), required=True),
    "measured_on": Rule("Date weighed", date(not_future=True), required=True),
    "note": Rule("Note", text(2000, multiline=True), default=""),
}

ORDER = {
    "product_id": Rule("Product", slug, required=True),
    "regimen_id": Rule("Regimen", slug),
    "dose_g_per_kg": Rule("Dose per course", positive_number(1000, "g/kg")),
    "course_days": Rule("Days per course", integer(1, 31)),
    "interval_days": Rule("Repeat interval (days)", integer(1, 366)),
    "start_date": Rule("Start date", date(), required=True),
    "prescriber": Rule("Prescriber", text(200), required=True),
    "active": Rule("Active", boolean, default=True),
    "notes": Rule("Notes", text(10000, multiline=True), default=""),
    # {"warnings": [{"code", "message", "acknowledged_at"}], "weight_kg": ...}: the soft-limit
    # warnings the nurse acknowledged when entering the order, and the weight checked.
    "acknowledgements": Rule("Acknowledged warnings", json_object),
    "weight_basis": Rule("Weight basis", choice(*BASES), default="auto"),
    "max_rate_mg_kg_min": Rule("Maximum rate", positive_number(100, "mg/kg/min")),
    # The patient's risk flags the order was written with (renal, thrombosis, first-infusion).
    "risks": Rule("Risk flags", risk_flags, default=()),
    # days a course may start before or after its due date (None: resources/followups.toml)
    "tolerance_days": Rule("Due-date tolerance (days)", integer(0, 30)),
}

VISIT = {
    "order_id": Rule("Order", _ROW_ID),
    "scheduled_at": Rule("Scheduled time", moment()),
    "started_at": Rule("Start time", moment(not_future=True)),
    "ended_at": Rule("End time", moment(not_future=True)),
    "course_day": Rule("Course day", integer(1, 31), default=1),
    "course_days": Rule("Days in course", integer(1, 31), default=1),
    "weight_kg": Rule("Weight used", measure("weight")),
    "calculation": Rule("Calculation", json_object),
    "notes": Rule("Notes", text(10000, multiline=True), default=""),
    # {"warnings": [{"code", "message", "acknowledged_at"}]}: what the nurse acknowledged when
    # the visit started (a new course sooner than the order's interval).
    "start_acknowledgements": Rule("Acknowledged start warnings", json_object),
    "same_day_reason": Rule("Reason for another visit the same day", text(500)),
    "interpreter_used": Rule("Interpreter used", boolean),
    "interpreter": Rule("Interpreter (name or ID, or the phone line)", text(200)),
}

CHECKLIST_ANSWER = {
    "status": Rule("Answer", choice(*ANSWERS), required=True),
    "note": Rule("Note", text(2000, multiline=True), default=""),
    "answered_at": Rule("Time", moment(not_future=True), required=True),
}

VITALS = {
    "recorded_at": Rule("Time of the reading", moment(not_future=True), required=True),
    "temperature_c": Rule("Temperature", measure("temperature")),
    "heart_rate": Rule("Heart rate", measure("heart_rate")),
    "systolic_mmhg": Rule("Systolic blood pressure", measure("systolic")),
    "diastolic_mmhg": Rule("Diastolic blood pressure", measure("diastolic")),
    "respiratory_rate": Rule("Respiratory rate", measure("respiratory_rate")),
    "spo2_percent": Rule("SpO2", measure("spo2")),
    "infusion_rate_ml_h": Rule("Infusion rate", measure("infusion_rate")),
    "note": Rule("Note", text(2000, multiline=True), default=""),
}
VITAL_VALUES = (
    "temperature_c",
    "heart_rate",
    "systolic_mmhg",
    "diastolic_mmhg",
    "respiratory_rate",
    "spo2_percent",
    "infusion_rate_ml_h",
)
# Store column -> measure id in resources/vitals.toml (for flagging).
REACTION = {
    "occurred_at": Rule("Time of onset", moment(not_future=True), required=True),
    "kind": Rule("Kind of reaction", text(200), required=True),
    "severity": Rule("Severity", choice(*SEVERITIES), required=True),
    "rate_at_onset_ml_h": Rule("Rate at onset", measure("infusion_rate")),
    "action_taken": Rule("Action taken", text(4000, multiline=True), default=""),
    "outcome": Rule("Outcome", text(4000, multiline=True), default=""),
    "note": Rule("Note", text(4000, multiline=True), default=""),
}

# How a lot row was made: typed from the carton, or read from its GS1 code (scanned).
LOT_SOURCES = ("typed", "scanned")


def _gtin(field: str, label: str, value: Any) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != 14:
        raise RecordValueError(
            f"{label} must be the 14 digits of the carton's GTIN, not {value!r}.", field=field
        )
    return value


LOT = {
    "product_id": Rule("Product", slug, required=True),
    "lot_number": Rule("Lot number", text(64, identifier=True), required=True),
    "expiry_date": Rule("Expiry date", date(), required=True),
    "vial_size_g": Rule("Vial size", positive_number(1000, "g"), required=True),
    "vial_count": Rule("Number of vials", integer(1, 1000), required=True),
    "source": Rule("How the lot was recorded", choice(*LOT_SOURCES), default="typed"),
    "serial": Rule("Serial number", text(20, identifier=True)),
    "gtin": Rule("Product code (GTIN)", _gtin),
}


def check_scanned_lot(row: Mapping[str, Any]) -> None:
    """A scanned row carries the code it was read from; a typed one claims no code."""
    if row.get("source") == "scanned" and not row.get("gtin"):
        raise RecordValueError("A scanned lot needs the carton's GTIN.", field="gtin")
    if row.get("source", "typed") == "typed" and (row.get("gtin") or row.get("serial")):
        raise RecordValueError(
            "A typed lot carries no GTIN or serial: those come only from a scan.", field="source"
        )


# Stored vocabulary of the infusion timeline (same values as the CHECK in the schema and
# nurse_app.core.visit_logic.EVENT_KINDS, which interprets them).
INFUSION_EVENT_KINDS = ("start", "rate_change", "pause", "resume", "stop", "end")
RATE_SETTING_EVENTS = ("start", "rate_change", "resume")

CLOSING_EVENTS = ("stop", "end")
# A day's IVIG volume is well under this; above it is a typing slip (e.g. 2980 for 298).
_MAX_VOLUME_ML = 5000


def _volume(field: str, label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise RecordValueError(f"{label} must be a number of mL, not {value!r}.", field=field)
    if value < 0 or value > _MAX_VOLUME_ML:
        raise RecordValueError(
            f"{label} {shown(value, 'mL')} cannot be right: enter the pump's "
            f"volume infused (0 to {shown(_MAX_VOLUME_ML, 'mL')}).",
            field=field,
        )
    return float(value)


def _text_list(field: str, label: str, value: Any) -> str | None:
    """A list of sentences (the warnings acknowledged), stored as JSON text; empty: NULL."""
    import json

    if isinstance(value, str) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RecordValueError(f"{label} must be a list of sentences.", field=field)
    return json.dumps([v.strip() for v in value], ensure_ascii=False) if value else None


INFUSION_EVENT = {
    "occurred_at": Rule("Time", moment(not_future=True), required=True),
    "kind": Rule("Event", choice(*INFUSION_EVENT_KINDS), required=True),
    "rate_ml_h": Rule("Rate", measure("infusion_rate")),
    "note": Rule("Note", text(2000, multiline=True), default=""),
    "acknowledgements": Rule("Acknowledged warnings", _text_list),
    "volume_ml": Rule("Volume infused", _volume),
    "reason": Rule("Reason", text(2000, multiline=True)),
}

# Where the visit took place (confirmed at arrival).
LOCATION = {
    "location_kind": Rule("Place of the visit", choice("service_address", "other"), required=True),
    "location_address": Rule("Where the visit took place", text(300)),
    "location_latitude": Rule("Latitude", _coordinate(90)),
    "location_longitude": Rule("Longitude", _coordinate(180)),
}

PATIENT_SIGNATURE = {
    "patient_signer": Rule("Who signed", choice("patient", "caregiver")),
    "patient_signer_name": Rule("Name of the person signing", text(200)),
    "patient_signer_relation": Rule("Relation to the patient", slug),
    "patient_signature_png": Rule("Signature image", text(400_000)),
    "no_signature_reason": Rule("Reason there is no signature", slug),
    "no_signature_note": Rule("Note on the missing signature", text(2000, multiline=True)),
}

ACCESS_DEVICE = {
    "device_type": Rule("Access device", slug, required=True),
    "attempt_number": Rule("Attempt number", integer(1, 20), default=1),
    "gauge": Rule("Gauge", integer(10, 30)),
    "length_mm": Rule("Catheter length", positive_number(200, "mm")),
    "site": Rule("Site", slug),
    "side": Rule("Side", slug),
    "success": Rule("Successful", boolean),
    "placed_by": Rule("Placed by", text(200)),
    "placed_at": Rule("Time placed", moment(not_future=True)),
    "blood_return": Rule("Blood return", boolean),
    "patency": Rule("Patent (flushes freely)", boolean),
    "dressing": Rule("Dressing", slug),
    "removed_at": Rule("Time removed", moment(not_future=True)),
    "catheter_intact": Rule("Catheter intact at removal", boolean),
    "removal_condition": Rule("Site condition at removal", slug),
    "note": Rule("Note", text(2000, multiline=True), default=""),
}

ACCESS_CHECK = {
    "kind": Rule("Check", choice("assessment", "flush"), required=True),
    "phase": Rule("When", choice("before", "during", "after")),
    "checked_at": Rule("Time", moment(not_future=True), required=True),
    "phlebitis_grade": Rule("Phlebitis grade", integer(0, 10)),
    "infiltration_grade": Rule("Infiltration grade", integer(0, 10)),
    "solution": Rule("Flush solution", slug),
    "volume_ml": Rule("Flush volume", positive_number(1000, "mL")),
    "note": Rule("Note", text(2000, multiline=True), default=""),
}

ADDENDUM = {
    "text": Rule("Addendum", text(20000, multiline=True), required=True),
}


# ----------------------------------------------------------------------- cross-field checks


def check_order(row: Mapping[str, Any]) -> None:
    if row.get("regimen_id") is None and (row.get("dose_g_per_kg") is None or row.get("course_days") is None):
        raise RecordValueError(
            "An order needs a regimen, or a dose in g/kg with the number of days per course.",
            field="regimen_id",
        )


def check_visit(row: Mapping[str, Any]) -> None:
    if row["course_day"] > row["course_days"]:
        raise RecordValueError(
            f"Course day {row['course_day']} is beyond the {row['course_days']} days of the course.",
            field="course_day",
        )
    if row.get("ended_at") is not None:
        if row.get("started_at") is None:
            raise RecordValueError("Record the start time before the end time.", field="ended_at")
        if row["ended_at"] < row["started_at"]:
            raise RecordValueError("The end time is before the start time.", field="ended_at")


def check_vitals(row: Mapping[str, Any]) -> None:
    if all(row.get(k) is None for k in VITAL_VALUES) and not row.get("note"):
        raise RecordValueError(
            "A vital signs reading needs at least one value or a note.", field="temperature_c"
        )
    sys_bp, dia_bp = row.get("systolic_mmhg"), row.get("diastolic_mmhg")
    if sys_bp is not None and dia_bp is not None and sys_bp <= dia_bp:
        raise RecordValueError(
            f"The systolic pressure ({shown(sys_bp, 'mmHg')}) must be higher "
            f"than the diastolic ({shown(dia_bp, 'mmHg')}): check the order of "
            f"the two numbers.",
            field="systolic_mmhg",
        )


def check_infusion_event(row: Mapping[str, Any]) -> None:
    if row.get("volume_ml") is not None and row["kind"] not in CLOSING_EVENTS:
        raise RecordValueError(
            "The volume infused is recorded when the infusion stops or finishes.", field="volume_ml"
        )
    if row["kind"] in RATE_SETTING_EVENTS and row.get("rate_ml_h") is None:
        raise RecordValueError("Enter the pump rate (mL/h) set at this moment.", field="rate_ml_h")
    if row["kind"] in RATE_SETTING_EVENTS and row["rate_ml_h"] == 0:
        raise RecordValueError(
            "A rate of 0 mL/h is not running: enter the pump rate, or press Pause or Stop instead.",
            field="rate_ml_h",
        )


def check_lot(row: Mapping[str, Any], visit_day: _dt.date) -> None:
    expiry = _dt.date.fromisoformat(row["expiry_date"])
    if expiry < visit_day:
        raise RecordValueError(
            f"Lot {row['lot_number']} expired on {expiry.isoformat()}, before this visit "
            f"({visit_day.isoformat()}): expired product must not be given.",
            field="expiry_date",
        )


# ----------------------------------------------------------------------- catalogue checks
# New input only: a record written under an older catalogue stays readable and restorable.


def _catalogue_check(check: Callable[..., object], *args: Any) -> None:
    try:
        check(*args)
    except InputError as exc:
        raise RecordValueError(str(exc), field=exc.field) from None


def check_catalogue_patient(row: Mapping[str, Any]) -> None:
    if row.get("indication") is not None:
        _catalogue_check(order_checks.check_indication, row["indication"])
    _catalogue_check(check_language, row)


def check_language(row: Mapping[str, Any]) -> None:
    """A listed language, or "other" with its name; a name only beside "other"."""
    from nurse_app.core.languages import OTHER, load_languages

    code, other = row.get("preferred_language"), row.get("preferred_language_other")
    if code is not None and code != OTHER and load_languages().get(code) is None:
        known = ", ".join(lang.code for lang in load_languages().languages)
        raise InputError(
            f"Preferred language {code!r} is not in the list ({known}); choose other and type its name.",
            field="preferred_language",
        )
    if code == OTHER and not other:
        raise InputError("Type the name of the preferred language (other).", field="preferred_language_other")
    if other and code != OTHER:
        raise InputError(
            "A typed language name goes with preferred language: other.", field="preferred_language_other"
        )


def check_catalogue_order(row: Mapping[str, Any]) -> None:
    """Product and regimen exist; the course passes the dose engine's hard limits and floor."""
    _catalogue_check(
        order_checks.check_order,
        row["product_id"],
        row.get("regimen_id"),
        row.get("dose_g_per_kg"),
        row.get("course_days"),
    )


def check_catalogue_lot(row: Mapping[str, Any]) -> None:
    """The product exists and the vial size is one of its catalogue sizes."""
    _catalogue_check(order_checks.check_lot, row["product_id"], row["vial_size_g"])
