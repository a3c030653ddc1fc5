"""The lot checks of a visit, in one place: the Lots tab, the store and the visit summary
(PDF, print) all call :func:`check_lots`, so they flag the same things.

A visit's lots are checked for:

* **expiry** - a lot that expired before the visit day (the store refuses to record one,
  but an older record, or an edited visit day, can still hold one);
* **product** - a lot of another product than the visit's (the order's product, or the
  calculation's): one brand only in an infusion;
* **amount** - the grams dispensed against the day's vial plan and the daily dose
  (short of the dose; more or less than the plan).

Pure Python: lots are mappings with ``product_id``, ``lot_number``, ``expiry_date``
(ISO date), ``vial_size_g`` and ``vial_count``; the calculation is the visit's saved
``DoseResult.to_dict()`` snapshot.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nurse_app.core.formatting import fmt_qty

EXPIRED, OTHER_PRODUCT, SHORT, OFF_PLAN, NO_PLAN, NO_LOTS = (
    "expired",
    "other-product",
    "short-of-dose",
    "off-plan",
    "no-plan",
    "no-lots",
)
# Problems that need the nurse to look again (NO_PLAN and NO_LOTS are information).
ALERTS = (EXPIRED, OTHER_PRODUCT, SHORT, OFF_PLAN)


@dataclass(frozen=True)
class LotProblem:
    code: str
    message: str


@dataclass(frozen=True)
class LotCheck:
    dispensed_g: float
    planned_g: float | None
    ordered_g: float | None
    problems: tuple[LotProblem, ...]
    message: str  # every finding, one sentence each

    @property
    def alert(self) -> bool:
        """The nurse should look at the lots again."""
        return any(p.code in ALERTS for p in self.problems)

    @property
    def matches_plan(self) -> bool:
        """Lots recorded, right product, in date, and exactly the day's vial plan."""
        return not self.problems

    def has(self, code: str) -> bool:
        return any(p.code == code for p in self.problems)


def _as_date(value: object) -> _dt.date | None:
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def planned_grams(calculation: Mapping[str, Any] | None) -> float | None:
    """Grams per day of the saved vial plan (None without one)."""
    if not calculation:
        return None
    planned = calculation.get("dispensed_g_per_day")
    if planned is None and calculation.get("vials"):
        planned = sum(v["size_g"] * v["count"] for v in calculation["vials"])
    return planned


def check_lots(
    lots: Sequence[Mapping[str, Any]],
    calculation: Mapping[str, Any] | None,
    *,
    product_id: str | None = None,
    visit_day: _dt.date | None = None,
    product_name: Callable[[str], str] = str,
) -> LotCheck:
    """Every check of the visit's lots.

    ``product_id`` is the visit's product (the order's); without it the calculation's
    product is used.  ``visit_day`` enables the expiry check.  ``product_name`` turns a
    product id into the name shown in a message.
    """
    calc = calculation or {}
    dispensed = sum(float(lot["vial_size_g"]) * int(lot["vial_count"]) for lot in lots)
    planned = planned_grams(calc)
    ordered = calc.get("daily_dose_g")
    problems: list[LotProblem] = []
    if not lots:
        problems.append(LotProblem(NO_LOTS, "No product lots recorded for this visit."))
        return LotCheck(0, planned, ordered, tuple(problems), problems[0].message)
    if planned is None:
        problems.append(LotProblem(NO_PLAN, "No vial plan was saved to compare the lots with."))
    elif abs(dispensed - planned) < 1e-6:
        pass
    else:
        diff = dispensed - planned
        problems.append(
            LotProblem(
                OFF_PLAN,
                f"Lots dispensed total {fmt_qty(dispensed, 'g')}: "
                f"{fmt_qty(abs(diff), 'g')} {'more' if diff > 0 else 'less'} "
                f"than the vial plan ({fmt_qty(planned, 'g')}).",
            )
        )
    if ordered is not None and dispensed + 1e-6 < ordered:
        problems.append(
            LotProblem(
                SHORT,
                f"Less than the daily dose of {fmt_qty(ordered, 'g')}: "
                f"{fmt_qty(ordered - dispensed, 'g')} short. Check the lots.",
            )
        )
    expected = product_id or calc.get("product")
    other = [lot for lot in lots if expected and lot["product_id"] != expected]
    if expected and other:
        names = ", ".join(f"{lot['lot_number']} ({product_name(lot['product_id'])})" for lot in other)
        problems.append(
            LotProblem(
                OTHER_PRODUCT,
                f"Not the product of this visit ({product_name(expected)}): "
                f"lot {names}. One brand only in an infusion: check the lots.",
            )
        )
    if visit_day is not None:
        expired = [lot for lot in lots if (_as_date(lot["expiry_date"]) or visit_day) < visit_day]
        if expired:
            names = ", ".join(f"{lot['lot_number']} (expired {lot['expiry_date']})" for lot in expired)
            problems.append(
                LotProblem(
                    EXPIRED, f"Expired before this visit: lot {names}. Expired product must not be given."
                )
            )
    if not problems:
        message = f"Lots dispensed match the vial plan ({fmt_qty(dispensed, 'g')})" + (
            f" for today's dose of {fmt_qty(ordered, 'g')}." if ordered is not None else "."
        )
    else:
        message = " ".join(p.message for p in problems)
    return LotCheck(dispensed, planned, ordered, tuple(problems), message)


def next_vials_from_plan(
    calculation: Mapping[str, Any] | None, lots: Sequence[Mapping[str, Any]]
) -> tuple[float, int] | None:
    """The vial size (g) and count the next lot most likely is: the first size of the day's
    vial plan not yet covered by the recorded lots, with the vials still missing.  None
    without a plan or when every size of the plan is recorded."""
    plan = (calculation or {}).get("vials") or []
    for entry in plan:
        size, wanted = float(entry["size_g"]), int(entry["count"])
        recorded = sum(int(lot["vial_count"]) for lot in lots if float(lot["vial_size_g"]) == size)
        if recorded < wanted:
            return size, wanted - recorded
    return None


def recorded_as(lot: Mapping[str, Any]) -> str:
    """How a lot row was made, as every screen and summary says it: ``typed``, or
    ``scanned (serial …)`` when it was read from the carton's GS1 code (older rows: typed)."""
    if lot.get("source") == "scanned":
        return f"scanned (serial {lot['serial']})" if lot.get("serial") else "scanned"
    return "typed"
