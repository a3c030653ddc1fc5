"""Proof-of-visit use cases (issue 23): the EVV export of the six items per visit.

``nurse-app evv --from DATE --to DATE [--csv FILE | --json]`` and any screen call
:func:`evv_rows`; the six items are worked out once, by :func:`nurse_app.core.visit_proof.evv_items`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from typing import Any

from nurse_app.core import visit_logic, visit_proof
from nurse_app.core.errors import InputError
from nurse_app.store import Store
from nurse_app.store.times import utc_text

CSV_COLUMNS = (
    "visit_id",
    "service_type",
    "person_served",
    "date",
    "location",
    "provider",
    "start",
    "end",
    "status",
    "complete",
)


def _local_midnight(day: _dt.date) -> _dt.datetime:
    return _dt.datetime.combine(day, _dt.time()).astimezone()


def evv_rows(store: Store, start: _dt.date, end: _dt.date) -> list[dict[str, Any]]:
    """One row per visit whose arrival falls on a local day from ``start`` to ``end`` (both
    included): the six EVV items, the visit's status and whether all six are there."""
    if end < start:
        raise InputError(f"--to {end.isoformat()} is before --from {start.isoformat()}.", field="to")
    visits = store.visits_arrived_between(
        utc_text(_local_midnight(start)), utc_text(_local_midnight(end + _dt.timedelta(days=1)))
    )
    rows = []
    for v in visits:
        snapshot = (v.get("signed_snapshot") or {}).get("patient") or {}
        patient = {
            "name": snapshot.get("name") or v["patient_name"],
            "mrn": snapshot.get("mrn") or v["patient_mrn"],
        }
        items = visit_proof.evv_items(v, patient, visit_logic.visit_day(v, created=False))
        row = items.as_dict()
        row["status"] = v["status"]
        row["complete"] = not items.missing and v["status"] == "signed"
        rows.append(row)
    return rows


def evv_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS})
    return out.getvalue()
