"""When vital signs are due during an infusion (``resources/monitoring.toml``).

:func:`vitals_due` looks at the visit's infusion events and readings and says whether a
reading is due now and why; the visit screen prompts with that sentence.  Times are
minutes from the infusion start, so the logic is independent of clocks and time zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from nurse_app.core.resources import load_toml, validate


@dataclass(frozen=True)
class MonitoringRules:
    baseline: bool
    after_start_minutes: float
    before_each_rate_increase: bool
    at_max_rate_every_minutes: float
    at_end: bool
    after_end_minutes: tuple[float, float]
    window_minutes: float
    observation_minutes: float
    observation_first_infusion_minutes: float
    verified: bool
    note: str


@lru_cache(maxsize=1)
def load_monitoring() -> MonitoringRules:
    data, name = load_toml("monitoring.toml")
    validate("monitoring.toml", data, name)
    v, o = data["vitals"], data["observation"]
    lo, hi = v["after_end_minutes"]
    return MonitoringRules(
        baseline=v["baseline"],
        after_start_minutes=v["after_start_minutes"],
        before_each_rate_increase=v["before_each_rate_increase"],
        at_max_rate_every_minutes=v["at_max_rate_every_minutes"],
        at_end=v["at_end"],
        after_end_minutes=(lo, hi),
        window_minutes=v["window_minutes"],
        observation_minutes=o["minutes"],
        observation_first_infusion_minutes=o["first_infusion_minutes"],
        verified=data["verified"],
        note=data["note"],
    )


@dataclass(frozen=True)
class InfusionState:
    """What has happened so far, in minutes from the infusion start (None: not started)."""

    now_min: float | None
    vitals_at_min: tuple[float, ...]  # readings taken (negative: before the start)
    rate_changes_at_min: tuple[float, ...]  # rate increases made
    at_max_since_min: float | None = None
    ended_at_min: float | None = None
    next_increase_at_min: float | None = None  # planned next step from the schedule


def vitals_due(state: InfusionState, rules: MonitoringRules) -> str | None:
    """A sentence saying why a vital-signs reading is due now, or None."""
    lead_minutes = rules.window_minutes
    readings = sorted(state.vitals_at_min)
    if state.now_min is None:
        if rules.baseline and not readings:
            return "Baseline vital signs are due before the infusion starts."
        return None
    now = state.now_min

    def has_reading(after: float, before: float = float("inf")) -> bool:
        return any(after <= t <= before for t in readings)

    if rules.baseline and not has_reading(float("-inf"), 0):
        return "No baseline vital signs were recorded before the start: take a set now."
    if state.ended_at_min is not None:
        end = state.ended_at_min
        if rules.at_end and not has_reading(end - lead_minutes):
            return "Vital signs are due at the end of the infusion."
        lo, hi = rules.after_end_minutes
        if end + lo <= now and not has_reading(end + lo):
            return f"Vital signs are due {lo:g} to {hi:g} min after the end of the infusion."
        return None
    if now >= rules.after_start_minutes and not has_reading(rules.after_start_minutes - lead_minutes):
        return f"Vital signs are due {rules.after_start_minutes:g} min after the start."
    if rules.before_each_rate_increase and state.next_increase_at_min is not None:
        last_change = max(state.rate_changes_at_min, default=0.0)
        if now >= state.next_increase_at_min - lead_minutes and not has_reading(
            max(last_change, state.next_increase_at_min - 2 * lead_minutes)
        ):
            return "Take vital signs before the next rate increase."
    if state.at_max_since_min is not None:
        last = max(readings, default=state.at_max_since_min)
        since = max(last, state.at_max_since_min)
        if now - since >= rules.at_max_rate_every_minutes:
            return f"Vital signs are due every {rules.at_max_rate_every_minutes:g} min at the maximum rate."
    return None
