"""The visit summary PDF read back with pypdf: every block, header and page numbers on
every page, DRAFT on unsigned visits only, accented names, ISMP-safe numbers."""

from __future__ import annotations

import re
import time

import pypdf
import pytest
from visit_export_helpers import ACCENTED_NAME, AGENCY, NURSE, flat, make_visit, open_record, read_pdf

from nurse_app.core.formatting import fmt_qty
from nurse_app.reports.common import font_files
from nurse_app.reports.visit_data import summarize
from nurse_app.reports.visit_summary import write_summary_pdf
from nurse_app.services.visit_record import load_visit

ADDENDA = (
    "Lot M2417A confirmed with the pharmacy by phone.",
    "Patient called on day 4: mild headache, resolved.",
)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A draft visit (8 readings) and a signed 60-reading visit with two addenda, as PDFs."""
    folder = tmp_path_factory.mktemp("summary")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "America/Toronto")
        time.tzset()
        store = open_record(folder / "record.db")
        draft = make_visit(store, readings=8)
        signed = make_visit(store, mrn="MRN-0043", readings=60, sign=True, addenda=ADDENDA)
        out = {}
        for name, visit in (("draft", draft), ("signed", signed)):
            path = folder / f"{name}.pdf"
            pages = write_summary_pdf(summarize(load_visit(store, visit)), path)
            out[name] = (path, pages, read_pdf(path))
        out["store"] = store
        out["visits"] = {"draft": draft, "signed": signed}
        yield out
        store.close()
    time.tzset()


def all_text(made, name: str) -> str:
    return flat("\n".join(made[name][2]))


def test_page_header_and_numbering_on_every_page_of_a_multi_page_visit(made):
    path, pages, texts = made["signed"]
    assert pages == len(texts) >= 4
    for number, text in enumerate(texts, 1):
        page = flat(text)
        assert f"Page {number} of {pages}" in page
        assert AGENCY["agency"] in page and AGENCY["address"] in page
        assert f"Phone {AGENCY['phone']} · After hours {AGENCY['after_hours']}" in page
        assert f"Nurse: {NURSE[0]}, {NURSE[1]}" in page
        assert "IVIG visit summary" in page
        assert f"{ACCENTED_NAME} · MRN MRN-0043" in page
        assert "Tue 4 Mar 2025, 09:00 to 20:30 EST" in page  # 14:00Z..01:30Z, local time
    assert len(pypdf.PdfReader(path).pages) == pages


def test_draft_time_range_says_not_ended(made):
    assert "Tue 4 Mar 2025, 09:00 to (not ended) EST" in flat(made["draft"][2][0])


def test_patient_and_order_blocks(made):
    text = all_text(made, "signed")
    for expected in (
        "Patient Name " + ACCENTED_NAME,
        "MRN MRN-0043",
        "Date of birth 23 Aug 1961 (age 63)",
        "Sex Female",
        "Height 168 cm",
        "Allergies Penicillin (rash, hives); Latex",
        "Indication Dermatomyositis: 2 g/kg per course",
        "Order Product Octagam 10% (Octapharma)",
        "Dose 2 g/kg per course",
        "Days 5 days",
        "Interval every 28 days",
        "Start date 2 Mar 2025",
        "Prescriber Dr. L. Moreau",
        "This visit Day 3 of 5",
    ):
        assert expected in text, expected


def test_dose_calculation_as_used(made):
    store, visit = made["store"], made["visits"]["signed"]
    calc = store.get_visit(visit)["calculation"]
    text = all_text(made, "signed")
    # 2 g/kg x 64.2 kg = 128.4 g over 5 days = 25.68 g a day = 256.8 mL of a 10 % solution.
    for expected in (
        "Dose calculation as used",
        "Weight at visit 64.2 kg",
        "Dosing weight 64.2 kg (actual)",
        "BMI 22.7 kg/m²",
        "Ordered 2 g/kg over 5 days (0.4 g/kg/day)",
        "Course total 128.4 g",
        "Daily dose 25.68 g",
        "Daily volume 256.8 mL of 10 % solution",
        "Total = 2 g/kg × 64.2 kg = 128.4 g",
        "Daily = 128.4 g ÷ 5 = 25.68 g",
    ):
        assert expected in text, expected
    plan = text[text.index("Vial plan (per day)") : text.index("Lots dispensed")]
    for vial in calc["vials"]:
        assert f"{fmt_qty(vial['size_g'], 'g')} {fmt_qty(vial['size_ml'], 'mL')} {vial['count']}" in plan
    grams = sum(v["size_g"] * v["count"] for v in calc["vials"])
    assert f"Total per day {sum(v['count'] for v in calc['vials'])} {fmt_qty(grams, 'g')}" in plan
    lots = text[text.index("Lots dispensed") : text.index("Rate schedule")]
    assert "Lot Expiry Vial size Vials Grams" in lots
    assert (
        f"M2417A 31 Jan 2026 {fmt_qty(calc['vials'][0]['size_g'], 'g')} {calc['vials'][0]['count']}" in lots
    )
    assert f"Lots dispensed match the vial plan ({fmt_qty(grams, 'g')})" in lots
    rates = text[text.index("Rate schedule") : text.index("Checklist Before the visit")]
    assert "Step mg/kg/min mL/kg/min mL/h" in rates
    for step in calc["rate_steps"]:
        assert fmt_qty(step["ml_per_h"], "mL/h").split()[0] in rates
    assert "not above 4 mg/kg/min" in rates


def test_checklist_by_phase_with_status_time_and_note(made):
    store, visit = made["store"], made["visits"]["signed"]
    text = all_text(made, "signed")
    checklist = text[text.index("Checklist Before the visit") : text.index("Vital signs Time Temp")]
    phases = list(dict.fromkeys(i["phase_title"] for i in store.visit_checklist(visit)))
    positions = [checklist.index(title) for title in phases]
    assert positions == sorted(positions), "phases in template order"
    assert "Item Status Time Note" in checklist
    assert "Patient identity confirmed with two identifiers Done 09:05" in checklist
    assert (
        "This product makes some glucose meters read falsely high: meter type checked (glucose-specific "
        "method only) and the patient warned Not done 09:05 Patient has no glucose meter at home"
    ) in checklist


def test_vitals_table_marks_abnormal_values_and_repeats_its_header(made):
    texts = made["signed"][2]
    text = all_text(made, "signed")
    vitals = text[text.index("Vital signs Time Temp") : text.index("Reactions Time")]
    assert "Time Temp °C Pulse /min BP mmHg Resp /min SpO2 % Rate mL/h Note" in vitals
    assert "09:25 36.7 72 124/78 14 98 0 Baseline before infusion" in vitals
    assert "09:55 38.4 HΔ 75 121/78 14 98 77 Chills, rate reduced" in vitals  # fever, up 1.7 °C
    assert "10:05 36.8 76 124/78 14 91 LΔ 154.1" in vitals  # SpO2 below 92 %
    assert "Marks: H above and L below the flag limit; Δ changed" in vitals
    assert "Temperature below 35 °C, above 38 °C, Δ 1 °C" in vitals
    assert "Abnormal values (4)" in vitals
    assert "09:55: Temperature 38.4 °C is high (above 38 °C)." in vitals
    assert "10:05: SpO2 91 % is low (below 92 %)." in vitals
    # 60 readings run over several pages: every page with a reading has the header row.
    late_times = [f"{h:02d}:{m:02d}" for h in range(11, 20) for m in (5, 15, 25, 35, 45, 55)]
    pages = [flat(t) for t in texts if any(f" {clock} 36." in flat(t) for clock in late_times)]
    assert len(pages) >= 2
    for page in pages:
        assert "Time Temp °C Pulse /min BP mmHg Resp /min SpO2 % Rate mL/h Note" in page


def test_reactions_notes_addenda_and_signature(made):
    store, visit = made["store"], made["visits"]["signed"]
    row = store.get_visit(visit)
    text = all_text(made, "signed")
    reactions = text[text.index("Reactions Time") : text.index("Notes Patient")]
    # The kind prints as its title (never an id such as "infusion-reaction"), the nurse's words after it.
    assert (
        "09:56 Infusion (rate-related) reaction (Chills and fever) Mild 77 mL/h Infusion paused 15 minutes"
        in reactions
    )
    assert "infusion-reaction" not in reactions
    assert "acetaminophen 650 mg by mouth" in reactions
    assert "Settled within 30 minutes; infusion completed." in reactions
    assert "Notes Patient tolerated the infusion well. Left forearm 22 G, site clean and dry" in text
    addenda = text[text.index("Addenda Addendum 1") : text.index("Signatures Nurse Signed by")]
    for n, (addendum, stored) in enumerate(zip(ADDENDA, store.visit_addenda(visit), strict=True), 1):
        assert f"Addendum {n}: " in addenda and addendum in addenda
        assert stored["author"] == f"{NURSE[0]}, {NURSE[1]}" and stored["author"] in addenda
    signature = text[text.index("Signatures Nurse Signed by") :]
    assert f"Signed by {row['signed_by']} Signed at " in signature
    # (the hash may wrap in the narrower signature column: compared without the line breaks)
    assert "Content hash sha256:" in signature and f"hash{row['content_hash']}" in signature.replace(" ", "")
    assert "The record matches the hash" in signature


def _draft_marks(path) -> list[tuple[int, list[float]]]:
    """(page, transformation matrix) of every "DRAFT" drawn on its own (the watermark)."""
    found = []
    for number, page in enumerate(pypdf.PdfReader(path).pages, 1):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip() == "DRAFT":
                found.append((number, cm))

        page.extract_text(visitor_text=visit)
    return found


def test_unsigned_visit_has_a_diagonal_draft_watermark_on_every_page(made):
    path, pages, texts = made["draft"]
    marks = _draft_marks(path)
    assert [page for page, _ in marks] == list(range(1, pages + 1))
    for _, (a, b, _c, _d, _e, _f) in marks:  # rotated 45 degrees: cos = sin = 0.707
        assert a == pytest.approx(0.7071, abs=1e-3) and b == pytest.approx(0.7071, abs=1e-3)
    assert "DRAFT: this visit is not signed" in flat(texts[0])
    assert "Not signed: this summary is a DRAFT" in all_text(made, "draft")
    assert "Before signing: the end time is not recorded." in all_text(made, "draft")


def test_signed_visit_has_no_draft_mark(made):
    path, _, texts = made["signed"]
    assert _draft_marks(path) == []
    assert not any("DRAFT" in text or "Draft" in text for text in texts)


def test_accented_names_print_in_an_embedded_truetype_font(made):
    path, _, texts = made["signed"]
    assert ACCENTED_NAME in texts[0] and "Siobhán Ní Bhriain" in texts[0]
    expected = font_files()[""].rsplit("/", 1)[-1].removesuffix(".ttf").replace("-", "")
    embedded = set()
    for page in pypdf.PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
            embedded.add(str(font["/BaseFont"]).split("+")[-1].replace("-", ""))
    assert any(name.startswith(expected) for name in embedded), embedded


@pytest.mark.parametrize("name", ["draft", "signed"])
def test_numbers_are_ismp_safe(made, name):
    text = all_text(made, name)
    assert not re.search(r"(?<![\d.])\.\d", text), "leading zero missing"
    assert not re.search(r"\b\d+\.\d*0\b(?!\.)", text), "trailing zero"
    assert not re.search(r"\b(cc|µg|q\.d\.)\b", text)
