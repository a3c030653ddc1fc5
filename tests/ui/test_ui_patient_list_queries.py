"""The Patients page loads its list with each patient's last visit in one query (issue 10): the
page used to ask for every listed patient's visits (two statements each)."""

from __future__ import annotations

from store_helpers import new_patient, open_store

from nurse_app.core.formatting import fmt_date
from nurse_app.store import to_local
from nurse_app.ui.patients_page import PatientsPage


def test_the_list_shows_each_last_visit_without_a_query_per_patient(qtbot, tmp_path):
    with open_store(tmp_path / "record.db") as store:
        for n in range(40):
            patient = new_patient(store, f"MRN-{n:02d}", name=f"Patient {n:02d}")
            if n % 3:
                store.create_visit(patient, started_at=f"2025-0{n % 9 + 1}-1{n % 7}T09:00:00+00:00")
        page = PatientsPage(store)
        qtbot.addWidget(page)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        page.refresh()
        store.conn.set_trace_callback(None)

        per_patient = [s for s in statements if "FROM visits WHERE patient_id" in s]
        assert len(per_patient) <= 2, per_patient  # only the selected patient's own visit list
        assert sum("GROUP BY patient_id" in s for s in statements) == 1
        assert len(statements) < 40, len(statements)
        model = page.model
        shown = {model.rows[r]["mrn"]: model.data(model.index(r, 4)) for r in range(model.rowCount())}
        for n in range(40):
            visits = store.patient_visits(store.find_patients(f"MRN-{n:02d}")[0]["id"])
            expected = fmt_date(to_local(visits[0]["started_at"]).date()) if visits else "none yet"
            assert shown[f"MRN-{n:02d}"] == expected
