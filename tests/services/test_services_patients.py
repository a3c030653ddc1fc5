"""services.patients: the patient list with each patient's last visit, in one query."""

from __future__ import annotations

from store_helpers import new_patient as add_patient

from nurse_app.services.patients import has_patients, patient_list
from nurse_app.store import Store, to_local


def _statements(store: Store, run) -> tuple[list[str], object]:
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        result = run()
    finally:
        store.conn.set_trace_callback(None)
    return seen, result


def test_each_patient_comes_with_the_local_day_of_their_newest_visit(store):
    zoe = add_patient(store, "MRN-1", name="Zoë Ölund")
    ben = add_patient(store, "MRN-2", name="Ben Okafor")
    add_patient(store, "MRN-3", name="Cleo Park")  # no visit yet
    store.create_visit(zoe, started_at="2025-03-01T09:00:00+00:00")
    store.create_visit(zoe, started_at="2025-04-02T23:30:00+00:00")  # newest (local day may differ)
    store.create_visit(zoe, started_at="2025-02-01T09:00:00+00:00")
    store.create_visit(ben, scheduled_at="2025-05-05T10:00:00+00:00")  # scheduled, not started

    rows = {row.mrn: row for row in patient_list(store)}

    assert [row.name for row in patient_list(store)] == ["Ben Okafor", "Cleo Park", "Zoë Ölund"]
    assert rows["MRN-1"].last_visit_day == to_local("2025-04-02T23:30:00+00:00").date()
    assert rows["MRN-2"].last_visit_day == to_local("2025-05-05T10:00:00+00:00").date()
    assert rows["MRN-3"].last_visit_day is None
    assert rows["MRN-1"].date_of_birth == "1962-05-17"


def test_the_list_matches_what_each_patients_own_visit_list_says(store):
    for n in range(12):
        patient = add_patient(store, f"MRN-{n}", name=f"Patient {n:02d}")
        for day in range(n % 4):
            store.create_visit(patient, started_at=f"2025-0{day + 1}-1{n % 9}T08:00:00+00:00")
    for row in patient_list(store):
        visits = store.patient_visits(row.id)
        expected = to_local(visits[0]["started_at"]).date() if visits else None
        assert row.last_visit_day == expected


def test_one_query_however_many_patients(store):
    """The page used to run 1 + 2 statements per patient (2,001 for 1,000 patients)."""
    for n in range(30):
        patient = add_patient(store, f"MRN-{n}", name=f"Patient {n:02d}")
        store.create_visit(patient, started_at="2025-03-01T09:00:00+00:00")
    statements, rows = _statements(store, lambda: patient_list(store))
    assert len(rows) == 30
    assert len(statements) == 1, statements
    assert "GROUP BY" in statements[0]


def test_search_ignores_case_and_accents_and_leaves_archived_patients_out(store):
    add_patient(store, "MRN-1", name="Zoë Ölund")
    add_patient(store, "MRN-2", name="Ben Okafor")
    add_patient(store, "OLD-9", name="Zoe Archived", archived=True)
    assert [row.mrn for row in patient_list(store, "zoe")] == ["MRN-1"]
    assert [row.mrn for row in patient_list(store, "OLUND")] == ["MRN-1"]
    assert [row.mrn for row in patient_list(store, "mrn-2")] == ["MRN-2"]
    assert {row.mrn for row in patient_list(store, "zoe", include_archived=True)} == {"MRN-1", "OLD-9"}
    assert [row.mrn for row in patient_list(store, "50%_")] == []  # LIKE wildcards are text
    assert len(patient_list(store, "", limit=1)) == 1


def test_has_patients_counts_archived_ones(store):
    assert not has_patients(store)
    add_patient(store, "OLD-1", archived=True)
    assert has_patients(store)
    assert patient_list(store) == []
