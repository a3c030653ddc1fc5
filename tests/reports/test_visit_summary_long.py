"""The visit summary PDF on everything the store accepts: every text field at its maximum
length, 50 lots, long words.  It must never crash (issue 12 §3: a reportlab LayoutError
traceback today); long cells wrap and split across pages and nothing is cut off."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pypdf
import pytest
from visit_export_helpers import VISIT_START, flat, make_visit, open_record

from nurse_app.cli import main as cli_main
from nurse_app.core.catalogue import load_catalogue
from nurse_app.store import fields

LOTS = 50


def _words(length: int, marker: str) -> str:
    """Realistic text (words and spaces) exactly ``length`` long, ending with ``marker``."""
    body = ("Reviewed with patient and carer; " * (length // 30 + 1))[: length - len(marker) - 1]
    return f"{body.rstrip()} {marker}".rjust(length, "x")[:length]


def _max(rules: dict, name: str) -> int:
    return rules[name].convert.max_length


@pytest.fixture(scope="module")
def long_visit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    store = open_record(folder / "record.db")
    P, R, L = fields.PATIENT, fields.REACTION, fields.LOT
    visit = make_visit(
        store, name=_words(_max(P, "name"), "ENDNAME"), allergies=_words(_max(P, "allergies"), "ENDALLERGIES")
    )
    v = store.get_visit(visit)
    store.update_patient(
        v["patient_id"],
        notes=_words(_max(P, "notes"), "ENDPATIENTNOTES"),
        prescriber=_words(_max(P, "prescriber"), "ENDPRESCRIBER"),
    )
    store.update_order(
        v["order_id"],
        notes=_words(_max(fields.ORDER, "notes"), "ENDORDERNOTES"),
        prescriber=_words(_max(fields.ORDER, "prescriber"), "ENDORDERBY"),
    )
    store.update_visit(visit, notes=_words(_max(fields.VISIT, "notes"), "ENDVISITNOTES"))
    store.add_reaction(
        visit,
        occurred_at=VISIT_START + dt.timedelta(minutes=70),
        kind="other",
        severity="moderate",
        action_taken=_words(_max(R, "action_taken"), "ENDACTION"),
        outcome=_words(_max(R, "outcome"), "ENDOUTCOME"),
        note=_words(_max(R, "note"), "ENDREACTIONNOTE"),
    )
    store.add_vitals(
        visit,
        recorded_at=VISIT_START + dt.timedelta(minutes=80),
        heart_rate=80,
        note=_words(_max(fields.VITALS, "note"), "ENDVITALNOTE"),
    )
    size = load_catalogue().product("octagam-10").vials[0].grams
    for n in range(LOTS):
        number = f"L{n:02d}" + "7" * (_max(L, "lot_number") - 3)  # one unbroken 64-character word
        store.add_lot(
            visit,
            product_id="octagam-10",
            lot_number=number,
            expiry_date="2030-01-31",
            vial_size_g=size,
            vial_count=1,
        )
    item = store.visit_checklist(visit)[0]["item_id"]
    store.set_checklist_item(
        visit,
        item,
        "not_done",
        note=_words(_max(fields.CHECKLIST_ANSWER, "note"), "ENDCHECKNOTE"),
        at=VISIT_START + dt.timedelta(minutes=6),
    )
    store.update_visit(visit, ended_at=VISIT_START + dt.timedelta(hours=5))
    store.sign_visit(visit)
    store.add_addendum(visit, _words(_max(fields.ADDENDUM, "text"), "ENDADDENDUM"))
    store.close()
    return folder, visit


def test_visit_summary_at_every_fields_maximum_length_prints_everything(long_visit, capsys):
    folder, visit = long_visit
    out = folder / "long.pdf"
    assert cli_main(["--db", str(folder / "record.db"), "visit-pdf", str(visit), "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    reader = pypdf.PdfReader(out)
    pages = [page.extract_text() for page in reader.pages]
    text = flat("\n".join(pages))
    assert len(pages) >= 5
    squeezed = "".join(text.split())  # a marker may wrap inside a narrow cell
    for marker in (
        "ENDALLERGIES",
        "ENDORDERBY",
        "ENDNAME",
        "ENDVISITNOTES",
        "ENDACTION",
        "ENDOUTCOME",
        "ENDREACTIONNOTE",
        "ENDVITALNOTE",
        "ENDCHECKNOTE",
        "ENDADDENDUM",
    ):
        assert marker in squeezed, marker
    for n in range(LOTS):  # every lot is printed, in full
        assert f"L{n:02d}" + "7" * 61 in squeezed, n
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in flat(page)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_long_summary_page_renders(long_visit, tmp_path):
    folder, visit = long_visit
    out = tmp_path / "long.pdf"
    assert cli_main(["--db", str(folder / "record.db"), "visit-pdf", str(visit), "--out", str(out)]) == 0
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(out), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    rendered = sorted(tmp_path.glob("page*.png"))
    assert len(rendered) == 2 and all(p.stat().st_size > 5000 for p in rendered)
