"""The visit summary's data step: store -> :class:`VisitSummary` (no drawing).

:func:`load_visit` reads everything about one visit from the store in one go
(:class:`VisitRecord`, raw rows); :func:`summarize` turns it into a
:class:`VisitSummary` of plain, display-ready text: every number through the ISMP
formatter of :mod:`nurse_app.core.formatting`, every time in the laptop's local
time with the month in letters, abnormal vital signs flagged by
:mod:`nurse_app.core.vitals`, lots compared with the day's vial plan.

Why a separate step: the PDF (:mod:`nurse_app.reports.visit_summary`), the printed
page (``nurse_app.ui.visit.export``) and anything else that shows a visit lay out
the *same* summary, so they cannot disagree; the FHIR export
(:mod:`nurse_app.reports.fhir`) builds on the same :class:`VisitRecord`.

Agency details (name, address, phones) are the ones the patient handout uses, read
through :func:`nurse_app.core.agency.details_from_setting`.  The nurse is the one who documented the visit, else the
``nurse`` setting, else the nurse profile.  A partial or missing calculation
snapshot (older records) leaves the missing parts out instead of failing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nurse_app.core import checklists, infusion_record, visit_logic
from nurse_app.core.agency import ADDRESS, AGENCY_SETTING, details_from_setting
from nurse_app.core.allergies import Allergies, allergies
from nurse_app.core.catalogue import CONFIRM_WITH_INSERT, Catalogue, load_catalogue
from nurse_app.core.dosing import calculate
from nurse_app.core.errors import NurseAppError
from nurse_app.core.formatting import (
    DEFAULT_DECIMALS,
    fmt_change,
    fmt_count,
    fmt_measured,
    fmt_minutes,
    fmt_number,
    fmt_qty,
)
from nurse_app.core.late_entry import is_late
from nurse_app.core.lots import check_lots
from nurse_app.core.reactions import kind_label, severity_label
from nurse_app.core.seal_text import short_seal
from nurse_app.core.visit_logic import RISK_LABELS, order_risks, request_from_order, whole_years
from nurse_app.core.vitals import LOCAL_POLICY, flag_series, vital_measures
from nurse_app.services.schedule import call_summary_lines
from nurse_app.store import Store, to_local
from nurse_app.store.fields import VITAL_MEASURES, reading_measures

TITLE = "IVIG visit summary"
DRAFT_MARK = "DRAFT"
NO_VALUE = "—"
MARK_HIGH, MARK_LOW, MARK_CHANGE = "H", "L", "Δ"
STATUS_LABELS = {
    checklists.DONE: "Done",
    checklists.NOT_DONE: "Not done",
    checklists.NOT_APPLICABLE: "Not applicable",
}
VITALS_HEADERS = ("Time", "Temp °C", "Pulse /min", "BP mmHg", "Resp /min", "SpO2 %", "Rate mL/h", "Note")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class VisitRecord:
    """Everything stored about one visit, read from the store in one go (raw rows)."""

    visit: dict
    patient: dict
    order: dict | None
    checklist: list[dict]
    vitals: list[dict]
    vitals_entered: dict[int, _dt.datetime]  # when each reading was entered (late entries show it)
    reactions: list[dict]
    lots: list[dict]
    addenda: list[dict]
    settings: dict[str, str]
    profile_nurse: str | None
    seal_ok: bool | None  # None for a draft
    signing_problems: list[str]
    # Signed visits with a signing snapshot: ``patient`` and ``order`` above are as they
    # were at signing; these are the fields changed since: (section, label, value now).
    changed_since_signing: tuple[tuple[str, str, str], ...] = ()
    # Signed follow-up call records made since the patient's previous visit (issue 16).
    followup_calls: tuple[dict, ...] = ()
    infusion_events: tuple[dict, ...] = ()
    # The signing entry's position in the audit chain (None: a draft, or a record without it).
    seal_chain_position: int | None = None

    @property
    def outcome(self):
        """The infusion's outcome with the volume given (core.infusion_record, the one rule)."""
        return infusion_record.infusion_outcome(
            self.infusion_events, infusion_record.planned_volume_ml(self.visit.get("calculation"))
        )

    @property
    def signed(self) -> bool:
        return self.visit["status"] == "signed"

    @property
    def calculation(self) -> dict:
        return self.visit.get("calculation") or {}

    @property
    def nurse(self) -> str:
        return self.visit.get("nurse_name") or self.settings.get("nurse") or self.profile_nurse or ""

    @property
    def allergies(self) -> Allergies:
        """The patient's allergies as the one core rule reads them."""
        return allergies(self.patient.get("allergies"))

    def allergy_list(self) -> list[str]:
        """The patient's allergies as separate entries (empty for none known or not recorded)."""
        return list(self.allergies.entries)

    @property
    def visit_day(self) -> _dt.date | None:
        """The local day of the visit (started, else scheduled); None without either."""
        return visit_logic.visit_day(self.visit, created=False)


def load_visit(store: Store, visit_id: int) -> VisitRecord:
    """Read one visit and all it refers to (raises the store's ``NotFoundError``)."""
    visit = store.get_visit(visit_id)
    children = store.visit_children(visit_id)
    signed = visit["status"] == "signed"
    profile = store.nurse_profile()
    patient = store.get_patient(visit["patient_id"])
    order = store.get_order(visit["order_id"]) if visit.get("order_id") else None
    changes: tuple[tuple[str, str, str], ...] = ()
    if signed and visit.get("signed_snapshot"):
        # Signed -> use the snapshot: the summary shows what was signed; later edits of
        # the patient or order appear only as "changed since signing" notes.
        patient, order, changes = _as_signed(visit["signed_snapshot"], patient, order)
    return VisitRecord(
        visit=visit,
        patient=patient,
        order=order,
        changed_since_signing=changes,
        checklist=store.visit_checklist(visit_id),
        vitals=children["vitals"],
        vitals_entered=store.entered_times("vitals", visit_id),
        reactions=children["reactions"],
        lots=children["lots"],
        addenda=children["addenda"],
        infusion_events=tuple(children["infusion_events"]),
        settings=details_from_setting(store.get_setting(AGENCY_SETTING, {})),
        profile_nurse=profile["display"] if profile else None,
        seal_ok=store.verify_visit(visit_id) if signed else None,
        signing_problems=[] if signed else store.signing_problems(visit_id),
        followup_calls=_calls_before(store, visit),
        seal_chain_position=store.seal_chain_position(visit_id) if signed else None,
    )


def _calls_before(store: Store, visit: Mapping[str, Any]) -> tuple[dict, ...]:
    """Signed follow-up calls of the patient after the previous visit and up to this one."""
    moment = visit_logic.visit_moment
    this = moment(visit)
    others = (moment(v) for v in store.patient_visits(visit["patient_id"]) if v["id"] != visit["id"])
    earlier = [m for m in others if m and this and m < this]
    return tuple(store.calls_since(visit["patient_id"], max(earlier) if earlier else None, this))


CHANGED_SINCE_SIGNING = "Changed since signing"
_SNAPSHOT_LABELS = {
    "patient": {
        "mrn": "MRN",
        "name": "Name",
        "date_of_birth": "Date of birth",
        "sex": "Sex",
        "height_cm": "Height (cm)",
        "allergies": "Allergies",
        "indication": "Indication",
        "prescriber": "Prescriber",
    },
    "order": {
        "product_id": "Product",
        "regimen_id": "Regimen",
        "dose_g_per_kg": "Dose (g/kg)",
        "course_days": "Days",
        "interval_days": "Interval (days)",
        "start_date": "Start date",
        "prescriber": "Prescriber",
        "active": "Active",
        "notes": "Order notes",
        "weight_basis": "Weight basis",
        "max_rate_mg_kg_min": "Maximum rate (mg/kg/min)",
        "acknowledgements": "Acknowledged warnings",
    },
}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return NO_VALUE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return fmt_number(value, 4)
    return str(value)


def _as_signed(
    snapshot: Mapping[str, Any], patient: dict, order: dict | None
) -> tuple[dict, dict | None, tuple[tuple[str, str, str], ...]]:
    """The patient and order as signed, and what differs now (section, label, now)."""
    changes = []
    signed_patient = {**patient, **(snapshot.get("patient") or {})}
    for key, label in _SNAPSHOT_LABELS["patient"].items():
        if key in (snapshot.get("patient") or {}) and patient.get(key) != signed_patient.get(key):
            changes.append(("patient", label, _shown(patient.get(key))))
    signed_order = order
    if snapshot.get("order") is not None:
        signed_order = {**(order or {}), **snapshot["order"]}
        for key, label in _SNAPSHOT_LABELS["order"].items():
            if order is not None and key in snapshot["order"] and order.get(key) != signed_order.get(key):
                changes.append(("order", label, _shown(order.get(key))))
    return signed_patient, signed_order, tuple(changes)


def _changed_rows(record: VisitRecord, section: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (CHANGED_SINCE_SIGNING, f"{label} is now {now} (the signed value is shown above)")
        for where, label, now in record.changed_since_signing
        if where == section
    )


@dataclass(frozen=True)
class TableData:
    """A table of display text.  ``flagged`` holds the (row, column) of abnormal values;
    ``total`` is an optional closing row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    flagged: frozenset[tuple[int, int]] = frozenset()
    total: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DoseSection:
    """The dose calculation exactly as saved with the visit."""

    weights: tuple[tuple[str, str], ...]
    dose: tuple[tuple[str, str], ...]
    formulas: tuple[str, ...]
    vial_plan: TableData | None
    rates: TableData | None
    rate_note: str
    warnings: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ChecklistPhase:
    title: str
    table: TableData


@dataclass(frozen=True)
class ReactionEntry:
    when: str
    kind: str
    severity: str
    rate_at_onset: str
    action: str
    outcome: str
    note: str


@dataclass(frozen=True)
class AddendumEntry:
    when: str
    author: str
    text: str


@dataclass(frozen=True)
class VisitSummary:
    """A visit as display text: what every rendering of the summary shows."""

    visit_id: int
    draft: bool
    title: str
    agency_lines: tuple[str, ...]  # name, address, phone line (only those set)
    nurse: str
    when: str  # visit date and time range
    patient_line: str  # name and MRN, for the running header
    status_line: str
    patient: tuple[tuple[str, str], ...]
    order: tuple[tuple[str, str], ...]
    dose: DoseSection | None  # None when no calculation was saved
    lots: TableData | None  # None when no lot was recorded
    lots_check: str  # lots against the vial plan and the daily dose
    lots_alert: bool  # ... and the nurse should look again
    checklist: tuple[ChecklistPhase, ...]
    vitals: TableData
    vitals_legend: tuple[str, ...]
    vital_flags: tuple[str, ...]  # one sentence per abnormal value
    reactions: tuple[ReactionEntry, ...]
    notes: str
    addenda: tuple[AddendumEntry, ...]
    signature: tuple[tuple[str, str], ...]
    signature_alert: str | None  # seal broken, or what stops signing
    generated: str
    footer: str = field(default="")
    # Follow-up calls since the previous visit, each as lines of text.
    followup_calls: tuple[tuple[str, ...], ...] = ()
    infusion: TableData | None = None  # the timeline: every event, rates in mL/h and mg/kg/min
    infusion_lines: tuple[str, ...] = ()  # outcome, volume given, total time


def reactions_table(summary: VisitSummary) -> TableData:
    """The reactions as one table (time, reaction, severity, rate at onset, action, outcome)."""
    return TableData(
        ("Time", "Reaction", "Severity", "Rate at onset", "Action taken", "Outcome"),
        tuple(
            (
                r.when,
                r.kind + (f" ({r.note})" if r.note else ""),
                r.severity,
                r.rate_at_onset,
                r.action,
                r.outcome,
            )
            for r in summary.reactions
        ),
    )


def visit_summary(store: Store, visit_id: int, now: _dt.datetime | None = None) -> VisitSummary:
    """The summary of one visit, straight from the store."""
    return summarize(load_visit(store, visit_id), now=now)


# --------------------------------------------------------------------------- text helpers


def _local(moment: str | None) -> _dt.datetime | None:
    return to_local(moment) if moment else None


def _date_text(day: _dt.date) -> str:
    """``17 May 1962``: month in letters, never a 05/06 that reads two ways (the one format of
    core.formatting.fmt_date, shared with every screen)."""
    from nurse_app.core.formatting import fmt_date

    return fmt_date(day)


def _day_text(moment: _dt.datetime) -> str:
    return f"{_DAYS[moment.weekday()]} {_date_text(moment.date())}"


def _clock(moment: _dt.datetime) -> str:
    return f"{moment:%H:%M}"


def _stamp(moment: _dt.datetime) -> str:
    """``24 Nov 2026 19:10 CET``."""
    return f"{_date_text(moment.date())} {_clock(moment)} {moment.tzname() or ''}".rstrip()


def _time_on(moment_text: str | None, day: _dt.date | None) -> str:
    """Clock time; with the date in front when it is not the visit's day."""
    moment = _local(moment_text)
    if moment is None:
        return NO_VALUE
    if day is None or moment.date() != day:
        return f"{moment.day} {_MONTHS[moment.month - 1]} {_clock(moment)}"
    return _clock(moment)


def _iso_date(text: str | None) -> str:
    if not text:
        return NO_VALUE
    try:
        return _date_text(_dt.date.fromisoformat(text))
    except ValueError:
        return text


def _qty(value: Any, unit: str, decimals: int | None = None) -> str:
    return NO_VALUE if value is None else fmt_qty(value, unit, decimals)


def _num(value: Any, decimals: int) -> str:
    return "" if value is None else fmt_number(value, decimals)


def _catalogue() -> Catalogue | None:
    """The product/regimen catalogue for names, or None if it cannot be loaded (the
    summary then shows the stored ids: a broken resource file must not stop a summary)."""
    try:
        return load_catalogue()
    except NurseAppError:
        return None


def _product_text(product_id: str | None, calc: Mapping[str, Any], catalogue) -> str:
    if not product_id:
        return NO_VALUE
    product = catalogue.products.get(product_id) if catalogue else None
    if product is not None:
        return f"{product.display_name} ({product.manufacturer})"
    if calc.get("product") == product_id and calc.get("product_brand"):
        text = calc["product_brand"]
        if calc.get("concentration_percent") is not None:
            text += f" {fmt_qty(calc['concentration_percent'], '%')}"
        return text
    return product_id


def _regimen_text(regimen_id: str | None, catalogue) -> str:
    if not regimen_id:
        return NO_VALUE
    regimen = catalogue.regimens.get(regimen_id) if catalogue else None
    return regimen.name if regimen is not None else regimen_id


# --------------------------------------------------------------------------- blocks


def _header(record: VisitRecord) -> tuple[tuple[str, ...], str]:
    s = record.settings
    lines = [s[k] for k in ("agency", ADDRESS) if s.get(k)]
    phones = [
        f"{label} {s[k]}" for k, label in (("phone", "Phone"), ("after_hours", "After hours")) if s.get(k)
    ]
    if phones:
        lines.append(" · ".join(phones))
    visit = record.visit
    start = _local(visit.get("started_at"))
    end = _local(visit.get("ended_at"))
    if start is None:
        scheduled = _local(visit.get("scheduled_at"))
        when = (
            f"{_day_text(scheduled)}, scheduled {_clock(scheduled)} {scheduled.tzname() or ''}"
            if scheduled
            else "Not started"
        )
    elif end is None:
        when = f"{_day_text(start)}, {_clock(start)} to (not ended) {start.tzname() or ''}"
    elif end.date() == start.date():
        when = f"{_day_text(start)}, {_clock(start)} to {_clock(end)} {end.tzname() or ''}"
    else:
        when = f"{_day_text(start)} {_clock(start)} to {_day_text(end)} {_clock(end)} {end.tzname() or ''}"
    return tuple(lines), when.rstrip()


def _age(born: str | None, on: _dt.date) -> str:
    years = whole_years(born, on) if born else None
    return "" if years is None else f" (age {years})"


def _patient_block(record: VisitRecord, catalogue) -> tuple[tuple[str, str], ...]:
    p = record.patient
    day = record.visit_day or _dt.date.today()
    indication = p.get("indication")
    return (
        ("Name", p["name"]),
        ("MRN", p["mrn"]),
        ("Date of birth", _iso_date(p.get("date_of_birth")) + _age(p.get("date_of_birth"), day)),
        ("Sex", (p.get("sex") or NO_VALUE).capitalize()),
        ("Height", _qty(p.get("height_cm"), "cm")),
        ("Allergies", record.allergies.text),
        ("Indication", _regimen_text(indication, catalogue) if indication else NO_VALUE),
        *_changed_rows(record, "patient"),
    )


def _order_block(record: VisitRecord, catalogue) -> tuple[tuple[str, str], ...]:
    visit, order, calc = record.visit, record.order, record.calculation
    course = f"Day {fmt_number(visit['course_day'], 0)} of {fmt_number(visit['course_days'], 0)}"
    if order is None:
        product = _product_text(calc.get("product"), calc, catalogue)
        return (("Order", "No order linked to this visit"), ("Product", product), ("This visit", course))
    regimen = catalogue.regimens.get(order["regimen_id"]) if catalogue and order.get("regimen_id") else None
    dose = order.get("dose_g_per_kg")
    if dose is None:
        dose = calc.get("dose_g_per_kg") or (regimen.course_g_per_kg if regimen else None)
    days = order.get("course_days") or calc.get("days") or (regimen.days if regimen else None)
    interval = order.get("interval_days")
    start_warnings = (visit.get("start_acknowledgements") or {}).get("warnings") or []
    return (
        ("Product", _product_text(order["product_id"], calc, catalogue)),
        ("Regimen", _regimen_text(order.get("regimen_id"), catalogue)),
        ("Dose", f"{_qty(dose, 'g/kg')} per course" if dose is not None else NO_VALUE),
        ("Days", fmt_count(days, "day") if days else NO_VALUE),
        ("Interval", f"every {fmt_count(interval, 'day')}" if interval else NO_VALUE),
        *(
            (("Weight basis", order["weight_basis"]),)
            if order.get("weight_basis") not in (None, "auto")
            else ()
        ),
        *(
            (("Maximum rate", _qty(order["max_rate_mg_kg_min"], "mg/kg/min")),)
            if order.get("max_rate_mg_kg_min") is not None
            else ()
        ),
        *(
            (("Risk flags", ", ".join(RISK_LABELS[r] for r in sorted(order_risks(order)))),)
            if order_risks(order)
            else ()
        ),
        ("Start date", _iso_date(order.get("start_date"))),
        ("Prescriber", order.get("prescriber") or NO_VALUE),
        ("This visit", course),
        *(
            (
                (
                    "Started early",
                    "; ".join(
                        f"{w['message']} Acknowledged {_stamp(to_local(w['acknowledged_at']))}."
                        for w in start_warnings
                    ),
                ),
            )
            if start_warnings
            else ()
        ),
        *_changed_rows(record, "order"),
    )


def order_mismatch(record: VisitRecord) -> str | None:
    """On a draft, whether the saved calculation still matches the order as it stands, worked
    out again with the one builder (``request_from_order``) at the same weight and risks: an
    order edited after the Dose tab ran must not go unnoticed into the signed record."""
    calc = record.calculation
    if record.signed or not calc or record.order is None or calc.get("actual_weight_kg") is None:
        return None
    try:
        now = calculate(
            request_from_order(
                record.order,
                record.patient,
                calc["actual_weight_kg"],
                on=record.visit_day or _dt.date.today(),
                risks=calc.get("risks") or (),
            )
        )
    except NurseAppError as exc:
        return (
            f"The order as it stands can no longer be worked out ({exc}). Check the order and the Dose tab."
        )
    saved_rates = [s.get("ml_per_h") for s in calc.get("rate_steps") or []]
    if (
        calc.get("daily_dose_g") is not None
        and abs(now.daily_dose_g - calc["daily_dose_g"]) < 1e-9
        and saved_rates == [s.ml_per_h for s in now.rate_steps]
    ):
        return None
    return (
        f"The order has changed since this calculation: it now comes to {fmt_qty(now.daily_dose_g, 'g')} a day, "
        f"rate up to {fmt_qty(now.rate_steps[-1].ml_per_h, 'mL/h')}. Open the Dose tab to recalculate "
        f"before signing."
    )


def _dose_section(record: VisitRecord) -> DoseSection | None:
    """The saved calculation.  Tolerates a partial snapshot: what is missing is left out."""
    calc = record.calculation
    if not calc:
        return None
    g: Callable[[str], Any] = calc.get
    basis = g("weight_basis")
    dosing = _qty(g("dosing_weight_kg"), "kg")
    weights = [
        ("Weight at visit", _qty(record.visit.get("weight_kg"), "kg")),
        ("Actual weight", _qty(g("actual_weight_kg"), "kg")),
        ("Height", _qty(g("height_cm"), "cm")),
        ("BMI", _qty(g("bmi"), "kg/m²")),
        ("Ideal weight", _qty(g("ideal_weight_kg"), "kg")),
        ("Adjusted weight", _qty(g("adjusted_weight_kg"), "kg")),
        ("Dosing weight", f"{dosing} ({basis})" if basis else dosing),
    ]
    if g("weight_basis_reason"):
        weights.append(("Basis", g("weight_basis_reason")))
    if g("baseline_weight_kg") is not None:
        change = g("weight_change_percent")
        when = f"{_iso_date(g('baseline_weighed_on'))}; " if g("baseline_weighed_on") else ""
        shown = f" ({when}change {fmt_change(change, '%', 1)})" if change is not None else ""
        weights.insert(2, ("Baseline weight", f"{_qty(g('baseline_weight_kg'), 'kg')}{shown}"))
    days = g("days")
    dose = []
    if g("dose_g_per_kg") is not None:
        over = f" over {fmt_count(days, 'day')}" if days else ""
        daily = (
            f" ({fmt_qty(g('daily_dose_g_per_kg'), 'g/kg/day')})"
            if g("daily_dose_g_per_kg") is not None
            else ""
        )
        dose.append(("Ordered", f"{fmt_qty(g('dose_g_per_kg'), 'g/kg')}{over}{daily}"))
    dose += [
        ("Course total", _qty(g("total_dose_g"), "g")),
        ("Daily dose", _qty(g("daily_dose_g"), "g")),
        (
            "Daily volume",
            _qty(g("daily_volume_ml"), "mL")
            + (
                f" of {fmt_qty(g('concentration_percent'), '%')} solution"
                if g("concentration_percent") is not None and g("daily_volume_ml") is not None
                else ""
            ),
        ),
    ]
    if g("infusion_minutes_per_day") is not None:
        dose.append(("Infusion time", f"about {fmt_minutes(g('infusion_minutes_per_day'))}"))
    return DoseSection(
        weights=tuple((k, v) for k, v in weights if v != NO_VALUE),
        dose=tuple((k, v) for k, v in dose if v != NO_VALUE),
        formulas=tuple(g("formulas") or ()),
        vial_plan=_vial_plan(calc),
        rates=_rates(calc),
        rate_note=_rate_note(calc),
        warnings=tuple(x for x in (order_mismatch(record),) if x) + tuple(g("warnings") or ()),
        notes=tuple(g("notes") or ()),
    )


def _vial_plan(calc: Mapping[str, Any]) -> TableData | None:
    vials = calc.get("vials") or []
    if not vials:
        return None
    rows = tuple(
        (
            fmt_qty(v["size_g"], "g"),
            _qty(v.get("size_ml"), "mL"),
            _num(v["count"], 0),
            fmt_qty(v["size_g"] * v["count"], "g"),
        )
        for v in vials
    )
    dispensed = calc.get("dispensed_g_per_day")
    if dispensed is None:
        dispensed = sum(v["size_g"] * v["count"] for v in vials)
    count = sum(v["count"] for v in vials)
    return TableData(
        ("Vial size", "Volume", "Vials", "Grams"),
        rows,
        total=("Total per day", "", _num(count, 0), fmt_qty(dispensed, "g")),
    )


def _rates(calc: Mapping[str, Any]) -> TableData | None:
    steps = calc.get("rate_steps") or []
    if not steps:
        return None
    rows = tuple(
        (
            f"from {fmt_minutes(s['start_min'])}",
            _num(s.get("mg_per_kg_min"), 2),
            _num(s.get("ml_per_kg_min"), 4),
            _num(s.get("ml_per_h"), 1),
        )
        for s in steps
    )
    return TableData(("Step", "mg/kg/min", "mL/kg/min", "mL/h"), rows)


def _rate_note(calc: Mapping[str, Any]) -> str:
    parts = []
    if calc.get("rate_weight_kg") is not None:
        parts.append(f"Rates for {fmt_qty(calc['rate_weight_kg'], 'kg')}")
    if calc.get("rate_ceiling_mg_per_kg_min") is not None:
        reason = f" ({calc['rate_ceiling_reason']})" if calc.get("rate_ceiling_reason") else ""
        parts.append(f"not above {fmt_qty(calc['rate_ceiling_mg_per_kg_min'], 'mg/kg/min')}{reason}")
    text = ", ".join(parts) + ("." if parts else "")
    if calc.get("rates_verified") is False:
        text += f" {CONFIRM_WITH_INSERT}."
    return text.strip()


def _lots(record: VisitRecord, catalogue) -> tuple[TableData | None, str, bool]:
    """Lots dispensed, how they compare with the day's vial plan and dose, and whether
    that comparison needs the nurse's attention."""
    lots = record.lots
    calc = record.calculation
    if not lots:
        return None, "No product lots recorded for this visit.", bool(calc)
    rows = tuple(
        (
            lot["lot_number"],
            _iso_date(lot["expiry_date"]),
            fmt_qty(lot["vial_size_g"], "g"),
            _num(lot["vial_count"], 0),
            fmt_qty(lot["vial_size_g"] * lot["vial_count"], "g"),
        )
        for lot in lots
    )
    total_g = sum(lot["vial_size_g"] * lot["vial_count"] for lot in lots)
    total = ("Total", "", "", _num(sum(lot["vial_count"] for lot in lots), 0), fmt_qty(total_g, "g"))
    table = TableData(("Lot", "Expiry", "Vial size", "Vials", "Grams"), rows, total=total)
    check = check_lots(
        lots,
        calc,
        product_id=(record.order or {}).get("product_id"),
        visit_day=record.visit_day,
        product_name=lambda pid: _product_text(pid, {}, catalogue),
    )
    return table, check.message, check.alert


def _checklist(record: VisitRecord) -> tuple[ChecklistPhase, ...]:
    day = record.visit_day
    nurse = record.visit.get("nurse_name")
    phases: dict[str, tuple[str, list, set]] = {}
    for item in record.checklist:
        _title, rows, flagged = phases.setdefault(item["phase_id"], (item["phase_title"], [], set()))
        status = item["status"]
        if status is None:
            label = "Not answered (required)" if item["required"] else "Not answered"
        else:
            label = STATUS_LABELS.get(status, status)
        note = item.get("note") or ""
        if item.get("recorded_by") and nurse and item["recorded_by"] != nurse:
            note = f"{note} (by {item['recorded_by']})".strip()
        if status == checklists.NOT_DONE or (status is None and item["required"]):
            flagged.add((len(rows), 1))
        rows.append((item["text"], label, _time_on(item.get("answered_at"), day) if status else "", note))
    return tuple(
        ChecklistPhase(title, TableData(("Item", "Status", "Time", "Note"), tuple(rows), frozenset(flagged)))
        for title, rows, flagged in phases.values()
    )


# Vitals table columns holding one measure: column -> store column.
_SIMPLE_VITALS = {1: "temperature_c", 2: "heart_rate", 4: "respiratory_rate", 5: "spo2_percent"}
_MARKS = {"high": MARK_HIGH, "low": MARK_LOW, "change": MARK_CHANGE}


def _vitals(record: VisitRecord) -> tuple[TableData, tuple[str, ...]]:
    """The flowsheet with abnormal values marked, and one sentence per abnormal value.

    Flags come from :func:`nurse_app.core.vitals.flag_series` (the one rule: each measure's
    baseline is the first reading that has that value), as on the flowsheet and in FHIR.
    """
    day = record.visit_day
    measures = vital_measures()
    series = flag_series([reading_measures(r) for r in record.vitals])
    rows, flagged, messages = [], set(), []
    current: list = []

    def cell(reading: Mapping[str, Any], column: str) -> tuple[str, bool]:
        value = reading.get(column)
        if value is None:
            return "", False
        measure_id = VITAL_MEASURES[column]
        flags = [f for f in current if f.measure == measure_id]
        for flag in flags:
            messages.append(f"{_time_on(reading['recorded_at'], day)}: {flag.message}")
        marks = "".join(dict.fromkeys(_MARKS[f.kind] for f in flags))
        text = fmt_measured(value, measures[measure_id].unit)  # 37.0 °C keeps its measured 0.1
        return (f"{text} {marks}" if marks else text), bool(flags)

    for n, reading in enumerate(record.vitals):
        current = series[n]
        row = [_time_on(reading["recorded_at"], day), "", "", "", "", "", "", reading.get("note") or ""]
        for col, column in _SIMPLE_VITALS.items():
            row[col], bad = cell(reading, column)
            if bad:
                flagged.add((n, col))
        systolic, bad_s = cell(reading, "systolic_mmhg")
        diastolic, bad_d = cell(reading, "diastolic_mmhg")
        if systolic or diastolic:
            row[3] = f"{systolic or '?'}/{diastolic or '?'}"
        if bad_s or bad_d:
            flagged.add((n, 3))
        rate = reading.get("infusion_rate_ml_h")
        row[6] = _num(rate, 1)
        if reading.get("recorded_by") and reading["recorded_by"] != record.visit.get("nurse_name"):
            row[7] = f"{row[7]} (by {reading['recorded_by']})".strip()
        entered = record.vitals_entered.get(reading.get("id", -1))
        if entered is not None and is_late(_dt.datetime.fromisoformat(reading["recorded_at"]), entered):
            row[7] = f"{row[7]} (late entry: entered {_time_on(entered.isoformat(), day)})".strip()
        rows.append(tuple(row))
    return TableData(VITALS_HEADERS, tuple(rows), frozenset(flagged)), tuple(messages)


def _decimals(unit: str) -> int:
    return DEFAULT_DECIMALS.get(unit, 1)


def _vitals_legend() -> tuple[str, ...]:
    """What the marks mean, with the limits in force (from resources/vitals.toml)."""
    measures = vital_measures()
    limits = []
    for measure_id in ("temperature", "heart_rate", "systolic", "diastolic", "respiratory_rate", "spo2"):
        m = measures[measure_id]
        parts = []
        if m.flag_low is not None:
            parts.append(f"below {fmt_qty(m.flag_low, m.unit)}")
        if m.flag_high is not None:
            parts.append(f"above {fmt_qty(m.flag_high, m.unit)}")
        if m.flag_change is not None:
            parts.append(f"{MARK_CHANGE} {fmt_qty(m.flag_change, m.unit)}")
        elif m.flag_change_percent is not None:
            parts.append(f"{MARK_CHANGE} {fmt_qty(m.flag_change_percent, '%')}")
        if parts:
            limits.append(f"{m.label} {', '.join(parts)}")
    local = any(measures[k].flag_basis == LOCAL_POLICY for k in ("temperature", "heart_rate"))
    return (
        f"Marks: {MARK_HIGH} above and {MARK_LOW} below the flag limit; {MARK_CHANGE} changed "
        f"from the measure's first recorded value (its baseline) by the flag amount or more. Marked values are in bold.",
        "Flag limits"
        + (" (local policy defaults: confirm with your educator)" if local else "")
        + ": "
        + "; ".join(limits)
        + ".",
    )


def _reactions(record: VisitRecord) -> tuple[ReactionEntry, ...]:
    day = record.visit_day
    return tuple(
        ReactionEntry(
            when=_time_on(r["occurred_at"], day),
            kind=kind_label(r["kind"]),
            severity=severity_label(r["kind"], r["severity"]),
            rate_at_onset=_qty(r.get("rate_at_onset_ml_h"), "mL/h"),
            action=r.get("action_taken") or NO_VALUE,
            outcome=r.get("outcome") or NO_VALUE,
            note=r.get("note") or "",
        )
        for r in record.reactions
    )


def _signature(record: VisitRecord) -> tuple[tuple[tuple[str, str], ...], str | None]:
    v = record.visit
    rows: tuple[tuple[str, str], ...]
    if record.signed:
        rows = (
            ("Signed by", v["signed_by"]),
            ("Signed at", _stamp(to_local(v["signed_at"]))),
            ("Content hash", v["content_hash"]),
            # The short form the patient keeps: it leaves the laptop with this summary.
            ("Seal", short_seal(v["content_hash"], record.seal_chain_position)),
        )
        if record.seal_ok is False:
            return rows, (
                "WARNING: the record no longer matches this hash. It was changed "
                "outside the app after signing; do not rely on this summary."
            )
        return (
            *rows,
            (
                "Seal check",
                "The record matches the hash (addenda are written after signing and are not covered by it).",
            ),
        ), None
    rows = (("Status", "Not signed: this summary is a DRAFT and may still change."),)
    if record.signing_problems:
        return rows, "Before signing: " + "; ".join(record.signing_problems) + "."
    return rows, None


def summarize(record: VisitRecord, now: _dt.datetime | None = None) -> VisitSummary:
    """Turn a :class:`VisitRecord` into display text (no I/O)."""
    catalogue = _catalogue()
    agency, when = _header(record)
    vitals, flags = _vitals(record)
    lots, lots_check, lots_alert = _lots(record, catalogue)
    signature, alert = _signature(record)
    now = (now or _dt.datetime.now(_dt.UTC)).astimezone()
    patient = record.patient
    visit = record.visit
    if record.signed:
        status = f"Signed by {visit['signed_by']}, {_stamp(to_local(visit['signed_at']))}"
    elif visit["status"] == "voided":
        status = (
            f"VOIDED (entered by mistake) by {visit.get('voided_by')}, "
            f"{_stamp(to_local(visit['voided_at']))}: {visit.get('void_reason')}"
        )
    else:
        status = "Draft: not signed"
    notes = (visit.get("notes") or "").strip()
    if visit.get("same_day_reason"):
        notes = f"Second visit this day: {visit['same_day_reason']}\n{notes}".strip()
    return VisitSummary(
        visit_id=visit["id"],
        draft=not record.signed,
        title=TITLE,
        agency_lines=agency,
        nurse=record.nurse,
        when=when,
        patient_line=f"{patient['name']} · MRN {patient['mrn']}",
        status_line=status,
        patient=_patient_block(record, catalogue),
        order=_order_block(record, catalogue),
        dose=_dose_section(record),
        lots=lots,
        lots_check=lots_check,
        lots_alert=lots_alert,
        checklist=_checklist(record),
        vitals=vitals,
        vitals_legend=_vitals_legend(),
        vital_flags=flags,
        reactions=_reactions(record),
        notes=notes,
        addenda=tuple(
            AddendumEntry(_stamp(to_local(a["written_at"])), a["author"], a["text"]) for a in record.addenda
        ),
        signature=signature,
        signature_alert=alert,
        generated=_stamp(now),
        footer=f"Visit {visit['id']} · {status} · printed {_stamp(now)} by nurse-app",
        followup_calls=tuple(tuple(call_summary_lines(c)) for c in record.followup_calls),
        infusion=_infusion_table(record),
        infusion_lines=_infusion_lines(record),
    )


def _infusion_table(record: VisitRecord) -> TableData | None:
    rows = infusion_record.timeline(
        record.infusion_events, record.calculation, time_text=lambda at: _clock(at.astimezone())
    )
    if not rows:
        return None
    out = []
    for r in rows:
        minute = fmt_minutes(r.minute) if r.minute is not None and r.minute >= 0 else ""
        label = f"[struck through] {r.label}" if r.corrected else r.label
        out.append(
            (_clock(r.at.astimezone()), minute, label, "; ".join(t for t in (r.detail, r.corrected) if t))
        )
    return TableData(("Time", "From start", "Event", "Details"), tuple(out))


def _infusion_lines(record: VisitRecord) -> tuple[str, ...]:
    events = record.infusion_events
    if not events:
        return ()
    outcome = record.outcome
    calc = record.calculation
    lines = [f"Infusion: {outcome.label}."]
    if outcome.volume_ml is not None:
        grams = infusion_record.grams_given(outcome.volume_ml, calc)
        planned = f" of {fmt_qty(outcome.planned_ml, 'mL', 0)} planned" if outcome.planned_ml else ""
        lines.append(
            f"Volume given: {fmt_qty(outcome.volume_ml, 'mL', 0)}{planned}"
            + (
                f" ({fmt_qty(grams, 'g', 2)} of {fmt_qty(calc['daily_dose_g'], 'g')})"
                if grams is not None and calc.get("daily_dose_g")
                else ""
            )
            + "."
        )
    if outcome.reason:
        lines.append(f"Reason less than planned: {outcome.reason.rstrip('.')}.")
    total = infusion_record.total_minutes(events)
    if total is not None:
        lines.append(f"Total time: {fmt_minutes(total)}.")
    struck = sum(1 for e in events if not infusion_record.counts(e))
    if struck:
        lines.append(
            f"{struck} event{'s' if struck > 1 else ''} struck through by correction (shown, not counted)."
        )
    return tuple(lines)
