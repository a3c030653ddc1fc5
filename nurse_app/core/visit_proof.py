"""Proof of visit (issue 23): the IV line record, the site scales, the patient's signature, the
place of the visit and the six EVV items, as rules over ``resources/visit_proof.toml``.

Pure Python: every screen, the summary PDF, the FHIR export and ``nurse-app evv`` call these
functions, so the wording and the checks live once.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_minutes
from nurse_app.core.resources import load_toml, validate

FILE = "visit_proof.toml"
LOCAL_POLICY_NOTE = "local policy default \u2014 confirm with your agency"
# Where the visit took place (visits.location_kind).
SERVICE_ADDRESS = "service_address"
OTHER_PLACE = "other"
LOCATION_KINDS = (SERVICE_ADDRESS, OTHER_PLACE)
DEVICE_LOCATION_NOTE = (
    "Device location (GPS) is not used: laptops rarely have it. Confirm the place, or type where the "
    "visit took place."
)
# Who signed for the patient (visits.patient_signer).
SIGNERS = ("patient", "caregiver")
# Site checks of an access device (access_checks.kind / phase).
ASSESSMENT, FLUSH = "assessment", "flush"
CHECK_KINDS = (ASSESSMENT, FLUSH)
PHASES = ("before", "during", "after")
PHASE_TITLES = {"before": "Before", "during": "During", "after": "After"}


@dataclass(frozen=True)
class Choice:
    id: str
    title: str
    needs_note: bool = False


@dataclass(frozen=True)
class Device:
    id: str
    title: str
    existing: bool
    central: bool


@dataclass(frozen=True)
class Scale:
    id: str
    title: str
    verified: bool
    note: str
    alert_from: int
    grades: tuple[str, ...]
    sources: tuple[str, ...]

    def grade_text(self, grade: int | None) -> str:
        if grade is None:
            return ""
        return self.grades[grade] if 0 <= grade < len(self.grades) else str(grade)


@dataclass(frozen=True)
class ProofRules:
    devices: tuple[Device, ...]
    gauges: tuple[int, ...]
    lengths_mm: tuple[float, ...]
    max_attempts: int
    flush_max_ml: float
    sites: tuple[Choice, ...]
    sides: tuple[Choice, ...]
    flushes: tuple[Choice, ...]
    dressings: tuple[Choice, ...]
    removal_conditions: tuple[Choice, ...]
    required_placed: tuple[str, ...]
    required_removed: tuple[str, ...]
    required_existing: tuple[str, ...]
    line_rule_items: tuple[str, ...]
    scales: dict[str, Scale]
    require_patient_signature: bool
    relations: tuple[Choice, ...]
    no_signature_reasons: tuple[Choice, ...]
    require_coordinates: bool
    service_type: str
    evv_items: tuple[str, ...]
    sources: dict[str, str]

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)


def _choices(rows: Sequence[Mapping[str, Any]]) -> tuple[Choice, ...]:
    return tuple(Choice(r["id"], r["title"], bool(r.get("needs_note", False))) for r in rows)


@lru_cache(maxsize=1)
def load_rules() -> ProofRules:
    """``resources/visit_proof.toml`` with the agency policy applied, validated."""
    data, name = load_toml(FILE)
    validate(FILE, data, name)
    c, req = data["choices"], data["required"]
    return ProofRules(
        devices=tuple(Device(d["id"], d["title"], d["existing"], d["central"]) for d in data["device"]),
        gauges=tuple(c["gauges"]),
        lengths_mm=tuple(float(x) for x in c["lengths_mm"]),
        max_attempts=c["max_attempts"],
        flush_max_ml=float(c["flush_max_ml"]),
        sites=_choices(data["site"]),
        sides=_choices(data["side"]),
        flushes=_choices(data["flush"]),
        dressings=_choices(data["dressing"]),
        removal_conditions=_choices(data["removal_condition"]),
        required_placed=tuple(req["placed"]),
        required_removed=tuple(req["removed"]),
        required_existing=tuple(req["existing"]),
        line_rule_items=tuple(data["line_rules"]["checklist_items"]),
        scales={
            s["id"]: Scale(
                s["id"],
                s["title"],
                s["verified"],
                s["note"],
                s["alert_from"],
                tuple(s["grades"]),
                tuple(s["sources"]),
            )
            for s in data["scale"]
        },
        require_patient_signature=data["signature"]["require_patient_signature"],
        relations=_choices(data["relation"]),
        no_signature_reasons=_choices(data["no_signature_reason"]),
        require_coordinates=data["location"]["require_coordinates"],
        service_type=data["evv"]["service_type"],
        evv_items=tuple(data["evv"]["items"]),
        sources=dict(data["sources"]),
    )


def title_of(choices: Sequence[Choice], choice_id: str | None) -> str:
    """A choice's title (the stored id when the content no longer lists it)."""
    if not choice_id:
        return ""
    return next((c.title for c in choices if c.id == choice_id), choice_id)


def ids(choices: Sequence[Choice]) -> tuple[str, ...]:
    return tuple(c.id for c in choices)


# ----------------------------------------------------------------------------- the line


def check_device(row: Mapping[str, Any], rules: ProofRules | None = None) -> None:
    """Cross-field rules of one access device row (raises InputError naming the field)."""
    rules = rules or load_rules()
    device = rules.device(row["device_type"])
    if device is None:
        raise InputError(
            f"Access device must be one of {', '.join(d.id for d in rules.devices)}, not {row['device_type']!r}.",
            field="device_type",
        )
    if row.get("gauge") is not None and row["gauge"] not in rules.gauges:
        shown = ", ".join(f"{g} G" for g in rules.gauges)
        raise InputError(f"Gauge must be one of {shown}, not {row['gauge']!r}.", field="gauge")
    if (row.get("attempt_number") or 1) > rules.max_attempts:
        raise InputError(
            f"Attempt {row['attempt_number']} is more than the {rules.max_attempts} attempts policy allows "
            "one nurse: ask for help (attempt numbers above it are refused).",
            field="attempt_number",
        )
    for field, choices, label in (
        ("site", rules.sites, "Site"),
        ("side", rules.sides, "Side"),
        ("dressing", rules.dressings, "Dressing"),
        ("removal_condition", rules.removal_conditions, "Site condition at removal"),
    ):
        value = row.get(field)
        if value is not None and value not in ids(choices):
            raise InputError(f"{label} must be one of {', '.join(ids(choices))}, not {value!r}.", field=field)
    if device.existing:
        if row.get("removed_at") is not None or row.get("catheter_intact") is not None:
            raise InputError(
                f"An existing {device.title.split(' (')[0].lower()} is not removed at a home visit: record its "
                "checks (patency, blood return, dressing) instead.",
                field="removed_at",
            )
    else:
        if row.get("patency") is not None or row.get("dressing") is not None:
            raise InputError(
                "Patency and dressing are recorded for an existing line; a new peripheral IV records blood "
                "return and its site checks.",
                field="patency",
            )
        removed = row.get("removed_at")
        if removed is not None:
            if not row.get("success"):
                raise InputError(
                    "An unsuccessful attempt was never in place: there is no removal to record.",
                    field="removed_at",
                )
            placed = row.get("placed_at")
            if placed is not None and removed < placed:
                raise InputError(
                    "The removal time is before the time the catheter was placed.", field="removed_at"
                )


_FIELD_WORDS = {
    "gauge": "the gauge",
    "length_mm": "the catheter length",
    "site": "the site",
    "side": "the side",
    "placed_at": "the time placed",
    "success": "whether it succeeded",
    "catheter_intact": "whether the catheter was intact at removal",
    "removal_condition": "the site condition at removal",
    "patency": "patency",
    "blood_return": "blood return",
    "dressing": "the dressing",
}


def device_label(row: Mapping[str, Any], rules: ProofRules | None = None) -> str:
    rules = rules or load_rules()
    device = rules.device(row["device_type"])
    name = device.title.split(" (")[0] if device else row["device_type"]
    if device is not None and not device.existing:
        return f"{name}, attempt {row.get('attempt_number') or 1}"
    return name


def missing_fields(row: Mapping[str, Any], rules: ProofRules | None = None) -> list[str]:
    """What the content's [required] lists and this row lacks (words for the Sign tab)."""
    rules = rules or load_rules()
    device = rules.device(row["device_type"])
    if device is None:
        return []
    needed = list(rules.required_existing if device.existing else rules.required_placed)
    if not device.existing and row.get("removed_at") is not None:
        needed += rules.required_removed
    return [_FIELD_WORDS.get(f, f) for f in needed if row.get(f) is None or row.get(f) == ""]


def access_problems(
    devices: Sequence[Mapping[str, Any]], checks: Sequence[Mapping[str, Any]], rules: ProofRules | None = None
) -> list[str]:
    """What the access record still lacks before signing (empty: complete or none recorded)."""
    rules = rules or load_rules()
    problems = []
    for row in devices:
        missing = missing_fields(row, rules)
        if missing:
            problems.append(f"{device_label(row, rules)}: record {', '.join(missing)}")
        device = rules.device(row["device_type"])
        in_place = device is not None and not device.existing and row.get("success")
        if in_place and row.get("removed_at") is None:
            problems.append(f"{device_label(row, rules)}: record its removal (time, catheter intact, site)")
    return problems


def scale_alerts(checks: Sequence[Mapping[str, Any]], rules: ProofRules | None = None) -> list[str]:
    """One sentence per site assessment at or above its scale's alert grade."""
    rules = rules or load_rules()
    out = []
    for c in checks:
        for scale_id, column in (("phlebitis", "phlebitis_grade"), ("infiltration", "infiltration_grade")):
            grade, scale = c.get(column), rules.scales.get(scale_id)
            if grade is not None and scale is not None and grade >= scale.alert_from:
                out.append(
                    f"{scale.title} grade {scale.grade_text(grade)} ({PHASE_TITLES.get(c.get('phase') or '', '')})"
                )
    return out


# ----------------------------------------------------------------------------- signature


def check_patient_signature(row: Mapping[str, Any], rules: ProofRules | None = None) -> None:
    """Who signed (patient, or a named caregiver with relation), or why nobody could."""
    rules = rules or load_rules()
    signer, reason = row.get("patient_signer"), row.get("no_signature_reason")
    if signer is not None and reason is not None:
        raise InputError(
            "Record either the signature or the reason there is none, not both.", field="no_signature_reason"
        )
    if signer == "caregiver":
        if not row.get("patient_signer_name"):
            raise InputError("Enter the caregiver's name.", field="patient_signer_name")
        if not row.get("patient_signer_relation"):
            raise InputError(
                "Choose the caregiver's relation to the patient.", field="patient_signer_relation"
            )
    if signer is not None and not row.get("patient_signature_strokes"):
        raise InputError(
            "The signature pad is empty: ask the patient to sign, or record why not.",
            field="patient_signature_strokes",
        )
    relation = row.get("patient_signer_relation")
    if relation is not None and relation not in ids(rules.relations):
        raise InputError(
            f"Relation must be one of {', '.join(ids(rules.relations))}, not {relation!r}.",
            field="patient_signer_relation",
        )
    if reason is not None:
        choice = next((r for r in rules.no_signature_reasons if r.id == reason), None)
        if choice is None:
            raise InputError(
                f"Reason must be one of {', '.join(ids(rules.no_signature_reasons))}, not {reason!r}.",
                field="no_signature_reason",
            )
        if choice.needs_note and not row.get("no_signature_note"):
            raise InputError(f"\u201c{choice.title}\u201d: say why in the note.", field="no_signature_note")


def check_strokes(value: Any) -> list[list[list[float]]]:
    """Signature strokes: a list of strokes, each a list of [x, y] points (pad coordinates)."""
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError("The signature must have at least one stroke.", field="patient_signature_strokes")
    strokes: list[list[list[float]]] = []
    points = 0
    for stroke in value:
        if not isinstance(stroke, (list, tuple)) or not stroke:
            raise InputError(
                "Each signature stroke must be a list of points.", field="patient_signature_strokes"
            )
        out = []
        for point in stroke:
            if (
                not isinstance(point, (list, tuple))
                or len(point) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
                or not all(-1e4 <= float(v) <= 1e5 for v in point)
            ):
                raise InputError(
                    "A signature point must be [x, y] in pad coordinates.", field="patient_signature_strokes"
                )
            out.append([round(float(point[0]), 1), round(float(point[1]), 1)])
        points += len(out)
        strokes.append(out)
    if points > 20000:
        raise InputError(
            "The signature has too many points (at most 20,000): clear it and sign again.",
            field="patient_signature_strokes",
        )
    return strokes


def signature_problems(visit: Mapping[str, Any], rules: ProofRules | None = None) -> list[str]:
    """What stops signing on the patient's side (policy may make the signature required)."""
    rules = rules or load_rules()
    if visit.get("patient_signer") or visit.get("no_signature_reason"):
        return []
    if rules.require_patient_signature:
        return ["the patient's (or caregiver's) signature, or the reason there is none, is not recorded"]
    return []


# ----------------------------------------------------------------------------- where


def address_text(patient: Mapping[str, Any]) -> str:
    """The patient's service address on one line ("" when none is recorded)."""
    parts = [patient.get("address_line"), patient.get("address_city")]
    region = " ".join(p for p in (patient.get("address_state"), patient.get("address_postal_code")) if p)
    return ", ".join(p for p in (*parts, region) if p)


def check_location(row: Mapping[str, Any], rules: ProofRules | None = None) -> None:
    rules = rules or load_rules()
    kind = row.get("location_kind")
    if kind is None:
        return
    if not row.get("location_address"):
        raise InputError(
            "The patient has no service address on record: enter where the visit took place."
            if kind == SERVICE_ADDRESS
            else "Enter where the visit took place.",
            field="location_address",
        )
    lat, lon = row.get("location_latitude"), row.get("location_longitude")
    if (lat is None) != (lon is None):
        raise InputError("Enter both latitude and longitude, or neither.", field="location_latitude")
    if rules.require_coordinates and lat is None:
        raise InputError(
            "Your agency's policy asks for the coordinates: type the latitude and longitude.",
            field="location_latitude",
        )


def location_problems(visit: Mapping[str, Any]) -> list[str]:
    if not visit.get("location_kind"):
        return ["where the visit took place is not confirmed (confirm the service address at arrival)"]
    return []


def location_line(visit: Mapping[str, Any]) -> str:
    if not visit.get("location_kind"):
        return "not confirmed"
    where = visit.get("location_address") or ""
    text = (
        f"{where} (service address)"
        if visit["location_kind"] == SERVICE_ADDRESS
        else f"{where} (not the service address)"
    )
    if visit.get("location_latitude") is not None:
        text += f", {visit['location_latitude']:.5f}, {visit['location_longitude']:.5f} (typed)"
    return text


# ----------------------------------------------------------------------------- times and EVV


def _moment(text: str | None) -> _dt.datetime | None:
    return _dt.datetime.fromisoformat(text) if text else None


def minutes_between(start: str | None, end: str | None) -> float | None:
    a, b = _moment(start), _moment(end)
    if a is None or b is None:
        return None
    return (b - a).total_seconds() / 60


def visit_length_text(visit: Mapping[str, Any]) -> str:
    minutes = minutes_between(visit.get("started_at"), visit.get("ended_at"))
    return fmt_minutes(minutes) if minutes is not None else "not yet (no departure)"


@dataclass(frozen=True)
class EvvItems:
    """The six EVV items of one visit (21st Century Cures Act §12006)."""

    visit_id: int
    service_type: str
    person_served: str
    date: str
    location: str
    provider: str
    start: str | None
    end: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "visit_id": self.visit_id,
            "service_type": self.service_type,
            "person_served": self.person_served,
            "date": self.date,
            "location": self.location,
            "provider": self.provider,
            "start": self.start,
            "end": self.end,
        }

    @property
    def missing(self) -> list[str]:
        names = {"location": self.location, "start": self.start, "end": self.end, "provider": self.provider}
        return [k for k, v in names.items() if not v]


def evv_items(
    visit: Mapping[str, Any],
    patient: Mapping[str, Any],
    day: _dt.date | None,
    rules: ProofRules | None = None,
) -> EvvItems:
    rules = rules or load_rules()
    return EvvItems(
        visit_id=visit["id"],
        service_type=rules.service_type,
        person_served=f"{patient['name']} (MRN {patient['mrn']})",
        date=day.isoformat() if day else "",
        location=visit.get("location_address") or "",
        provider=visit.get("signed_by") or visit.get("nurse_name") or "",
        start=visit.get("started_at"),
        end=visit.get("ended_at"),
    )


def check_time_correction(field: str, reason: str) -> None:
    if field not in ("started_at", "ended_at"):
        raise InputError("Only the arrival or the departure time can be corrected here.", field="field")
    if not reason.strip():
        raise InputError("Say why the time is corrected.", field="reason")


# ----------------------------------------------------------------------------- a PNG without Qt


def render_png(strokes: Sequence[Sequence[Sequence[float]]], width: int, height: int) -> bytes:
    """Signature strokes drawn black on white as a greyscale PNG, in pure Python (the demo data
    and the command line have no Qt; the signature pad renders its own)."""
    import struct
    import zlib

    pixels = [bytearray(b"\xff" * width) for _ in range(height)]

    def dot(x: float, y: float) -> None:
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                px, py = round(x) + dx, round(y) + dy
                if 0 <= px < width and 0 <= py < height:
                    pixels[py][px] = 0

    for stroke in strokes:
        for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
            steps = max(int(max(abs(x1 - x0), abs(y1 - y0))), 1)
            for i in range(steps + 1):
                dot(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
        if len(stroke) == 1:
            dot(*stroke[0])
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def demo_strokes(seed: int) -> list[list[list[float]]]:
    """A made-up signature-like scribble (demo data only)."""
    import math
    import random

    rng = random.Random(seed)
    strokes = []
    x = 30.0
    for _ in range(rng.randint(2, 3)):
        points = []
        amplitude, speed = rng.uniform(18, 34), rng.uniform(0.18, 0.32)
        for i in range(60):
            points.append([round(x + i * 2.4, 1), round(90 + amplitude * math.sin(i * speed) - i * 0.3, 1)])
        strokes.append(points)
        x += 150 + rng.uniform(0, 30)
    return strokes


def signature_png(visit: Mapping[str, Any]) -> bytes | None:
    """The visit's stored patient signature image as PNG bytes (None without one, or unreadable)."""
    import base64
    import binascii

    data = visit.get("patient_signature_png")
    if not data:
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
