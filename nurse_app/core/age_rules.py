"""Rules that turn on a patient's age, read from ``limits.toml [age]``: one place for the dose
engine's over-65 renal prompt and the week's kidney check, so the two never disagree."""

from __future__ import annotations

from nurse_app.core.catalogue import AgeRules, load_catalogue


def age_rules() -> AgeRules | None:
    """The ``[age]`` table of ``limits.toml`` (None when the limits carry none)."""
    return load_catalogue().limits.age


def over_renal_risk_age(age_years: float | None, rules: AgeRules | None = None) -> bool:
    """True when the patient is older than the boxed warning's renal-risk age (65, ``limits.toml
    [age] renal_risk_over_years``); False when younger or the age is unknown."""
    rules = rules if rules is not None else age_rules()
    return age_years is not None and rules is not None and age_years > rules.renal_risk_over_years
