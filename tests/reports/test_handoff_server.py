"""The hand-off through a real FHIR server (Medplum's router, tests/fhir_server_helpers.py):
``nurse-app send`` and the outbox (store/outbox.py, services/handoff.py).

Every test sends the record's own transactions over HTTP to the server on 127.0.0.1 and reads
back what the server holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error

import pytest
from fhir_server_helpers import FhirServer, fhir_server  # noqa: F401 - the fixture
from fhir_validation import bundle_errors
from visit_export_helpers import make_visit, open_record

from nurse_app.services import handoff
from nurse_app.store import Store, demo
from nurse_app.store.outbox import REFUSED, SENT, WAITING

TOKEN = "test-token-not-a-secret-7f3a"


@pytest.fixture
def demo_record(tmp_path, toronto_time):
    path = tmp_path / "record.db"
    with open_record(path) as store:
        demo.generate(store, 3, seed=4)
    return path


def signed_visits(path) -> list[dict]:
    with Store.open(path) as store:
        return [
            v
            for p in store.find_patients("")
            for v in store.patient_visits(p["id"])
            if v["status"] == "signed"
        ]


def outbox(path) -> list[dict]:
    with Store.open(path) as store:
        return store.outbox()


def encounter_id(path, visit_id: int) -> str:
    with Store.open(path) as store:
        bundle = handoff.bundle_for(store, {"kind": "visit", "visit_id": visit_id})
    return next(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")


def test_send_a_demo_record_then_again_without_duplicates(cli, demo_record, fhir_server):  # noqa: F811
    visits = signed_visits(demo_record)
    assert len(visits) >= 5
    result = cli("--db", demo_record, "send", "--to", fhir_server.base, "--json")
    assert result.returncode == 0, result.stderr
    rows = outbox(demo_record)
    assert json.loads(result.stdout)["sent"] == [r["id"] for r in rows]
    assert {r["state"] for r in rows} == {SENT}
    assert len(fhir_server.search("Encounter")) == len(visits)
    for row in rows:
        kinds = {kind for kind, *_ in row["receipt"]}
        assert {"Patient", "Encounter", "MedicationAdministration", "Provenance"} <= kinds
        assert all(rid and version and updated for _, rid, version, updated in row["receipt"])
    # The Provenance on the server carries the seal kept next to the receipt.
    with Store.open(demo_record) as store:
        for row in rows:
            assert row["seal"] == store.get_visit(row["visit_id"])["content_hash"]

    # Nothing is waiting: a second send sends nothing.
    again = cli("--db", demo_record, "send", "--to", fhir_server.base)
    assert again.returncode == 0 and ": 0 sent." in again.stdout
    # The same transactions sent again (a receipt lost with the laptop): no duplicate, no new version.
    before = {(r["resourceType"], r["id"]): r["meta"]["versionId"] for r in fhir_server.search("Encounter")}
    dest = handoff.Destination(fhir_server.base)
    with Store.open(demo_record) as store:
        for row in rows:
            bundle = handoff.bundle_for(store, row)
            assert bundle_errors(bundle) == []
            for part in handoff.parts(bundle, dest.max_entries):
                handoff._post(dest, None, part)
    after = {(r["resourceType"], r["id"]): r["meta"]["versionId"] for r in fhir_server.search("Encounter")}
    assert after == before


def test_server_stopped_midway_the_rest_wait_then_are_sent(demo_record, cli, fhir_server):  # noqa: F811
    first_encounter = encounter_id(demo_record, outbox(demo_record)[0]["visit_id"])

    def stop_after_the_first(n: int, total: int) -> None:
        if n == 1:
            assert fhir_server.get(f"Encounter/{first_encounter}")["id"] == first_encounter
            fhir_server.stop()

    dest = handoff.Destination(fhir_server.base)
    with Store.open(demo_record) as store:
        result = handoff.send_outbox(store, dest, progress=stop_after_the_first)
    assert len(result.sent) == 1 and result.waiting and "did not answer" in result.problem
    rows = outbox(demo_record)
    waiting = [r for r in rows if r["state"] == WAITING]
    assert len(waiting) == len(rows) - 1
    tried = waiting[0]
    assert tried["attempts"] == 1 and tried["next_try_at"] and "did not answer" in tried["last_error"]
    # The automatic try respects the backoff: nothing is due yet.
    with Store.open(demo_record) as store:
        assert store.outbox_due()[0]["id"] != tried["id"]

    fhir_server.start()  # the same port again
    result = cli("--db", demo_record, "send", "--to", fhir_server.base)
    assert result.returncode == 0, result.stderr
    rows = outbox(demo_record)
    assert {r["state"] for r in rows} == {SENT}
    # None lost: the restarted server holds every visit not sent before it stopped.
    on_server = {r["id"] for r in fhir_server.search("Encounter")}
    assert on_server == {encounter_id(demo_record, r["visit_id"]) for r in rows[1:]}


def test_a_kill_during_a_send_leaves_it_waiting_then_it_is_sent_exactly_once(demo_record, cli):
    server = FhirServer({"FHIR_TEST_DELAY_MS": "4000"}).start()
    try:
        first = outbox(demo_record)[0]
        encounter = encounter_id(demo_record, first["visit_id"])
        sender = subprocess.Popen(
            [sys.executable, "-m", "nurse_app", "--db", str(demo_record), "send", "--to", server.base],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:  # the server has applied the first visit and is still answering
            try:
                server.get(f"Encounter/{encounter}")
                break
            except urllib.error.HTTPError:
                assert time.monotonic() < deadline, "the first visit never reached the server"
                time.sleep(0.05)
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=30)
        assert outbox(demo_record)[0]["state"] == WAITING, "killed before the receipt was stored"

        result = cli("--db", demo_record, "send", "--to", server.base)
        assert result.returncode == 0, result.stderr
        rows = outbox(demo_record)
        assert {r["state"] for r in rows} == {SENT}
        history = server.get(f"Encounter/{encounter}/_history")
        assert len(history["entry"]) == 1, "sent exactly once: the second PUT changed nothing"
        assert len(server.search("Encounter")) == len(rows)
    finally:
        server.stop()


def test_a_refused_resource_tells_the_nurse_why_and_what_to_do(export_store, cli, tmp_path):
    reason = "Signatures are taken only in the agency's e-signature system"
    server = FhirServer({"FHIR_TEST_REFUSE": f"Provenance:{reason}"}).start()
    try:
        make_visit(export_store, readings=2, sign=True)
        path = export_store.path
        export_store.close()
        result = cli("--db", path, "send", "--to", server.base)
        assert result.returncode == 1
        assert reason in result.stderr
        (row,) = outbox(path)
        assert row["state"] == REFUSED
        assert reason in handoff.outcome_text(row["refusal"])
        assert handoff.state_text(row).startswith("Refused by the agency: " + reason)
        # After the agency changed its rule the nurse sends it again.
        server.stop()
        server.env = {}
        server.start()
        with Store.open(path) as store:
            store.retry_refused(row["id"])
        assert cli("--db", path, "send", "--to", server.base).returncode == 0
        assert outbox(path)[0]["state"] == SENT
    finally:
        server.stop()


def test_a_search_by_patient_finds_every_visits_resources(cli, demo_record, fhir_server):  # noqa: F811
    assert cli("--db", demo_record, "send", "--to", fhir_server.base).returncode == 0
    with Store.open(demo_record) as store:
        for patient in store.find_patients(""):
            bundles = [
                handoff.bundle_for(store, {"kind": "visit", "visit_id": v["id"]})
                for v in store.patient_visits(patient["id"])
                if v["status"] == "signed"
            ]
            patient_id = next(
                e["resource"]["id"] for e in bundles[0]["entry"] if e["resource"]["resourceType"] == "Patient"
            )
            for kind in ("Encounter", "MedicationAdministration", "Observation"):
                expected = {
                    e["resource"]["id"]
                    for b in bundles
                    for e in b["entry"]
                    if e["resource"]["resourceType"] == kind
                }
                found = {r["id"] for r in fhir_server.search(f"{kind}?patient=Patient/{patient_id}")}
                assert found == expected, kind


def test_a_signed_call_and_an_addendum_are_queued_in_the_signing_transaction(export_store, cli, fhir_server):  # noqa: F811
    visit = make_visit(export_store, readings=1, sign=True)
    row = export_store.get_visit(visit)
    call = export_store.create_followup_call(
        row["patient_id"],
        order_id=row["order_id"],
        course_number=1,
        rule_id="rash-check-call",
        called_at="2025-03-10T15:00:00+00:00",
        reached=False,
        notes="No answer.",
    )
    assert [r["kind"] for r in export_store.outbox()] == ["visit"]
    export_store.sign_followup_call(call)
    export_store.add_addendum(visit, "Late entry: site checked on the phone")
    rows = export_store.outbox()
    assert [(r["kind"], r["state"]) for r in rows] == [
        ("visit", WAITING),
        ("followup_call", WAITING),
        ("addendum", WAITING),
    ]
    assert rows[1]["seal"] == export_store.get_followup_call(call)["content_hash"]
    path = export_store.path
    export_store.close()
    assert cli("--db", path, "send", "--to", fhir_server.base).returncode == 0
    (communication,) = fhir_server.search("Communication")
    assert communication["status"] == "completed"
    (administration,) = fhir_server.search("MedicationAdministration")
    assert any("Late entry: site checked" in n["text"] for n in administration["note"])
    assert len(fhir_server.search("Provenance")) == 2  # the signature and the addendum


def test_the_access_token_bearer_env_stored_or_client_credentials_never_shown(export_store, cli):
    server = FhirServer(
        {
            "FHIR_TEST_TOKEN": TOKEN,
            "FHIR_TEST_CLIENT_ID": "nurse-laptop",
            "FHIR_TEST_CLIENT_SECRET": "s3cr3t-x",
        }
    ).start()
    try:
        make_visit(export_store, readings=1, sign=True)
        path = export_store.path
        export_store.close()
        refused = cli("--db", path, "send", "--to", server.base)
        assert refused.returncode == 1 and "access token" in refused.stdout
        assert outbox(path)[0]["state"] == WAITING
        sent = cli("--db", path, "send", "--to", server.base, env={"NURSE_APP_AGENCY_TOKEN": TOKEN})
        assert sent.returncode == 0, sent.stderr
        assert TOKEN not in sent.stdout + sent.stderr + refused.stdout + refused.stderr
        # Client credentials kept in the record: a second visit goes with them.
        with open_record(path) as store:
            handoff.save_credentials(store, client_id="nurse-laptop", client_secret="s3cr3t-x")
            make_visit(store, mrn="MRN-0077", readings=1, sign=True)
            assert all("s3cr3t-x" not in json.dumps(e) for e in store.audit_entries(limit=5000))
        assert cli("--db", path, "send", "--to", server.base).returncode == 0
        assert {r["state"] for r in outbox(path)} == {SENT}
        assert len(server.search("Encounter", token=TOKEN)) == 2
    finally:
        server.stop()


def medication_request(
    patient_ref: str, *, ndc: str = "0069-6550-02", dose: float = 2, days: int = 5
) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": "order-dm-2026",
        "status": "active",
        "intent": "order",
        "subject": {"reference": patient_ref},
        "authoredOn": "2026-11-30",
        "requester": {"display": "Dr. L. Moreau"},
        "medicationCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": ndc}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"count": days, "boundsPeriod": {"start": "2026-12-07"}}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": dose,
                            "unit": "g/kg",
                            "system": "http://unitsofmeasure.org",
                            "code": "g/kg",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "dispenseInterval": {
                "value": 4,
                "unit": "wk",
                "system": "http://unitsofmeasure.org",
                "code": "wk",
            }
        },
    }


def test_an_order_from_a_medication_request_on_the_server_is_reviewed_then_accepted(
    export_store,
    cli,
    fhir_server,  # noqa: F811
):
    visit = make_visit(export_store, readings=1, sign=True)
    patient = export_store.get_visit(visit)["patient_id"]
    current = export_store.patient_orders(patient, active_only=True)[0]
    path = export_store.path
    export_store.close()
    assert cli("--db", path, "send", "--to", fhir_server.base).returncode == 0
    (on_server,) = fhir_server.search("Patient")
    fhir_server.put(medication_request(f"Patient/{on_server['id']}"))

    review = cli("--db", path, "order-in", "--patient", patient, "--fetch", "--to", fhir_server.base)
    assert review.returncode == 0, review.stderr
    assert "Current order: Octagam 10%" in review.stdout
    assert (
        "New order (order-dm-2026): Octagam 10% 2 g/kg over 5 days, every 28 days, from 2026-12-07"
        in review.stdout
    )
    with Store.open(path) as store:
        assert [o["id"] for o in store.patient_orders(patient, active_only=True)] == [current["id"]], (
            "not silently"
        )
    accepted = cli(
        "--db", path, "order-in", "--patient", patient, "--fetch", "--to", fhir_server.base, "--accept"
    )
    assert accepted.returncode == 0, accepted.stderr
    with Store.open(path) as store:
        (active,) = store.patient_orders(patient, active_only=True)
    assert active["id"] != current["id"]
    assert (active["dose_g_per_kg"], active["course_days"], active["interval_days"]) == (2, 5, 28)
    assert active["prescriber"] == "Dr. L. Moreau"

    fhir_server.put({**medication_request(f"Patient/{on_server['id']}", ndc="99999-999-99")})
    unknown = cli("--db", path, "order-in", "--patient", patient, "--fetch", "--to", fhir_server.base)
    assert unknown.returncode == 2 and "not in the app's product catalogue" in unknown.stderr
    fhir_server.put({**medication_request(f"Patient/{on_server['id']}", dose=9)})
    too_much = cli("--db", path, "order-in", "--patient", patient, "--fetch", "--to", fhir_server.base)
    assert too_much.returncode == 2 and "This order cannot be taken" in too_much.stderr
    assert "9 g/kg" in too_much.stderr


def test_an_order_file_for_another_patient_is_refused_and_nothing_changes(export_store, cli, tmp_path):
    visit = make_visit(export_store, readings=1)
    patient = export_store.get_visit(visit)["patient_id"]
    before = export_store.patient_orders(patient)
    path = export_store.path
    export_store.close()
    rx = tmp_path / "rx.json"
    rx.write_text(json.dumps(medication_request("Patient/someone-else")), encoding="utf-8")
    refused = cli("--db", path, "order-in", "--patient", patient, "--file", rx, "--accept")
    assert refused.returncode == 2 and "names another patient" in refused.stderr
    mine = {**medication_request("Patient/x"), "subject": {"identifier": {"value": "MRN-0042"}}}
    rx.write_text(json.dumps(mine), encoding="utf-8")
    shown = cli("--db", path, "order-in", "--patient", patient, "--file", rx)
    assert shown.returncode == 0 and "Nothing changed" in shown.stdout
    with Store.open(path) as store:
        assert store.patient_orders(patient) == before


def test_the_policy_handoff_table_is_checked():
    from nurse_app.core.errors import ResourceError
    from nurse_app.core.policy import parse_policy

    ok = parse_policy(
        {"handoff": {"base_url": "https://fhir.example.org/fhir/R4/", "max_entries": 20}}, "p.toml"
    )
    assert ok.handoff == {"base_url": "https://fhir.example.org/fhir/R4", "max_entries": 20}
    for table, words in (
        ({"base_url": "ftp://x"}, "https://"),
        ({"mrn_system": "mrn"}, "a URI"),
        ({"auto_send": "yes"}, "true or false"),
        ({"colour": "blue"}, "expected only"),
    ):
        with pytest.raises(ResourceError, match=words):
            parse_policy({"handoff": table}, "p.toml")
