"""Vial plans: which vials cover a day's dose.

The dispensing plan covers the ordered daily dose with the least waste, then the fewest
vials (unbounded coin change on the product's vial sizes, in integer milligrams).
A rounding *option* (nearest whole-vial combination within a tolerance, above or below)
may be offered beside it; the ordered dose itself is never changed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

from nurse_app.core.catalogue import VialSize


@dataclass(frozen=True)
class VialPlan:
    counts: tuple[tuple[VialSize, int], ...]  # largest vial first
    dispensed_g: float
    ordered_g: float

    @property
    def difference_g(self) -> float:
        return self.dispensed_g - self.ordered_g

    @property
    def vial_count(self) -> int:
        return sum(n for _, n in self.counts)

    @property
    def verified(self) -> bool:
        return all(v.verified for v, _ in self.counts)


def _mg(grams: float) -> int:
    return round(grams * 1000)


def _best_counts(sizes_u: list[int], limit: int) -> list[int | None]:
    """fewest[t] = fewest vials summing to exactly t units (None: impossible)."""
    fewest: list[int | None] = [None] * (limit + 1)
    fewest[0] = 0
    for t in range(1, limit + 1):
        best: int | None = None
        for s in sizes_u:
            rest = fewest[t - s] if s <= t else None
            if rest is not None and (best is None or rest + 1 < best):
                best = rest + 1
        fewest[t] = best
    return fewest


def _compose(total: int, sizes_u: list[int], fewest: list[int | None]) -> dict[int, int]:
    counts: dict[int, int] = {}
    t = total
    while t > 0:
        for s in sorted(sizes_u, reverse=True):  # prefer the larger vial among equal counts
            rest, here = (fewest[t - s] if s <= t else None), fewest[t]
            if rest is not None and here is not None and rest == here - 1:
                counts[s] = counts.get(s, 0) + 1
                t -= s
                break
    return counts


def _plan(
    total_u: int,
    unit_mg: int,
    sizes: list[VialSize],
    sizes_u: list[int],
    fewest: list[int | None],
    ordered_g: float,
) -> VialPlan:
    by_units = dict(zip(sizes_u, sizes, strict=True))
    counts = _compose(total_u, sizes_u, fewest)
    ordered = tuple((by_units[s], n) for s, n in sorted(counts.items(), reverse=True))
    return VialPlan(counts=ordered, dispensed_g=total_u * unit_mg / 1000, ordered_g=ordered_g)


def plan_vials(
    daily_dose_g: float, vials: tuple[VialSize, ...], tolerance_percent: float | None = None
) -> tuple[VialPlan | None, VialPlan | None]:
    """``(covering_plan, rounding_option)`` for one day.

    ``covering_plan`` has the smallest total at or above the dose, then fewest vials.
    ``rounding_option`` is the whole-vial total nearest the dose (ties go up) if it lies
    within ``tolerance_percent`` and differs from the covering plan, else ``None``.
    Both are ``None`` when the product has no known vial sizes.
    """
    if not vials or daily_dose_g <= 0:
        return None, None
    sizes_mg = [_mg(v.grams) for v in vials]
    unit = reduce(math.gcd, sizes_mg)
    sizes_u = [s // unit for s in sizes_mg]
    target_u = math.ceil(round(daily_dose_g * 1000, 6) / unit)
    limit = target_u + max(sizes_u)
    fewest = _best_counts(sizes_u, limit)
    cover_u = next(t for t in range(target_u, limit + 1) if fewest[t] is not None)
    cover = _plan(cover_u, unit, list(vials), sizes_u, fewest, daily_dose_g)

    option = None
    if tolerance_percent is not None:
        below_u = next(
            (
                t
                for t in range(min(target_u, limit), 0, -1)
                if fewest[t] is not None and t * unit / 1000 <= daily_dose_g
            ),
            None,
        )
        candidates = [cover_u] + ([below_u] if below_u else [])
        nearest_u = min(candidates, key=lambda t: (abs(t * unit / 1000 - daily_dose_g), -t))
        deviation = abs(nearest_u * unit / 1000 - daily_dose_g) / daily_dose_g * 100
        if nearest_u != cover_u and deviation <= tolerance_percent:
            option = _plan(nearest_u, unit, list(vials), sizes_u, fewest, daily_dose_g)
    return cover, option
