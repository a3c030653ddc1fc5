"""Issue 20, sections 1 and 2, through the real ``calc`` command (``nurse_app.cli.main``) and the
one rule in ``core/dosing.py``: the disease's own rate limit, a per-day figure typed as the course
dose, BMI at the rounding boundary, label age limits, product day splits, the order floor, the
first infusion, the longest visit, and numbers no check can use.  Figures are worked by hand in
the comments."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import DoseRequest, calculate
from nurse_app.core.errors import HardLimitError

CAT = load_catalogue()


def calc_json(cli, *args):
    p = cli("calc", *args, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def codes(d):
    return [w["code"] for w in d["warning_details"]]


def warning(d, code):
    [w] = [w for w in d["warning_details"] if w["code"] == code]
    assert w["needs_acknowledgement"]
    return w["message"]


# ---------------------------------------------------------------- 1a. dermatomyositis rate limit

DM_ARGS = ("--weight", "70kg", "--height", "168cm", "--sex", "female", "--regimen", "dermatomyositis")


@pytest.mark.parametrize("product_id", sorted(CAT.products))
def test_dermatomyositis_never_climbs_above_4_with_any_product(cli, product_id):
    # Gamunex-C used to climb 1 -> 2 -> 4 -> 8 mg/kg/min (336 mL/h at 70 kg); Gammagard 8.33, Bivigam 6.
    d = calc_json(cli, "--product", product_id, *DM_ARGS)
    assert max(s["mg_per_kg_min"] for s in d["rate_steps"]) <= 4 + 1e-9
    assert d["indication_max_mg_per_kg_min"] == 4
    assert d["label_max_mg_per_kg_min"] is not None
    if product_id != "octagam-10" and d["rate_row_indications"] != ["dermatomyositis"]:
        row_max = max(
            r.max_mg_kg_min
            for r in CAT.products[product_id].rates
            if r.indications == tuple(d["rate_row_indications"])
        )
        if row_max > 4:
            message = warning(d, "indication-rate-limit")
            assert "never above 4 mg/kg/min with any product" in message and "thrombo-embolic" in message
            assert "[D1, D2b, D3]" in message
            assert "Dermatomyositis" in d["rate_ceiling_reason"]


def test_dermatomyositis_limit_on_gamunex_c_text_output(cli):
    p = cli("calc", "--product", "gamunex-c", *DM_ARGS)
    assert p.returncode == 0
    ladder = p.stdout.split("Start")[1].split("Estimated")[0]
    # 4 mg/kg/min x 70 kg x 60 / 100 mg/mL = 168 mL/h; 336 mL/h (8 mg/kg/min) is gone.
    assert "168" in ladder and "336" not in ladder
    assert "up to 4 mg/kg/min: Dermatomyositis maximum with any product, raised risk of clots" in p.stdout


def test_a_tighter_product_row_or_at_risk_ceiling_still_wins_over_the_disease_limit():
    # Octagam 10 % at renal risk: 3.3 mg/kg/min (label at-risk ceiling) is lower than 4.
    r = calculate(
        DoseRequest(
            "octagam-10", 70, regimen_id="dermatomyositis", weight_basis="actual", risks=frozenset({"renal"})
        )
    )
    assert r.rate_ceiling_mg_kg_min == pytest.approx(3.3)


def test_only_dermatomyositis_has_a_disease_rate_limit_in_the_reference():
    # Checked for every indication of regimens.toml against shared/reference/ (see the file's comment).
    assert set(CAT.indication_rate_limits) == {"dermatomyositis"}
    assert all(i in CAT.indications for i in CAT.indication_rate_limits)


def test_the_flowsheet_hard_limit_applies_the_disease_limit():
    from nurse_app.core.infusion_record import hard_limit

    r = calculate(DoseRequest("gamunex-c", 70, regimen_id="dermatomyositis", weight_basis="actual"))
    limit = hard_limit(r.to_dict())
    assert limit.ml_per_h == pytest.approx(168) and "dermatomyositis" in limit.reason


# ---------------------------------------------------------------- 1b. per-day dose typed as course dose


def test_gbs_per_day_dose_typed_as_course_dose_names_both_figures(cli):
    # 0.4 g/kg x 80 kg = 32 g for the whole course (6.4 g/day): a 5-fold underdose.
    d = calc_json(
        cli, "--product", "gamunex-c", "--weight", "80kg", "--regimen", "gbs", "--dose-g-per-kg", "0.4"
    )
    message = warning(d, "regimen-dose")
    assert "2 g/kg per course = 0.4 g/kg per day × 5 days" in message
    assert "you entered 0.4 g/kg per course = 0.08 g/kg per day × 5 days" in message
    assert "looks like the per-day dose" in message
    assert d["course_and_daily"] == "0.4 g/kg per course = 0.08 g/kg per day × 5 days"


@pytest.mark.parametrize(
    ("regimen_id", "dose", "per_day_look"),
    [("kawasaki", "0.2", False), ("itp-2day", "1", True), ("pemphigus", "0.4", True), ("mg", "1", False)],
)
def test_a_course_dose_other_than_the_regimens_needs_an_acknowledgement(cli, regimen_id, dose, per_day_look):
    d = calc_json(
        cli, "--product", "gamunex-c", "--weight", "20kg", "--regimen", regimen_id, "--dose-g-per-kg", dose
    )
    message = warning(d, "regimen-dose")
    regimen = CAT.regimens[regimen_id]
    assert (
        f"{regimen.course_g_per_kg:g} g/kg per course" in message
        and f"you entered {dose} g/kg per course" in message
    )
    assert ("looks like the per-day dose" in message) is per_day_look


def test_the_usual_course_dose_gives_no_dose_warning_and_text_shows_both_figures(cli):
    p = cli("calc", "--product", "gamunex-c", "--weight", "80kg", "--regimen", "gbs")
    assert p.returncode == 0
    assert "Ordered     2 g/kg per course = 0.4 g/kg per day × 5 days" in p.stdout
    assert "Usual course" not in p.stdout


@pytest.mark.parametrize("regimen_id", sorted(CAT.regimens))
def test_every_regimen_has_its_usual_course_in_data(regimen_id):
    r = CAT.regimens[regimen_id]
    assert r.course_g_per_kg is not None or r.dose_range_g_per_kg is not None


# ---------------------------------------------------------------- 2a. BMI at the rounding boundary


def test_bmi_30_05_is_shown_30_1_and_is_over_30(cli):
    # 76.928 / 1.6² = 30.05 exactly -> 30.1 (half up) -> adjusted weight.  Female 160 cm: IBW
    # 45.5 + 2.3 x (62.99 - 60) = 52.38 kg; adjusted 52.38 + 0.4 x 24.55 = 62.20 kg; 2 g/kg = 124.4 g.
    d = calc_json(
        cli,
        "--product",
        "gamunex-c",
        "--weight",
        "76.928kg",
        "--height",
        "160cm",
        "--sex",
        "female",
        "--regimen",
        "pemphigus",
    )
    assert d["weight_basis"] == "adjusted"
    assert "BMI 30.1 is over 30" in d["weight_basis_reason"]
    assert d["total_dose_g"] == pytest.approx(2 * d["adjusted_weight_kg"])


def _shown_bmi(weight: Decimal, height_cm: Decimal) -> Decimal:
    exact = weight / (height_cm / 100) ** 2
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@settings(max_examples=300, deadline=None)
@given(
    height_mm=st.integers(min_value=1530, max_value=2100),  # height in cm with one decimal
    boundary=st.integers(min_value=250, max_value=350),  # BMI x.x5 with x.x from 25.0 to 35.0
    side=st.sampled_from([Decimal(0), Decimal("0.000001"), Decimal("-0.000001")]),
)
def test_bmi_decision_matches_the_shown_bmi_at_every_x_x5_boundary(height_mm, boundary, side):
    height = Decimal(height_mm) / 10
    bmi_target = Decimal(boundary) / 10 + Decimal("0.05")
    weight = bmi_target * (height / 100) ** 2 + side  # exact decimal on the boundary, or just beside it
    r = calculate(DoseRequest("gamunex-c", float(str(weight)), float(str(height)), "female", "pemphigus"))
    shown = _shown_bmi(Decimal(str(float(str(weight)))), height)
    from nurse_app.core.formatting import fmt_number

    assert fmt_number(r.weight.bmi, 1) == fmt_number(shown, 1)
    over = shown > 30
    assert (r.weight.basis == "adjusted") is over
    assert (f"BMI {fmt_number(shown, 1)} is over 30" in r.weight.reason) is over


# ---------------------------------------------------------------- 2b. label age limits


@pytest.mark.parametrize(
    ("product_id", "regimen_id", "age", "population", "source"),
    [
        ("asceniv", "pi-replacement", "9", "adults and adolescents 12 to 17 years", "P15"),
        ("panzyga", "itp-2day", "10", "adults", "P10"),
        ("octagam-10", "dermatomyositis", "12", "adults", "P6a"),
    ],
)
def test_a_patient_younger_than_the_labels_population_needs_an_acknowledgement(
    cli, product_id, regimen_id, age, population, source
):
    args = ["--product", product_id, "--weight", "30kg", "--regimen", regimen_id]
    if regimen_id == "pi-replacement":
        args += ["--dose-g-per-kg", "0.4"]
    d = calc_json(cli, *args, "--age", age)
    message = warning(d, "label-age")
    assert f"in {population} [{source}]" in message and f"{age} years old" in message
    older = calc_json(cli, *args, "--age", "40")
    assert "label-age" not in codes(older)


def test_the_label_age_check_also_reads_the_date_of_birth(cli):
    d = calc_json(
        cli,
        "--product",
        "asceniv",
        "--weight",
        "30kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
        "--dob",
        "2020-01-01",
    )
    assert "label-age" in codes(d)


# ---------------------------------------------------------------- 2c. product day splits


def test_gamunex_c_cidp_loading_over_5_days_needs_an_acknowledgement(cli):
    d = calc_json(
        cli, "--product", "gamunex-c", "--weight", "70kg", "--regimen", "cidp-loading", "--days", "5"
    )
    message = warning(d, "product-days")
    assert "Gamunex-C gives the CIDP loading dose of 2 g/kg over 2 to 4 consecutive days" in message
    assert "[D17]" in message
    assert "product-days" not in codes(
        calc_json(
            cli, "--product", "gamunex-c", "--weight", "70kg", "--regimen", "cidp-loading", "--days", "3"
        )
    )


def test_panzyga_cidp_loading_defaults_to_its_labels_2_days(cli):
    # 1 g/kg x 2 days [D20]: 2 g/kg x 70 kg = 140 g, 70 g a day (it defaulted to 4 days of 35 g).
    d = calc_json(cli, "--product", "panzyga", "--weight", "70kg", "--regimen", "cidp-loading")
    assert d["days"] == 2 and d["daily_dose_g"] == pytest.approx(70)
    assert "product-days" not in codes(d)
    message = warning(
        calc_json(
            cli, "--product", "panzyga", "--weight", "70kg", "--regimen", "cidp-loading", "--days", "4"
        ),
        "product-days",
    )
    assert "1 g/kg on each of 2 consecutive days" in message and "exactly 2 days" in message


def test_product_splits_are_data_with_sources_matching_the_regimens_days_note():
    for regimen in CAT.regimens.values():
        for split in regimen.product_days:
            assert split.product in CAT.products and split.sources
            assert regimen.days_min <= split.days_min <= split.days_max <= regimen.days_max


# ---------------------------------------------------------------- 2d. order dose floor in calc


@pytest.mark.parametrize("dose", ["0.0004", "0.099"])
def test_calc_refuses_a_dose_below_the_order_floor(cli, dose):
    # 0.099 g/kg x 0.3 kg... at 70 kg: 6.93 g; the floor is 0.1 g/kg per course (limits.toml).
    p = cli(
        "calc",
        "--product",
        "gamunex-c",
        "--weight",
        "70kg",
        "--dose-g-per-kg",
        dose,
        "--days",
        "1",
        "--indication",
        "pi",
    )
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1
    assert f"A course dose of {dose} g/kg is below 0.1 g/kg" in p.stderr


def test_the_store_and_calc_refuse_with_the_same_words(store):
    from nurse_app.store import RecordValueError

    pid = store.create_patient(
        mrn="F-1",
        name="A B",
        date_of_birth="1970-01-01",
        sex="female",
        height_cm=160,
        indication="pi",
        prescriber="Dr X",
    )
    with pytest.raises((RecordValueError, HardLimitError)) as exc:
        store.create_order(
            pid,
            product_id="gamunex-c",
            dose_g_per_kg=0.099,
            course_days=1,
            start_date="2026-01-01",
            prescriber="Dr X",
        )
    assert "A course dose of 0.099 g/kg is below 0.1 g/kg" in str(exc.value)


# ---------------------------------------------------------------- 2e. first infusion and visit length


def test_bivigam_first_infusion_follows_the_label_schedule_not_a_20_hour_hold(cli):
    # Bivigam 55 kg, 0.6 g/kg = 33 g = 330 mL.  Old: 0.5 mg/kg/min = 16.5 mL/h for 20 h.  Label [P14]:
    # 0.5 mg/kg/min for 10 min, then +0.8 every 20 min to 6 mg/kg/min = 6 x 55 x 60 / 100 = 198 mL/h.
    d = calc_json(
        cli,
        "--product",
        "bivigam",
        "--weight",
        "55kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.6",
        "--risk",
        "first-infusion",
    )
    steps = d["rate_steps"]
    assert steps[0]["mg_per_kg_min"] == 0.5 and steps[0]["ml_per_h"] == pytest.approx(16.5)
    assert steps[1]["start_min"] == 10 and steps[1]["mg_per_kg_min"] == pytest.approx(1.3)
    assert steps[-1]["ml_per_h"] == pytest.approx(198)
    assert d["infusion_minutes_per_day"] < 4 * 60
    note = next(n for n in d["notes"] if n.startswith("First infusion or brand switch"))
    assert "[P14]" in note and "only if the patient tolerates it" in note
    assert "visit-length" not in codes(d)


@pytest.mark.parametrize("product_id", ["gammagard-liquid", "asceniv"])
def test_first_infusion_uses_the_labels_own_first_infusion_schedule(cli, product_id):
    plain = calc_json(
        cli,
        "--product",
        product_id,
        "--weight",
        "70kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
    )
    first = calc_json(
        cli,
        "--product",
        product_id,
        "--weight",
        "70kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.4",
        "--risk",
        "first-infusion",
    )
    assert first["rate_steps"] == plain["rate_steps"]  # from the initial rate, the label ladder
    source = "[P12]" if product_id == "gammagard-liquid" else "[P15]"
    assert any(n.startswith("First infusion") and source in n for n in first["notes"])


def test_a_plan_longer_than_the_longest_visit_warns_with_its_duration(cli):
    # Octagam 5 % PI (max 3.33 mg/kg/min, 50 mg/mL), 0.8 g/kg x 100 kg = 80 g = 1,600 mL; at most
    # 3.33 x 100 x 60 / 50 = 399.6 mL/h after a slow start: about 4 h 30 min, under 8 h.  Gammagard S/D 5 %
    # (UNVERIFIED max 4 mL/kg/h) is similar.  A cap of 0.5 mg/kg/min (60 mL/h) stretches it to 26 h 40 min.
    d = calc_json(
        cli,
        "--product",
        "octagam-5",
        "--weight",
        "100kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.8",
        "--max-rate",
        "0.5",
    )
    message = warning(d, "visit-length")
    assert "26 h 40 min per day" in message and "8 h" in message and "local policy default" in message
    short = calc_json(
        cli,
        "--product",
        "octagam-5",
        "--weight",
        "100kg",
        "--regimen",
        "pi-replacement",
        "--dose-g-per-kg",
        "0.8",
    )
    assert "visit-length" not in codes(short)


# ---------------------------------------------------------------- 2f. extreme numbers


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--dose-g-per-kg", "1e308", "Dose 1e+308 g/kg is not a plausible value"),
        ("--days", "99999999999999999999", "A course over 1e+20 days is not a plausible value"),
        ("--max-rate", "1e308", "Maximum rate 1e+308 mg/kg/min is not a plausible value"),
        ("--dose-g-per-kg", "1e-320", "A course dose of 1e-320 g/kg is below 0.1 g/kg"),
    ],
)
def test_extreme_numbers_give_one_line_and_exit_2(cli, option, value, words):
    p = cli("calc", "--product", "gamunex-c", "--weight", "70kg", "--regimen", "gbs", option, value)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert words in p.stderr
    assert " 0 g" not in p.stderr


def test_the_week_schedule_uses_the_products_own_day_split():
    from nurse_app.core.schedule import order_plan

    regimen = CAT.regimens["cidp-loading"]
    order = {"id": 1, "regimen_id": "cidp-loading", "start_date": "2026-01-05"}
    panzyga = order_plan({**order, "product_id": "panzyga"}, regimen=regimen)
    privigen = order_plan({**order, "product_id": "privigen"}, regimen=regimen)
    assert (panzyga.course_days, privigen.course_days) == (2, 4)


def test_the_products_own_per_day_dose_typed_as_the_course_is_flagged(cli):
    # Panzyga CIDP loading: 1 g/kg on each of 2 days [D20]; 1 g/kg typed as the course is half of it.
    d = calc_json(
        cli, "--product", "panzyga", "--weight", "70kg", "--regimen", "cidp-loading", "--dose-g-per-kg", "1"
    )
    message = warning(d, "regimen-dose")
    assert "2 g/kg per course = 1 g/kg per day × 2 days; you entered 1 g/kg per course" in message
    assert "looks like the per-day dose" in message
