"""``nurse-app evv``: the six EVV items per visit, through ``nurse_app.cli.main`` (issue 23)."""

from __future__ import annotations

import csv
import datetime as dt
import json

from store_helpers import new_patient, open_store, ready_visit

from nurse_app.store import Store


def _record(path):
    with open_store(path) as store:
        signed = ready_visit(store, "MRN-1")
        store.update_patient(
            store.get_visit(signed)["patient_id"],
            address_line="12 Oak St",
            address_city="Springfield",
            address_state="IL",
            address_postal_code="62701",
        )
        store.confirm_location(signed, at_service_address=True)
        store.sign_visit(signed)
        draft = store.create_visit(
            new_patient(store, "MRN-2", name="Bo Ek"), started_at="2024-06-01T15:00:00+00:00"
        )
        voided = store.create_visit(
            new_patient(store, "MRN-3", name="Cy Fu"), started_at="2024-06-01T16:00:00+00:00"
        )
        store.void_visit(voided, "Opened by mistake")
        store.create_visit(new_patient(store, "MRN-4"), started_at="2024-06-05T15:00:00+00:00")
    return signed, draft


def test_evv_json_lists_the_six_items_per_visit(cli, tmp_path):
    path = tmp_path / "record.db"
    signed, draft = _record(path)
    result = cli("--db", path, "evv", "--from", "2024-06-01", "--to", "2024-06-01", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["visit_id"] for r in rows] == [signed, draft]  # the voided one and the 5 June one are out
    first = rows[0]
    assert first["service_type"] == "Home infusion nursing visit (IVIG)"
    assert first["person_served"] == "Zoë Ölund (MRN MRN-1)"
    assert first["date"] == "2024-06-01"
    assert first["location"] == "12 Oak St, Springfield, IL 62701"
    assert first["provider"] == "Ana Núñez, RN"  # the nurse who signed (store_helpers.open_store)
    assert dt.datetime.fromisoformat(first["start"]) == dt.datetime(2024, 6, 1, 9, tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(first["end"]) == dt.datetime(2024, 6, 1, 13, 30, tzinfo=dt.UTC)
    assert first["complete"] is True
    assert rows[1]["complete"] is False and rows[1]["location"] == "" and rows[1]["end"] is None


def test_evv_csv_is_private_and_readable(cli, tmp_path):
    path = tmp_path / "record.db"
    _record(path)
    out = tmp_path / "evv.csv"
    result = cli("--db", path, "evv", "--from", "2024-06-01", "--to", "2024-06-07", "--csv", out)
    assert result.returncode == 0, result.stderr
    assert "3 visits, 2 not complete" in result.stdout
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["status"] for r in rows] == ["signed", "draft", "draft"]
    assert set(rows[0]) >= {"service_type", "person_served", "date", "location", "provider", "start", "end"}


def test_evv_bad_dates_are_one_line(cli, tmp_path):
    path = tmp_path / "record.db"
    with Store.open(path):
        pass
    result = cli("--db", path, "evv", "--from", "2024-06-10", "--to", "2024-06-01")
    assert result.returncode == 2 and "before --from" in result.stderr and "Traceback" not in result.stderr
    result = cli("--db", path, "evv", "--from", "1 June", "--to", "2024-06-01")
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr
