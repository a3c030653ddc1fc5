"""Passphrase rules, idle-lock limits and unlock throttling (values in resources/security.toml).

Pure logic: the UI shows :func:`passphrase_problem` and :func:`strength`; the CLI
applies the same rule to a passphrase for a new record; the lock screen waits
:func:`throttle_delay` after wrong attempts.  These are local policy defaults.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

from nurse_app.core.resources import load_toml

POLICY_NOTE = "local policy default - confirm with your agency"


@dataclass(frozen=True)
class SecurityPolicy:
    min_length: int
    refused: frozenset[str]
    idle_default_minutes: int
    idle_min_minutes: int
    idle_max_minutes: int
    free_attempts: int
    first_delay_s: float
    max_delay_s: float


@lru_cache(maxsize=1)
def policy() -> SecurityPolicy:
    data, _ = load_toml("security.toml")
    pp, idle, throttle = data["passphrase"], data["idle_lock"], data["unlock_throttle"]
    return SecurityPolicy(
        min_length=int(pp["min_length"]),
        refused=frozenset(p.casefold() for p in pp["refused"]),
        idle_default_minutes=int(idle["default_minutes"]),
        idle_min_minutes=int(idle["min_minutes"]),
        idle_max_minutes=int(idle["max_minutes"]),
        free_attempts=int(throttle["free_attempts"]),
        first_delay_s=float(throttle["first_delay_s"]),
        max_delay_s=float(throttle["max_delay_s"]),
    )


def passphrase_problem(passphrase: str, *, name: str = "") -> str | None:
    """Why ``passphrase`` is refused for a record, or None if it is acceptable."""
    rules = policy()
    if len(passphrase) < rules.min_length:
        return f"Use at least {rules.min_length} characters (a few unrelated words work well)."
    folded = passphrase.casefold()
    if folded in rules.refused or folded.strip("0123456789!") in rules.refused:
        return "This passphrase is too common; choose something only you would think of."
    if len(set(folded)) <= 2:
        return "This passphrase repeats the same characters; choose something less predictable."
    if _is_sequence(folded):
        return "This passphrase is a simple sequence; choose something less predictable."
    if name and name.casefold().replace(" ", "") in folded.replace(" ", "") and len(name) >= 3:
        return "Do not use your own name in the passphrase."
    return None


def _is_sequence(text: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1}


def strength(passphrase: str) -> tuple[int, str]:
    """A rough 0-4 score and its word, from length and the kinds of characters used."""
    pool = 0
    if any(c.islower() for c in passphrase):
        pool += 26
    if any(c.isupper() for c in passphrase):
        pool += 26
    if any(c.isdigit() for c in passphrase):
        pool += 10
    if any(not c.isalnum() for c in passphrase):
        pool += 33
    bits = len(passphrase) * math.log2(pool) if pool else 0.0
    if passphrase_problem(passphrase) is not None:
        return 0, "too weak"
    score = 1 if bits < 50 else 2 if bits < 70 else 3 if bits < 90 else 4
    return score, ("weak", "fair", "good", "strong")[score - 1]


def throttle_delay(failures: int) -> float:
    """Seconds to wait before the next attempt after ``failures`` wrong ones in a row.

    Nothing for the first ``free_attempts``; then doubling from ``first_delay_s`` up to
    ``max_delay_s``.  Never infinite: the nurse can always try again.
    """
    rules = policy()
    extra = failures - rules.free_attempts - 1
    if extra < 0:
        return 0.0
    return min(rules.max_delay_s, rules.first_delay_s * 2.0**extra)


def clamp_idle_minutes(value: int | None) -> int:
    rules = policy()
    if value is None:
        return rules.idle_default_minutes
    return max(rules.idle_min_minutes, min(rules.idle_max_minutes, int(value)))
