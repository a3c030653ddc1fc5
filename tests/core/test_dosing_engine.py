"""The dose engine and catalogue: first infusion, dosing weight, regimen days, pump maximum,
stated infusion time, label texts, contraindications, age.  Numbers are worked by hand in the
comments; the tests go through ``calculate`` and the real ``calc`` command."""

import json
import tomllib

import pytest
from repo_paths import ROOT

from nurse_app.cli import main as cli_main
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import DoseRequest, age_in_years, calculate
from nurse_app.core.errors import InputError
from nurse_app.core.vitals import measure
from nurse_app.store.validation import measure as store_measure

RESOURCES = ROOT / "resources"


def calc(**kw):
    kw.setdefault("weight_basis", "actual")
    if "risks" in kw:
        kw["risks"] = frozenset(kw["risks"])
    return calculate(DoseRequest(**kw))


def codes(result):
    return [w.code for w in result.warnings]


def run_cli(capsys, *args):
    rc = cli_main(["calc", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


# ---------------------------------------------------------------- 1. first infusion / brand switch


# The first-infusion hold of issue 9 produced plans no home visit can deliver (Bivigam 55 kg: 20 h);
# issue 20 replaced it: tests/core/test_issue20_engine.py (first infusion follows the label ladder).


# ---------------------------------------------------------------- 2. dosing weight in auto


def test_pi_auto_uses_actual_weight_and_says_why():
    # Woman 120 kg, 160 cm: BMI 46.9 (obese).  Dermatomyositis in auto: adjusted weight:
    # 160 cm = 62.99 in; IBW = 45.5 + 2.3 x 2.99 = 52.38 kg; AdjBW = 52.38 + 0.4 x 67.62 = 79.43 kg.
    dm = calc(
        product_id="octagam-10",
        weight_kg=120,
        height_cm=160,
        sex="female",
        regimen_id="dermatomyositis",
        weight_basis="auto",
    )
    assert dm.weight.basis == "adjusted" and dm.weight.dosing_kg == pytest.approx(79.43, abs=0.01)
    # PI in auto: actual weight (Ontario exemption, titrate to IgG): 0.4 g/kg x 120 kg = 48 g.
    pi = calc(
        product_id="privigen",
        weight_kg=120,
        height_cm=160,
        sex="female",
        regimen_id="pi-replacement",
        dose_g_per_kg=0.4,
        weight_basis="auto",
    )
    assert pi.weight.basis == "actual" and pi.total_dose_g == pytest.approx(48)
    assert "IgG trough" in pi.weight.reason and "immunodeficiency" in pi.weight.reason
    # Secondary immunodeficiency (a custom order) too: 0.4 g/kg x 120 kg = 48 g.
    sid = calc(
        product_id="privigen",
        weight_kg=120,
        height_cm=160,
        sex="female",
        indication="sid",
        dose_g_per_kg=0.4,
        days=1,
        weight_basis="auto",
    )
    assert sid.weight.basis == "actual" and sid.total_dose_g == pytest.approx(48)
    # An explicit basis is still honoured for PI (the prescriber's choice): adjusted 79.43 kg.
    pi_adj = calc(
        product_id="privigen",
        weight_kg=120,
        height_cm=160,
        sex="female",
        regimen_id="pi-replacement",
        dose_g_per_kg=0.4,
        weight_basis="adjusted",
    )
    assert pi_adj.weight.dosing_kg == pytest.approx(79.43, abs=0.01)


@pytest.mark.parametrize(
    "weight, shown_bmi, basis",
    [
        (86.7, "30", "actual"),  # 86.7 / 1.7**2 = 30.000000000000004 as a float: shown 30, not over 30
        (86.8, "30", "actual"),  # 30.0346: shown 30, not over 30 (the old code switched to adjusted)
        (86.9, "30.1", "adjusted"),  # 30.0692: shown 30.1, over 30
    ],
)
def test_obesity_rule_compares_the_bmi_as_shown(weight, shown_bmi, basis):
    r = calc(
        product_id="privigen",
        weight_kg=weight,
        height_cm=170,
        sex="male",
        regimen_id="pemphigus",
        weight_basis="auto",
    )
    assert r.weight.basis == basis
    assert f"BMI {shown_bmi} " in r.weight.reason
    if basis == "adjusted":
        # 170 cm = 66.93 in; IBW = 50 + 2.3 x 6.93 = 65.94 kg; AdjBW = 65.94 + 0.4 x 20.96 = 74.32 kg.
        assert r.weight.dosing_kg == pytest.approx(74.32, abs=0.01)
        assert r.total_dose_g == pytest.approx(2 * r.weight.dosing_kg)
    else:
        assert r.total_dose_g == pytest.approx(2 * weight)


def test_pregnancy_rule_is_shown_where_it_applies():
    def pregnancy_notes(**kw):
        r = calc(product_id="privigen", weight_kg=70, height_cm=165, regimen_id="pemphigus", **kw)
        return [n for n in r.notes if "pre-pregnancy weight" in n]

    assert pregnancy_notes(sex="female", weight_basis="auto")
    assert pregnancy_notes(sex="female", weight_basis="adjusted")
    assert pregnancy_notes(weight_basis="auto")  # sex not given: may be pregnant
    assert not pregnancy_notes(sex="male", weight_basis="auto")
    assert not pregnancy_notes(sex="female", weight_basis="actual")


# ---------------------------------------------------------------- 3. regimen days


def test_itp_over_one_day_needs_an_acknowledgement_naming_the_regimen_days():
    r = calc(product_id="privigen", weight_kg=70, regimen_id="itp-2day", days=1)
    [w] = [w for w in r.warnings if w.code == "regimen-days"]
    assert w.needs_ack
    assert "1 g/kg/day on 2 consecutive days" in w.message and "exactly 2 days" in w.message
    assert "each day is 2 g/kg/day" in w.message and "prescriber" in w.message


@pytest.mark.parametrize("regimen_id", sorted(load_catalogue().regimens))
def test_every_regimen_names_its_days_when_the_order_differs(regimen_id):
    regimen = load_catalogue().regimens[regimen_id]
    dose = regimen.course_g_per_kg or regimen.dose_range_g_per_kg[0]
    checked = 0
    for days in range(1, 6):
        try:
            r = calc(
                # A product without its own day split (Gamunex-C's CIDP split is checked as "product-days").
                product_id="gammagard-liquid",
                weight_kg=70,
                regimen_id=regimen_id,
                dose_g_per_kg=dose,
                days=days,
            )
        except InputError:  # a hard limit (e.g. more than 2 g/kg/day) refuses outright
            continue
        found = [w for w in r.warnings if w.code == "regimen-days"]
        if regimen.days_min <= days <= regimen.days_max:
            assert not found
        else:
            checked += 1
            [w] = found
            assert regimen.days_note in w.message and w.needs_ack
    assert checked or (regimen.days_min, regimen.days_max) == (1, 5)  # MMN: every 1 to 5 days allowed


def test_products_command_prints_label_units_and_contraindications(capsys):
    assert cli_main(["products"]) == 0
    out = capsys.readouterr().out
    gammagard = out.split("gammagard-liquid", 1)[1].split("gammagard-sd-5")[0]
    assert "PI: 0.5 mL/kg/h up to 5 mL/kg/h" in gammagard  # not "0.83 mg/kg/min"
    assert "contraindication: Hyperprolinaemia" in out.split("privigen", 1)[1].split("octagam-5")[0]


# Checked against ivig-dosing.md section 1 (days the label/guideline divides the course over).
EXPECTED_DAYS = {
    "dermatomyositis": (2, 5),
    "pemphigus": (2, 5),
    "pemphigoid": (2, 5),
    "pi-replacement": (1, 1),
    "cidp-loading": (2, 5),
    "cidp-maintenance": (1, 4),
    "itp-2day": (2, 2),
    "itp-5day": (5, 5),
    "kawasaki": (1, 1),
    "gbs": (5, 5),
    "mmn": (1, 5),
    "mg": (2, 5),
}


def test_regimen_days_match_the_reference():
    regimens = load_catalogue().regimens
    assert {rid: (r.days_min, r.days_max) for rid, r in regimens.items()} == EXPECTED_DAYS
    assert all(r.days_note for r in regimens.values())


# ---------------------------------------------------------------- 4. ladder vs pump/record maximum


def test_ladder_is_capped_at_the_pump_and_record_maximum():
    # Panzyga PI, 150 kg: label max 14 mg/kg/min = 14 x 150 x 60 / 100 = 1,260 mL/h > 1,000 mL/h.
    # Cap: 1,000 x 100 / (150 x 60) = 11.11 mg/kg/min.
    r = calc(product_id="panzyga", weight_kg=150, regimen_id="pi-replacement", dose_g_per_kg=0.6)
    assert r.rate_steps[-1].ml_per_h == 1000
    assert r.rate_ceiling_mg_kg_min == pytest.approx(1000 * 100 / (150 * 60))
    assert "pump and record maximum 1,000 mL/h" in r.rate_ceiling_reason
    assert any("1,260 mL/h" in n for n in r.notes)


def test_one_limit_one_source_for_the_maximum_rate():
    vitals = tomllib.loads((RESOURCES / "vitals.toml").read_text(encoding="utf-8"))
    [rate] = [m for m in vitals["measure"] if m["id"] == "infusion_rate"]
    assert "max" not in rate  # no second copy of the number
    assert measure("infusion_rate").maximum == load_catalogue().limits.pump_max_ml_per_h == 1000


def _every_regimen_dose(regimen):
    if regimen.course_g_per_kg is not None:
        return None
    _lo, hi = regimen.dose_range_g_per_kg
    return min(hi, 2 * regimen.days)  # the highest the calculator accepts over the usual days


@pytest.mark.parametrize("weight_kg", [150, 250])
def test_store_accepts_every_rate_the_ladder_proposes(weight_kg):
    cat = load_catalogue()
    check = store_measure("infusion_rate")
    seen = 0
    for product_id in cat.products:
        for regimen in cat.regimens.values():
            r = calc(
                product_id=product_id,
                weight_kg=weight_kg,
                regimen_id=regimen.id,
                dose_g_per_kg=_every_regimen_dose(regimen),
            )
            for step in r.rate_steps:
                assert check("rate_ml_h", "Rate", step.ml_per_h) == step.ml_per_h, (product_id, regimen.id)
                seen += 1
    assert seen > 100


# ---------------------------------------------------------------- 5. stated infusion time


def test_kawasaki_warns_when_the_ladder_is_far_shorter_than_10_to_12_hours():
    # Child 20 kg, Gamunex-C (no Kawasaki row: PI/ITP row 1 -> 8 mg/kg/min), 2 g/kg = 40 g = 400 mL.
    # Ladder 12, 24, 48, 96 mL/h at 0, 30, 60, 90 min: 6 + 12 + 24 mL by 90 min, then 358 mL at 96 mL/h
    # = 223.75 min: 313.75 min = 5 h 14 min.  Over 10 to 12 h: 400 / 12 = 33.3 to 400 / 10 = 40 mL/h,
    # i.e. 33.33 x 100 / (20 x 60) = 2.78 to 3.33 mg/kg/min.
    r = calc(product_id="gamunex-c", weight_kg=20, regimen_id="kawasaki", age_years=4)
    assert r.infusion_minutes_per_day == pytest.approx(313.75)
    [w] = [w for w in r.warnings if w.code == "infusion-duration"]
    assert "over 10 to 12 h" in w.message and "5 h 14 min" in w.message
    assert "33.3 mL/h to 40 mL/h (2.78 mg/kg/min to 3.33 mg/kg/min)" in w.message
    assert "[D29, D30, D31]" in w.message


def test_stated_duration_is_sourced_data():
    kawasaki = load_catalogue().regimens["kawasaki"]
    assert kawasaki.infusion_hours == (10, 12) and kawasaki.infusion_hours_sources == ("D29", "D30", "D31")


# ---------------------------------------------------------------- 6. smaller findings


@pytest.mark.parametrize("product_id", ["asceniv", "gammaplex-5"])
def test_doubling_note_names_the_interval_the_ladder_uses(product_id):
    r = calc(product_id=product_id, weight_kg=70, regimen_id="pi-replacement", dose_g_per_kg=0.4)
    starts = [s.start_min for s in r.rate_steps]
    assert starts[:3] == [0, 15, 30]  # the ladder steps every 15 min
    [note] = [n for n in r.notes if "double the rate" in n]
    assert "every 15 min (the label's step interval" in note and "30 min" not in note


def test_privigen_doubling_note_keeps_the_policy_interval():
    r = calc(product_id="privigen", weight_kg=70, regimen_id="pi-replacement", dose_g_per_kg=0.4)
    [note] = [n for n in r.notes if "double the rate" in n]
    assert "every 30 min (doubling and interval are local policy defaults)" in note


def test_label_rates_are_printed_as_the_label_prints_them(capsys):
    rc, out, _ = run_cli(
        capsys,
        "--product",
        "gammagard-liquid",
        "--weight",
        "70kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
    )
    assert rc == 0
    assert "0.5 mL/kg/h (0.8 mg/kg/min) for 30 min → 5 mL/kg/h (8 mg/kg/min)" in out
    # The ladder also in the label's unit: 0.5, 1, 2, 4, 5 mL/kg/h.
    rows = out.split("mL/kg/h\n", 1)[1].split("Estimated")[0].strip().splitlines()
    assert [row.split()[-1] for row in rows] == ["0.5", "1", "2", "4", "5"]
    rc, out, _ = run_cli(
        capsys,
        "--product",
        "octagam-5",
        "--weight",
        "70kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
        "--json",
    )
    assert (
        json.loads(out)["label_rate_text"]
        == "0.5 mg/kg/min (0.01 mL/kg/min) → 3.33 mg/kg/min (0.07 mL/kg/min)"
    )


def test_every_rate_row_has_its_label_text():
    for p in load_catalogue().products.values():
        for row in p.rates:
            assert row.label_text, p.id
            assert ("UNVERIFIED" in row.label_text) == (not row.verified), p.id


def test_cidp_maintenance_range_follows_the_reference():
    cidp = load_catalogue().regimens["cidp-maintenance"]
    assert cidp.dose_range_g_per_kg == (1, 2)
    r = calc(product_id="gamunex-c", weight_kg=70, regimen_id="cidp-maintenance", dose_g_per_kg=0.5)
    assert "regimen-dose" in codes(r)


def test_vial_sizes_the_reference_lists_are_in_the_catalogue():
    products = load_catalogue().products
    sizes = {pid: {(v.grams, v.ml) for v in p.vials} for pid, p in products.items()}
    assert (2.5, 25) in sizes["privigen"]  # EU SmPC [P23]
    assert {(0.5, 10), (2.5, 50)} <= sizes["flebogamma-5-dif"]  # EU 10 and 50 mL [P41]
    assert (40, 400) in sizes["gammaked"]  # "probably the same" as Gamunex-C: unverified
    assert not next(v for v in products["gammaked"].vials if v.grams == 40).verified


# ---------------------------------------------------------------- 7. contraindications


def test_contraindications_are_their_own_list_not_cautions():
    products = load_catalogue().products
    kinds = {pid: {c.kind for c in p.contraindications} for pid, p in products.items()}
    common = {"anaphylaxis-to-immune-globulin", "iga-deficiency-antibodies"}
    assert all(common <= k for k in kinds.values())
    assert "hyperprolinaemia" in kinds["privigen"]
    assert "hereditary-fructose-intolerance" in kinds["flebogamma-5-dif"]
    assert "hereditary-fructose-intolerance" in kinds["flebogamma-10-dif"]
    for p in products.values():
        for c in p.cautions:
            assert "contraindicat" not in c.text.lower() and "fructose" not in c.text.lower(), p.id
            assert "hyperprolin" not in c.text.lower(), p.id
    prol = next(c for c in products["privigen"].contraindications if c.kind == "hyperprolinaemia")
    assert not prol.verified  # the reference could not confirm it


def test_contraindications_come_back_first_as_warnings_to_acknowledge():
    r = calc(product_id="privigen", weight_kg=70, regimen_id="pemphigus")
    first = r.warnings[:3]
    assert [w.code for w in first] == [
        "contraindication-anaphylaxis-to-immune-globulin",
        "contraindication-iga-deficiency-antibodies",
        "contraindication-hyperprolinaemia",
    ]
    assert all(w.needs_ack for w in first)
    assert "Hyperprolinaemia" in first[2].message
    assert "UNVERIFIED: confirm with the package insert" in first[2].message
    assert first[2].message.count("UNVERIFIED") == 1


def test_product_risk_kinds_cover_cautions_and_contraindications():
    products = load_catalogue().products
    assert {"glucose-meter", "iga", "iga-deficiency-antibodies"} <= products["octagam-10"].risk_kinds()
    assert "hereditary-fructose-intolerance" in products["flebogamma-5-dif"].risk_kinds()
    assert "glucose-meter" not in products["privigen"].risk_kinds()


# ---------------------------------------------------------------- 8. age


def test_kawasaki_child_may_get_2_g_per_kg_in_one_day():
    child = calc(product_id="gamunex-c", weight_kg=20, regimen_id="kawasaki", age_years=4)
    assert "daily-dose" not in codes(child) and "adult-single-day" not in codes(child)
    assert "weight" not in codes(child)  # 20 kg is not "unusually low" for a child of 4
    assert "weight" in codes(calc(product_id="gamunex-c", weight_kg=20, regimen_id="kawasaki", age_years=40))
    unknown = calc(product_id="gamunex-c", weight_kg=20, regimen_id="kawasaki")
    assert "daily-dose" in codes(unknown)  # no age: the generic question stays


def test_adult_on_a_one_day_2_g_per_kg_course_is_questioned():
    r = calc(product_id="privigen", weight_kg=70, dose_g_per_kg=2, days=1, indication="itp", age_years=40)
    [w] = [w for w in r.warnings if w.code == "adult-single-day"]
    assert w.needs_ack and "40 years" in w.message and "2 g/kg" in w.message
    adult_kawasaki = calc(product_id="gamunex-c", weight_kg=70, regimen_id="kawasaki", age_years=30)
    assert {"adult-single-day", "paediatric-regimen"} <= set(codes(adult_kawasaki))


@pytest.mark.parametrize("age, warns", [(65, False), (65.1, True), (80, True), (40, False)])
def test_over_65_prompts_renal_risk(age, warns):
    r = calc(product_id="privigen", weight_kg=70, regimen_id="pemphigus", age_years=age)
    assert ("age-renal-risk" in codes(r)) is warns
    ticked = calc(product_id="privigen", weight_kg=70, regimen_id="pemphigus", age_years=age, risks={"renal"})
    assert "age-renal-risk" not in codes(ticked)


def test_fluid_load_in_small_patients_in_ml_per_kg():
    # Gammagard S/D 5 %, 20 kg child, Kawasaki 2 g/kg = 40 g = 800 mL = 40 mL/kg > 20 mL/kg.
    r = calc(product_id="gammagard-sd-5", weight_kg=20, regimen_id="kawasaki", age_years=4)
    [w] = [w for w in r.warnings if w.code == "fluid-load"]
    assert "800 mL" in w.message and "40 mL/kg" in w.message and "local policy default" in w.message
    # 10 %: 400 mL = 20 mL/kg, not above 20: quiet.  A 70 kg adult on the 5 % product is not "small".
    assert "fluid-load" not in codes(
        calc(product_id="gammagard-sd-10", weight_kg=20, regimen_id="kawasaki", age_years=4)
    )
    assert "fluid-load" not in codes(
        calc(
            product_id="gammagard-sd-5", weight_kg=70, dose_g_per_kg=1, days=1, indication="pi", age_years=40
        )
    )


def test_age_from_date_of_birth():
    import datetime as dt

    assert age_in_years(dt.date(2008, 3, 1), dt.date(2026, 3, 1)) == 18
    assert age_in_years(dt.date(2008, 3, 1), dt.date(2026, 2, 28)) < 18
    with pytest.raises(InputError):
        age_in_years(dt.date(2030, 1, 1), dt.date(2026, 1, 1))
    with pytest.raises(InputError):
        calc(product_id="privigen", weight_kg=70, regimen_id="pemphigus", age_years=-1)


def test_cli_age_and_dob(capsys):
    rc, out, _ = run_cli(
        capsys, "--product", "privigen", "--weight", "70kg", "--regimen", "pemphigus", "--age", "70", "--json"
    )
    d = json.loads(out)
    assert rc == 0 and d["age_years"] == 70
    assert "age-renal-risk" in [w["code"] for w in d["warning_details"]]
    rc, out, _ = run_cli(
        capsys,
        "--product",
        "privigen",
        "--weight",
        "70kg",
        "--regimen",
        "pemphigus",
        "--dob",
        "1950-01-01",
        "--json",
    )
    assert rc == 0 and json.loads(out)["age_years"] > 70
    rc, out, err = run_cli(
        capsys, "--product", "privigen", "--weight", "70kg", "--regimen", "pemphigus", "--dob", "1950-02-30"
    )
    assert rc != 0 and "not a real date" in err and "Traceback" not in err


# ---------------------------------------------------------------- 9. calc prints cautions and contraindications


def test_calc_text_and_json_print_cautions_and_contraindications(capsys):
    rc, out, _ = run_cli(
        capsys,
        "--product",
        "flebogamma-5-dif",
        "--weight",
        "70kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
    )
    assert rc == 0
    contra = out.split("Contraindications (confirm before the order is accepted)")[1].split("Cautions")[0]
    assert "Hereditary fructose intolerance" in contra and "IgA deficiency with antibodies" in contra
    assert "Maximum IgA 50 mcg/mL (EU)." in out.split("\nCautions\n")[1]
    rc, out, _ = run_cli(
        capsys,
        "--product",
        "flebogamma-5-dif",
        "--weight",
        "70kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
        "--json",
    )
    d = json.loads(out)
    assert {c["kind"] for c in d["contraindications"]} == {
        "anaphylaxis-to-immune-globulin",
        "iga-deficiency-antibodies",
        "hereditary-fructose-intolerance",
    }
    assert {"kind": "iga", "text": "Maximum IgA 50 mcg/mL (EU).", "sources": ["P41"], "verified": True} in d[
        "cautions"
    ]
