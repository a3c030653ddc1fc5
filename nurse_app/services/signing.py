"""Signing a visit and adding addenda to a signed one (no Qt).

* :func:`signing_state` - what still stops the visit from being signed: the store's
  problems (times, required checklist items) and the dose warnings saved with the
  visit's calculation that were not acknowledged;
* :func:`sign_visit` - signs only when nothing is left (an unacknowledged warning refuses,
  whoever calls: the Sign tab, the CLI or a script);
* :func:`add_addendum` - a correction or late entry on a signed visit (append-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.store import Store
from nurse_app.store.errors import StoreError

Row = dict[str, Any]

INFUSION_IN_PROGRESS = (
    "the infusion is still in progress: stop or finish it on the Infusion tab (with the volume given)"
)


@dataclass(frozen=True)
class SigningState:
    signed: bool
    problems: tuple[str, ...]  # from the store: times, required checklist items
    pending_warnings: tuple[str, ...]  # dose warnings saved unacknowledged
    missing_calculation: bool  # a visit with an order but no saved dose calculation

    @property
    def can_sign(self) -> bool:
        """Signing is allowed (a missing calculation is shown, but does not stop signing)."""
        return not self.signed and not self.problems and not self.pending_warnings


def signing_state(store: Store, visit_id: int, visit: Mapping[str, Any] | None = None) -> SigningState:
    """What the Sign tab lists under "Still to do" (``visit``: the row, if already read)."""
    row: Mapping[str, Any] = visit if visit is not None else store.get_visit(visit_id)
    signed = row["status"] == "signed"
    problems: list[str] = [] if signed else store.signing_problems(visit_id)
    if row["status"] == "draft":
        from nurse_app.services.visits import infusion_in_progress

        if infusion_in_progress(store, visit_id):
            problems.insert(0, INFUSION_IN_PROGRESS)
    calculation: Mapping[str, Any] = row.get("calculation") or {}
    pending = tuple(str(w) for w in calculation.get("pending_warnings") or ())
    return SigningState(
        signed=signed,
        problems=tuple(problems),
        pending_warnings=pending,
        missing_calculation=not calculation and bool(row.get("order_id")),
    )


def sign_visit(store: Store, visit_id: int) -> Row:
    """Sign the visit (seal its content); refused with a sentence while a dose warning saved
    with the calculation is unacknowledged.  Returns the signed visit."""
    state = signing_state(store, visit_id)
    if INFUSION_IN_PROGRESS in state.problems:
        raise StoreError(f"This visit cannot be signed yet: {INFUSION_IN_PROGRESS}.")
    if not state.signed and state.pending_warnings:
        count = len(state.pending_warnings)
        raise StoreError(
            f"This visit cannot be signed yet: {count} dose warning"
            f"{'s are' if count != 1 else ' is'} not acknowledged on the Dose tab."
        )
    signed: Row = store.sign_visit(visit_id)
    return signed


def add_addendum(store: Store, visit_id: int, text: str) -> int:
    """Append a correction or late entry to a signed visit; blank text is refused."""
    text = (text or "").strip()
    if not text:
        raise InputError("Write the addendum first.", "text")
    addendum_id: int = store.add_addendum(visit_id, text)
    return addendum_id
