"""Issue 12 §4: the store API is as strict as the screens (one set of rules for the UI, the
CLI, demo data and restore), and non-ASCII digits are read the same way everywhere."""

from __future__ import annotations

import json

import pytest
from store_helpers import new_patient

from nurse_app.cli import main as cli_main
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.order_checks import dose_floor
from nurse_app.core.resources import load_toml
from nurse_app.store import RecordValueError


@pytest.fixture
def patient(store):
    return new_patient(store, "MRN-1")


def _order(store, patient, **changes):
    values = dict(
        product_id="privigen",
        dose_g_per_kg=1,
        course_days=2,
        start_date="2025-01-02",
        prescriber="Dr. L. Moreau",
    )
    values.update(changes)
    return store.create_order(patient, **values)


def _visit(store, patient):
    return store.create_visit(patient, started_at="2025-01-02T09:00:00+00:00")


# --------------------------------------------------------------------------- text


def test_bidi_override_is_stripped_from_a_name(store):
    spoof = "Ana \u202eseñuN\u202c"  # right-to-left override: shows as "Ana Nuñes"
    patient = new_patient(store, "MRN-9", name=spoof)
    assert store.get_patient(patient)["name"] == "Ana señuN"
    assert not any(ch in store.get_patient(patient)["name"] for ch in "\u202a\u202b\u202c\u202d\u202e")


def test_zero_width_space_in_an_mrn_cannot_make_a_second_patient(store, patient):
    with pytest.raises(RecordValueError, match="invisible character U\\+200B") as info:
        new_patient(store, "MRN-\u200b1")
    assert info.value.field == "mrn"
    assert [p["mrn"] for p in store.find_patients()] == ["MRN-1"]


def test_invisible_characters_in_a_lot_number_are_refused(store, patient):
    visit = _visit(store, patient)
    with pytest.raises(RecordValueError, match="invisible") as info:
        store.add_lot(
            visit,
            product_id="privigen",
            lot_number="P44\u200d71",
            expiry_date="2030-01-01",
            vial_size_g=10,
            vial_count=1,
        )
    assert info.value.field == "lot_number"


# --------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"product_id": "nosuch"}, "product_id", "Unknown product 'nosuch'"),
        ({"regimen_id": "nosuch"}, "regimen_id", "Unknown regimen 'nosuch'"),
        ({"dose_g_per_kg": 500}, "dose_g_per_kg", "Course dose"),
        ({"dose_g_per_kg": 2.4, "course_days": 1}, "dose_g_per_kg", "Daily dose"),
        ({"course_days": 30}, "course_days", "days"),
        ({"dose_g_per_kg": 0.0001}, "dose_g_per_kg", "below 0.1 g/kg"),
    ],
)
def test_orders_the_dose_engine_would_refuse_are_refused(store, patient, changes, field, words):
    with pytest.raises(RecordValueError, match=words) as info:
        _order(store, patient, **changes)
    assert info.value.field == field
    assert store.patient_orders(patient) == []


def test_updating_an_order_past_a_hard_limit_is_refused(store, patient):
    order = _order(store, patient)
    for changes in ({"dose_g_per_kg": 500}, {"dose_g_per_kg": 0.0001}, {"product_id": "nosuch"}):
        with pytest.raises(RecordValueError):
            store.update_order(order, **changes)
    assert store.get_order(order)["dose_g_per_kg"] == 1
    assert store.update_order(order, dose_g_per_kg=2)["dose_g_per_kg"] == 2


def test_dose_floor_is_data_with_its_basis(store, patient):
    data, _ = load_toml("limits.toml")
    table = data["order_dose_floor"]
    assert table["min_g_per_kg"] == dose_floor().min_g_per_kg == 0.1
    assert table["basis"] == "local policy default — confirm with your agency"
    with pytest.raises(RecordValueError, match="local policy default — confirm with your agency"):
        _order(store, patient, dose_g_per_kg=0.09)
    assert store.get_order(_order(store, patient, dose_g_per_kg=0.1))["dose_g_per_kg"] == 0.1


def test_a_regimen_order_still_passes(store, patient):
    order = store.create_order(
        patient,
        product_id="privigen",
        regimen_id="cidp-maintenance",
        start_date="2024-01-02",
        prescriber="Dr. L. Moreau",
    )
    assert store.get_order(order)["regimen_id"] == "cidp-maintenance"


def test_unknown_indication_is_refused(store):
    with pytest.raises(RecordValueError, match="Unknown indication 'nosuch'") as info:
        new_patient(store, "MRN-2", indication="nosuch")
    assert info.value.field == "indication"
    for known in ("pi", "cidp-maintenance"):  # an indication id or a regimen id
        assert store.get_patient(new_patient(store, f"MRN-{known}", indication=known))["indication"] == known


def test_lot_vial_size_must_be_a_catalogue_size(store, patient):
    visit = _visit(store, patient)
    sizes = {v.grams for v in load_catalogue().product("privigen").vials}
    assert 7 not in sizes
    with pytest.raises(RecordValueError, match="Privigen does not come in 7 g vials") as info:
        store.add_lot(
            visit,
            product_id="privigen",
            lot_number="P1",
            expiry_date="2030-01-01",
            vial_size_g=7,
            vial_count=2,
        )
    assert info.value.field == "vial_size_g"
    with pytest.raises(RecordValueError, match="Unknown product 'nosuch'"):
        store.add_lot(
            visit,
            product_id="nosuch",
            lot_number="P1",
            expiry_date="2030-01-01",
            vial_size_g=10,
            vial_count=2,
        )
    lot = store.add_lot(
        visit,
        product_id="privigen",
        lot_number="P1",
        expiry_date="2030-01-01",
        vial_size_g=min(sizes),
        vial_count=2,
    )
    with pytest.raises(RecordValueError, match="7 g vials"):
        store.update_lot(lot, vial_size_g=7)
    assert store.visit_lots(visit)[0]["vial_size_g"] == min(sizes)


def test_demo_data_meets_the_same_rules(tmp_path, capsys):
    """Demo data goes through the same store API, so it is produced under the same rules."""
    assert cli_main(["--db", str(tmp_path / "demo.db"), "demo-data", "--patients", "5"]) == 0
    assert cli_main(["--db", str(tmp_path / "demo.db"), "check-db"]) == 0
    assert "Stored values: all pass" in capsys.readouterr().out


# --------------------------------------------------------------------------- digits


def _calc(args, capsys):
    code = cli_main(["calc", "--product", "privigen", "--regimen", "cidp-maintenance", *args, "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("weight", ["٧٠kg", "۷۰kg", "７０kg", "७०kg"])
def test_cli_reads_one_script_digits_as_the_same_number(weight, capsys):
    code, out, _ = _calc(["--weight", "70kg"], capsys)
    assert code == 0
    expected = json.loads(out)["daily_dose_g"]
    code, out, err = _calc(["--weight", weight], capsys)
    assert code == 0, err
    assert json.loads(out)["daily_dose_g"] == expected


@pytest.mark.parametrize("weight", ["7٠kg", "٧0kg", "۷٠kg"])
def test_cli_refuses_mixed_script_digits_in_one_line(weight, capsys):
    code, _, err = _calc(["--weight", weight], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "mixes digits of different scripts" in lines[0]


def test_cli_visit_id_and_patient_count_follow_the_same_digit_rule(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli_main(["--db", str(tmp_path / "x.db"), "demo-data", "--patients", "1٠"])
    assert stopped.value.code == 2
    assert "mixes digits" in capsys.readouterr().err
    assert cli_main(["--db", str(tmp_path / "x.db"), "demo-data", "--patients", "٢"]) == 0
    assert "Added 2 demo patients" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:
        cli_main(["--db", str(tmp_path / "x.db"), "visit-pdf", "1٠", "--out", "x.pdf"])
    assert stopped.value.code == 2 and "mixes digits" in capsys.readouterr().err


def test_gui_calculator_reads_digits_as_the_cli_does(qtbot):
    """The calculator page's number fields follow the same rule as the CLI.  (Typed with
    QLineEdit.insert, as an input method delivers text: QTest cannot send non-ASCII keys.)"""
    from nurse_app.ui.calculator_page import CalculatorPage

    page = CalculatorPage()
    qtbot.addWidget(page)
    page.resize(1200, 740)
    page.show()
    page.set_inputs(product="privigen", regimen="cidp-maintenance", weight="70")
    assert page.result is not None
    expected = page.tile_daily.value.text()
    for typed in ("٧٠", "۷۰", "７０"):
        page.weight.edit.clear()
        page.weight.edit.insert(typed)
        qtbot.waitUntil(lambda: page.result is not None and not page.weight.error.isVisible(), timeout=2000)
        assert page.tile_daily.value.text() == expected, typed
    page.weight.edit.clear()
    page.weight.edit.insert("7٠")
    qtbot.waitUntil(lambda: page.weight.error.isVisible(), timeout=2000)
    assert "mixes digits of different scripts" in page.weight.error.text()
    assert page.result is None
