"""Opening a visit: the store's one read -> a frozen :class:`~nurse_app.core.visit_record.VisitRecord`.

:func:`load_visit` reads the visit and everything it refers to with
:meth:`nurse_app.store.Store.visit_rows` (one statement; one more for the signing entry of a
signed visit) and works out, with the one rule of each, what every reader shows: the patient
and order as signed (:func:`nurse_app.core.visit_record.as_signed`), the checklist with its
locks, the signing state, the dose plan, the seal and the follow-up calls since the
patient's previous visit.  The Visit page, the visit summary PDF, the FHIR export and
``visit-pdf`` all render this record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nurse_app.core import visit_logic
from nurse_app.core.agency import details_from_setting
from nurse_app.core.visit_record import (
    VisitRecord,
    as_signed,
    signing_state,
)
from nurse_app.services.orders import dose_plan
from nurse_app.services.visits import events_in_progress
from nurse_app.store import Store
from nurse_app.store.visit_read import VisitRows

__all__ = ["VisitRecord", "load_visit", "record_from_rows"]


def load_visit(store: Store, visit_id: int) -> VisitRecord:
    """Read one visit and all it refers to (raises the store's ``NotFoundError``)."""
    return record_from_rows(store, store.visit_rows(visit_id))


def record_from_rows(store: Store, rows: VisitRows) -> VisitRecord:
    """The record of a visit read as ``rows`` (the seal of a signed visit is checked here)."""
    visit = rows.visit
    signed = visit["status"] == "signed"
    patient, order, changes = as_signed(visit, rows.patient, rows.order)
    checklist = store.checklist_of(rows)
    problems = [] if signed else store.signing_problems_of(rows, checklist)
    seal = store.seal_problem_of(rows) if signed else None
    earlier = [v for v in rows.patient_visits if v["id"] < visit["id"]]
    entries = rows.entries
    return VisitRecord(
        visit=visit,
        patient=patient,
        order=order,
        changed_since_signing=changes,
        checklist=checklist,
        vitals=entries.get("vitals", []),
        reactions=entries.get("reactions", []),
        lots=entries.get("product_lots", []),
        addenda=entries.get("addenda", []),
        infusion_events=tuple(entries.get("infusion_events", [])),
        access_devices=tuple(entries.get("access_devices", [])),
        access_checks=tuple(entries.get("access_checks", [])),
        settings=details_from_setting(rows.agency if rows.agency is not None else {}),
        profile_nurse=rows.nurse_profile["display"] if rows.nurse_profile else None,
        seal_ok=(seal is None) if signed else None,
        seal_problem=seal,
        signing=signing_state(
            visit, problems, infusion_running=events_in_progress(entries.get("infusion_events", []))
        ),
        dose_plan=dose_plan(visit, patient, order, earlier, rows.weights),
        followup_calls=_calls_before(visit, rows.patient_visits, rows.signed_calls),
        live_patient=rows.patient,
        live_order=rows.order,
        handoff=rows.handoff,
        vitals_entered=rows.vitals_entered,
        seal_chain_position=store.seal_position_of(rows),
    )


def _calls_before(
    visit: Mapping[str, Any], patient_visits: Sequence[Mapping[str, Any]], calls: Sequence[dict[str, Any]]
) -> tuple[dict[str, Any], ...]:
    """Signed follow-up calls of the patient after the previous visit and up to this one."""
    moment = visit_logic.visit_moment
    this = moment(visit)
    others = (moment(v) for v in patient_visits if v["id"] != visit["id"])
    earlier = [m for m in others if m and this and m < this]
    since = max(earlier) if earlier else None

    def when(call: Mapping[str, Any]) -> str | None:
        value = call.get("called_at") or call.get("signed_at")
        return str(value) if value is not None else None

    return tuple(
        c
        for c in calls
        if (since is None or ((w := when(c)) is not None and w > since))
        and (this is None or ((w := when(c)) is not None and w <= this))
    )
