"""The shape of every content file in ``resources/``: pydantic models (issue 10 §1).

One model per file kind.  Each model forbids unknown keys (a typo is refused, not
ignored), checks types and ranges, and carries the cross-field rules of its file (a
source key must be listed in the file's ``[sources]``, ``max`` is not below ``initial``,
``soft_*`` lies inside ``hard_*``...).  Rules that look at another file (an indication
from ``regimens.toml``, a product id, the pump maximum in ``limits.toml``) read it from
the validation context the loader passes in.

:func:`check` validates one parsed file and turns the first problem into a
:class:`ResourceError` that names the file and the field path, e.g.
``resources/products.toml: product[3].vial[0].grams: Input should be greater than 0, got -1``.

The loaders (``catalogue``, ``checklists``, ``vitals``...) call :func:`check` through
:func:`nurse_app.core.resources.validate` and build their own dataclasses from the data.
This module is imported only when a file is validated: a start whose content fingerprint
already passed (see :mod:`nurse_app.core.content`) never imports pydantic.

``python -m nurse_app.core.resource_schema --write`` exports one JSON Schema per file for
content authors (``resources/schema/``); a test keeps them equal to these models.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

# The vocabularies (kinds, units, ids) live once, in the module that uses them at run time:
# imported here, not copied.
from nurse_app.core.catalogue import CAUTION_KINDS, CONTRAINDICATION_KINDS, RATE_UNITS
from nurse_app.core.checklists import OBSERVATION, UNLOCK_AFTER
from nurse_app.core.dosing import RISKS
from nurse_app.core.errors import ResourceError
from nurse_app.core.reactions import SEVERITY_ORDER
from nurse_app.core.resources import SOURCE_CLASSES
from nurse_app.core.schedule import ANCHORS, COURSE_DAY
from nurse_app.core.vitals import LOCAL_POLICY, MEASURE_IDS, PUMP_MAX_FROM

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"  # checklist, phase and item ids
SOURCE_KEY_PATTERN = r"^[A-Z]{1,3}\d{1,3}$"  # guide source keys (S1)
ICD10_PATTERN = r"^[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?$"  # letter, two characters, optional dot and 1-4 more
_TEXT_PATTERN = r"\S"
_PATTERN_MESSAGES = {
    _TEXT_PATTERN: "expected non-empty text",
    SLUG_PATTERN: "expected lower-case letters, digits and dashes",
    SOURCE_KEY_PATTERN: "expected a short key such as S1",
    ICD10_PATTERN: "does not look like an ICD-10 code (e.g. M33.10)",
}


class Problem(ValueError):
    """A rule broken at ``path`` below the model that found it (``("vial", 0)``)."""

    def __init__(self, message: str, *path: str | int):
        super().__init__(message)
        self.path = path


# --------------------------------------------------------------------------- field types


def _context(info: ValidationInfo, key: str) -> Any:
    return (info.context or {}).get(key)


def _known_source(value: str, info: ValidationInfo) -> str:
    known = _context(info, "sources")
    if known is not None and value not in known:
        raise ValueError(f"source {value!r} is not listed in [sources]")
    return value


def _known_indication(value: str, info: ValidationInfo) -> str:
    known = _context(info, "indications")
    if known is not None and value not in known:
        raise ValueError(f"unknown indication {value!r} (see [indications] in regimens.toml)")
    return value


def _known_product(value: str, info: ValidationInfo) -> str:
    known = _context(info, "products")
    if known is not None and value not in known:
        raise ValueError(f"unknown product {value!r}")
    return value


Text = Annotated[str, Field(pattern=_TEXT_PATTERN)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
SourceKey = Annotated[str, Field(pattern=_TEXT_PATTERN), AfterValidator(_known_source)]
Indication = Annotated[str, Field(pattern=_TEXT_PATTERN), AfterValidator(_known_indication)]
ProductId = Annotated[str, Field(pattern=_TEXT_PATTERN), AfterValidator(_known_product)]
Positive = Annotated[float, Field(gt=0)]
Sources = Annotated[list[SourceKey], Field(min_length=1)]  # at least one citation key
OptionalSources = list[SourceKey]
Texts = Annotated[list[Text], Field(min_length=1)]


class Model(BaseModel):
    """Strict TOML values: a number is a number (not "10", not true), no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class SourcedFile(Model):
    """A file's ``[sources]`` (key -> citation) and ``[source_class]`` (key -> class) tables."""

    schema_version: Literal[1] = Field(1, description="the file format version (1)")
    sources: dict[str, Text] = Field(description="citation key -> full citation")
    source_class: dict[str, Literal[SOURCE_CLASSES]] = Field(  # type: ignore[valid-type]
        description="one class per [sources] key; when unsure, secondary"
    )

    @field_validator("source_class")
    @classmethod
    def _every_source_has_a_class(cls, classes: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        sources = info.data.get("sources")
        if sources is None:
            return classes
        for key in sources:
            if key not in classes:
                raise ValueError(f"source {key!r} has no class (one of {', '.join(SOURCE_CLASSES)})")
        extra = sorted(set(classes) - set(sources))
        if extra:
            raise ValueError(f"{', '.join(extra)}: not listed in [sources]")
        return classes


def _unique(items: list[Any], what: str, key: str = "id", field: str | None = None) -> None:
    """Refuse an id listed twice; the error points at the second entry."""
    seen: set[Any] = set()
    for i, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            raise Problem(f"{what} {key} {value!r} appears twice", field or "", i, key)
        seen.add(value)


def _needs_basis_or_sources(model: Any, message: str | None = None) -> None:
    if model.basis is None and model.sources is None:
        raise Problem(message or 'needs sources or basis = "local policy default"')


# --------------------------------------------------------------------------- products.toml


class Caution(Model):
    kind: Literal[CAUTION_KINDS]  # type: ignore[valid-type]
    text: Text
    sources: Sources
    verified: bool = True


class Contraindication(Model):
    kind: Literal[CONTRAINDICATION_KINDS]  # type: ignore[valid-type]
    text: Text
    sources: Sources
    verified: bool = True


# How normal saline may meet the product in its line: "flush-allowed" (the label allows a saline
# flush), "never" (the label forbids mixing or diluting it with saline or IV fluids), "not-stated"
# (the reference pack does not say: verified = false, the app says to confirm with the insert).
LINE_SALINE = ("flush-allowed", "never", "not-stated")


class LineRule(Model):
    """A product's dilution and line-flush rule, read wherever the app speaks of saline in the line."""

    saline: Literal[LINE_SALINE]  # type: ignore[valid-type]
    text: Text
    sources: Sources
    verified: bool = True

    @model_validator(mode="after")
    def _not_stated_is_unverified(self) -> LineRule:
        if (self.saline == "not-stated") == self.verified:
            raise Problem('verified = false exactly when saline = "not-stated"', "verified")
        return self


# A US National Drug Code as printed on the package: 10 digits in 4-4-2, 5-3-2 or 5-4-1 form.
NDC_PATTERN = r"^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1})$"


class Vial(Model):
    grams: Positive
    ml: Positive
    source: SourceKey
    verified: bool = True
    ndc: (
        Annotated[str, Field(pattern=NDC_PATTERN, description="package NDC, 10 digits with hyphens")] | None
    ) = None
    ndc_source: SourceKey | None = None
    ndc_verified: bool = Field(True, description="false: the package code is UNVERIFIED (inferred, not read)")

    @model_validator(mode="after")
    def _ndc_rules(self) -> Vial:
        if self.ndc is not None and self.ndc_source is None:
            raise Problem("an ndc needs its ndc_source")
        if self.ndc is None and (self.ndc_source is not None or not self.ndc_verified):
            raise Problem("ndc_source and ndc_verified describe an ndc: give the ndc too")
        return self


class RateRow(Model):
    """One label rate row, in the label's own unit."""

    indications: Annotated[list[Indication], Field(min_length=1)]
    rate_unit: Literal[RATE_UNITS]  # type: ignore[valid-type]
    initial: Positive
    max: Positive
    initial_minutes: Annotated[float, Field(ge=1)] | None = None
    step_minutes: Annotated[float, Field(ge=1)] | None = None
    steps: Annotated[list[Positive], Field(min_length=1)] | None = Field(
        None, description="explicit ladder after the initial rate (rising, at most max)"
    )
    increment: Positive | None = None
    status: Literal["label", "unverified"] = "label"
    sources: Sources
    note: Text | None = None
    label_text: Text | None = None
    first_infusion_max: Positive | None = None
    first_infusion_sources: Sources | None = None
    first_infusion_note: Text | None = None
    min_age_years: Annotated[float, Field(ge=0, le=30)] | None = Field(
        None, description="the label's youngest age for this row (population names it)"
    )
    population: Text | None = None
    population_sources: Sources | None = None

    @model_validator(mode="after")
    def _rules(self) -> RateRow:
        if self.max < self.initial:
            raise Problem(f"max ({self.max:g}) is below initial ({self.initial:g})", "max")
        if self.steps is not None and self.increment is not None:
            raise Problem("give either steps or increment, not both")
        if self.steps is not None:
            s = self.steps
            if s != sorted(s) or s[0] <= self.initial or s[-1] > self.max:
                raise Problem(
                    "steps must rise, start above the initial rate and stay at or below max", "steps"
                )
        if self.first_infusion_max is not None:
            if not self.initial <= self.first_infusion_max <= self.max:
                raise Problem("first_infusion_max must lie between initial and max", "first_infusion_max")
            if self.first_infusion_sources is None:
                raise Problem("required with first_infusion_max", "first_infusion_sources")
        if self.first_infusion_note is not None and self.first_infusion_sources is None:
            raise Problem("required with first_infusion_note", "first_infusion_sources")
        if self.min_age_years is not None:
            if self.population is None:
                raise Problem("required with min_age_years", "population")
            if self.population_sources is None:
                raise Problem("required with min_age_years", "population_sources")
        return self


class Product(Model):
    id: Text
    brand: Text
    manufacturer: Text
    concentration_percent: Annotated[float, Field(gt=0, le=30)]
    form: Literal["liquid", "lyophilised"]
    line: LineRule
    label_indications: Annotated[list[Indication], Field(min_length=1)]
    sources: Sources
    cautions: list[Caution] = []
    contraindications: list[Contraindication] = []
    vial: list[Vial] = []
    rate: Annotated[list[RateRow], Field(min_length=1)]
    at_risk_max_mg_kg_min: Positive | None = None
    at_risk_sources: Sources | None = None

    @model_validator(mode="after")
    def _rules(self) -> Product:
        conc_mg_ml = self.concentration_percent * 10
        for i, v in enumerate(self.vial):
            if abs(v.grams * 1000 / v.ml - conc_mg_ml) > 0.01 * conc_mg_ml:
                raise Problem(
                    f"{v.grams:g} g in {v.ml:g} mL does not match the "
                    f"{self.concentration_percent:g} % concentration",
                    "vial",
                    i,
                )
        if self.at_risk_max_mg_kg_min is not None and self.at_risk_sources is None:
            raise Problem("required with at_risk_max_mg_kg_min", "at_risk_sources")
        return self


class ProductsFile(SourcedFile):
    """resources/products.toml: the IVIG products, their vials, label rate rows and cautions."""

    common_contraindication: list[Contraindication] = []
    product: Annotated[list[Product], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> ProductsFile:
        _unique(self.product, "product", field="product")
        return self


# --------------------------------------------------------------------------- regimens.toml


class ProductDays(Model):
    """How one product's label divides a regimen's course (e.g. Panzyga CIDP loading: 2 days)."""

    product: ProductId
    days: Annotated[int, Field(ge=1)]
    days_min: Annotated[int, Field(ge=1)]
    days_max: Annotated[int, Field(ge=1)]
    note: Text
    sources: Sources

    @model_validator(mode="after")
    def _rules(self) -> ProductDays:
        if not self.days_min <= self.days <= self.days_max:
            raise Problem("days must lie between days_min and days_max", "days")
        return self


class IndicationRateLimit(Model):
    """A rate ceiling of the disease itself: applied to every product, never loosened by a label row."""

    indication: Indication
    max_mg_kg_min: Positive
    short_reason: Text = Field(description="a few words shown beside the ceiling")
    reason: Text
    sources: Sources


class Regimen(Model):
    id: Text
    name: Text
    indication: Indication
    course_g_per_kg: Positive | None = None
    dose_range_g_per_kg: list[Positive] | None = Field(None, description="[low, high]")
    days: Annotated[int, Field(ge=1)]
    days_min: Annotated[int, Field(ge=1)] | None = None
    days_max: Annotated[int, Field(ge=1)] | None = None
    days_note: Text | None = None
    repeat_min_days: Annotated[int, Field(ge=1)] | None = None
    repeat_max_days: Annotated[int, Field(ge=1)] | None = None
    repeat_note: Text | None = None
    label_status: Literal["on-label", "off-label"]
    label_products: list[ProductId] = []
    sources: Sources
    infusion_hours_min: Positive | None = None
    infusion_hours_max: Positive | None = None
    infusion_hours_sources: Sources | None = None
    population: Literal["any", "children"] = "any"
    product_days: list[ProductDays] = Field([], description="a product's own day split for this course")

    @model_validator(mode="after")
    def _rules(self) -> Regimen:
        pair = self.dose_range_g_per_kg
        if pair is not None and (len(pair) != 2 or pair[0] > pair[1]):
            raise Problem("expected [low, high]", "dose_range_g_per_kg")
        if self.course_g_per_kg is None and pair is None:
            raise Problem("give course_g_per_kg, dose_range_g_per_kg or both")
        days_min = self.days if self.days_min is None else self.days_min
        days_max = self.days if self.days_max is None else self.days_max
        if not days_min <= self.days <= days_max:
            raise Problem("days must lie between days_min and days_max", "days")
        low, high = self.infusion_hours_min, self.infusion_hours_max
        if low is not None or high is not None:
            if low is None or high is None:
                missing = "infusion_hours_min" if low is None else "infusion_hours_max"
                raise Problem("give infusion_hours_min and infusion_hours_max together", missing)
            if low > high:
                raise Problem("infusion_hours_min is above infusion_hours_max", "infusion_hours_min")
            if self.infusion_hours_sources is None:
                raise Problem("required with infusion_hours_min", "infusion_hours_sources")
        _unique(self.product_days, "product_days", key="product", field="product_days")
        return self


class RegimensFile(SourcedFile):
    """resources/regimens.toml: the indications and the dosing regimens."""

    indications: dict[str, Text] = Field(description="indication id -> name")
    indication_rate_limit: list[IndicationRateLimit] = []
    regimen: Annotated[list[Regimen], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> RegimensFile:
        _unique(self.regimen, "regimen", field="regimen")
        _unique(
            self.indication_rate_limit,
            "indication_rate_limit",
            key="indication",
            field="indication_rate_limit",
        )
        return self


# --------------------------------------------------------------------------- limits.toml


class Range(Model):
    """A limit pair: outside hard_* is refused, outside soft_* warns (soft inside hard)."""

    hard_min: float | None = None
    hard_max: float | None = None
    soft_min: float | None = None
    soft_max: float | None = None
    basis: Text | None = None
    sources: Sources | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _rules(self) -> Range:
        _needs_basis_or_sources(self, 'each limit needs sources or basis = "local policy default"')
        lo, hi = self.hard_min, self.hard_max
        for key in ("soft_min", "soft_max"):
            v = getattr(self, key)
            if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
                raise Problem("soft limit lies outside the hard limits", key)
        return self


class Noted(Model):
    basis: Text | None = None
    sources: Sources | None = None
    note: Text | None = None


class WeightChange(Model):
    notify_prescriber_percent: Annotated[float, Field(gt=0, le=100)]
    sources: Sources | None = None
    note: Text | None = None


class DosingWeight(Noted):
    ibw_base_height_in: Positive
    ibw_male_base_kg: Positive
    ibw_female_base_kg: Positive
    ibw_kg_per_inch: Positive
    adjusted_factor: Annotated[float, Field(ge=0, le=1)]
    obesity_bmi_threshold: Annotated[float, Field(ge=15, le=60)]
    obesity_threshold_inclusive: bool
    obesity_sources: Sources | None = None
    actual_weight_indications: list[Indication] = Field(
        [], description="indications dosed on actual weight in the 'auto' basis"
    )
    actual_weight_sources: Sources | None = None
    actual_weight_reason: Text | None = None
    pregnancy_note: Text | None = None
    pregnancy_sources: Sources | None = None

    @model_validator(mode="after")
    def _rules(self) -> DosingWeight:
        if self.actual_weight_indications and self.actual_weight_sources is None:
            raise Problem("required with actual_weight_indications", "actual_weight_sources")
        return self


class VialRounding(Noted):
    tolerance_percent: Annotated[float, Field(ge=0, le=50)]


class TitrationDefault(Noted):
    method: Literal["double"]
    step_minutes: Annotated[float, Field(ge=1)]


class Pump(Noted):
    max_rate_ml_per_h: Positive

    @model_validator(mode="after")
    def _rules(self) -> Pump:
        _needs_basis_or_sources(self)
        return self


class FirstInfusion(Noted):
    note: Text


class Age(Model):
    adult_years: Annotated[float, Field(ge=1, le=30)]
    adult_sources: Sources
    renal_risk_over_years: Annotated[float, Field(ge=18, le=120)]
    renal_sources: Sources
    note: Text | None = None


class FluidLoad(Noted):
    soft_max_ml_per_kg_day: Positive
    applies_up_to_kg: Positive

    @model_validator(mode="after")
    def _rules(self) -> FluidLoad:
        _needs_basis_or_sources(self)
        return self


class OrderDoseFloor(Noted):
    min_g_per_kg: Positive

    @model_validator(mode="after")
    def _rules(self) -> OrderDoseFloor:
        _needs_basis_or_sources(
            self, 'needs sources or a basis such as "local policy default — confirm with your agency"'
        )
        return self


class Visit(Noted):
    max_hours: Annotated[float, Field(gt=0, le=24)]

    @model_validator(mode="after")
    def _rules(self) -> Visit:
        _needs_basis_or_sources(self)
        return self


class LimitsFile(SourcedFile):
    """resources/limits.toml: calculator limits, dosing-weight rules and local policy defaults."""

    weight_kg: Range
    weight_change: WeightChange
    height_cm: Range
    daily_dose_g_per_kg: Range
    course_dose_g_per_kg: Range
    days: Range
    user_max_rate_mg_kg_min: Range
    dosing_weight: DosingWeight
    vial_rounding: VialRounding
    titration_default: TitrationDefault
    pump: Pump
    first_infusion: FirstInfusion
    age: Age
    fluid_load: FluidLoad
    order_dose_floor: OrderDoseFloor
    visit: Visit


# --------------------------------------------------------------------------- checklists/*.toml


class Condition(Model):
    """When an item appears: the product has ANY of product_kinds, or the order has ANY of risks."""

    product_kinds: list[Literal[CAUTION_KINDS + CONTRAINDICATION_KINDS]] = []  # type: ignore[valid-type]
    risks: list[Literal[RISKS]] = []  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _rules(self) -> Condition:
        if not self.product_kinds and not self.risks:
            raise Problem("a condition needs product_kinds or risks")
        return self


_UNLOCK_MINUTES = (1, 24 * 60)  # a time gate waits at least a minute, at most a day


class Unlock(Model):
    """A time-gated item: answerable "done" only ``minutes`` after ``after``."""

    after: Literal[UNLOCK_AFTER]  # type: ignore[valid-type]
    minutes: (
        Annotated[float, Field(ge=_UNLOCK_MINUTES[0], le=_UNLOCK_MINUTES[1])] | Literal["observation"]
    ) = Field(description='minutes, or "observation" (the observation period of monitoring.toml)')
    sources: OptionalSources = []

    @field_validator("minutes", mode="before")
    @classmethod
    def _number_or_observation(cls, value: Any) -> Any:
        # One clear message instead of one error per branch of the union.
        if value == OBSERVATION:
            return value
        low, high = _UNLOCK_MINUTES
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Problem(f"expected a number of minutes or {OBSERVATION!r}, got {_shown(value)}")
        if not low <= value <= high:
            raise Problem(f"expected {low} to {high} minutes, got {value:g}")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Unlock:
        if self.minutes == OBSERVATION:
            if self.sources:
                raise Problem(
                    "the observation period is sourced in resources/monitoring.toml; give no sources here",
                    "sources",
                )
        elif not self.sources:
            raise Problem("a time gate needs the source of its minutes (a [sources] key)", "sources")
        return self


class ChecklistItem(Model):
    id: Slug
    text: Text
    required: bool
    help: Text
    sources: OptionalSources = []
    unverified: bool = False
    agency_policy: bool = Field(False, description="added by the agency policy file (no packaged source)")
    when: Condition | None = None
    unlock: Unlock | None = Field(None, description="time-gated: answerable done only after this")
    line_rule: bool = Field(
        False, description="the help is followed by the product's line rule (products.toml line)"
    )
    needs: Literal["vitals"] | None = Field(
        None, description="answerable done only once the visit holds this (vitals: a reading)"
    )

    @model_validator(mode="after")
    def _rules(self) -> ChecklistItem:
        if not self.sources and not self.unverified and not self.agency_policy:
            raise Problem("an item without sources must be marked unverified = true", "sources")
        if self.unverified and "UNVERIFIED" not in self.help:
            raise Problem("an unverified item must say UNVERIFIED in its help text", "help")
        return self


class ChecklistPhase(Model):
    id: Slug
    title: Text
    item: Annotated[list[ChecklistItem], Field(min_length=1)]


class ChecklistFile(SourcedFile):
    """resources/checklists/<id>-v<version>.toml: one released version of a visit checklist."""

    schema_version: Literal[1] = Field(description="the file format version (1)")

    id: Slug
    version: Annotated[int, Field(ge=1)]
    title: Text
    released: Text | None = Field(None, description="release date, YYYY-MM-DD")
    phase: Annotated[list[ChecklistPhase], Field(min_length=1)]

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> ChecklistFile:
        name = _context(info, "file_name")
        expected = f"{self.id}-v{self.version}.toml"
        if name is not None and name != expected:
            raise Problem(f"the file must be named {expected} (id and version)")
        _unique(self.phase, "phase", field="phase")
        seen: set[str] = set()
        for p, phase in enumerate(self.phase):
            for i, item in enumerate(phase.item):
                if item.id in seen:
                    raise Problem(
                        f"item id {item.id!r} appears twice in the template", "phase", p, "item", i, "id"
                    )
                seen.add(item.id)
        return self


# --------------------------------------------------------------------------- reactions.toml


class Severity(Model):
    id: Literal[SEVERITY_ORDER]  # type: ignore[valid-type]
    title: Text
    examples: Text
    actions: Texts
    stop_infusion: bool
    call_prescriber: bool
    call_emergency: bool
    sources: Sources


class ReactionKind(Model):
    id: Text
    title: Text
    signs: Text
    tiers: Annotated[
        list[Literal[SEVERITY_ORDER]],  # type: ignore[valid-type]
        Field(min_length=1, description="the severities that fit this kind (one: always that severity)"),
    ]
    tier_reason: Text
    actions: list[Text] = []
    sources: Sources

    @model_validator(mode="after")
    def _rules(self) -> ReactionKind:
        if len(set(self.tiers)) != len(self.tiers):
            raise Problem("a severity is listed twice", "tiers")
        return self


class LineStep(Model):
    """The wording of one step that puts saline in the line, for each of the product's
    ``line.saline`` values (products.toml) and for a visit whose product is not known.
    ``{brand}`` is the product's name, ``{rule}`` its line rule, ``{never}`` the products whose
    label forbids saline."""

    flush_allowed: Text = Field(alias="flush-allowed")
    never: Text
    not_stated: Text = Field(alias="not-stated")
    unknown: Text


LINE_TOKEN = re.compile(r"\{([a-z0-9-]+)\}")


class ReactionsFile(SourcedFile):
    """resources/reactions.toml: reaction severities and kinds."""

    grading_verified: bool
    grading_note: Text
    line_step: dict[Slug, LineStep]
    severity: Annotated[list[Severity], Field(min_length=1)]
    kind: Annotated[list[ReactionKind], Field(min_length=1)]

    @model_validator(mode="after")
    def _rules(self) -> ReactionsFile:
        found = {s.id for s in self.severity}
        for required in SEVERITY_ORDER:
            if required not in found:
                raise Problem(f"severity {required!r} is missing", "severity")
        _unique(self.kind, "kind", field="kind")
        # Saline in the line follows the product's rule: a step that names saline is a
        # {line-step} token, worded per product from [line_step].
        steps: list[tuple[str, int, list[str]]] = [
            ("severity", i, s.actions) for i, s in enumerate(self.severity)
        ]
        steps += [("kind", i, k.actions) for i, k in enumerate(self.kind)]
        for field, i, actions in steps:
            for n, action in enumerate(actions):
                for token in LINE_TOKEN.findall(action):
                    if token not in self.line_step:
                        raise Problem(f"unknown line step {{{token}}}", field, i, "actions", n)
                if "saline" in LINE_TOKEN.sub("", action).lower():
                    raise Problem(
                        "saline in the line follows the product: use a {line-step} token",
                        field,
                        i,
                        "actions",
                        n,
                    )
        return self


# --------------------------------------------------------------------------- vitals.toml


class Measure(Model):
    id: Literal[MEASURE_IDS]  # type: ignore[valid-type]
    label: Text
    unit: Text
    min: float
    max: float | None = None
    max_from: Literal[PUMP_MAX_FROM] | None = Field(  # type: ignore[valid-type]
        None, description="take max from limits.toml (instead of max)"
    )
    range_basis: Literal[LOCAL_POLICY] | None = None  # type: ignore[valid-type]
    range_sources: OptionalSources = []
    range_note: Text | None = None
    flag_low: float | None = None
    flag_high: float | None = None
    flag_change: Positive | None = None
    flag_change_percent: Positive | None = None
    flag_basis: Literal[LOCAL_POLICY] | None = None  # type: ignore[valid-type]
    flag_sources: OptionalSources = []
    flag_note: Text | None = None

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Measure:
        if self.max_from is not None:
            if self.max is not None:
                raise Problem("give max or max_from, not both", "max")
            hi = _context(info, "pump_max")
        elif self.max is None:
            raise Problem("required field is missing", "max")
        else:
            hi = self.max
        if hi is not None and not self.min < hi:
            raise Problem("min must be below max", "min")
        if not self.range_sources and self.range_basis is None:
            raise Problem(f'the range needs range_sources or range_basis = "{LOCAL_POLICY}"')
        for key in ("flag_low", "flag_high"):
            v = getattr(self, key)
            if v is not None and hi is not None and not self.min <= v <= hi:
                raise Problem("a flag threshold must lie inside min..max", key)
        has_flags = any(
            v is not None for v in (self.flag_low, self.flag_high, self.flag_change, self.flag_change_percent)
        )
        if has_flags and not self.flag_sources and self.flag_basis is None:
            raise Problem(f'flags need flag_sources or flag_basis = "{LOCAL_POLICY}"')
        return self


class VitalsFile(SourcedFile):
    """resources/vitals.toml: plausible ranges and abnormal-value flags of the vital signs."""

    schema_version: Literal[1] = Field(description="the file format version (1)")

    measure: Annotated[list[Measure], Field(min_length=1)]

    @model_validator(mode="after")
    def _rules(self) -> VitalsFile:
        _unique(self.measure, "measure", field="measure")
        found = {m.id for m in self.measure}
        missing = [m for m in MEASURE_IDS if m not in found]
        if missing:
            raise Problem(f"missing measure(s) {', '.join(missing)}", "measure")
        return self


# --------------------------------------------------------------------------- monitoring.toml


class VitalsTiming(Model):
    baseline: bool
    after_start_minutes: Annotated[float, Field(ge=1)]
    before_each_rate_increase: bool
    at_max_rate_every_minutes: Annotated[float, Field(ge=5)]
    at_end: bool
    after_end_minutes: list[Annotated[float, Field(ge=0)]] = Field(description="[earliest, latest]")
    window_minutes: Annotated[float, Field(ge=0, le=30)]
    sources: Sources
    verified: bool | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _rules(self) -> VitalsTiming:
        pair = self.after_end_minutes
        if len(pair) != 2 or pair[0] > pair[1]:
            raise Problem("expected [earliest, latest]", "after_end_minutes")
        return self


class Observation(Model):
    minutes: Annotated[float, Field(ge=0)]
    first_infusion_minutes: Annotated[float, Field(ge=0)]
    sources: Sources
    verified: bool | None = None
    note: Text | None = None


class MonitoringFile(SourcedFile):
    """resources/monitoring.toml: when vital signs are due and how long to observe afterwards."""

    verified: bool
    note: Text
    vitals: VitalsTiming
    observation: Observation


# --------------------------------------------------------------------------- followups.toml


class Question(Model):
    id: Text
    text: Text
    answer: Literal["yes-no", "text"] = "yes-no"


class FollowupRule(Model):
    id: Text
    kind: Text
    title: Text
    anchor: Literal[ANCHORS]  # type: ignore[valid-type]
    start_days: Annotated[int, Field(ge=-366, le=366)]
    end_days: Annotated[int, Field(ge=-366, le=366)]
    every_course: bool
    indications: list[Text] = []
    risk: Text | None = None
    why: Text
    questions: Annotated[list[Question], Field(min_length=1)]
    advice: Text
    escalate_if: list[Text] = Field([], description="question ids whose answer escalates")
    note: Text | None = None
    unverified: bool = False
    first_courses: Annotated[int, Field(ge=0, le=100)] | None = Field(
        None,
        description="only after the first N courses of a product for the patient (a new order on "
        "another product starts again); 0 = every course",
    )
    first_courses_sources: Sources | None = None
    over_renal_risk_age: bool = Field(
        False, description="also for patients older than limits.toml [age] renal_risk_over_years"
    )
    sources: Sources

    @model_validator(mode="after")
    def _rules(self) -> FollowupRule:
        if self.first_courses is not None and self.first_courses_sources is None:
            raise Problem("required with first_courses", "first_courses_sources")
        if self.end_days < self.start_days:
            raise Problem("end_days is before start_days", "end_days")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise Problem("a question id is listed twice", "questions")
        for e in self.escalate_if:
            if e not in ids:
                raise Problem(f"escalate_if names {e!r}, which is not one of the questions", "escalate_if")
        if self.kind == COURSE_DAY:
            raise Problem(f"kind {COURSE_DAY!r} is the course itself, not a follow-up", "kind")
        return self


class Schedule(Model):
    tolerance_days: Annotated[int, Field(ge=0, le=30)]
    tolerance_note: Text
    overdue_lookback_days: Annotated[int, Field(ge=1, le=366)]
    inactive_after_intervals: Annotated[int, Field(ge=1, le=52)] = Field(
        description="no visit for more than this many intervals: the order may be inactive"
    )
    inactive_note: Text


class FollowupsFile(SourcedFile):
    """resources/followups.toml: the course schedule tolerance and the follow-up call rules."""

    schedule: Schedule
    rule: Annotated[list[FollowupRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _rules(self) -> FollowupsFile:
        _unique(self.rule, "rule", field="rule")
        return self


# --------------------------------------------------------------------------- guides/*.md front matter


class GuideSource(Model):
    model_config = ConfigDict(populate_by_name=True)

    key: Annotated[str, Field(pattern=SOURCE_KEY_PATTERN)]
    source_class: Literal[SOURCE_CLASSES] = Field(alias="class")  # type: ignore[valid-type]
    citation: Text
    url: Text | None = None


class GuideFrontMatter(Model):
    """The TOML front matter (between +++ lines) of a condition guide in resources/guides/."""

    id: Text
    title: Text
    aliases: list[Text] = []
    icd10: Annotated[list[Annotated[str, Field(pattern=ICD10_PATTERN)]], Field(min_length=1)]
    last_reviewed: _dt.date = Field(description="a TOML date such as 2026-11-24")
    regimens: list[Text] = []
    related: list[Text] = []
    sources: Annotated[list[GuideSource], Field(min_length=1)]

    @model_validator(mode="after")
    def _rules(self) -> GuideFrontMatter:
        _unique(self.sources, "source", key="key", field="sources")
        return self


# --------------------------------------------------------------------------- verification.toml


class VerificationItem(Model):
    id: Text
    pack: Text = Field(description="the reference pack's UNVERIFIED item (file: what)")
    status: Literal["confirmed", "partly", "unverified"]
    source: Text | None = None
    source_class: Literal["label", "guideline", "peer-reviewed"] | None = None
    url: Text | None = None
    changed: bool = Field(False, description="the content was changed after this check")
    resource: Text | None = Field(None, description="where the content was changed")
    note: Text | None = None

    @model_validator(mode="after")
    def _rules(self) -> VerificationItem:
        if self.status != "unverified":
            for key in ("source", "source_class"):
                if getattr(self, key) is None:
                    raise Problem(f"a {self.status} item names its primary source and its class", key)
        if self.changed and self.resource is None:
            raise Problem("a changed item names the resource that was changed", "resource")
        return self


class VerificationFile(Model):
    """resources/verification.toml: how the reference pack's UNVERIFIED items fared when re-checked."""

    schema_version: Literal[1] = Field(1, description="the file format version (1)")
    searched_on: _dt.date
    item: Annotated[list[VerificationItem], Field(min_length=1)]

    @model_validator(mode="after")
    def _rules(self) -> VerificationFile:
        _unique(self.item, "item", field="item")
        return self


# --------------------------------------------------------------------------- checking

# file kind -> (model, schema file name in resources/schema/)
MODELS: dict[str, type[Model]] = {
    "products.toml": ProductsFile,
    "regimens.toml": RegimensFile,
    "limits.toml": LimitsFile,
    "checklist": ChecklistFile,
    "reactions.toml": ReactionsFile,
    "vitals.toml": VitalsFile,
    "monitoring.toml": MonitoringFile,
    "followups.toml": FollowupsFile,
    "guide": GuideFrontMatter,
    "verification.toml": VerificationFile,
}


_MISSING_MESSAGES = {
    "source_class": "the [source_class] table is missing (every source needs a class: "
    + ", ".join(SOURCE_CLASSES)
    + ")",
    "tiers": "every kind must list the severities that fit it (tiers = [...])",
}


def _path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "":
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(error: ErrorDetails) -> tuple[str, str]:
    """(field path, message) of one pydantic error, in the words a content author reads."""
    kind, ctx, loc = error["type"], error.get("ctx") or {}, tuple(error["loc"])
    if kind == "value_error":
        problem = ctx.get("error")
        if isinstance(problem, Problem):
            loc += problem.path
        return _path(loc), str(problem) if problem is not None else error["msg"]
    if kind == "missing":
        return _path(loc), _MISSING_MESSAGES.get(str(loc[-1]) if loc else "", "required field is missing")
    if kind == "too_short" and ctx.get("min_length") == 1:
        return _path(loc), "expected at least one entry"
    if kind in ("date_type", "date_parsing", "date_from_datetime_inexact"):
        return _path(loc), f"expected a TOML date such as 2026-11-24, got {_shown(error.get('input'))}"
    if kind == "extra_forbidden":
        return _path(loc), "unknown field (typo?)"
    if kind == "string_pattern_mismatch":
        message = _PATTERN_MESSAGES.get(str(ctx.get("pattern")), error["msg"])
        return _path(loc), f"{message}, got {_shown(error.get('input'))}"
    return _path(loc), f"{error['msg']}, got {_shown(error.get('input'))}"


def check(kind: str, data: Any, file: str, **context: Any) -> None:
    """Validate one parsed file; the first problem becomes a ResourceError naming file and field."""
    model = MODELS[kind]
    try:
        model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        where, message = describe(errors[0])
        more = (
            f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
            if len(errors) > 1
            else ""
        )
        raise ResourceError(f"{file}: {where}: {message}{more}") from None
