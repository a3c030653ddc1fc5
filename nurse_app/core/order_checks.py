"""Catalogue checks for what the record stores: orders, lots and indications.

The store calls these for every write, whichever door it comes through (the order form,
the CLI, demo data), so the record is as strict as the screens:

* a product or regimen must exist in the catalogue (``resources/products.toml``,
  ``resources/regimens.toml``);
* an order's course passes the dose engine's hard limits (:func:`dosing.check_course`,
  e.g. 500 g/kg is refused) and is not below the floor in ``resources/limits.toml``
  ``[order_dose_floor]`` (0.0001 g/kg would print as "0 g/kg");
* a lot's vial size is one the catalogue lists for that product (no 7 g Privigen vial).

Only new input is checked this way; a record written under an older catalogue stays
readable and restorable (history is not rewritten when the catalogue changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from nurse_app.core import dosing
from nurse_app.core.catalogue import Catalogue, Product, Regimen, load_catalogue
from nurse_app.core.errors import InputError
from nurse_app.core.formatting import fmt_qty


@dataclass(frozen=True)
class DoseFloor:
    min_g_per_kg: float
    basis: str


def dose_floor() -> DoseFloor:
    """``[order_dose_floor]`` of ``resources/limits.toml``, as the dose engine applies it."""
    lim = load_catalogue().limits
    assert lim.order_dose_floor_g_per_kg is not None, "limits.toml requires [order_dose_floor]"
    return DoseFloor(lim.order_dose_floor_g_per_kg, lim.order_dose_floor_basis)


def check_product(product_id: str, catalogue: Catalogue | None = None, field: str = "product_id") -> Product:
    cat = catalogue or load_catalogue()
    try:
        return cat.product(product_id)
    except InputError as exc:
        raise InputError(str(exc), field=field) from None


def check_regimen(regimen_id: str, catalogue: Catalogue | None = None, field: str = "regimen_id") -> Regimen:
    cat = catalogue or load_catalogue()
    try:
        return cat.regimen(regimen_id)
    except InputError as exc:
        raise InputError(str(exc), field=field) from None


def check_indication(indication: str, catalogue: Catalogue | None = None, field: str = "indication") -> None:
    """A patient's indication: a regimen id, or an indication id of regimens.toml."""
    cat = catalogue or load_catalogue()
    if indication not in cat.regimens and indication not in cat.indications:
        known = ", ".join(sorted({*cat.regimens, *cat.indications}))
        raise InputError(f"Unknown indication {indication!r}. Known: {known}.", field=field)


def check_order(
    product_id: str,
    regimen_id: str | None,
    dose_g_per_kg: float | None,
    course_days: int | None,
    catalogue: Catalogue | None = None,
) -> None:
    """Refuse (InputError naming the field) an order the dose engine would refuse."""
    cat = catalogue or load_catalogue()
    check_product(product_id, cat)
    if regimen_id is not None:
        check_regimen(regimen_id, cat)
    try:
        # The same course rules as every calculation: hard limits and the order floor.
        dosing.check_course(dose_g_per_kg, course_days, regimen_id, cat, product_id=product_id)
    except InputError as exc:
        field = {"days": "course_days", "dose": "dose_g_per_kg"}.get(exc.field or "", "dose_g_per_kg")
        raise InputError(str(exc), field=field) from None


def check_lot(product_id: str, vial_size_g: float, catalogue: Catalogue | None = None) -> None:
    """The product must exist and the vial size must be one of its catalogue sizes."""
    product = check_product(product_id, catalogue)
    sizes = sorted({v.grams for v in product.vials})
    if sizes and not any(abs(vial_size_g - s) < 1e-9 for s in sizes):
        listed = ", ".join(fmt_qty(s, "g") for s in sizes)
        raise InputError(
            f"{product.brand} does not come in {fmt_qty(vial_size_g, 'g')} vials "
            f"(catalogue sizes: {listed}).",
            field="vial_size_g",
        )
