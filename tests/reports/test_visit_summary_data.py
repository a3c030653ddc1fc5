"""The data step of the visit summary (store -> VisitSummary), and the PDF it gives for
unusual records: partial or missing calculations, lots that do not match, a broken seal."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from store_helpers import raw_connection, ready_visit
from visit_export_helpers import AGENCY, NURSE, flat, make_visit, open_record, read_pdf

from nurse_app.core.errors import InputError
from nurse_app.reports.visit_data import MARK_CHANGE, summarize
from nurse_app.reports.visit_summary import summary_pdf_bytes, write_summary_pdf
from nurse_app.services.visit_record import load_visit
from nurse_app.store import NotFoundError, Store

UTC = dt.UTC


def test_visit_times_are_local_and_unambiguous(export_store):
    signed = make_visit(export_store, readings=8, sign=True)
    summary = summarize(load_visit(export_store, signed))
    # 14:00Z to 16:50Z on 4 March 2025 is 09:00 to 11:50 in Toronto (EST).
    assert summary.when == "Tue 4 Mar 2025, 09:00 to 11:50 EST"
    assert summary.vitals.rows[0][0] == "09:25"
    assert summary.agency_lines == (
        AGENCY["agency"],
        AGENCY["address"],
        f"Phone {AGENCY['phone']} · After hours {AGENCY['after_hours']}",
    )
    assert summary.nurse == f"{NURSE[0]}, {NURSE[1]}"


def test_a_visit_across_midnight_shows_both_days(export_store):
    patient = export_store.create_patient(mrn="N1", name="Ana Lima", date_of_birth="1950-01-01", sex="female")
    visit = export_store.create_visit(
        patient,
        started_at=dt.datetime(2025, 3, 5, 3, 30, tzinfo=UTC),
        ended_at=dt.datetime(2025, 3, 5, 6, 15, tzinfo=UTC),
    )
    assert (
        summarize(load_visit(export_store, visit)).when == "Tue 4 Mar 2025 22:30 to Wed 5 Mar 2025 01:15 EST"
    )
    planned = export_store.create_visit(patient, scheduled_at=dt.datetime(2025, 3, 6, 15, 0, tzinfo=UTC))
    assert summarize(load_visit(export_store, planned)).when == "Thu 6 Mar 2025, scheduled 10:00 EST"


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Penicillin (rash, hives); Latex", ["Penicillin (rash, hives)", "Latex"]),
        ("Sulfonamides, shellfish\nContrast dye", ["Sulfonamides", "shellfish", "Contrast dye"]),
        ("NKDA", []),
        ("None known.", []),
        ("", []),
    ],
)
def test_allergies_split_into_entries(export_store, typed, expected):
    patient = export_store.create_patient(
        mrn=f"A-{len(typed)}", name="Bo Berg", date_of_birth="1970-02-03", sex="male", allergies=typed
    )
    visit = export_store.create_visit(patient)
    record = load_visit(export_store, visit)
    assert record.allergy_list() == expected
    shown = dict(summarize(load_visit(export_store, visit)).patient)["Allergies"]
    # One wording (core.allergies): "No known allergies" for every way of typing it; an empty
    # entry is "not recorded", a prompt to ask, never read as "none".
    assert shown == (
        "; ".join(expected)
        if expected
        else ("No known allergies" if typed.strip() else "Not recorded: ask the patient and record them")
    )


def test_abnormal_vitals_are_flagged_against_the_first_reading_of_each_measure(export_store):
    patient = export_store.create_patient(
        mrn="V1", name="Ola Nordmann", date_of_birth="1980-05-05", sex="male"
    )
    visit = export_store.create_visit(patient, started_at=dt.datetime(2025, 3, 4, 14, 0, tzinfo=UTC))
    at = dt.datetime(2025, 3, 4, 14, 5, tzinfo=UTC)
    export_store.add_vitals(visit, recorded_at=at, heart_rate=70, systolic_mmhg=120, diastolic_mmhg=80)
    # Temperature first measured here: this is its baseline, not a change.
    export_store.add_vitals(
        visit,
        recorded_at=at + dt.timedelta(minutes=15),
        temperature_c=36.5,
        heart_rate=95,
        systolic_mmhg=85,
        diastolic_mmhg=80,
        infusion_rate_ml_h=60,
    )
    export_store.add_vitals(
        visit,
        recorded_at=at + dt.timedelta(minutes=30),
        temperature_c=37.6,
        heart_rate=104,
        spo2_percent=97,
        infusion_rate_ml_h=120,
    )
    summary = summarize(load_visit(export_store, visit))
    rows = summary.vitals.rows
    assert rows[1][1] == "36.5" and (1, 1) not in summary.vitals.flagged
    assert rows[1][2] == f"95 {MARK_CHANGE}"  # up 25 from 70
    assert rows[1][3] == f"85 L{MARK_CHANGE}/80"  # below 90 and down 35
    assert rows[2][1] == f"37.6 {MARK_CHANGE}"  # up 1.1 from its own first value
    assert rows[2][2] == f"104 H{MARK_CHANGE}"
    assert rows[2][3] == "" and rows[2][6] == "120"
    assert summary.vitals.flagged == {(1, 2), (1, 3), (2, 1), (2, 2)}
    assert summary.vital_flags[0] == "09:20: Heart rate 95 /min is up 25 /min from the baseline 70 /min."
    assert len(summary.vital_flags) == 6


def test_checklist_marks_missing_required_answers_and_other_nurses(export_store):
    visit = make_visit(export_store, readings=2)
    item = export_store.visit_checklist(visit)[0]["item_id"]
    export_store.clear_checklist_item(visit, item)
    export_store.set_nurse_profile("Tomasz Wójcik", "LPN")
    export_store.set_checklist_item(visit, "kit-packed", "done", note="Spare pump battery packed")
    phase = summarize(load_visit(export_store, visit)).checklist[0]
    rows = {row[0]: row for row in phase.table.rows}
    first = phase.table.rows[0]
    assert first[1] == "Not answered (required)" and first[2] == ""
    assert (0, 1) in phase.table.flagged
    kit = next(row for text, row in rows.items() if text.startswith("Monitoring kit packed"))
    assert kit[3] == "Spare pump battery packed (by Tomasz Wójcik, LPN)"


def test_lots_that_do_not_match_the_vial_plan_are_called_out(export_store):
    visit = make_visit(export_store, readings=2)
    lots = export_store.visit_lots(visit)
    export_store.delete_lot(lots[-1]["id"])
    export_store.add_lot(
        visit, product_id="privigen", lot_number="P9", expiry_date="2026-01-01", vial_size_g=5, vial_count=1
    )
    summary = summarize(load_visit(export_store, visit))
    assert summary.lots_alert
    assert "Lots dispensed total 25 g: 1 g less than the vial plan (26 g)." in summary.lots_check
    assert "Less than the daily dose of 25.68 g" in summary.lots_check
    assert (
        "Not the product of this visit (Octagam 10% (Octapharma)): lot P9 (Privigen 10 %"
        in summary.lots_check
    )
    text = flat("\n".join(read_pdf(_pdf(summary))))
    assert "Lots dispensed total 25 g" in text and "P9" in text


def _pdf(summary):
    import io

    return io.BytesIO(summary_pdf_bytes(summary)[0])


def test_partial_and_missing_calculations_still_give_a_summary(tmp_path, toronto_time):
    with Store.open(tmp_path / "old.db") as store:
        store.set_nurse_profile("Ana Núñez", "RN")
        partial = ready_visit(store)  # calculation {"product": "privigen", "total_dose_g": 70.5}
        summary = summarize(load_visit(store, partial))
        assert summary.dose.dose == (("Course total", "70.5 g"),)
        assert summary.dose.vial_plan is None and summary.dose.rates is None
        text = flat("\n".join(read_pdf(_pdf(summary))))
        assert "Course total 70.5 g" in text and "No vial plan." in text
        none = store.create_visit(store.get_visit(partial)["patient_id"])
        summary = summarize(load_visit(store, none))
        assert summary.dose is None and summary.lots is None
        text = flat("\n".join(read_pdf(_pdf(summary))))
        for expected in (
            "No dose calculation was saved with this visit.",
            "No lots recorded.",
            "No vital signs recorded.",
            "No reactions recorded.",
            "No notes.",
            "Before signing: the start time is not recorded; the end time is not recorded",
        ):
            assert expected in text, expected
        # No agency set up: the header leads with the nurse, nothing invented.
        assert "Nurse: Ana Núñez, RN" in text and not re.search(r"\bNone\b(?! recorded)", text)


def test_a_broken_seal_is_shown_as_a_warning(tmp_path, toronto_time):
    path = tmp_path / "record.db"
    with open_record(path) as store:
        visit = make_visit(store, readings=3, sign=True)
    conn = raw_connection(path)
    conn.execute("DROP TRIGGER vitals_signed_no_update")
    conn.execute("UPDATE vitals SET temperature_c = 36.1 WHERE visit_id = ?", [visit])
    conn.close()
    with Store.open(path) as store:
        summary = summarize(load_visit(store, visit))
    assert summary.signature_alert.startswith("WARNING: the record no longer matches this hash")
    assert "WARNING: the record no longer matches this hash" in flat("\n".join(read_pdf(_pdf(summary))))


def test_unknown_visit_and_unwritable_target_are_clear_errors(export_store, tmp_path):
    with pytest.raises(NotFoundError, match="Visit 404 does not exist"):
        summarize(load_visit(export_store, 404))
    summary = summarize(load_visit(export_store, make_visit(export_store, readings=1)))
    with pytest.raises(InputError, match=r"Could not save the visit summary to .*nowhere"):
        write_summary_pdf(summary, tmp_path / "nowhere" / "x.pdf")
    assert write_summary_pdf(summary, tmp_path / "ok.pdf") >= 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".pdf") == ["ok.pdf"]


def test_baseline_weight_and_its_change_are_shown_with_the_weights(export_store):
    visit = make_visit(export_store, readings=1)
    calc = export_store.get_visit(visit)["calculation"]
    calc.update(
        baseline_weight_kg=57.5,
        baseline_weighed_on="2025-02-03",
        weight_change_percent=(64.2 - 57.5) / 57.5 * 100,
    )
    export_store.update_visit(visit, calculation=calc)
    weights = dict(summarize(load_visit(export_store, visit)).dose.weights)
    assert weights["Baseline weight"] == "57.5 kg (3 Feb 2025; change +11.7 %)"
    assert "Baseline weight 57.5 kg (3 Feb 2025; change +11.7 %)" in flat(
        "\n".join(read_pdf(_pdf(summarize(load_visit(export_store, visit)))))
    )
    calc.pop("baseline_weight_kg")
    export_store.update_visit(visit, calculation=calc)
    assert "Baseline weight" not in dict(summarize(load_visit(export_store, visit)).dose.weights)
