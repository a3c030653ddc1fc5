"""The visit checklist template and the vital-sign ranges: content and loader validation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nurse_app.core import checklists, resources, vitals
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import InputError, ResourceError

REAL_RESOURCES = Path(resources.resource_root())


@pytest.fixture
def fake_resources(tmp_path, monkeypatch):
    """A copy of resources/ that a test may break; caches cleared before and after."""
    root = tmp_path / "resources"
    shutil.copytree(REAL_RESOURCES, root)
    monkeypatch.setattr(resources, "resource_root", lambda: root)
    checklists._all_templates.cache_clear()
    vitals.vital_measures.cache_clear()
    yield root
    checklists._all_templates.cache_clear()
    vitals.vital_measures.cache_clear()


# --------------------------------------------------------------------------- checklist


def test_template_has_every_visit_phase_in_order():
    template = checklists.load_template()
    phases = [p.id for p in template.phases]
    expected = [
        "pre-infusion",
        "product",
        "access",
        "premedication",
        "infusion",
        "post-infusion",
        "education",
    ]
    assert [p for p in phases if p in expected] == expected
    assert all(phase.items for phase in template.phases)
    assert template.required_items and len(template.required_items) < len(template.items)


def test_education_covers_the_delayed_blistering_skin_reaction():
    template = checklists.load_template()
    item = template.item("delayed-skin-reaction")
    assert item.phase_id == "education" and item.required
    text = (item.text + " " + item.help).lower()
    for words in ("8 to 10 days", "itchy", "blister", "eczema", "palms", "soles"):
        assert words in text
    assert "N48" in item.sources


def test_every_item_is_sourced_or_marked_unverified():
    template = checklists.load_template()
    for item in template.items:
        assert item.sources or item.unverified, item.id
        assert all(key in template.sources for key in item.sources)
        if item.unverified:
            assert "UNVERIFIED" in item.help, item.id
    unverified = {i.id for i in template.items if i.unverified}
    assert {"vitals-before-increase", "observation"} <= unverified


def test_template_versions_are_listed_and_chosen():
    templates = checklists.list_templates()
    assert (templates[0].id, templates[0].version) == ("ivig-home-visit", 1)
    assert checklists.load_template("ivig-home-visit", 1) is templates[0]
    with pytest.raises(ResourceError, match="version 7 is not part of this installation"):
        checklists.load_template("ivig-home-visit", 7)
    with pytest.raises(InputError, match="no checklist called"):
        checklists.load_template("wound-care")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('id = "two-identifiers"', 'id = "orders-reviewed"', "item id 'orders-reviewed' appears twice"),
        (
            'sources = ["N6"]',
            'sources = ["N999"]',
            "phase[1].item[0].sources[0]: source 'N999' is not listed",
        ),
        ('sources = ["N6"]', "sources = []", "phase[1].item[0].sources: an item without sources must"),
        (
            "required = true",
            'required = "yes"',
            "phase[0].item[0].required: Input should be a valid boolean, got 'yes'",
        ),
        ("\nversion = 1", "\nversion = 2", "must be named ivig-home-visit-v2.toml"),
        (
            'help = "UNVERIFIED: the reference gives no source for this item; follow agency policy. The',
            'help = "The',
            "must say UNVERIFIED",
        ),
        ('title = "IV access"', 'title = "IV access"\ncolour = "red"', "colour: unknown field (typo?)"),
    ],
)
def test_broken_template_names_file_and_field(fake_resources, old, new, message):
    _edit(fake_resources / "checklists" / "ivig-home-visit-v1.toml", old, new)
    with pytest.raises(
        ResourceError, match=re.escape("resources/checklists/ivig-home-visit-v1.toml")
    ) as info:
        checklists.load_template()
    assert message in str(info.value)


def test_a_new_version_is_used_for_new_visits_and_old_visits_keep_theirs(fake_resources, tmp_path):
    from store_helpers import new_patient, open_store

    folder = fake_resources / "checklists"
    newest = max(t.version for t in checklists.list_templates())
    v2 = folder / f"ivig-home-visit-v{newest + 1}.toml"  # a release after every shipped one
    shutil.copy(folder / "ivig-home-visit-v1.toml", v2)
    _edit(v2, "\nversion = 1", f"\nversion = {newest + 1}")
    _edit(
        v2,
        "Patient identity confirmed with two identifiers",
        "Identity checked with two identifiers (name and date of birth)",
    )
    checklists._all_templates.cache_clear()
    with open_store(tmp_path / "r.db") as store:
        patient = new_patient(store)
        old_visit = store.create_visit(patient, template_version=1)
        new_visit = store.create_visit(patient)
        assert store.get_visit(new_visit)["checklist_template_version"] == newest + 1
        texts = {
            v: {i["item_id"]: i["text"] for i in store.visit_checklist(v)} for v in (old_visit, new_visit)
        }
        assert texts[old_visit]["two-identifiers"] == "Patient identity confirmed with two identifiers"
        assert texts[new_visit]["two-identifiers"].startswith("Identity checked")
        store.set_checklist_item(old_visit, "two-identifiers", "done")
        # Even if the old version disappears from an installation, the answers stay readable.
        (folder / "ivig-home-visit-v1.toml").unlink()
        checklists._all_templates.cache_clear()
        shown = store.visit_checklist(old_visit)
        assert [(i["item_id"], i["text"], i["status"]) for i in shown] == [
            ("two-identifiers", "Patient identity confirmed with two identifiers", "done")
        ]


def test_the_unlock_key_is_validated_on_load(fake_resources):
    newest = max(
        (fake_resources / "checklists").glob("ivig-home-visit-v*.toml"),
        key=lambda p: int(p.stem.split("v")[-1]),
    )
    text = newest.read_text(encoding="utf-8")
    for old, new, message in (
        (
            'after = "infusion-end"',
            'after = "infusion-start"',
            r"unlock\.after: Input should be 'infusion-end'",
        ),
        (
            'minutes = "observation"',
            'minutes = "later"',
            r"unlock\.minutes: expected a number of minutes or 'observation'",
        ),
        (
            'minutes = "observation"',
            "minutes = 20",
            r"unlock\.sources: a time gate needs the source of its minutes",
        ),
        (
            'minutes = "observation"',
            'minutes = "observation"\nsources = ["N37"]',
            r"unlock\.sources: the observation period is sourced in resources/monitoring\.toml",
        ),
        (
            'minutes = "observation"',
            'minutes = 0\nsources = ["N37"]',
            r"unlock\.minutes: expected 1 to 1440 minutes, got 0$",
        ),
        ('minutes = "observation"', 'minutes = "observation"\nsoon = true', r"unlock\.soon: unknown field"),
    ):
        newest.write_text(
            text.replace("[phase.item.unlock]\n" + old, "[phase.item.unlock]\n" + new, 1)
            if old.startswith("after")
            else text.replace("\n" + old + "\n", "\n" + new + "\n", 1),
            encoding="utf-8",
        )
        checklists._all_templates.cache_clear()
        with pytest.raises(ResourceError, match=message):
            checklists.load_template()
    newest.write_text(
        text.replace('\nminutes = "observation"\n', '\nminutes = 30\nsources = ["N37"]\n', 1),
        encoding="utf-8",
    )
    checklists._all_templates.cache_clear()
    assert checklists.load_template().item("observation").unlock.minutes == 30
    checklists._all_templates.cache_clear()


# --------------------------------------------------------------------------- vital signs


def test_every_measure_has_a_sourced_or_local_policy_range():
    measures = vitals.vital_measures()
    assert set(measures) == set(vitals.MEASURE_IDS)
    for m in measures.values():
        assert m.range_sources or m.range_basis == vitals.LOCAL_POLICY
        if m.flag_low is not None or m.flag_high is not None or m.flag_change is not None:
            assert m.flag_sources or m.flag_basis == vitals.LOCAL_POLICY
    assert (measures["spo2"].minimum, measures["spo2"].maximum) == (0, 100)


def test_weight_and_height_ranges_agree_with_the_calculator_limits():
    limits = load_catalogue().limits
    measures = vitals.vital_measures()
    assert (measures["weight"].minimum, measures["weight"].maximum) == (
        limits.weight_kg.hard_min,
        limits.weight_kg.hard_max,
    )
    assert (measures["height"].minimum, measures["height"].maximum) == (
        limits.height_cm.hard_min,
        limits.height_cm.hard_max,
    )
    assert (measures["weight"].flag_low, measures["weight"].flag_high) == (
        limits.weight_kg.soft_min,
        limits.weight_kg.soft_max,
    )


@pytest.mark.parametrize(
    "measure, value, message",
    [
        ("spo2", 100.5, "SpO2 100.5 % is not possible: enter a value from 0 to 100 %."),
        ("temperature", 98.6, "Temperature 98.6 °C is not possible: enter a value from 25 to 45 °C."),
        ("weight", -70, "Weight -70 kg is not possible: enter a value from 2 to 250 kg."),
        ("heart_rate", 1e300, "Heart rate 1e+300 /min is not possible"),
        ("height", "tall", "Height must be a number, not 'tall'."),
        (
            "height",
            1.68,
            "Height 1.68 cm is not possible: enter a value from 45 to 250 cm. For 1.68 m, type 168.",
        ),
        ("spo2", 100.004, "SpO2 100.004 % is not possible"),  # shown as typed, not rounded to 100
    ],
)
def test_implausible_values_are_refused_with_the_range(measure, value, message):
    with pytest.raises(InputError) as info:
        vitals.check_plausible(measure, value)
    assert str(info.value).startswith(message) and info.value.field == measure


def test_abnormal_values_are_flagged_against_limits_and_baseline():
    flags = vitals.flag_reading(
        {"temperature": 38.4, "heart_rate": 80, "spo2": 90},
        baseline={"temperature": 36.8, "heart_rate": 78, "spo2": 97},
    )
    kinds = {(f.measure, f.kind) for f in flags}
    assert kinds == {("temperature", "high"), ("temperature", "change"), ("spo2", "low"), ("spo2", "change")}
    messages = {f.message for f in flags}
    assert "Temperature 38.4 °C is high (above 38 °C)." in messages
    assert "Temperature 38.4 °C is up 1.6 °C from the baseline 36.8 °C." in messages
    assert vitals.flag_reading({"temperature": 37.8}, {"temperature": 36.8})[0].kind == "change"
    assert vitals.flag_reading({"temperature": 37.2, "heart_rate": 72}) == []
    # A 10 % change of weight is sourced [N9]: tell the prescriber.
    assert vitals.flag_value("weight", 63, baseline=70)[0].message.startswith("Weight 63 kg is down 7 kg")
    assert vitals.flag_value("weight", 64, baseline=70) == []


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('id = "spo2"', 'id = "oxygen"', "measure[5].id: Input should be 'temperature'"),
        ("flag_low = 92", "flag_low = 120", "a flag threshold must lie inside min..max"),
        (
            'range_basis = "local policy default"\nflag_low = 50',
            "flag_low = 50",
            "the range needs range_sources",
        ),
        ('range_sources = ["PERCENT"]', 'range_sources = ["NOPE"]', "source 'NOPE' is not listed"),
        ("min = 25", "min = 50", "min must be below max"),
    ],
)
def test_broken_vitals_file_names_file_and_field(fake_resources, old, new, message):
    _edit(fake_resources / "vitals.toml", old, new)
    with pytest.raises(ResourceError, match=re.escape("resources/vitals.toml")) as info:
        vitals.vital_measures()
    assert message in str(info.value)
