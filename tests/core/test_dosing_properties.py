"""Property tests for the calculator (hypothesis)."""

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from property_settings import examples

from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.dosing import RISKS, DoseRequest, calculate
from nurse_app.core.errors import HardLimitError, InputError
from nurse_app.core.rates import ml_per_hour

CAT = load_catalogue()
LIM = CAT.limits
PRODUCTS = sorted(CAT.products)
REGIMENS = sorted(r for r, reg in CAT.regimens.items() if reg.course_g_per_kg is not None)

weights = st.floats(
    min_value=LIM.weight_kg.hard_min, max_value=LIM.weight_kg.hard_max, allow_nan=False, allow_infinity=False
)
heights = st.one_of(st.none(), st.floats(min_value=LIM.height_cm.hard_min, max_value=LIM.height_cm.hard_max))
sexes = st.one_of(st.none(), st.sampled_from(["female", "male"]))
bases = st.sampled_from(["actual", "ideal", "adjusted", "auto"])
risks = st.frozensets(st.sampled_from(RISKS))
caps = st.one_of(st.none(), st.floats(min_value=0.1, max_value=20))


def finite_numbers(obj):
    if isinstance(obj, float):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from finite_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from finite_numbers(v)


@settings(max_examples=examples(300), deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    regimen=st.sampled_from(REGIMENS),
    weight=weights,
    height=heights,
    sex=sexes,
    basis=bases,
    risk=risks,
    cap=caps,
)
def test_never_crashes_and_never_nan(product, regimen, weight, height, sex, basis, risk, cap):
    req = DoseRequest(
        product_id=product,
        weight_kg=weight,
        height_cm=height,
        sex=sex,
        regimen_id=regimen,
        weight_basis=basis,
        risks=risk,
        max_rate_mg_kg_min=cap,
    )
    try:
        result = calculate(req)
    except InputError as exc:  # includes HardLimitError: a refusal with a message, never a crash
        assert str(exc)
        return
    d = result.to_dict()
    assert all(math.isfinite(x) for x in finite_numbers(d))
    assert result.weight.dosing_kg <= weight + 1e-9  # never above the actual weight
    assert result.total_dose_g > 0 and result.daily_volume_ml > 0
    assert result.infusion_minutes_per_day > 0
    steps = result.rate_steps
    assert all(a.mg_per_kg_min < b.mg_per_kg_min for a, b in itertools.pairwise(steps))
    assert all(a.start_min < b.start_min for a, b in itertools.pairwise(steps))
    assert steps[-1].mg_per_kg_min <= result.rate_row.max_mg_kg_min + 1e-9
    if cap is not None:
        assert steps[-1].mg_per_kg_min <= cap + 1e-9
    if result.vial_plan is not None:
        assert result.vial_plan.dispensed_g >= result.daily_dose_g - 1e-6


@settings(max_examples=examples(200), deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    regimen=st.sampled_from(REGIMENS),
    w1=weights,
    w2=weights,
    height=st.floats(min_value=153, max_value=210),
    sex=st.sampled_from(["female", "male"]),
    basis=st.sampled_from(["actual", "ideal", "adjusted"]),
)
def test_dose_grows_with_weight(product, regimen, w1, w2, height, sex, basis):
    """For a fixed basis the dose never falls as weight rises (``auto`` may switch basis at BMI 30)."""
    lo, hi = sorted((w1, w2))
    try:
        small = calculate(DoseRequest(product, lo, height, sex, regimen, weight_basis=basis))
        large = calculate(DoseRequest(product, hi, height, sex, regimen, weight_basis=basis))
    except InputError:
        return
    assert large.total_dose_g >= small.total_dose_g - 1e-9


@settings(max_examples=examples(200), deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    weight=st.one_of(
        st.floats(min_value=-1e6, max_value=LIM.weight_kg.hard_min, exclude_max=True),
        st.floats(min_value=LIM.weight_kg.hard_max, max_value=1e6, exclude_min=True),
    ),
)
def test_hard_weight_limits_always_refuse(product, weight):
    with pytest.raises(HardLimitError):
        calculate(DoseRequest(product, weight, regimen_id="pemphigus", weight_basis="actual"))


@settings(max_examples=examples(200), deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    dose=st.floats(min_value=0.01, max_value=10),
    days=st.integers(min_value=1, max_value=5),
)
def test_dose_hard_limits_always_refuse(product, dose, days):
    over = (
        dose > LIM.course_dose_g_per_kg.hard_max
        or dose / days > LIM.daily_dose_g_per_kg.hard_max
        or dose < LIM.order_dose_floor_g_per_kg  # the order floor refuses at every entry point (issue 20)
    )
    req = DoseRequest(product, 70, dose_g_per_kg=dose, days=days, indication="pi", weight_basis="actual")
    if over:
        with pytest.raises(HardLimitError):
            calculate(req)
    else:
        assert calculate(req).total_dose_g == pytest.approx(dose * 70)


@settings(max_examples=examples(200), deadline=None)
@given(product=st.sampled_from(PRODUCTS), regimen=st.sampled_from(REGIMENS), weight=weights)
def test_ml_per_hour_consistent_with_mg_per_kg_min(product, regimen, weight):
    try:
        r = calculate(DoseRequest(product, weight, regimen_id=regimen, weight_basis="actual"))
    except InputError:
        return
    conc = r.product.concentration_mg_per_ml
    for s in r.rate_steps:
        assert s.ml_per_h == pytest.approx(ml_per_hour(s.mg_per_kg_min, r.weight.dosing_kg, conc))
        # back-conversion: mL/h -> mg/kg/min
        assert s.ml_per_h * conc / (60 * r.weight.dosing_kg) == pytest.approx(s.mg_per_kg_min)


def _reachable_totals_mg(sizes_mg, limit_mg):
    """Independent oracle: every whole-vial total up to limit (set-based, not the engine's DP)."""
    totals = {0}
    frontier = {0}
    while frontier:
        frontier = {t + s for t in frontier for s in sizes_mg if t + s <= limit_mg} - totals
        totals |= frontier
    return totals


@settings(max_examples=examples(100), deadline=None)
@given(
    daily=st.floats(min_value=0.5, max_value=120),
    product=st.sampled_from([p for p in PRODUCTS if CAT.products[p].vials]),
)
def test_vial_plan_covers_with_least_waste_then_fewest_vials(daily, product):
    from nurse_app.core.vials import plan_vials

    vials = CAT.products[product].vials
    plan, _ = plan_vials(daily, vials)
    sizes = [round(v.grams * 1000) for v in vials]
    dose_mg = daily * 1000
    totals = _reachable_totals_mg(sizes, int(dose_mg) + max(sizes) + 1)
    best = min(t for t in totals if t >= dose_mg - 1e-6)
    assert round(plan.dispensed_g * 1000) == best
    assert sum(v.grams * n for v, n in plan.counts) == pytest.approx(plan.dispensed_g)
    # fewest vials for that total: no combination with fewer vials reaches it
    fewer = {0}
    for _ in range(plan.vial_count - 1):
        fewer = fewer | {t + s for t in fewer for s in sizes}
    assert best not in fewer


@settings(max_examples=examples(200), deadline=None)
@given(product=st.sampled_from(PRODUCTS), regimen=st.sampled_from(REGIMENS), weight=weights, baseline=weights)
def test_baseline_weight_warns_at_the_threshold_and_never_changes_the_dose(
    product, regimen, weight, baseline
):
    plain = calculate(DoseRequest(product_id=product, weight_kg=weight, regimen_id=regimen))
    checked = calculate(
        DoseRequest(product_id=product, weight_kg=weight, regimen_id=regimen, baseline_weight_kg=baseline)
    )
    assert checked.total_dose_g == plain.total_dose_g
    assert checked.rate_steps == plain.rate_steps
    change = abs(weight - baseline) / baseline * 100
    warned = [w for w in checked.warnings if w.code == "weight-change"]
    if change >= LIM.weight_change_notify_percent:
        assert len(warned) == 1 and warned[0].needs_ack
    elif change < LIM.weight_change_notify_percent - 0.05:  # the shown figure has one decimal
        assert warned == []
    assert [w for w in checked.warnings if w.code != "weight-change"] == list(plain.warnings)


# ---------------------------------------------------------------- issue 9 properties


@settings(max_examples=examples(200), deadline=None)
@given(
    product=st.sampled_from(PRODUCTS), regimen=st.sampled_from(REGIMENS), weight=weights, risk=risks, cap=caps
)
def test_every_step_within_the_pump_maximum_and_accepted_by_the_store(product, regimen, weight, risk, cap):
    """Issue 9: one limit, one source. Every proposed rate is at most limits.toml [pump] and the
    store's rate validation (resources/vitals.toml -> the same value) accepts it."""
    from nurse_app.store.validation import measure as store_measure

    try:
        r = calculate(
            DoseRequest(
                product_id=product,
                weight_kg=weight,
                regimen_id=regimen,
                weight_basis="actual",
                risks=risk,
                max_rate_mg_kg_min=cap,
            )
        )
    except InputError:
        return
    check = store_measure("infusion_rate")
    for s in r.rate_steps:
        assert s.ml_per_h <= LIM.pump_max_ml_per_h
        assert check("rate_ml_h", "Rate", s.ml_per_h) == s.ml_per_h


@settings(max_examples=examples(200), deadline=None)
@given(product=st.sampled_from(PRODUCTS), regimen=st.sampled_from(REGIMENS), weight=weights, risk=risks)
def test_first_infusion_starts_at_the_initial_rate_and_climbs_the_label_ladder(
    product, regimen, weight, risk
):
    """Issue 20: a first infusion starts at the label's initial rate and follows the same label
    ladder as tolerated (restart *at* the lowest rate, not stay there): never faster than the same
    request without the flag, and never a one-step hold for the whole infusion."""
    base = DoseRequest(
        product_id=product,
        weight_kg=weight,
        regimen_id=regimen,
        weight_basis="actual",
        risks=frozenset(risk - {"first-infusion"}),
    )
    try:
        plain = calculate(base)
    except InputError:
        return
    first = calculate(DoseRequest(**{**base.__dict__, "risks": base.risks | {"first-infusion"}}))
    row = first.rate_row
    assert first.rate_steps[0].mg_per_kg_min == pytest.approx(
        min(row.initial_mg_kg_min, plain.rate_steps[0].mg_per_kg_min)
    )
    assert first.rate_steps[-1].ml_per_h <= plain.rate_steps[-1].ml_per_h + 1e-9
    assert first.infusion_minutes_per_day == pytest.approx(plain.infusion_minutes_per_day)


@settings(max_examples=examples(300), deadline=None)
@given(
    weight=st.floats(min_value=40, max_value=200),
    height=st.floats(min_value=153, max_value=210),
    sex=st.sampled_from(["female", "male"]),
)
def test_auto_basis_follows_the_bmi_as_shown(weight, height, sex):
    """Issue 9: the obesity rule agrees with the BMI the nurse sees (one decimal)."""
    from nurse_app.core.formatting import fmt_number

    r = calculate(
        DoseRequest(
            product_id="privigen",
            weight_kg=weight,
            height_cm=height,
            sex=sex,
            regimen_id="pemphigus",
            weight_basis="auto",
        )
    )
    shown = float(fmt_number(r.weight.bmi, 1).replace(",", ""))
    obese = shown > LIM.dosing_weight.obesity_bmi_threshold
    assert r.weight.requested_basis == "auto"
    assert ("Adjusted weight: BMI" in r.weight.reason) == obese
    pi = calculate(
        DoseRequest(
            product_id="privigen",
            weight_kg=weight,
            height_cm=height,
            sex=sex,
            regimen_id="pi-replacement",
            dose_g_per_kg=0.4,
            weight_basis="auto",
        )
    )
    assert pi.weight.dosing_kg == weight  # PI: actual weight whatever the BMI


@settings(max_examples=examples(200), deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    regimen=st.sampled_from(REGIMENS),
    weight=weights,
    age=st.floats(min_value=0, max_value=130),
    risk=risks,
)
def test_age_rules_never_crash_and_prompt_exactly_over_the_threshold(product, regimen, weight, age, risk):
    """Issue 9: any possible age is accepted; the renal prompt appears exactly when the age is over
    limits.toml [age] renal_risk_over_years and the renal flag is not ticked."""
    try:
        r = calculate(
            DoseRequest(
                product_id=product,
                weight_kg=weight,
                regimen_id=regimen,
                weight_basis="actual",
                age_years=age,
                risks=risk,
            )
        )
    except HardLimitError as exc:
        assert str(exc)
        return
    prompted = "age-renal-risk" in [w.code for w in r.warnings]
    assert prompted == (age > LIM.age.renal_risk_over_years and "renal" not in risk)
    child = age < LIM.age.adult_years
    if CAT.regimens[regimen].population == "children" and child:
        assert "daily-dose" not in [w.code for w in r.warnings]
