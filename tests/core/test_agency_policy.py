"""Issue 15 §3: the agency policy file overlays local-policy values everywhere, and can never
loosen a label maximum or a hard limit."""

from __future__ import annotations

import json
import textwrap

import pytest
from PySide6.QtCore import QSettings, Qt

from nurse_app import cli
from nurse_app.core import policy
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.checklists import load_template
from nurse_app.core.monitoring import load_monitoring
from nurse_app.core.vitals import flag_value, vital_measures
from nurse_app.store import Store


@pytest.fixture
def use_policy(tmp_path, monkeypatch):
    """Write a policy file and make it the one in force (as --policy FILE does)."""
    monkeypatch.delenv(policy.ENV_VAR, raising=False)

    def write(text: str, name: str = "policy.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        policy.set_policy_path(path)
        return path

    yield write
    policy.set_policy_path(None)


def test_without_a_policy_the_packaged_values_hold(monkeypatch):
    monkeypatch.delenv(policy.ENV_VAR, raising=False)
    policy.set_policy_path(None)
    assert vital_measures()["heart_rate"].flag_high == 100
    assert all(s.origin != policy.AGENCY for s in policy.settings_in_force())


def test_a_policy_changes_a_vitals_threshold_in_every_loader(use_policy):
    use_policy("""
        [vitals.heart_rate]
        flag_high = 90
        [monitoring]
        after_start_minutes = 10
        [observation]
        minutes = 30
        [rates]
        step_interval_minutes = 20
        [pump]
        max_rate_ml_per_h = 500
    """)
    assert vital_measures()["heart_rate"].flag_high == 90
    assert [f.kind for f in flag_value("heart_rate", 95)] == ["high"]
    rules = load_monitoring()
    assert rules.after_start_minutes == 10 and rules.observation_minutes == 30
    limits = load_catalogue().limits
    assert limits.titration_step_minutes == 20 and limits.pump_max_ml_per_h == 500
    assert vital_measures()["infusion_rate"].maximum == 500  # the record follows the pump limit
    force = {s.key: s for s in policy.settings_in_force()}
    assert force["vitals.heart_rate.flag_high"].origin == policy.AGENCY
    assert force["vitals.heart_rate.flag_high"].packaged == 100
    assert force["vitals.heart_rate.flag_low"].origin == policy.APP_DEFAULT
    assert force["observation.minutes"].origin == policy.AGENCY
    assert "agency policy" in policy.help_text("vitals.heart_rate")
    assert "90 /min" in policy.help_text("vitals.heart_rate")


@pytest.mark.parametrize(
    "text,key",
    [
        ("[products.privigen]\nmax_rate_mg_kg_min = 20\n", "products.privigen.max_rate_mg_kg_min"),
        ("[pump]\nmax_rate_ml_per_h = 5000\n", "pump.max_rate_ml_per_h"),
        ("[limits.daily_dose_g_per_kg]\nhard_max = 3\n", "limits.daily_dose_g_per_kg.hard_max"),
        ("[limits.weight_kg]\nhard_min = 1\n", "limits.weight_kg.hard_min"),
        ("[observation]\nminutes = 5\n", "observation.minutes"),
    ],
)
def test_a_policy_loosening_a_label_maximum_or_hard_limit_is_refused_naming_the_key(
    use_policy, capsys, text, key
):
    path = use_policy(text)
    policy.set_policy_path(None)
    code = cli.main(["--policy", str(path), "content-report", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert key in err[0] and "loosen" in err[0] and str(path) in err[0]


def test_a_policy_may_tighten_a_label_maximum(use_policy):
    before = {r.indications: r.max_mg_kg_min for r in load_catalogue().products["privigen"].rates}
    use_policy("[products.privigen]\nmax_rate_mg_kg_min = 4\n")
    rows = load_catalogue().products["privigen"].rates
    assert all(r.max_mg_kg_min <= 4 for r in rows)
    assert any(before[r.indications] > 4 for r in rows)
    assert all(r.initial_mg_kg_min == pytest.approx(min(r.initial_mg_kg_min, 4)) for r in rows)


@pytest.mark.parametrize(
    "text,message",
    [
        ("[vitals.heart_rate]\nflag_hihg = 90\n", "vitals.heart_rate.flag_hihg: unknown setting"),
        ('[vitals.heart_rate]\nflag_high = "ninety"\n', "vitals.heart_rate.flag_high: expected a number"),
        ("[vitals.heart_rate]\nflag_high = 400\n", "flag threshold must lie inside"),
        (
            '[checklist]\nrequired = ["no-such-item"]\n',
            "checklist.required: no checklist item 'no-such-item'",
        ),
        ("not toml = = 1\n", "not valid TOML"),
    ],
)
def test_a_broken_policy_file_is_one_clear_line(use_policy, capsys, text, message):
    path = use_policy(text)
    policy.set_policy_path(None)
    assert cli.main(["--policy", str(path), "content-report", "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_missing_policy_file_named_explicitly_is_an_error(tmp_path, capsys):
    assert cli.main(["--policy", str(tmp_path / "nope.toml"), "content-report", "--json"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_policy_from_the_environment_and_from_the_data_folder(tmp_path, monkeypatch):
    policy.set_policy_path(None)
    env_file = tmp_path / "env-policy.toml"
    env_file.write_text("[vitals.spo2]\nflag_low = 94\n", encoding="utf-8")
    monkeypatch.setenv(policy.ENV_VAR, str(env_file))
    policy.reload()
    try:
        assert vital_measures()["spo2"].flag_low == 94
        monkeypatch.delenv(policy.ENV_VAR)
        folder = tmp_path / "data"
        folder.mkdir()
        (folder / policy.FILENAME).write_text("[vitals.spo2]\nflag_low = 93\n", encoding="utf-8")
        monkeypatch.setattr(policy, "default_policy_path", lambda: folder / policy.FILENAME)
        policy.reload()
        assert vital_measures()["spo2"].flag_low == 93
        assert policy.policy_path() == (folder / policy.FILENAME, False)
    finally:
        monkeypatch.undo()
        policy.reload()


def test_checklist_items_added_or_made_required(use_policy):
    template = load_template()
    optional = next(i for i in template.items if not i.required)
    phase = template.phases[0].id
    use_policy(f"""
        [checklist]
        required = ["{optional.id}"]
        [[checklist.add]]
        phase = "{phase}"
        id = "agency-consent"
        text = "Consent form signed this year"
        required = true
    """)
    template = load_template()
    assert template.item(optional.id).required
    added = template.item("agency-consent")
    assert added.required and added.agency_policy and added.phase_id == phase


def test_policy_contacts_fill_the_handout_contact(use_policy, tmp_path):
    from nurse_app.services.agency import handout_contact

    use_policy('[contacts]\nagency = "Example Home Infusion"\nafter_hours = "555-0199"\n')
    with Store.open(tmp_path / "r.db") as store:
        store.set_nurse_profile("Maria Santos", "RN")
        contact = handout_contact(store)
    assert contact["agency"] == "Example Home Infusion" and contact["after_hours"] == "555-0199"
    assert contact["nurse"] == "Maria Santos, RN"


def test_report_shows_values_in_force_and_their_origin(use_policy, capsys):
    path = use_policy("[vitals.heart_rate]\nflag_high = 90\n")
    policy.set_policy_path(None)
    assert cli.main(["--policy", str(path), "content-report", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    items = {i["id"]: i for i in report["items"]}
    hr = items["policy/vitals.heart_rate.flag_high"]
    assert hr["value"] == "90" and hr["origin"] == "agency policy" and hr["status"] == "agency policy"
    assert items["policy/vitals.heart_rate.flag_low"]["origin"] == "app default"
    assert items["policy/observation.minutes"]["origin"] == "label"
    assert items["vitals/measure/heart_rate"]["status"] == "agency policy"
    assert report["agency_policy_file"] == str(path)


def test_flowsheet_flags_by_the_policy_threshold(qtbot, use_policy, tmp_path):
    """Through the main window's Infusion tab: 95 /min is flagged only under a policy of 90."""
    from nurse_app.ui.main_window import MainWindow

    def run(record_name: str) -> tuple[str, str]:
        path = tmp_path / record_name
        with Store.open(path) as store:
            store.set_nurse_profile("Maria Santos", "RN")
            pid = store.create_patient(
                mrn="M1",
                name="Ann Lee",
                date_of_birth="1960-01-01",
                sex="female",
                height_cm=165,
                indication="pemphigus",
            )
            store.add_weight(pid, 70, measured_on="2026-01-01")
            store.create_order(
                pid,
                product_id="gamunex-c",
                regimen_id="pemphigus",
                start_date="2026-01-01",
                prescriber="Dr. B",
            )
        store = Store.open(path)
        window = MainWindow(
            store=store, settings=QSettings(str(tmp_path / f"{record_name}.ini"), QSettings.IniFormat)
        )
        qtbot.addWidget(window)
        window.show()
        window.start_visit(pid)
        inf = window.visit_page.infusion_tab
        for field, value in (
            ("temperature_c", "36.8"),
            ("heart_rate", "95"),
            ("systolic_mmhg", "124"),
            ("diastolic_mmhg", "78"),
            ("spo2_percent", "98"),
        ):
            inf.inputs[field].clear()
            qtbot.keyClicks(inf.inputs[field], value)
        qtbot.keyClick(inf.inputs["spo2_percent"], Qt.Key_Return)
        qtbot.waitUntil(lambda: len(store.visit_vitals(window.visit_page.visit_id)) == 1, timeout=3000)
        result = inf.flags_label.text(), inf.inputs["heart_rate"].toolTip()
        window.close()
        store.close()
        return result

    flags, tip = run("no-policy.db")
    assert "Heart rate" not in flags and "100 /min (app default" in tip
    use_policy("[vitals.heart_rate]\nflag_high = 90\n")
    flags, tip = run("policy.db")
    assert "Heart rate 95 /min is high" in flags
    assert "90 /min (agency policy; the app's value is 100 /min)" in tip


def test_calculator_rate_table_help_names_the_step_interval_and_its_origin(qtbot, use_policy):
    from nurse_app.ui.calculator_page import CalculatorPage

    page = CalculatorPage()
    qtbot.addWidget(page)
    assert "Rate-step interval where the label gives none: 30 min (app default" in page.rate_table.toolTip()
    use_policy("[rates]\nstep_interval_minutes = 20\n")
    page = CalculatorPage()
    qtbot.addWidget(page)
    tip = page.rate_table.toolTip()
    assert (
        "Rate-step interval where the label gives none: 20 min (agency policy; the app's value is 30 min)"
        in tip
    )
    assert "Pump / record maximum rate" in tip and page.rate_table.statusTip()


def test_start_up_fingerprint_covers_the_policy_file(use_policy, tmp_path, monkeypatch):
    """A fingerprint recorded without (or with another) policy never lets a broken policy through."""
    from nurse_app.core import content

    stamp = tmp_path / "cache" / content.STAMP_NAME
    monkeypatch.setattr(content, "_stamp_files", lambda: [stamp])
    policy.set_policy_path(None)
    assert content.check_content() is True  # validated, stamp recorded
    assert content.check_content() is False  # same content: fingerprint matched
    use_policy("[vitals.heart_rate]\nflag_high = 90\n")
    assert content.check_content() is True  # a policy is content: validated again
    use_policy("[vitals.heart_rate]\nflag_high = 400\n", name="broken.toml")
    with pytest.raises(Exception, match=r"agency policy .*broken\.toml"):
        content.check_content()


def test_follow_up_rules_switched_off_or_moved_by_the_policy(use_policy, capsys):
    from nurse_app.core.schedule import load_followups

    rules = load_followups().rules
    first = rules[0]
    assert first.enabled
    path = use_policy(
        f"[followups.{first.id}]\nenabled = false\nstart_days = {first.start_days}\n"
        f"end_days = {first.end_days + 2}\n"
    )
    changed = load_followups().rule(first.id)
    assert not changed.enabled and changed.end_days == first.end_days + 2
    policy.set_policy_path(None)
    assert cli.main(["--policy", str(path), "content-report", "--json"]) == 0
    items = {i["id"]: i for i in json.loads(capsys.readouterr().out)["items"]}
    row = items[f"followups/rule/{first.id}"]
    assert row["status"] == "agency policy" and "enabled no" in row["value"]
    bad = use_policy("[followups.no-such-rule]\nenabled = false\n", name="bad.toml")
    policy.set_policy_path(None)
    assert cli.main(["--policy", str(bad), "content-report", "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.toml" in err[0] and "no-such-rule" in err[0]
