"""The pydantic models of the content files (issue 10 §1): every rule, the JSON Schema, the
entry points a content author meets (--selftest, content-report, app start) and start-up cost."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from nurse_app.core import resource_models, resource_schema
from nurse_app.core.errors import ResourceError
from nurse_app.core.resources import read_toml, resource_root

ROOT = Path(__file__).resolve().parents[2]
REAL = Path(str(resource_root()))


def raw(name: str) -> dict:
    return copy.deepcopy(read_toml(name)[0])


def _context(kind: str, data: dict) -> dict:
    reg, prod = raw("regimens.toml"), raw("products.toml")
    context = {
        "sources": set(data.get("sources", {})),
        "indications": set(reg["indications"]),
        "products": {p["id"] for p in prod["product"]},
        "pump_max": 1000,
    }
    if kind == "checklist":
        context["file_name"] = "ivig-home-visit-v2.toml"
    return context


FILES = {"checklist": "checklists/ivig-home-visit-v2.toml"}


def check(kind: str, data: dict) -> str:
    name = f"resources/{FILES.get(kind, kind)}"
    with pytest.raises(ResourceError) as info:
        resource_models.check(kind, data, name, **_context(kind, data))
    return str(info.value)


def _locate(data, path: str):
    """(container, key) of a dotted path ("product.0.rate.0.max"); "pump-measure" stands for the index of
    the vitals measure that takes its maximum from limits.toml."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        if part == "pump-measure":
            part = str(next(i for i, m in enumerate(node) if "max_from" in m))
        node = node[int(part)] if part.isdigit() else node[part]
    return node, int(last) if last.isdigit() else last


def edit(path: str, value=None, *, delete: bool = False):
    """An edit of the parsed data at a dotted path."""

    def apply(data):
        node, key = _locate(data, path)
        if delete:
            del node[key]
        else:
            node[key] = value

    return apply


def copy_from(path: str, source: str):
    """Set ``path`` to the value at ``source`` (a duplicate id)."""

    def apply(data):
        src, skey = _locate(data, source)
        node, key = _locate(data, path)
        node[key] = src[skey]

    return apply


def both(*edits):
    def apply(data):
        for e in edits:
            e(data)

    return apply


# Every rule the hand-written loaders had (and the few the models add), one broken file each:
# (file kind, edit, the message: file and field path).
RULES = [
    # products.toml
    (
        "products.toml",
        edit("product.0.rate.0.max", 0.5),
        "product[0].rate[0].max: max (0.5) is below initial (1)",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.increment", 0),
        "product[0].rate[0].increment: Input should be greater than 0",
    ),
    (
        "products.toml",
        both(edit("product.0.rate.0.steps", [2, 4]), edit("product.0.rate.0.increment", 1)),
        "product[0].rate[0]: give either steps or increment, not both",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.steps", [4, 2]),
        "product[0].rate[0].steps: steps must rise, start above the initial rate and stay at or below max",
    ),
    ("products.toml", edit("product.0.rate.0.steps", [2, 9]), "product[0].rate[0].steps: steps must rise"),
    (
        "products.toml",
        edit("product.0.rate.0.first_infusion_max", 9),
        "product[0].rate[0].first_infusion_max: first_infusion_max must lie between initial and max",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.first_infusion_max", 4),
        "product[0].rate[0].first_infusion_sources: required with first_infusion_max",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.indications", ["flu"]),
        "product[0].rate[0].indications[0]: unknown indication 'flu'",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.rate_unit", "mL/min"),
        "product[0].rate[0].rate_unit: Input should be",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.status", "maybe"),
        "product[0].rate[0].status: Input should be 'label'",
    ),
    (
        "products.toml",
        edit("product.0.rate.0.initial_minutes", 0),
        "product[0].rate[0].initial_minutes: Input should be greater than or equal to 1",
    ),
    ("products.toml", edit("product.0.rate", []), "product[0].rate: expected at least one entry"),
    (
        "products.toml",
        edit("product.0.label_indications", ["flu"]),
        "product[0].label_indications[0]: unknown indication 'flu'",
    ),
    (
        "products.toml",
        edit("product.0.concentration_percent", 31),
        "product[0].concentration_percent: Input should be less than or equal to 30, got 31",
    ),
    (
        "products.toml",
        edit("product.0.concentration_percent", True),
        "product[0].concentration_percent: Input should be a valid number, got True",
    ),
    (
        "products.toml",
        edit("product.0.concentration_percent", float("nan")),
        "product[0].concentration_percent: Input should be a finite number",
    ),
    (
        "products.toml",
        edit("product.0.form", "powder"),
        "product[0].form: Input should be 'liquid' or 'lyophilised'",
    ),
    ("products.toml", edit("product.0.brand", "  "), "product[0].brand: expected non-empty text, got '  '"),
    (
        "products.toml",
        edit("product.3.vial.0.grams", -1),
        "product[3].vial[0].grams: Input should be greater than 0, got -1",
    ),
    (
        "products.toml",
        edit("product.0.vial.0.ml", 99),
        "product[0].vial[0]: 1 g in 99 mL does not match the 10 % concentration",
    ),
    (
        "products.toml",
        edit("product.0.vial.0.source", "P999"),
        "product[0].vial[0].source: source 'P999' is not listed",
    ),
    (
        "products.toml",
        edit("product.0.cautions.0.kind", "colour"),
        "product[0].cautions[0].kind: Input should be",
    ),
    (
        "products.toml",
        edit("product.0.at_risk_max_mg_kg_min", 3),
        "product[0].at_risk_sources: required with at_risk_max_mg_kg_min",
    ),
    (
        "products.toml",
        edit("common_contraindication.0.kind", "x"),
        "common_contraindication[0].kind: Input should be",
    ),
    (
        "products.toml",
        edit("product.1.id", "gamunex-c"),
        "product[1].id: product id 'gamunex-c' appears twice",
    ),
    ("products.toml", edit("product.0.sources", []), "product[0].sources: expected at least one entry"),
    (
        "products.toml",
        edit("product.0.sources", ["P1", 7]),
        "product[0].sources[1]: Input should be a valid string, got 7",
    ),
    ("products.toml", edit("source_class.P1", "blog"), "source_class.P1: Input should be 'label'"),
    ("products.toml", edit("source_class.P1", delete=True), "source_class: source 'P1' has no class"),
    ("products.toml", edit("source_class.ZZ9", "label"), "source_class: ZZ9: not listed in [sources]"),
    ("products.toml", edit("source_class", delete=True), "source_class: the [source_class] table is missing"),
    ("products.toml", edit("schema_version", 2), "schema_version: Input should be 1"),
    ("checklist", edit("schema_version", delete=True), "schema_version: required field is missing"),
    ("vitals.toml", edit("schema_version", delete=True), "schema_version: required field is missing"),
    ("products.toml", edit("product.0.concentraton", 10), "product[0].concentraton: unknown field (typo?)"),
    # regimens.toml
    ("regimens.toml", edit("regimen.0.indication", "flu"), "regimen[0].indication: unknown indication 'flu'"),
    (
        "regimens.toml",
        lambda d: [d["regimen"][0].pop(k, None) for k in ("course_g_per_kg", "dose_range_g_per_kg")],
        "regimen[0]: give course_g_per_kg, dose_range_g_per_kg or both",
    ),
    (
        "regimens.toml",
        edit("regimen.0.dose_range_g_per_kg", [2, 1]),
        "regimen[0].dose_range_g_per_kg: expected [low, high]",
    ),
    (
        "regimens.toml",
        edit("regimen.0.dose_range_g_per_kg", [1]),
        "regimen[0].dose_range_g_per_kg: expected [low, high]",
    ),
    (
        "regimens.toml",
        edit("regimen.0.days_max", 0),
        "regimen[0].days_max: Input should be greater than or equal to 1",
    ),
    (
        "regimens.toml",
        both(edit("regimen.0.days", 5), edit("regimen.0.days_max", 3)),
        "regimen[0].days: days must lie between days_min and days_max",
    ),
    (
        "regimens.toml",
        edit("regimen.0.days", 2.5),
        "regimen[0].days: Input should be a valid integer, got 2.5",
    ),
    ("regimens.toml", edit("regimen.0.days", delete=True), "regimen[0].days: required field is missing"),
    (
        "regimens.toml",
        edit("regimen.0.label_products", ["fake-ig"]),
        "regimen[0].label_products[0]: unknown product 'fake-ig'",
    ),
    (
        "regimens.toml",
        both(
            edit("regimen.0.infusion_hours_min", 5),
            edit("regimen.0.infusion_hours_max", 2),
            edit("regimen.0.infusion_hours_sources", ["D10"]),
        ),
        "regimen[0].infusion_hours_min: infusion_hours_min is above infusion_hours_max",
    ),
    (
        "regimens.toml",
        edit("regimen.0.infusion_hours_min", 5),
        "regimen[0].infusion_hours_max: give infusion_hours_min and infusion_hours_max together",
    ),
    (
        "regimens.toml",
        edit("regimen.0.label_status", "maybe"),
        "regimen[0].label_status: Input should be 'on-label'",
    ),
    (
        "regimens.toml",
        edit("regimen.0.population", "adults"),
        "regimen[0].population: Input should be 'any' or 'children'",
    ),
    ("regimens.toml", copy_from("regimen.1.id", "regimen.0.id"), "regimen[1].id: regimen id"),
    # limits.toml
    (
        "limits.toml",
        edit("weight_kg.soft_max", 500),
        "weight_kg.soft_max: soft limit lies outside the hard limits",
    ),
    (
        "limits.toml",
        edit("weight_kg.soft_min", 1),
        "weight_kg.soft_min: soft limit lies outside the hard limits",
    ),
    (
        "limits.toml",
        edit("weight_kg.basis", delete=True),
        'weight_kg: each limit needs sources or basis = "local policy default"',
    ),
    ("limits.toml", edit("days.hard_max", "5"), "days.hard_max: Input should be a valid number, got '5'"),
    ("limits.toml", edit("pump.basis", delete=True), 'pump: needs sources or basis = "local policy default"'),
    (
        "limits.toml",
        edit("pump.max_rate_ml_per_h", 0),
        "pump.max_rate_ml_per_h: Input should be greater than 0",
    ),
    ("limits.toml", edit("fluid_load.basis", delete=True), "fluid_load: needs sources or basis"),
    (
        "limits.toml",
        edit("order_dose_floor.basis", delete=True),
        "order_dose_floor: needs sources or a basis such as",
    ),
    (
        "limits.toml",
        edit("order_dose_floor.min_g_per_kg", 0),
        "order_dose_floor.min_g_per_kg: Input should be greater than 0",
    ),
    (
        "limits.toml",
        edit("dosing_weight.obesity_bmi_threshold", 3),
        "dosing_weight.obesity_bmi_threshold: Input should be greater than or equal to 15, got 3",
    ),
    (
        "limits.toml",
        edit("dosing_weight.adjusted_factor", 1.5),
        "dosing_weight.adjusted_factor: Input should be less than or equal to 1",
    ),
    (
        "limits.toml",
        edit("dosing_weight.actual_weight_indications", ["flu"]),
        "dosing_weight.actual_weight_indications[0]: unknown indication 'flu'",
    ),
    (
        "limits.toml",
        edit("dosing_weight.actual_weight_sources", delete=True),
        "dosing_weight.actual_weight_sources: required with actual_weight_indications",
    ),
    (
        "limits.toml",
        edit("dosing_weight.obesity_sources", ["D999"]),
        "dosing_weight.obesity_sources[0]: source 'D999'",
    ),
    (
        "limits.toml",
        edit("weight_change.notify_prescriber_percent", 101),
        "weight_change.notify_prescriber_percent: Input should be less than or equal to 100",
    ),
    (
        "limits.toml",
        edit("vial_rounding.tolerance_percent", 60),
        "vial_rounding.tolerance_percent: Input should be less than or equal to 50",
    ),
    (
        "limits.toml",
        edit("titration_default.method", "triple"),
        "titration_default.method: Input should be 'double'",
    ),
    (
        "limits.toml",
        edit("titration_default.step_minutes", 0),
        "titration_default.step_minutes: Input should be greater than or equal to 1",
    ),
    (
        "limits.toml",
        edit("first_infusion.note", delete=True),
        "first_infusion.note: required field is missing",
    ),
    ("limits.toml", edit("age.adult_years", 40), "age.adult_years: Input should be less than or equal to 30"),
    ("limits.toml", edit("age.renal_sources", ["X1"]), "age.renal_sources[0]: source 'X1' is not listed"),
    ("limits.toml", edit("age", delete=True), "age: required field is missing"),
    ("limits.toml", edit("pump.colour", "red"), "pump.colour: unknown field (typo?)"),
    # checklists
    (
        "checklist",
        edit("id", "Home Visit"),
        "id: expected lower-case letters, digits and dashes, got 'Home Visit'",
    ),
    (
        "checklist",
        edit("version", 3),
        "(top level): the file must be named ivig-home-visit-v3.toml (id and version)",
    ),
    ("checklist", edit("version", 0), "version: Input should be greater than or equal to 1"),
    ("checklist", copy_from("phase.1.id", "phase.0.id"), "phase[1].id: phase id"),
    ("checklist", copy_from("phase.1.item.0.id", "phase.0.item.0.id"), "phase[1].item[0].id: item id"),
    (
        "checklist",
        both(edit("phase.0.item.0.sources", []), edit("phase.0.item.0.unverified", False)),
        "phase[0].item[0].sources: an item without sources must be marked unverified = true",
    ),
    (
        "checklist",
        both(edit("phase.0.item.0.unverified", True), edit("phase.0.item.0.help", "Check it.")),
        "phase[0].item[0].help: an unverified item must say UNVERIFIED in its help text",
    ),
    (
        "checklist",
        edit("phase.0.item.0.required", "yes"),
        "phase[0].item[0].required: Input should be a valid boolean",
    ),
    ("checklist", edit("phase.0.item", []), "phase[0].item: expected at least one entry"),
    (
        "checklist",
        edit("phase.0.item.0.when", {}),
        "phase[0].item[0].when: a condition needs product_kinds or risks",
    ),
    # reactions.toml
    ("reactions.toml", edit("severity.2.id", "mild"), "severity: severity 'severe' is missing"),
    ("reactions.toml", copy_from("kind.1.id", "kind.0.id"), "kind[1].id: kind id"),
    (
        "reactions.toml",
        edit("kind.0.tiers", ["severe", "severe"]),
        "kind[0].tiers: a severity is listed twice",
    ),
    (
        "reactions.toml",
        edit("kind.0.tiers", delete=True),
        "kind[0].tiers: every kind must list the severities that fit it (tiers = [...])",
    ),
    ("reactions.toml", edit("severity.0.actions", []), "severity[0].actions: expected at least one entry"),
    ("reactions.toml", edit("grading_verified", "no"), "grading_verified: Input should be a valid boolean"),
    # vitals.toml
    ("vitals.toml", edit("measure.0.max", delete=True), "measure[0].max: required field is missing"),
    ("vitals.toml", edit("measure.0.min", 99), "measure[0].min: min must be below max"),
    (
        "vitals.toml",
        edit("measure.0.flag_high", 99),
        "measure[0].flag_high: a flag threshold must lie inside min..max",
    ),
    (
        "vitals.toml",
        edit("measure.0.flag_change", -1),
        "measure[0].flag_change: Input should be greater than 0",
    ),
    (
        "vitals.toml",
        both(edit("measure.0.range_sources", []), edit("measure.0.range_basis", delete=True)),
        'measure[0]: the range needs range_sources or range_basis = "local policy default"',
    ),
    (
        "vitals.toml",
        both(edit("measure.0.flag_sources", []), edit("measure.0.flag_basis", delete=True)),
        'measure[0]: flags need flag_sources or flag_basis = "local policy default"',
    ),
    (
        "vitals.toml",
        edit("measure.0.range_basis", "guess"),
        "measure[0].range_basis: Input should be 'local policy default'",
    ),
    ("vitals.toml", copy_from("measure.1.id", "measure.0.id"), "measure[1].id: measure id"),
    (
        "vitals.toml",
        lambda d: d.__setitem__("measure", [m for m in d["measure"] if m["id"] != "spo2"]),
        "measure: missing measure(s) spo2",
    ),
    ("vitals.toml", edit("measure.pump-measure.max", 5), "give max or max_from, not both"),
    ("vitals.toml", edit("measure.pump-measure.min", 2000), "min must be below max"),
    # monitoring.toml
    (
        "monitoring.toml",
        edit("vitals.after_end_minutes", [60, 30]),
        "vitals.after_end_minutes: expected [earliest, latest]",
    ),
    (
        "monitoring.toml",
        edit("vitals.after_end_minutes", [30]),
        "vitals.after_end_minutes: expected [earliest, latest]",
    ),
    (
        "monitoring.toml",
        edit("vitals.at_max_rate_every_minutes", 1),
        "vitals.at_max_rate_every_minutes: Input should be greater than or equal to 5",
    ),
    (
        "monitoring.toml",
        edit("vitals.window_minutes", 45),
        "vitals.window_minutes: Input should be less than or equal to 30",
    ),
    ("monitoring.toml", edit("vitals.sources", delete=True), "vitals.sources: required field is missing"),
    (
        "monitoring.toml",
        edit("observation.minutes", -5),
        "observation.minutes: Input should be greater than or equal to 0",
    ),
    ("monitoring.toml", edit("verified", delete=True), "verified: required field is missing"),
    # followups.toml
    (
        "followups.toml",
        edit("rule.0.end_days", -400),
        "rule[0].end_days: Input should be greater than or equal to -366",
    ),
    (
        "followups.toml",
        both(edit("rule.0.start_days", 10), edit("rule.0.end_days", 5)),
        "rule[0].end_days: end_days is before start_days",
    ),
    (
        "followups.toml",
        copy_from("rule.0.questions.1.id", "rule.0.questions.0.id"),
        "rule[0].questions: a question id is listed twice",
    ),
    (
        "followups.toml",
        edit("rule.0.escalate_if", ["nothing"]),
        "rule[0].escalate_if: escalate_if names 'nothing', which is not one of the questions",
    ),
    (
        "followups.toml",
        edit("rule.0.kind", "course-day"),
        "rule[0].kind: kind 'course-day' is the course itself",
    ),
    ("followups.toml", copy_from("rule.1.id", "rule.0.id"), "rule[1].id: rule id"),
    (
        "followups.toml",
        edit("rule.0.anchor", "whenever"),
        "rule[0].anchor: Input should be 'course-last-day'",
    ),
    (
        "followups.toml",
        edit("rule.0.questions.0.answer", "maybe"),
        "rule[0].questions[0].answer: Input should be 'yes-no' or 'text'",
    ),
    (
        "followups.toml",
        edit("schedule.tolerance_days", 31),
        "schedule.tolerance_days: Input should be less than or equal to 30",
    ),
    (
        "followups.toml",
        edit("schedule.overdue_lookback_days", 0),
        "schedule.overdue_lookback_days: Input should be greater than or equal to 1",
    ),
    # verification.toml (had no validator: the content report counted whatever it found)
    (
        "verification.toml",
        edit("item.0.status", "done"),
        "item[0].status: Input should be 'confirmed', 'partly' or 'unverified'",
    ),
    (
        "verification.toml",
        edit("item.0.status", "confirmed"),
        "item[0].source: a confirmed item names its primary source",
    ),
    (
        "verification.toml",
        lambda d: next(i for i in d["item"] if i.get("changed")).pop("resource"),
        ".resource: a changed item names the resource that was changed",
    ),
    ("verification.toml", copy_from("item.1.id", "item.0.id"), "item[1].id: item id"),
    (
        "verification.toml",
        edit("searched_on", "yesterday"),
        "searched_on: expected a TOML date such as 2026-11-24",
    ),
]


@pytest.mark.parametrize("kind, mutate, message", RULES)
def test_every_rule_names_the_file_and_the_field(kind, mutate, message):
    data = raw(FILES.get(kind, kind))
    mutate(data)
    text = check(kind, data)
    assert text.startswith(f"resources/{FILES.get(kind, kind)}: "), text
    assert message in text, text
    assert "Traceback" not in text and "pydantic" not in text.lower() and "\n" not in text


def test_every_packaged_file_passes_its_model():
    for kind, name in [
        (k, FILES.get(k, k)) for k in resource_models.MODELS if k not in ("guide", "guide-translation")
    ] + [("checklist", "checklists/ivig-home-visit-v1.toml")]:
        data = raw(name)
        ctx = _context(kind, data)
        if kind == "checklist":
            ctx["file_name"] = name.rsplit("/", 1)[-1]
        resource_models.check(kind, data, f"resources/{name}", **ctx)


def test_several_problems_are_counted_in_one_message():
    data = raw("products.toml")
    data["product"][0]["form"] = "powder"
    data["product"][1]["form"] = "powder"
    assert check("products.toml", data).endswith("(and 1 more problem)")


# --------------------------------------------------------------------------- the loaders


def test_loaders_build_the_same_content_from_the_models_own_output(monkeypatch):
    """The loaders read the plain data; the models' defaults are theirs (an absent optional key
    means the same to both): the content built from each model's dump equals the packaged one."""
    from nurse_app.core import (
        catalogue,
        checklists,
        monitoring,
        policy,
        reactions,
        resources,
        schedule,
        vitals,
    )

    policy.set_policy_path(None)
    before = (
        catalogue.load_catalogue(),
        checklists.list_templates(),
        vitals.vital_measures(),
        reactions.load_reactions(),
        monitoring.load_monitoring(),
        schedule.load_followups(),
    )
    real_load = resources.load_toml

    def dumped(relative: str):
        data, name = real_load(relative)
        kind = "checklist" if relative.startswith("checklists/") else relative
        ctx = _context(kind, data)
        ctx["file_name"] = relative.rsplit("/", 1)[-1]
        model = resource_models.MODELS[kind].model_validate(data, context=ctx)
        return model.model_dump(by_alias=True, exclude_none=True), name

    for module in (catalogue, checklists, monitoring, reactions, schedule, vitals):
        monkeypatch.setattr(module, "load_toml", dumped)
    policy.reload()
    try:
        after = (
            catalogue.load_catalogue(),
            checklists.list_templates(),
            vitals.vital_measures(),
            reactions.load_reactions(),
            monitoring.load_monitoring(),
            schedule.load_followups(),
        )
    finally:
        monkeypatch.undo()
        policy.reload()
    assert after == before


# --------------------------------------------------------------------------- JSON Schema


def test_checked_in_json_schemas_match_the_models():
    """resources/schema/*.schema.json are generated from the models; a model change without
    `python -m nurse_app.core.resource_schema --write` fails here (and so in CI)."""
    assert resource_schema.stale() == [], "run: python -m nurse_app.core.resource_schema --write"
    assert sorted(p.name for p in (REAL / "schema").glob("*.json")) == sorted(
        resource_schema.SCHEMA_FILES.values()
    )


def test_a_stale_schema_is_found_and_rewritten(tmp_path, capsys):
    resource_schema.write(tmp_path)
    assert resource_schema.stale(tmp_path) == []
    products = tmp_path / "products.schema.json"
    products.write_text(products.read_text().replace('"lyophilised"', '"powder"'))
    assert resource_schema.stale(tmp_path) == ["products.schema.json"]
    assert resource_schema.write(tmp_path) == ["products.schema.json"]
    assert '"lyophilised"' in products.read_text()


def test_the_schema_tells_an_author_the_keys_and_the_words():
    import json

    schema = json.loads((REAL / "schema" / "products.schema.json").read_text())
    rate = schema["$defs"]["RateRow"]
    assert rate["additionalProperties"] is False
    assert set(rate["required"]) >= {"indications", "rate_unit", "initial", "max", "sources"}
    assert rate["properties"]["rate_unit"]["enum"] == ["mg/kg/min", "mL/kg/min", "mL/kg/h"]
    assert rate["properties"]["initial"]["exclusiveMinimum"] == 0


# --------------------------------------------------------------------------- entry points


@pytest.fixture
def broken_resources(tmp_path, monkeypatch):
    """A copy of resources/ whose products.toml has a vial of -1 g (product[0].vial[0])."""
    from nurse_app.core import policy, resources

    copy_root = tmp_path / "resources"
    shutil.copytree(REAL, copy_root, ignore=shutil.ignore_patterns("__pycache__"))
    products = copy_root / "products.toml"
    text = products.read_text(encoding="utf-8")
    first_vial = '{ grams = 1, ml = 10, source = "P3" }'  # Gamunex-C, the first product's first vial
    assert raw("products.toml")["product"][0]["vial"][0] == {"grams": 1, "ml": 10, "source": "P3"}
    products.write_text(
        text.replace(first_vial, first_vial.replace("grams = 1", "grams = -1"), 1), encoding="utf-8"
    )
    monkeypatch.setattr(resources, "resource_root", lambda: copy_root)
    monkeypatch.delenv(policy.ENV_VAR, raising=False)
    policy.set_policy_path(None)
    yield copy_root
    monkeypatch.undo()
    policy.reload()


EXPECTED = "resources/products.toml: product[0].vial[0].grams: Input should be greater than 0, got -1"


def test_selftest_names_the_file_and_field(broken_resources, capsys):
    from nurse_app import cli

    assert cli.main(["--selftest"]) == 1
    out = capsys.readouterr()
    assert out.err.strip() == f"FAIL  {EXPECTED}"
    assert "Traceback" not in out.out + out.err


def test_content_report_names_the_file_and_field(broken_resources, capsys, tmp_path):
    from nurse_app import cli

    assert cli.main(["--db", str(tmp_path / "none.db"), "content-report", "--json"]) == 2
    out = capsys.readouterr()
    assert out.err.strip() == f"nurse-app: {EXPECTED}"
    assert out.out == ""


def test_trusted_content_is_only_the_content_that_passed(tmp_path, monkeypatch):
    """Once the start-up check trusted the packaged content, other content is still validated."""
    from nurse_app.core import catalogue, policy, resources

    monkeypatch.delenv(policy.ENV_VAR, raising=False)
    policy.set_policy_path(None)
    resources.trust_validated_content(policy.load_policy().digest)
    try:
        copy_root = tmp_path / "resources"
        shutil.copytree(REAL, copy_root, ignore=shutil.ignore_patterns("__pycache__"))
        regimens = copy_root / "regimens.toml"
        regimens.write_text(
            regimens.read_text(encoding="utf-8").replace(
                'label_status = "on-label"', 'label_status = "maybe"', 1
            )
        )
        monkeypatch.setattr(resources, "resource_root", lambda: copy_root)
        catalogue.load_catalogue.cache_clear()
        with pytest.raises(ResourceError, match=r"regimens.toml: regimen\[\d+\]\.label_status"):
            catalogue.load_catalogue()
    finally:
        resources.trust_validated_content(None)
        monkeypatch.undo()
        catalogue.load_catalogue.cache_clear()
