"""The patient list: who is on record, and when each was last seen (no Qt).

:func:`patient_list` is what the Patients page shows: the patients matching the search
(name or MRN, ignoring case and accents), each with the local day of their last visit.
The store answers it in ONE query (a GROUP BY over the visits), not one query per patient:
for 1,000 patients that was 2,001 SQL statements (see ``benchmarks/bench_patient_list.py``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nurse_app.core.visit_logic import local_day
from nurse_app.store import Store

LIST_LIMIT = 1000  # the list shows at most this many; typing narrows it


@dataclass(frozen=True)
class PatientListRow:
    """One line of the patient list."""

    id: int
    name: str
    mrn: str
    date_of_birth: str | None  # YYYY-MM-DD as stored
    indication: str | None  # a regimen id (or an indication typed as stored)
    last_visit_day: _dt.date | None  # local day of the newest visit; None: no visit yet


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _row(patient: Mapping[str, Any]) -> PatientListRow:
    last = patient.get("last_visit_at")
    return PatientListRow(
        id=int(patient["id"]),
        name=str(patient["name"]),
        mrn=str(patient["mrn"]),
        date_of_birth=_text(patient.get("date_of_birth")),
        indication=_text(patient.get("indication")),
        last_visit_day=local_day(str(last)) if last else None,
    )


def patient_list(
    store: Store, query: str = "", *, limit: int = LIST_LIMIT, include_archived: bool = False
) -> list[PatientListRow]:
    """Patients whose name or MRN contains ``query``, sorted by name, with their last visit's
    day; one query whatever the number of patients."""
    rows: list[dict[str, Any]] = store.find_patients_with_last_visit(
        query, include_archived=include_archived, limit=limit
    )
    return [_row(patient) for patient in rows]


def has_patients(store: Store) -> bool:
    """True once the record holds any patient (archived ones too): the page shows the list
    rather than the empty-record explanation."""
    return bool(store.find_patients("", include_archived=True, limit=1))
