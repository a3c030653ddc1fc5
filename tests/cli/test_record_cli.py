"""``nurse-app patients`` and ``nurse-app visit-addendum``: the CLI calls the same services as the
screens (the Patients page list and order summary, the Sign tab's addendum).  In-process."""

from __future__ import annotations

import json

from store_helpers import new_patient, open_store, ready_visit

from nurse_app import cli
from nurse_app.services.orders import order_dose_summary
from nurse_app.services.patients import patient_list
from nurse_app.store import Store


def _record(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        visit = ready_visit(store, "MRN-1")
        store.add_weight(store.get_visit(visit)["patient_id"], 70.5, measured_on="2024-06-01")
        new_patient(store, "MRN-2", name="Ben Okafor")
        store.sign_visit(visit)
    return path, visit


def test_patients_lists_each_patient_with_the_last_visit_as_the_page_does(tmp_path, capsys):
    path, _visit = _record(tmp_path)
    assert cli.main(["--db", str(path), "patients", "--json", "--order"]) == 0
    listed = json.loads(capsys.readouterr().out)
    with Store.open(path) as store:
        rows = patient_list(store)
        summary = order_dose_summary(store, rows[1].id)
    assert [(p["mrn"], p["name"], p["last_visit"]) for p in listed] == [
        (r.mrn, r.name, r.last_visit_day.isoformat() if r.last_visit_day else None) for r in rows
    ]
    assert listed[0]["last_visit"] is None and listed[1]["last_visit"] == "2024-06-01"
    assert listed[0]["order"] == "no active order, or no weight"
    assert listed[1]["order"].startswith("At 70.5 kg (weighed 1 Jun 2024): ")
    assert f"{summary.result.total_dose_g:g} g per course" in listed[1]["order"]


def test_patients_text_output_and_no_match(tmp_path, capsys):
    path, _visit = _record(tmp_path)
    assert cli.main(["--db", str(path), "patients", "zoe"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("MRN-1  Zoë Ölund  born 17 May 1962") and out[0].endswith(
        "last visit 1 Jun 2024"
    )
    assert out[-1] == "1 patient."
    assert cli.main(["--db", str(path), "patients", "nobody"]) == 0
    assert capsys.readouterr().out.strip() == "No patient matches \u201cnobody\u201d."


def test_patients_never_creates_a_record(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert cli.main(["--db", str(missing), "patients"]) == 2
    assert "There is no patient record" in capsys.readouterr().err
    assert not missing.exists()


def test_visit_addendum_goes_through_the_signing_service(tmp_path, capsys):
    path, visit = _record(tmp_path)
    assert (
        cli.main(["--db", str(path), "visit-addendum", str(visit), "--text", "  Late entry: no rash.  "]) == 0
    )
    assert capsys.readouterr().out.strip().endswith(f"added to visit {visit}.")
    assert cli.main(["--db", str(path), "visit-addendum", str(visit), "--text", "   "]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "nurse-app: Write the addendum first." and "Traceback" not in err
    with Store.open(path) as store:
        assert [a["text"] for a in store.visit_addenda(visit)] == ["Late entry: no rash."]
