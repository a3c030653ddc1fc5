"""The open visit is one record (ui/visit/model.py, services/visit_record.py): opening a visit in the
window reads it with a fixed, small number of statements; a write reloads it once; and a signed
visit shows the same patient and order in the Visit header, the Dose tab, the summary PDF, the
FHIR export and ``nurse-app visit-pdf``, whatever was edited after signing."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from qt_helpers import open_main_window
from visit_export_helpers import ACCENTED_NAME, flat, make_visit, open_record

from nurse_app.core.catalogue import load_catalogue
from nurse_app.reports.fhir import bundle_json, visit_bundle
from nurse_app.reports.visit_data import summarize
from nurse_app.reports.visit_summary import summary_pdf_bytes
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store

EDITED_NAME = "Zoë Renamed-After-Signing"
EDITED_ALLERGIES = "Sulfa (edited after signing)"


class Statements:
    """The statements the record's connection runs while ``with`` is open."""

    def __init__(self, store):
        self.store, self.sql = store, []

    def __enter__(self):
        self.sql = []
        self.store.conn.set_trace_callback(self.sql.append)
        return self

    def __exit__(self, *exc):
        self.store.conn.set_trace_callback(None)


@pytest.fixture
def record(tmp_path, toronto_time):
    """A record with a signed visit, a draft with 8 readings and a draft with 30 readings."""
    path = tmp_path / "record.db"
    with open_record(path) as store:
        signed = make_visit(store, sign=True, addenda=("Late entry: called the patient, well.",))
        small = make_visit(store, mrn="MRN-0100", readings=8)
        large = make_visit(store, mrn="MRN-0101", readings=30)
    return path, signed, small, large


def test_opening_a_visit_in_the_window_runs_a_fixed_small_number_of_statements(qtbot, record, tmp_path):
    path, signed, small, large = record
    window, store = open_main_window(qtbot, path, tmp_path)
    page = window.visit_page
    with Statements(store) as first:
        page.open_visit(small)
    # The first open also reads the file's column lists once for the connection (one statement).
    assert len(first.sql) <= 20, first.sql
    counts = {}
    for visit in (small, large, signed):
        with Statements(store) as counted:
            page.open_visit(visit)
            qtbot.wait(10)
        counts[visit] = counted.sql
    assert len(counts[small]) == len(counts[large]) == 1, counts  # 30 readings cost no more than 8
    # ... and, signed, the seal's signing entry in the audit chain and its place in the chain
    assert len(counts[signed]) <= 3, counts[signed]
    assert all("FROM visits WHERE id = ?" not in s for sql in counts.values() for s in sql)
    assert page.infusion_tab.sheet.rowCount() == 8  # what was read is shown
    window.close()
    store.close()


def test_one_write_reloads_the_record_once_and_every_tab_shows_it(qtbot, record, tmp_path):
    path, _signed, small, _large = record
    window, store = open_main_window(qtbot, path, tmp_path)
    page = window.visit_page
    page.open_visit(small)
    seen = []
    page.ctx.model.changed.connect(lambda rec, parts: seen.append((rec, parts)))
    store.add_vitals(small, heart_rate=75, temperature_c=36.9)
    with Statements(store) as counted:
        page.ctx.changed.emit("vitals")
    assert len(counted.sql) == 1, counted.sql
    [(rec, parts)] = seen
    assert parts == frozenset({"vitals"}) and rec is page.ctx.record and len(rec.vitals) == 9
    assert page.infusion_tab.sheet.rowCount() == 9
    window.close()
    store.close()


def _pdf_text(summary) -> str:
    data, _pages = summary_pdf_bytes(summary)
    return flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def test_a_signed_visit_looks_alike_everywhere_after_the_order_and_patient_are_edited(
    qtbot, record, tmp_path, cli
):
    path, signed, _small, _large = record
    window, store = open_main_window(qtbot, path, tmp_path)
    visit = store.get_visit(signed)
    order_before = store.get_order(visit["order_id"])
    catalogue = load_catalogue()
    # After signing: the order is changed to another product and the patient is renamed.
    store.update_order(visit["order_id"], product_id="privigen", regimen_id=None, dose_g_per_kg=2)
    store.update_patient(visit["patient_id"], name=EDITED_NAME, allergies=EDITED_ALLERGIES)
    signed_product = catalogue.products[order_before["product_id"]].display_name
    edited_product = catalogue.products["privigen"].display_name

    record_now = load_visit(store, signed)
    assert record_now.patient["name"] == ACCENTED_NAME
    assert record_now.order["product_id"] == order_before["product_id"]
    assert record_now.live_patient["name"] == EDITED_NAME  # the row now, kept apart

    # The Visit header and the Dose tab.
    page = window.visit_page
    page.open_visit(signed)
    header = " ".join((page.title.text(), page.subtitle.text(), page.allergies.text()))
    assert ACCENTED_NAME in header and EDITED_NAME not in header
    assert signed_product in header and edited_product not in header
    assert "Penicillin" in header and "Sulfa" not in header
    assert page.dose_tab.ctx.record.dose_plan.order["product_id"] == order_before["product_id"]
    assert page.dose_tab.calculator.product.currentData() == order_before["product_id"]

    # The summary PDF (as the Save/Print buttons make it) and the FHIR export.
    pdf = _pdf_text(summarize(load_visit(store, signed)))
    assert ACCENTED_NAME in pdf and signed_product in pdf and "Penicillin" in pdf
    bundle = json.loads(bundle_json(visit_bundle(load_visit(store, signed))))
    resources = [e["resource"] for e in bundle["entry"]]
    [patient] = [r for r in resources if r["resourceType"] == "Patient"]
    assert patient["name"][0]["text"] == ACCENTED_NAME
    # Later edits appear only as "changed since signing" notes.
    notes = [n["text"] for r in resources for n in r.get("note", []) if "Changed since signing" in n["text"]]
    assert any(EDITED_NAME in n for n in notes)
    fhir_text = json.dumps(resources, ensure_ascii=False)
    for n in notes:
        fhir_text = fhir_text.replace(json.dumps(n, ensure_ascii=False)[1:-1], "")
    assert EDITED_NAME not in fhir_text and signed_product in fhir_text and edited_product not in fhir_text

    # ``nurse-app visit-pdf``: the same summary.
    window.close()
    store.close()
    out = tmp_path / "cli.pdf"
    assert cli("--db", str(path), "visit-pdf", str(signed), "--out", str(out)).returncode == 0
    cli_pdf = flat("\n".join(p.extract_text() for p in PdfReader(out).pages))
    assert ACCENTED_NAME in cli_pdf and signed_product in cli_pdf and "Penicillin" in cli_pdf
    # The PDF names the edits only as "changed since signing" notes.
    assert EDITED_NAME in cli_pdf and "is now" in cli_pdf
    with Store.open_read_only(path) as again:
        summary = summarize(load_visit(again, signed))
    for _label, value in (*summary.patient, *summary.order):
        assert flat(value) in cli_pdf and flat(value) in pdf
