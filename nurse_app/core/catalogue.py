"""The clinical catalogue: IVIG products, regimens and calculator limits.

Loaded once from ``resources/products.toml``, ``regimens.toml`` and ``limits.toml``,
validated field by field (a broken file raises :class:`ResourceError` naming the
file and the field) and cross-checked (every source key, indication and product id
referred to must exist).  Nothing here knows about Qt or SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from nurse_app.core.errors import ResourceError
from nurse_app.core.resources import Fields, load_toml

RATE_UNITS = ("mg/kg/min", "mL/kg/min", "mL/kg/h")
CAUTION_KINDS = ("renal-sucrose", "iga", "sodium", "glucose-meter", "thrombosis", "allergy",
                 "administration", "storage", "other")
# Contraindications (products.toml [[product.contraindications]] and [[common_contraindication]]).
CONTRAINDICATION_KINDS = ("hereditary-fructose-intolerance", "hyperprolinaemia", "iga-deficiency-antibodies",
                          "anaphylaxis-to-immune-globulin")
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


@dataclass(frozen=True)
class RateRow:
    """One label rate row, already converted to mg/kg/min."""

    indications: tuple[str, ...]
    label_unit: str
    label_initial: float           # as printed on the label, in label_unit
    label_max: float
    initial_mg_kg_min: float
    max_mg_kg_min: float
    initial_minutes: float | None  # None: label silent, local policy default applies
    step_minutes: float | None
    steps_mg_kg_min: tuple[float, ...] | None   # explicit ladder after the initial rate
    increment_mg_kg_min: float | None
    verified: bool
    sources: tuple[str, ...]
    note: str
    # The figures as the label prints them (e.g. "0.5 mL/kg/h for 30 min → 5 mL/kg/h").
    label_text: str = ""
    # First infusion / brand switch: the label's own ceiling (mg/kg/min), its sources and wording.
    # None: the label gives no first-infusion schedule (the engine holds at the initial rate).
    first_infusion_max_mg_kg_min: float | None = None
    first_infusion_sources: tuple[str, ...] = ()
    first_infusion_note: str = ""


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
    days_note: str = ""                 # how the label divides the course (named in the days warning)
    population: str = "any"             # "children": a paediatric regimen (Kawasaki)


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
    adult_years: float               # from this age on the patient is an adult
    renal_risk_over_years: float     # older than this: renal-risk prompt (boxed-warning risk factor)
    adult_sources: tuple[str, ...]
    renal_sources: tuple[str, ...]


@dataclass(frozen=True)
class FluidLoad:
    soft_max_ml_per_kg_day: float
    applies_up_to_kg: float          # "small patients": at or below this weight (or any child)
    basis: str
    note: str


@dataclass(frozen=True)
class Limits:
    weight_kg: Range
    weight_change_notify_percent: float     # change from the baseline weight that the prescriber must hear of
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


@dataclass(frozen=True)
class Catalogue:
    products: dict[str, Product]
    regimens: dict[str, Regimen]
    indications: dict[str, str]
    limits: Limits
    sources: dict[str, str] = field(repr=False)

    def product(self, product_id: str) -> Product:
        from nurse_app.core.errors import InputError
        try:
            return self.products[product_id]
        except KeyError:
            known = ", ".join(sorted(self.products))
            raise InputError(f"Unknown product {product_id!r}. Known products: {known}.",
                             field="product") from None

    def regimen(self, regimen_id: str) -> Regimen:
        from nurse_app.core.errors import InputError
        try:
            return self.regimens[regimen_id]
        except KeyError:
            known = ", ".join(sorted(self.regimens))
            raise InputError(f"Unknown regimen {regimen_id!r}. Known regimens: {known}.",
                             field="regimen") from None


# --------------------------------------------------------------------------- loading

def _source_key(f: Fields, known: dict[str, str]) -> str:
    key = f.text("source")
    if key not in known:
        f.fail(f"source {key!r} is not listed in [sources]", "source")
    return key


def _to_mg_kg_min(value: float, unit: str, conc_mg_ml: float) -> float:
    if unit == "mg/kg/min":
        return value
    if unit == "mL/kg/min":
        return value * conc_mg_ml
    return value * conc_mg_ml / 60  # mL/kg/h


def _rate_row(f: Fields, conc_mg_ml: float, sources: dict[str, str], indications: dict) -> RateRow:
    f.unknown_keys({"indications", "rate_unit", "initial", "max", "initial_minutes", "step_minutes",
                    "steps", "increment", "status", "sources", "note", "label_text",
                    "first_infusion_max", "first_infusion_sources", "first_infusion_note"})
    inds = f.text_list("indications")
    for ind in inds:
        if ind not in indications:
            f.fail(f"unknown indication {ind!r} (see [indications] in regimens.toml)", "indications")
    unit = f.text("rate_unit", choices=RATE_UNITS)
    initial = f.number("initial", exclusive_minimum=True, minimum=0)
    maximum = f.number("max", exclusive_minimum=True, minimum=0)
    if maximum < initial:
        f.fail(f"max ({maximum}) is below initial ({initial})", "max")
    steps = f.number_list("steps", None, minimum=0, exclusive_minimum=True)
    increment = f.number("increment", None, minimum=0, exclusive_minimum=True)
    if steps is not None and increment is not None:
        f.fail("give either steps or increment, not both")
    if steps is not None:
        if steps != sorted(steps) or steps[0] <= initial or steps[-1] > maximum:
            f.fail("steps must rise, start above the initial rate and stay at or below max", "steps")
    status = f.text("status", LABEL, choices=(LABEL, UNVERIFIED))
    first_max = f.number("first_infusion_max", None, minimum=0, exclusive_minimum=True)
    first_sources: tuple[str, ...] = ()
    if first_max is not None:
        if not initial <= first_max <= maximum:
            f.fail("first_infusion_max must lie between initial and max", "first_infusion_max")
        first_sources = f.source_keys("first_infusion_sources", sources)
    return RateRow(
        indications=tuple(inds),
        label_unit=unit,
        label_initial=initial,
        label_max=maximum,
        initial_mg_kg_min=_to_mg_kg_min(initial, unit, conc_mg_ml),
        max_mg_kg_min=_to_mg_kg_min(maximum, unit, conc_mg_ml),
        initial_minutes=f.number("initial_minutes", None, minimum=1),
        step_minutes=f.number("step_minutes", None, minimum=1),
        steps_mg_kg_min=None if steps is None else tuple(_to_mg_kg_min(s, unit, conc_mg_ml) for s in steps),
        increment_mg_kg_min=None if increment is None else _to_mg_kg_min(increment, unit, conc_mg_ml),
        verified=status == LABEL,
        sources=f.source_keys("sources", sources),
        note=f.text("note", ""),
        label_text=f.text("label_text", ""),
        first_infusion_max_mg_kg_min=None if first_max is None else _to_mg_kg_min(first_max, unit, conc_mg_ml),
        first_infusion_sources=first_sources,
        first_infusion_note=f.text("first_infusion_note", ""),
    )


def _contraindications(f: Fields, key: str, sources: dict[str, str]) -> list[Contraindication]:
    result = []
    for c in f.tables(key, non_empty=False) if f.has(key) else ():
        c.unknown_keys({"kind", "text", "sources", "verified"})
        result.append(Contraindication(c.text("kind", choices=CONTRAINDICATION_KINDS), c.text("text"),
                                       c.source_keys("sources", sources), c.boolean("verified", True)))
    return result


def _product(f: Fields, sources: dict[str, str], indications: dict,
             common: tuple[Contraindication, ...] = ()) -> Product:
    f.unknown_keys({"id", "brand", "manufacturer", "concentration_percent", "form", "label_indications",
                    "sources", "cautions", "vial", "rate", "at_risk_max_mg_kg_min", "at_risk_sources",
                    "contraindications"})
    conc = f.number("concentration_percent", minimum=0, exclusive_minimum=True, maximum=30)
    conc_mg_ml = conc * 10
    vials = []
    for v in f.tables("vial", non_empty=False):
        v.unknown_keys({"grams", "ml", "source", "verified"})
        grams = v.number("grams", minimum=0, exclusive_minimum=True)
        ml = v.number("ml", minimum=0, exclusive_minimum=True)
        if abs(grams * 1000 / ml - conc_mg_ml) > 0.01 * conc_mg_ml:
            v.fail(f"{grams} g in {ml} mL does not match the {conc} % concentration")
        vials.append(VialSize(grams, ml, _source_key(v, sources),
                              v.boolean("verified", True)))
    cautions = []
    for c in f.tables("cautions", non_empty=False) if f.has("cautions") else ():
        c.unknown_keys({"kind", "text", "sources", "verified"})
        cautions.append(Caution(c.text("kind", choices=CAUTION_KINDS), c.text("text"),
                                c.source_keys("sources", sources),
                                c.boolean("verified", True)))
    at_risk = f.number("at_risk_max_mg_kg_min", None, minimum=0, exclusive_minimum=True)
    at_risk_sources = ()
    if at_risk is not None:
        at_risk_sources = f.source_keys("at_risk_sources", sources)
    label_inds = f.text_list("label_indications")
    for ind in label_inds:
        if ind not in indications:
            f.fail(f"unknown indication {ind!r}", "label_indications")
    return Product(
        id=f.text("id"),
        brand=f.text("brand"),
        manufacturer=f.text("manufacturer"),
        concentration_percent=conc,
        form=f.text("form", choices=("liquid", "lyophilised")),
        label_indications=tuple(label_inds),
        vials=tuple(sorted(vials, key=lambda v: v.grams)),
        rates=tuple(_rate_row(r, conc_mg_ml, sources, indications) for r in f.tables("rate")),
        cautions=tuple(cautions),
        sources=f.source_keys("sources", sources),
        at_risk_max_mg_kg_min=at_risk,
        at_risk_sources=at_risk_sources,
        contraindications=tuple(common) + tuple(_contraindications(f, "contraindications", sources)),
    )


def _pair(f: Fields, key: str) -> tuple[float, float] | None:
    values = f.number_list(key, None, minimum=0, exclusive_minimum=True)
    if values is None:
        return None
    if len(values) != 2 or values[0] > values[1]:
        f.fail("expected [low, high]", key)
    return values[0], values[1]


def _regimen(f: Fields, sources: dict[str, str], indications: dict, products: dict) -> Regimen:
    f.unknown_keys({"id", "name", "indication", "course_g_per_kg", "dose_range_g_per_kg", "days",
                    "days_min", "days_max", "repeat_min_days", "repeat_max_days", "repeat_note",
                    "label_status", "label_products", "sources", "infusion_hours_min",
                    "infusion_hours_max", "infusion_hours_sources", "days_note", "population"})
    indication = f.text("indication")
    if indication not in indications:
        f.fail(f"unknown indication {indication!r}", "indication")
    course = f.number("course_g_per_kg", None, minimum=0, exclusive_minimum=True)
    dose_range = _pair(f, "dose_range_g_per_kg")
    if course is None and dose_range is None:
        f.fail("give course_g_per_kg, dose_range_g_per_kg or both")
    days = f.integer("days", minimum=1)
    days_min = f.integer("days_min", days, minimum=1)
    days_max = f.integer("days_max", days, minimum=1)
    if not days_min <= days <= days_max:
        f.fail("days must lie between days_min and days_max", "days")
    label_products = f.text_list("label_products", [], non_empty=False)
    for pid in label_products:
        if pid not in products:
            f.fail(f"unknown product {pid!r}", "label_products")
    hours = None
    hours_sources: tuple[str, ...] = ()
    if f.has("infusion_hours_min"):
        hours = (f.number("infusion_hours_min", minimum=0, exclusive_minimum=True),
                 f.number("infusion_hours_max", minimum=0, exclusive_minimum=True))
        if hours[0] > hours[1]:
            f.fail("infusion_hours_min is above infusion_hours_max", "infusion_hours_min")
        hours_sources = f.source_keys("infusion_hours_sources", sources)
    return Regimen(
        id=f.text("id"), name=f.text("name"), indication=indication,
        course_g_per_kg=course, dose_range_g_per_kg=dose_range,
        days=days, days_min=days_min, days_max=days_max,
        repeat_min_days=f.integer("repeat_min_days", None, minimum=1),
        repeat_max_days=f.integer("repeat_max_days", None, minimum=1),
        repeat_note=f.text("repeat_note", ""),
        label_status=f.text("label_status", choices=("on-label", "off-label")),
        label_products=tuple(label_products),
        sources=f.source_keys("sources", sources),
        infusion_hours=hours,
        infusion_hours_sources=hours_sources,
        days_note=f.text("days_note", ""),
        population=f.text("population", "any", choices=("any", "children")),
    )


def _range(f: Fields) -> Range:
    values = {k: f.number(k, None) for k in ("hard_min", "hard_max", "soft_min", "soft_max")}
    if not f.has("basis") and not f.has("sources"):
        f.fail("each limit needs sources or basis = \"local policy default\"")
    lo, hi = values["hard_min"], values["hard_max"]
    for k in ("soft_min", "soft_max"):
        v = values[k]
        if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
            f.fail("soft limit lies outside the hard limits", k)
    return Range(**values, basis=f.text("basis", "sourced"), note=f.text("note", ""))


def _limits(top: Fields, sources: dict[str, str], indications: dict | None = None) -> Limits:
    indications = indications or {}
    for name in ("daily_dose_g_per_kg", "course_dose_g_per_kg", "dosing_weight", "vial_rounding",
                 "weight_change", "pump", "first_infusion", "fluid_load"):
        t = top.table(name)
        if t.has("sources"):
            t.source_keys("sources", sources)
    dw = top.table("dosing_weight")
    vr = top.table("vial_rounding")
    td = top.table("titration_default")
    wc = top.table("weight_change")
    wc.unknown_keys({"notify_prescriber_percent", "sources", "note"})
    pump = top.table("pump")
    pump.unknown_keys({"max_rate_ml_per_h", "basis", "sources", "note"})
    if not pump.has("basis") and not pump.has("sources"):
        pump.fail("needs sources or basis = \"local policy default\"")
    fi = top.table("first_infusion")
    fi.unknown_keys({"basis", "sources", "note"})
    age = top.table("age")
    age.unknown_keys({"adult_years", "adult_sources", "renal_risk_over_years", "renal_sources", "note"})
    fl = top.table("fluid_load")
    fl.unknown_keys({"soft_max_ml_per_kg_day", "applies_up_to_kg", "basis", "sources", "note"})
    if not fl.has("basis") and not fl.has("sources"):
        fl.fail("needs sources or basis = \"local policy default\"")
    exempt = dw.text_list("actual_weight_indications", [], non_empty=False)
    for ind in exempt:
        if ind not in indications:
            dw.fail(f"unknown indication {ind!r}", "actual_weight_indications")
    if exempt or dw.has("actual_weight_sources"):
        dw.source_keys("actual_weight_sources", sources)
    if dw.has("pregnancy_sources"):
        dw.source_keys("pregnancy_sources", sources)
    return Limits(
        weight_kg=_range(top.table("weight_kg")),
        weight_change_notify_percent=wc.number("notify_prescriber_percent", minimum=0, exclusive_minimum=True,
                                               maximum=100),
        height_cm=_range(top.table("height_cm")),
        daily_dose_g_per_kg=_range(top.table("daily_dose_g_per_kg")),
        course_dose_g_per_kg=_range(top.table("course_dose_g_per_kg")),
        days=_range(top.table("days")),
        user_max_rate_mg_kg_min=_range(top.table("user_max_rate_mg_kg_min")),
        dosing_weight=DosingWeightRules(
            ibw_base_height_in=dw.number("ibw_base_height_in", minimum=0, exclusive_minimum=True),
            ibw_male_base_kg=dw.number("ibw_male_base_kg", minimum=0, exclusive_minimum=True),
            ibw_female_base_kg=dw.number("ibw_female_base_kg", minimum=0, exclusive_minimum=True),
            ibw_kg_per_inch=dw.number("ibw_kg_per_inch", minimum=0, exclusive_minimum=True),
            adjusted_factor=dw.number("adjusted_factor", minimum=0, maximum=1),
            obesity_bmi_threshold=dw.number("obesity_bmi_threshold", minimum=15, maximum=60),
            obesity_threshold_inclusive=dw.boolean("obesity_threshold_inclusive"),
            actual_weight_indications=tuple(exempt),
            actual_weight_reason=dw.text("actual_weight_reason", ""),
            pregnancy_note=dw.text("pregnancy_note", ""),
        ),
        vial_rounding_tolerance_percent=vr.number("tolerance_percent", minimum=0, maximum=50),
        titration_method=td.text("method", choices=("double",)),
        titration_step_minutes=td.number("step_minutes", minimum=1),
        pump_max_ml_per_h=pump.number("max_rate_ml_per_h", minimum=0, exclusive_minimum=True),
        pump_note=pump.text("note", ""),
        first_infusion_policy_note=fi.text("note"),
        age=AgeRules(
            adult_years=age.number("adult_years", minimum=1, maximum=30),
            renal_risk_over_years=age.number("renal_risk_over_years", minimum=18, maximum=120),
            adult_sources=age.source_keys("adult_sources", sources),
            renal_sources=age.source_keys("renal_sources", sources),
        ),
        fluid_load=FluidLoad(
            soft_max_ml_per_kg_day=fl.number("soft_max_ml_per_kg_day", minimum=0, exclusive_minimum=True),
            applies_up_to_kg=fl.number("applies_up_to_kg", minimum=0, exclusive_minimum=True),
            basis=fl.text("basis", "sourced"),
            note=fl.text("note", ""),
        ),
    )


def _unique(items, what: str, file: str) -> dict:
    result = {}
    for item in items:
        if item.id in result:
            raise ResourceError(f"{file}: {what} id {item.id!r} appears twice")
        result[item.id] = item
    return result


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Load and validate products, regimens and limits (cached for the process)."""
    reg_data, reg_file = load_toml("regimens.toml")
    reg_top = Fields(reg_data, reg_file)
    indications_table = reg_top.table("indications")
    indications = {k: indications_table.text(k) for k in indications_table.data}

    prod_data, prod_file = load_toml("products.toml")
    prod_top = Fields(prod_data, prod_file)
    prod_sources = prod_top.sources_table()
    common = tuple(_contraindications(prod_top, "common_contraindication", prod_sources))
    products = _unique((_product(f, prod_sources, indications, common) for f in prod_top.tables("product")),
                       "product", prod_file)

    reg_sources = reg_top.sources_table()
    regimens = _unique((_regimen(f, reg_sources, indications, products)
                        for f in reg_top.tables("regimen")), "regimen", reg_file)

    lim_data, lim_file = load_toml("limits.toml")
    lim_top = Fields(lim_data, lim_file)
    limits = _limits(lim_top, lim_top.sources_table(), indications)

    return Catalogue(products=products, regimens=regimens, indications=indications,
                     limits=limits, sources={**prod_sources, **reg_sources})
