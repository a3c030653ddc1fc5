"""``nurse-app calc | products | regimens | --version`` through the entry point ``cli.main``, in process
(tests/cli/test_cli_smoke.py runs the real ``python -m nurse_app`` process)."""

import json

import pytest

JSON_KEYS = {
    "product",
    "dose_g_per_kg",
    "days",
    "actual_weight_kg",
    "ideal_weight_kg",
    "adjusted_weight_kg",
    "weight_basis",
    "dosing_weight_kg",
    "total_dose_g",
    "daily_dose_g",
    "daily_volume_ml",
    "vials",
    "dispensed_g_per_day",
    "rate_steps",
    "infusion_minutes_per_day",
    "warnings",
}


def test_calc_json_keys_and_values(cli):
    p = cli(
        "calc",
        "--product",
        "privigen",
        "--weight",
        "154lb",
        "--height",
        "69in",
        "--sex",
        "male",
        "--regimen",
        "pemphigus",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert set(d) >= JSON_KEYS
    assert d["actual_weight_kg"] == pytest.approx(154 * 0.45359237)
    assert d["total_dose_g"] == pytest.approx(2 * d["dosing_weight_kg"])
    assert d["vials"] and {"size_g", "count"} <= set(d["vials"][0])
    assert {"start_min", "mg_per_kg_min", "ml_per_h"} <= set(d["rate_steps"][0])
    assert isinstance(d["warnings"], list)


def test_calc_explicit_dose_with_indication_and_cap(cli):
    p = cli(
        "calc",
        "--product",
        "gamunex-c",
        "--weight",
        "70kg",
        "--dose-g-per-kg",
        "0.4",
        "--days",
        "1",
        "--indication",
        "pi",
        "--weight-basis",
        "actual",
        "--max-rate",
        "4",
        "--risk",
        "first-infusion",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["total_dose_g"] == pytest.approx(28)
    # Issue 20: a first infusion starts at the initial rate (1 mg/kg/min = 42 mL/h at 70 kg) and climbs
    # the label ladder as tolerated up to the cap of 4 mg/kg/min (issue 9's hold for the whole
    # infusion gave plans no home visit can deliver).
    assert [s["mg_per_kg_min"] for s in d["rate_steps"]] == [1, 2, 4]
    assert d["rate_steps"][0]["ml_per_h"] == pytest.approx(42)
    assert d["ideal_weight_kg"] is None and d["adjusted_weight_kg"] is None
    p = cli(
        "calc",
        "--product",
        "gamunex-c",
        "--weight",
        "70kg",
        "--dose-g-per-kg",
        "0.4",
        "--days",
        "1",
        "--indication",
        "pi",
        "--weight-basis",
        "actual",
        "--max-rate",
        "4",
        "--json",
    )
    assert json.loads(p.stdout)["rate_steps"][-1]["mg_per_kg_min"] == 4


def test_calc_human_table(cli):
    p = cli("calc", "--product", "octagam-10", "--weight", "70kg", "--regimen", "dermatomyositis")
    assert p.returncode == 0, p.stderr
    assert "Each day    28 g = 280 mL" in p.stdout
    assert "mg/kg/min" in p.stdout and "mL/h" in p.stdout
    assert ".0 " not in p.stdout  # no trailing zeros


@pytest.mark.parametrize(
    "args, message",
    [
        (["--weight", "seventy", "--regimen", "pemphigus"], "is not a number"),
        (["--weight=-70kg", "--regimen", "pemphigus"], "cannot be negative"),
        (["--weight", "70stone", "--regimen", "pemphigus"], "unknown unit 'stone'"),
        (["--weight", "70", "--regimen", "pemphigus"], "needs a unit"),
        (["--weight", "400kg", "--regimen", "pemphigus"], "above the highest value"),
        (["--weight", "70kg", "--regimen", "nope"], "Unknown regimen 'nope'"),
        (["--weight", "70kg", "--dose-g-per-kg", "1"], "needs --days"),
        (["--weight", "70kg", "--dose-g-per-kg", "1", "--days", "1.5"], "whole number"),
        (["--weight", "70kg", "--regimen", "pemphigus", "--risk", "smoking"], "Unknown risk flag"),
        (
            ["--weight", "70kg", "--regimen", "pemphigus", "--baseline-weight", "0kg"],
            "Baseline weight 0 kg is below",
        ),
        (["--weight", "70kg", "--regimen", "pemphigus", "--baseline-weight", "70"], "needs a unit"),
        (
            [
                "--weight",
                "70kg",
                "--regimen",
                "pemphigus",
                "--height",
                "150cm",
                "--sex",
                "female",
                "--weight-basis",
                "ideal",
            ],
            "not defined below 152.4 cm",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, args, message):
    p = cli("calc", "--product", "privigen", *args)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_calc_baseline_weight_warns_in_table_and_json(cli):
    args = (
        "calc",
        "--product",
        "privigen",
        "--weight",
        "154lb",
        "--baseline-weight",
        "140lb",
        "--regimen",
        "pemphigus",
    )
    table = cli(*args)
    assert table.returncode == 0, table.stderr
    assert "is 10 % more than the baseline 63.5 kg. Tell the prescriber" in table.stdout
    data = json.loads(cli(*args, "--json").stdout)
    assert data["baseline_weight_kg"] == pytest.approx(140 * 0.45359237)
    assert data["weight_change_percent"] == pytest.approx(10)
    assert any("baseline" in w for w in data["warnings"])


def test_unknown_product_exits_2(cli):
    p = cli("calc", "--product", "ivig-x", "--weight", "70kg", "--regimen", "pemphigus")
    assert p.returncode == 2 and "Unknown product 'ivig-x'" in p.stderr


@pytest.mark.parametrize("command, key", [("products", "brand"), ("regimens", "course_g_per_kg")])
def test_catalogue_listings(cli, command, key):
    text = cli(command)
    assert text.returncode == 0 and text.stdout.strip()
    js = cli(command, "--json")
    assert js.returncode == 0
    data = json.loads(js.stdout)
    assert data and key in data[0]


def test_version(cli):
    p = cli("--version")
    assert p.returncode == 0 and p.stdout.startswith("nurse-app ")


def test_an_in_process_run_leaves_no_policy_behind(cli, tmp_path):
    """main() is called many times in one test process: --policy lasts one run only."""
    from nurse_app.core import policy

    before = policy.explicit_policy_path()
    p = cli(
        "--policy",
        tmp_path / "no-such-policy.toml",
        "calc",
        "--product",
        "privigen",
        "--weight",
        "70kg",
        "--regimen",
        "pemphigus",
    )
    assert p.returncode == 2 and "no-such-policy.toml" in p.stderr and "Traceback" not in p.stderr
    assert policy.explicit_policy_path() == before
    p = cli("calc", "--product", "privigen", "--weight", "70kg", "--regimen", "pemphigus")
    assert p.returncode == 0, p.stderr
