"""Proof of visit as display text (issue 23): the EVV line, the visit's times, where it took
place, the patient's signature, and the IV line record.

Pure functions of a visit row, the patient and the access rows: the visit summary
(:mod:`nurse_app.reports.visit_data`), the Sign and Access tabs and ``nurse-app evv`` use them,
so the screen, the PDF and the export say the same thing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nurse_app.core import infusion_record, visit_proof
from nurse_app.core.formatting import fmt_date, fmt_minutes, fmt_qty
from nurse_app.core.times import to_local

NO_VALUE = "\u2014"


def _clock(text: str | None, with_date: bool = False) -> str:
    if not text:
        return NO_VALUE
    moment = to_local(text)
    return f"{fmt_date(moment.date())} {moment:%H:%M}" if with_date else f"{moment:%H:%M}"


def _yes_no(value: Any) -> str:
    return NO_VALUE if value is None else ("yes" if value else "no")


# ----------------------------------------------------------------------------- times


def infusion_times(events: Sequence[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """The infusion's own start and end (first start, last stop or finish), as stored text."""
    live = [e for e in events if not e.get("corrected_at")]
    starts = [e["occurred_at"] for e in live if e["kind"] == "start"]
    ends = [e["occurred_at"] for e in live if e["kind"] in infusion_record.CLOSING_KINDS]
    return (min(starts) if starts else None, max(ends) if ends else None)


def time_lines(
    visit: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = ()
) -> tuple[tuple[str, str], ...]:
    """Arrival, departure, time in the home (visit length), the infusion's own times, and
    every correction of arrival or departure with its reason."""
    arrived, departed = visit.get("started_at"), visit.get("ended_at")
    rows = [
        ("Arrival", _clock(arrived, True)),
        ("Departure", _clock(departed, True) if departed else "not recorded (mark leaving on the Sign tab)"),
        ("Time in the home (visit length)", visit_proof.visit_length_text(visit)),
    ]
    start, end = infusion_times(events)
    if start:
        minutes = visit_proof.minutes_between(start, end)
        rows.append(
            (
                "Infusion (its own times)",
                f"{_clock(start)} to {_clock(end) if end else '(running)'}"
                + (f": {fmt_minutes(minutes)}" if minutes is not None and minutes >= 0 else ""),
            )
        )
    for c in visit.get("time_corrections") or ():
        what = "Arrival" if c.get("field") == "started_at" else "Departure"
        rows.append(
            (
                f"{what} corrected",
                f"{_clock(c.get('from'))} \u2192 {_clock(c.get('to'))} by {c.get('by')} at "
                f"{_clock(c.get('at'), True)}: {c.get('reason')}",
            )
        )
    return tuple(rows)


# ----------------------------------------------------------------------------- where, EVV


def patient_contact_rows(patient: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    rows = []
    address = visit_proof.address_text(patient)
    if address:
        rows.append(("Service address", address))
    phones = [
        f"{label} {patient[k]}"
        for k, label in (("phone_home", "home"), ("phone_mobile", "mobile"))
        if patient.get(k)
    ]
    if phones:
        rows.append(("Phone", " · ".join(phones)))
    if patient.get("emergency_contact_name"):
        relation = (
            f" ({patient['emergency_contact_relation']})" if patient.get("emergency_contact_relation") else ""
        )
        phone = f", {patient['emergency_contact_phone']}" if patient.get("emergency_contact_phone") else ""
        rows.append(("Emergency contact", f"{patient['emergency_contact_name']}{relation}{phone}"))
    return tuple(rows)


def evv_line(visit: Mapping[str, Any], patient: Mapping[str, Any], day: _dt.date | None) -> str:
    """The six EVV items on one line, heading the summary."""
    items = visit_proof.evv_items(visit, patient, day)
    start = _clock(items.start) if items.start else "not recorded"
    end = _clock(items.end) if items.end else "not recorded"
    return (
        f"EVV: {items.service_type} · {items.person_served} · {fmt_date(day) if day else 'no date'} · "
        f"{items.location or 'location not confirmed'} · {items.provider or 'no nurse'} · {start} to {end}"
    )


# ----------------------------------------------------------------------------- signature


@dataclass(frozen=True)
class PatientSignature:
    rows: tuple[tuple[str, str], ...]
    png: bytes | None  # the rendered signature (None: no signature)


def patient_signature(visit: Mapping[str, Any], png: bytes | None) -> PatientSignature:
    rules = visit_proof.load_rules()
    signer = visit.get("patient_signer")
    if signer:
        who = visit.get("patient_signer_name") or ""
        if signer == "caregiver":
            relation = visit_proof.title_of(rules.relations, visit.get("patient_signer_relation"))
            rows = (("Signed by", f"{who}, caregiver ({relation.lower()})"),)
        else:
            rows = (("Signed by", f"{who} (the patient)"),)
        return PatientSignature((*rows, ("Signed at", _clock(visit.get("patient_signed_at"), True))), png)
    reason = visit.get("no_signature_reason")
    if reason:
        text = visit_proof.title_of(rules.no_signature_reasons, reason)
        if visit.get("no_signature_note"):
            text += f": {visit['no_signature_note']}"
        return PatientSignature((("No signature", text),), None)
    return PatientSignature((("Patient signature", "not recorded"),), None)


# ----------------------------------------------------------------------------- the IV line


def site_text(row: Mapping[str, Any]) -> str:
    """``Left forearm``: the side and the site of a device."""
    rules = visit_proof.load_rules()
    side = visit_proof.title_of(rules.sides, row.get("side"))
    site = visit_proof.title_of(rules.sites, row.get("site"))
    return f"{side} {site.lower()}".strip() if side else site


ACCESS_HEADERS = ("Device", "Size", "Site", "Placed", "Result", "Blood return", "Removal / checks")
CHECK_HEADERS = ("Time", "Device", "Check", "Result")


def device_rows(devices: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, ...], ...]:
    rules = visit_proof.load_rules()
    out = []
    for d in devices:
        device = rules.device(d["device_type"])
        size = " ".join(
            p
            for p in (
                f"{d['gauge']} G" if d.get("gauge") is not None else "",
                fmt_qty(d["length_mm"], "mm") if d.get("length_mm") is not None else "",
            )
            if p
        )
        site = site_text(d)
        placed = _clock(d.get("placed_at")) if d.get("placed_at") else NO_VALUE
        if d.get("placed_by"):
            placed += f" by {d['placed_by']}"
        if device is not None and device.existing:
            result = "existing line"
            detail = (
                f"patent: {_yes_no(d.get('patency'))}; dressing: "
                f"{visit_proof.title_of(rules.dressings, d.get('dressing')) or NO_VALUE}; not removed (stays in place)"
            )
        else:
            result = (
                NO_VALUE if d.get("success") is None else ("successful" if d["success"] else "unsuccessful")
            )
            if d.get("removed_at"):
                detail = (
                    f"removed {_clock(d['removed_at'])}, catheter intact: {_yes_no(d.get('catheter_intact'))}, "
                    f"site: {visit_proof.title_of(rules.removal_conditions, d.get('removal_condition')) or NO_VALUE}"
                )
            else:
                detail = "not in place" if d.get("success") is False else "not removed yet"
        if d.get("note"):
            detail += f"; {d['note']}"
        out.append(
            (
                visit_proof.device_label(d, rules),
                size or NO_VALUE,
                site or NO_VALUE,
                placed,
                result,
                _yes_no(d.get("blood_return")),
                detail,
            )
        )
    return tuple(out)


def check_rows(
    devices: Sequence[Mapping[str, Any]], checks: Sequence[Mapping[str, Any]]
) -> tuple[tuple[str, ...], ...]:
    rules = visit_proof.load_rules()
    names = {d["id"]: visit_proof.device_label(d, rules) for d in devices}
    out = []
    for c in checks:
        if c["kind"] == visit_proof.FLUSH:
            what = "Flush"
            result = (
                f"{visit_proof.title_of(rules.flushes, c.get('solution'))}, {fmt_qty(c['volume_ml'], 'mL')}"
            )
        else:
            what = f"Site assessment ({visit_proof.PHASE_TITLES.get(c.get('phase') or '', '').lower()})"
            parts = []
            for scale_id in ("phlebitis", "infiltration"):
                grade = c.get(f"{scale_id}_grade")
                if grade is not None:
                    scale = rules.scales[scale_id]
                    mark = " [check the site]" if grade >= scale.alert_from else ""
                    parts.append(f"{scale.title.split()[0]} {scale.grade_text(grade)}{mark}")
            result = "; ".join(parts)
        if c.get("note"):
            result += f"; {c['note']}"
        out.append((_clock(c["checked_at"]), names.get(c["device_id"], str(c["device_id"])), what, result))
    return tuple(out)


def scale_source_lines() -> tuple[str, ...]:
    """Where the site scales come from, as the app says it (UNVERIFIED where so)."""
    rules = visit_proof.load_rules()
    return tuple(f"{s.title}: {s.note}" for s in rules.scales.values())


def line_rules(template: Any, product: Any = None) -> tuple[tuple[str, str], ...]:
    """The product's line rules as the checklist holds them: (item text, help with the product's
    own line rule where the item carries it), for the items ``resources/visit_proof.toml``
    [line_rules] names that the visit's template has."""
    from nurse_app.core.checklists import item_help
    from nurse_app.core.errors import InputError

    out = []
    for item_id in visit_proof.load_rules().line_rule_items:
        try:
            item = template.item(item_id)
        except InputError:  # an older template without the item shows the rest
            continue
        out.append((item.text, item_help(item, product)))
    return tuple(out)


def visit_product(product_id: str | None) -> Any:
    """The catalogue product of a visit's order (None when unknown)."""
    if not product_id:
        return None
    from nurse_app.core.catalogue import load_catalogue
    from nurse_app.core.errors import NurseAppError

    try:
        return load_catalogue().products.get(product_id)
    except NurseAppError:
        return None


__all__ = [
    "ACCESS_HEADERS",
    "CHECK_HEADERS",
    "PatientSignature",
    "check_rows",
    "device_rows",
    "evv_line",
    "infusion_times",
    "line_rules",
    "patient_contact_rows",
    "patient_signature",
    "scale_source_lines",
    "time_lines",
]
