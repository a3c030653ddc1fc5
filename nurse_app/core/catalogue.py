"""The clinical catalogue: IVIG products, regimens and calculator limits.

Loaded once from ``resources/products.toml``, ``regimens.toml`` and ``limits.toml``,
validated against their models in :mod:`nurse_app.core.resource_models` (a broken file
raises :class:`ResourceError` naming the file and the field path) and cross-checked
(every source key, indication and product id referred to must exist).  Nothing here knows about Qt or SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nurse_app.core.resources import load_toml, validate

RATE_UNITS = ("mg/kg/min", "mL/kg/min", "mL/kg/h")
CAUTION_KINDS = (
    "renal-sucrose",
    "iga",
    "sodium",
    "glucose-meter",
    "thrombosis",
    "allergy",
    "administration",
    "storage",
    "other",
)
# Contraindications (products.toml [[product.contraindications]] and [[common_contraindication]]).
CONTRAINDICATION_KINDS = (
    "hereditary-fructose-intolerance",
    "hyperprolinaemia",
    "iga-deficiency-antibodies",
    "anaphylaxis-to-immune-globulin",
)
LABEL = "label"
UNVERIFIED = "unverified"
CONFIRM_WITH_INSERT = "UNVERIFIED: confirm with the package insert"


@dataclass(frozen=True)
class Caution:
    kind: str
    text: str
    sources: tuple[str, ...]
    verified: bool = True


@dataclass(frozen=True)
class Contraindication:
    kind: str
    text: str
    sources: tuple[str, ...]
    verified: bool = True


@dataclass(frozen=True)
class VialSize:
    grams: float
    ml: float
    source: str
    verified: bool = True
    # The package's National Drug Code (10 digits with hyphens) and where it was read; the GS1
    # GTIN on the carton is derived from it (nurse_app.core.carton.gtin_from_ndc).
    ndc: str | None = None
    ndc_source: str | None = None
    ndc_verified: bool = True

    @property
    def gtin(self) -> str | None:
        """The carton's GTIN-14 for this package (None without a known NDC)."""
        from nurse_app.core.carton import gtin_from_ndc

        return gtin_from_ndc(self.ndc) if self.ndc else None


@dataclass(frozen=True)
class LineRule:
    """How normal saline may meet the product in its line (``products.toml`` ``line``):
    ``saline`` is "flush-allowed", "never" or "not-stated" (``verified`` False)."""

    saline: str
    text: str
    sources: tuple[str, ...]
    verified: bool = True


@dataclass(frozen=True)
class RateRow:
    """One label rate row, already converted to mg/kg/min."""

    indications: tuple[str, ...]
    label_unit: str
    label_initial: float  # as printed on the label, in label_unit
    label_max: float
    initial_mg_kg_min: float
    max_mg_kg_min: float
    initial_minutes: float | None  # None: label silent, local policy default applies
    step_minutes: float | None
    steps_mg_kg_min: tuple[float, ...] | None  # explicit ladder after the initial rate
    increment_mg_kg_min: float | None
    verified: bool
    sources: tuple[str, ...]
    note: str
    # The figures as the label prints them (e.g. "0.5 mL/kg/h for 30 min → 5 mL/kg/h").
    label_text: str = ""
    # First infusion / brand switch: the label's own first-infusion schedule (wording and sources) and
    # an optional first-infusion ceiling (mg/kg/min). The ladder always starts at the initial rate.
    first_infusion_max_mg_kg_min: float | None = None
    first_infusion_sources: tuple[str, ...] = ()
    first_infusion_note: str = ""
    # The label's population for this row (Panzyga chronic ITP: adults): a younger patient warns.
    min_age_years: float | None = None
    population: str = ""
    population_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Product:
    id: str
    brand: str
    manufacturer: str
    concentration_percent: float
    form: str
    label_indications: tuple[str, ...]
    vials: tuple[VialSize, ...]
    rates: tuple[RateRow, ...]
    cautions: tuple[Caution, ...]
    sources: tuple[str, ...]
    at_risk_max_mg_kg_min: float | None = None
    at_risk_sources: tuple[str, ...] = ()
    contraindications: tuple[Contraindication, ...] = ()
    line: LineRule | None = None  # None only for a product built outside products.toml

    @property
    def display_name(self) -> str:
        """The one name a nurse reads for this product on every page, PDF and export: the brand
        with its concentration (``Privigen 10 %``; a brand that already says it, ``Octagam 10%``,
        stays as printed on the carton)."""
        from nurse_app.core.formatting import fmt_qty

        if "%" in self.brand:
            return self.brand
        return f"{self.brand} {fmt_qty(self.concentration_percent, '%')}"

    def risk_kinds(self) -> frozenset[str]:
        """Every caution and contraindication kind of this product (e.g. ``glucose-meter`` for a
        maltose product, ``iga``, ``hereditary-fructose-intolerance``): what product-specific
        checklist items are chosen by."""
        return frozenset(c.kind for c in self.cautions) | frozenset(c.kind for c in self.contraindications)

    @property
    def concentration_mg_per_ml(self) -> float:
        """C % = C g per 100 mL = 10 x C mg/mL."""
        return self.concentration_percent * 10

    @property
    def vials_verified(self) -> bool:
        return bool(self.vials) and all(v.verified for v in self.vials)

    def rate_row_for(self, indication: str | None) -> tuple[RateRow, bool]:
        """The label row for ``indication``; ``(row, True)`` when it is on the label.

        With no indication, or one the label does not cover, the row with the lowest
        maximum (then the lowest initial rate) is the conservative choice:
        ``(row, False)`` and the caller says so.
        """
        if indication is not None:
            for row in self.rates:
                if indication in row.indications:
                    return row, True
        row = min(self.rates, key=lambda r: (r.max_mg_kg_min, r.initial_mg_kg_min))
        return row, False


@dataclass(frozen=True)
class ProductDays:
    """How one product's label divides a regimen's course (regimens.toml [[regimen.product_days]])."""

    product: str
    days: int
    days_min: int
    days_max: int
    note: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class IndicationRateLimit:
    """A rate ceiling of the disease itself (regimens.toml [[indication_rate_limit]])."""

    indication: str
    max_mg_kg_min: float
    short_reason: str
    reason: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Regimen:
    id: str
    name: str
    indication: str
    course_g_per_kg: float | None
    dose_range_g_per_kg: tuple[float, float] | None
    days: int
    days_min: int
    days_max: int
    repeat_min_days: int | None
    repeat_max_days: int | None
    repeat_note: str
    label_status: str
    label_products: tuple[str, ...]
    sources: tuple[str, ...]
    infusion_hours: tuple[float, float] | None = None
    infusion_hours_sources: tuple[str, ...] = ()
    days_note: str = ""  # how the label divides the course (named in the days warning)
    population: str = "any"  # "children": a paediatric regimen (Kawasaki)
    product_days: tuple[ProductDays, ...] = ()

    def days_for(self, product_id: str | None) -> ProductDays | None:
        """The product's own day split for this course, if its label gives one."""
        return next((d for d in self.product_days if d.product == product_id), None)

    def usual_days(self, product_id: str | None) -> int:
        """The days the course is divided over for this product: its label's own split, else the regimen's."""
        split = self.days_for(product_id)
        return split.days if split is not None else self.days

    @property
    def per_day_g_per_kg(self) -> float | None:
        """The usual g/kg on each day (course ÷ usual days); None without a fixed course dose."""
        return None if self.course_g_per_kg is None else self.course_g_per_kg / self.days


@dataclass(frozen=True)
class Range:
    """A limit pair: values outside hard_* are refused, outside soft_* warn."""

    hard_min: float | None
    hard_max: float | None
    soft_min: float | None
    soft_max: float | None
    basis: str
    note: str


@dataclass(frozen=True)
class DosingWeightRules:
    ibw_base_height_in: float
    ibw_male_base_kg: float
    ibw_female_base_kg: float
    ibw_kg_per_inch: float
    adjusted_factor: float
    obesity_bmi_threshold: float
    obesity_threshold_inclusive: bool
    # Indications dosed on actual weight in "auto" (Ontario: PID/SID titrated to IgG levels).
    actual_weight_indications: tuple[str, ...] = ()
    actual_weight_reason: str = ""
    pregnancy_note: str = ""


@dataclass(frozen=True)
class AgeRules:
    adult_years: float  # from this age on the patient is an adult
    renal_risk_over_years: float  # older than this: renal-risk prompt (boxed-warning risk factor)
    adult_sources: tuple[str, ...]
    renal_sources: tuple[str, ...]


@dataclass(frozen=True)
class FluidLoad:
    soft_max_ml_per_kg_day: float
    applies_up_to_kg: float  # "small patients": at or below this weight (or any child)
    basis: str
    note: str


@dataclass(frozen=True)
class Limits:
    weight_kg: Range
    weight_change_notify_percent: float  # change from the baseline weight that the prescriber must hear of
    height_cm: Range
    daily_dose_g_per_kg: Range
    course_dose_g_per_kg: Range
    days: Range
    user_max_rate_mg_kg_min: Range
    dosing_weight: DosingWeightRules
    vial_rounding_tolerance_percent: float
    titration_method: str
    titration_step_minutes: float
    pump_max_ml_per_h: float = 1000.0
    pump_note: str = ""
    first_infusion_policy_note: str = ""
    age: AgeRules | None = None
    fluid_load: FluidLoad | None = None
    # [order_dose_floor]: below it a course dose is a typing slip (refused at every entry point).
    order_dose_floor_g_per_kg: float | None = None
    order_dose_floor_basis: str = ""
    # [visit]: the longest visit the agency plans (local policy); a longer plan warns.
    visit_max_hours: float | None = None
    visit_basis: str = ""


@dataclass(frozen=True)
class Catalogue:
    products: dict[str, Product]
    regimens: dict[str, Regimen]
    indications: dict[str, str]
    limits: Limits
    sources: dict[str, str] = field(repr=False)
    indication_rate_limits: dict[str, IndicationRateLimit] = field(default_factory=dict)

    def product(self, product_id: str) -> Product:
        from nurse_app.core.errors import InputError

        try:
            return self.products[product_id]
        except KeyError:
            known = ", ".join(sorted(self.products))
            raise InputError(
                f"Unknown product {product_id!r}. Known products: {known}.", field="product"
            ) from None

    def package(self, gtin: str) -> tuple[Product, VialSize] | None:
        """The product and pack size whose carton carries ``gtin`` (None: not in the catalogue)."""
        for product in self.products.values():
            for vial in product.vials:
                if vial.gtin == gtin:
                    return product, vial
        return None

    def regimen(self, regimen_id: str) -> Regimen:
        from nurse_app.core.errors import InputError

        try:
            return self.regimens[regimen_id]
        except KeyError:
            known = ", ".join(sorted(self.regimens))
            raise InputError(
                f"Unknown regimen {regimen_id!r}. Known regimens: {known}.", field="regimen"
            ) from None


# --------------------------------------------------------------------------- loading
#
# Each file is checked against its model (nurse_app.core.resource_models: types, ranges, unknown
# keys, source keys, cross-field rules) by resources.validate, then built here from the plain
# data.  The defaults below are the models' defaults (tests/core/test_resource_models.py builds the
# catalogue from the models' own output and compares).


def _to_mg_kg_min(value: float, unit: str, conc_mg_ml: float) -> float:
    if unit == "mg/kg/min":
        return value
    if unit == "mL/kg/min":
        return value * conc_mg_ml
    return value * conc_mg_ml / 60  # mL/kg/h


def _rate_row(r: dict[str, Any], conc_mg_ml: float) -> RateRow:
    unit = r["rate_unit"]

    def mg(value: float | None) -> float | None:
        return None if value is None else _to_mg_kg_min(value, unit, conc_mg_ml)

    steps = r.get("steps")
    return RateRow(
        indications=tuple(r["indications"]),
        label_unit=unit,
        label_initial=r["initial"],
        label_max=r["max"],
        initial_mg_kg_min=_to_mg_kg_min(r["initial"], unit, conc_mg_ml),
        max_mg_kg_min=_to_mg_kg_min(r["max"], unit, conc_mg_ml),
        initial_minutes=r.get("initial_minutes"),
        step_minutes=r.get("step_minutes"),
        steps_mg_kg_min=None if steps is None else tuple(_to_mg_kg_min(x, unit, conc_mg_ml) for x in steps),
        increment_mg_kg_min=mg(r.get("increment")),
        verified=r.get("status", LABEL) == LABEL,
        sources=tuple(r["sources"]),
        note=r.get("note", ""),
        label_text=r.get("label_text", ""),
        first_infusion_max_mg_kg_min=mg(r.get("first_infusion_max")),
        first_infusion_sources=tuple(r.get("first_infusion_sources", ())),
        first_infusion_note=r.get("first_infusion_note", ""),
        min_age_years=r.get("min_age_years"),
        population=r.get("population", ""),
        population_sources=tuple(r.get("population_sources", ())),
    )


def _contraindications(items: list[dict[str, Any]]) -> tuple[Contraindication, ...]:
    return tuple(
        Contraindication(c["kind"], c["text"], tuple(c["sources"]), c.get("verified", True)) for c in items
    )


def _product(p: dict[str, Any], common: tuple[Contraindication, ...] = ()) -> Product:
    conc = p["concentration_percent"]
    vials = [
        VialSize(
            v["grams"],
            v["ml"],
            v["source"],
            v.get("verified", True),
            ndc=v.get("ndc"),
            ndc_source=v.get("ndc_source"),
            ndc_verified=v.get("ndc_verified", True),
        )
        for v in p.get("vial", ())
    ]
    at_risk = p.get("at_risk_max_mg_kg_min")
    return Product(
        id=p["id"],
        brand=p["brand"],
        manufacturer=p["manufacturer"],
        concentration_percent=conc,
        form=p["form"],
        label_indications=tuple(p["label_indications"]),
        vials=tuple(sorted(vials, key=lambda v: v.grams)),
        rates=tuple(_rate_row(r, conc * 10) for r in p["rate"]),
        cautions=tuple(
            Caution(c["kind"], c["text"], tuple(c["sources"]), c.get("verified", True))
            for c in p.get("cautions", ())
        ),
        sources=tuple(p["sources"]),
        at_risk_max_mg_kg_min=at_risk,
        at_risk_sources=tuple(p["at_risk_sources"]) if at_risk is not None else (),
        contraindications=tuple(common) + _contraindications(p.get("contraindications", ())),
        line=LineRule(
            p["line"]["saline"],
            p["line"]["text"],
            tuple(p["line"]["sources"]),
            p["line"].get("verified", True),
        ),
    )


def _regimen(r: dict[str, Any]) -> Regimen:
    days = r["days"]
    pair = r.get("dose_range_g_per_kg")
    hours = None
    if "infusion_hours_min" in r:
        hours = (r["infusion_hours_min"], r["infusion_hours_max"])
    return Regimen(
        id=r["id"],
        name=r["name"],
        indication=r["indication"],
        course_g_per_kg=r.get("course_g_per_kg"),
        dose_range_g_per_kg=None if pair is None else (pair[0], pair[1]),
        days=days,
        days_min=r.get("days_min", days),
        days_max=r.get("days_max", days),
        repeat_min_days=r.get("repeat_min_days"),
        repeat_max_days=r.get("repeat_max_days"),
        repeat_note=r.get("repeat_note", ""),
        label_status=r["label_status"],
        label_products=tuple(r.get("label_products", ())),
        sources=tuple(r["sources"]),
        infusion_hours=hours,
        infusion_hours_sources=tuple(r["infusion_hours_sources"]) if hours else (),
        days_note=r.get("days_note", ""),
        population=r.get("population", "any"),
        product_days=tuple(
            ProductDays(d["product"], d["days"], d["days_min"], d["days_max"], d["note"], tuple(d["sources"]))
            for d in r.get("product_days", ())
        ),
    )


def _range(t: dict[str, Any]) -> Range:
    return Range(
        hard_min=t.get("hard_min"),
        hard_max=t.get("hard_max"),
        soft_min=t.get("soft_min"),
        soft_max=t.get("soft_max"),
        basis=t.get("basis", "sourced"),
        note=t.get("note", ""),
    )


def _limits(top: dict[str, Any]) -> Limits:
    dw, pump, age, fl = top["dosing_weight"], top["pump"], top["age"], top["fluid_load"]
    floor, visit = top["order_dose_floor"], top["visit"]
    return Limits(
        weight_kg=_range(top["weight_kg"]),
        weight_change_notify_percent=top["weight_change"]["notify_prescriber_percent"],
        height_cm=_range(top["height_cm"]),
        daily_dose_g_per_kg=_range(top["daily_dose_g_per_kg"]),
        course_dose_g_per_kg=_range(top["course_dose_g_per_kg"]),
        days=_range(top["days"]),
        user_max_rate_mg_kg_min=_range(top["user_max_rate_mg_kg_min"]),
        dosing_weight=DosingWeightRules(
            ibw_base_height_in=dw["ibw_base_height_in"],
            ibw_male_base_kg=dw["ibw_male_base_kg"],
            ibw_female_base_kg=dw["ibw_female_base_kg"],
            ibw_kg_per_inch=dw["ibw_kg_per_inch"],
            adjusted_factor=dw["adjusted_factor"],
            obesity_bmi_threshold=dw["obesity_bmi_threshold"],
            obesity_threshold_inclusive=dw["obesity_threshold_inclusive"],
            actual_weight_indications=tuple(dw.get("actual_weight_indications", ())),
            actual_weight_reason=dw.get("actual_weight_reason", ""),
            pregnancy_note=dw.get("pregnancy_note", ""),
        ),
        vial_rounding_tolerance_percent=top["vial_rounding"]["tolerance_percent"],
        titration_method=top["titration_default"]["method"],
        titration_step_minutes=top["titration_default"]["step_minutes"],
        pump_max_ml_per_h=pump["max_rate_ml_per_h"],
        pump_note=pump.get("note", ""),
        first_infusion_policy_note=top["first_infusion"]["note"],
        age=AgeRules(
            adult_years=age["adult_years"],
            renal_risk_over_years=age["renal_risk_over_years"],
            adult_sources=tuple(age["adult_sources"]),
            renal_sources=tuple(age["renal_sources"]),
        ),
        fluid_load=FluidLoad(
            soft_max_ml_per_kg_day=fl["soft_max_ml_per_kg_day"],
            applies_up_to_kg=fl["applies_up_to_kg"],
            basis=fl.get("basis", "sourced"),
            note=fl.get("note", ""),
        ),
        order_dose_floor_g_per_kg=floor["min_g_per_kg"],
        order_dose_floor_basis=floor.get("basis", "sourced"),
        visit_max_hours=visit["max_hours"],
        visit_basis=visit.get("basis", "sourced"),
    )


def _ids(data: Any, table: str) -> set[str]:
    """The ids of a file's [[table]] entries (for the other files' rules; never fails)."""
    items = data.get(table) if isinstance(data, dict) else None
    return (
        {str(x["id"]) for x in items if isinstance(x, dict) and "id" in x}
        if isinstance(items, list)
        else set()
    )


def _keys(data: Any, table: str) -> set[str]:
    found = data.get(table) if isinstance(data, dict) else None
    return set(found) if isinstance(found, dict) else set()


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Load and validate products, regimens and limits (cached for the process)."""
    reg, reg_file = load_toml("regimens.toml")
    prod, prod_file = load_toml("products.toml")
    lim, lim_file = load_toml("limits.toml")
    known = {"indications": _keys(reg, "indications"), "products": _ids(prod, "product")}
    validate("products.toml", prod, prod_file, **known)
    validate("regimens.toml", reg, reg_file, **known)
    validate("limits.toml", lim, lim_file, **known)

    common = _contraindications(prod.get("common_contraindication", ()))
    products = {p["id"]: _product(p, common) for p in prod["product"]}
    regimens = {r["id"]: _regimen(r) for r in reg["regimen"]}
    return Catalogue(
        products=products,
        regimens=regimens,
        indications=dict(reg["indications"]),
        limits=_limits(lim),
        sources={**prod["sources"], **reg["sources"]},
        indication_rate_limits={
            x["indication"]: IndicationRateLimit(
                x["indication"], x["max_mg_kg_min"], x["short_reason"], x["reason"], tuple(x["sources"])
            )
            for x in reg.get("indication_rate_limit", ())
        },
    )
