"""Follow-up calls in the next visit summary (PDF read back) and the FHIR export."""

from __future__ import annotations

import datetime as dt
import json

from pypdf import PdfReader

from nurse_app.cli import main
from nurse_app.store import Store, demo
from nurse_app.store.times import now_utc

TODAY = dt.date.today()


def _record(tmp_path):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        demo.add_week_examples(store, TODAY)
        grace = store.find_patients("Grace MacLeod")[0]
        omar = store.find_patients("Omar Haddad")[0]
        call = store.patient_followup_calls(grace["id"])[0]
        order = store.patient_orders(grace["id"])[0]
        visit = store.create_visit(
            grace["id"], order_id=order["id"], started_at=now_utc(), course_day=1, course_days=5
        )
        previous = next(v["id"] for v in store.patient_visits(grace["id"]) if v["id"] != visit)
        other = store.patient_visits(omar["id"])[0]["id"]
    return path, visit, previous, other, call


def test_next_visit_summary_prints_the_signed_call(tmp_path, capsys):
    path, visit, previous, _, call = _record(tmp_path)
    out = tmp_path / "v.pdf"
    assert main(["--db", str(path), "visit-pdf", str(visit), "--out", str(out)]) == 0
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert "Follow-up calls since the previous visit" in text
    assert "Rash check call" in text and "reached" in text and call["signed_by"] in text
    assert "Any new itchy rash since the infusion? no" in text
    # the visit before the call does not print it
    old = tmp_path / "old.pdf"
    assert main(["--db", str(path), "visit-pdf", str(previous), "--out", str(old)]) == 0
    assert "Follow-up calls" not in "\n".join(p.extract_text() for p in PdfReader(old).pages)


def test_fhir_export_has_a_communication_for_the_call(tmp_path, capsys):
    path, visit, _, other, _call = _record(tmp_path)
    assert main(["--db", str(path), "visit-fhir", str(visit), "--out", "-"]) == 0
    bundle = json.loads(capsys.readouterr().out)
    comms = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"]
    assert len(comms) == 1
    c = comms[0]
    assert c["status"] == "completed" and c["category"][0]["text"] == "Rash check call"
    assert c["medium"][0]["coding"][0]["code"] == "PHONE"
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert c["subject"]["reference"] == f"Patient/{patient['resource']['id']}"  # a transaction's PUT id
    assert "blisters" in c["payload"][0]["contentString"].lower()
    assert main(["--db", str(path), "visit-fhir", str(other), "--out", "-"]) == 0
    assert "Communication" not in capsys.readouterr().out
