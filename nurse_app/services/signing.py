"""Signing a visit and adding addenda to a signed one (no Qt).

* :func:`signing_state` - what still stops the visit from being signed: the store's
  problems (times, required checklist items) and the warnings of the visit's saved dose
  calculation that have no acknowledgement (worked out from the calculation's warnings and
  acknowledgements by :func:`nurse_app.core.acknowledgements.pending_in`, whoever saved it);
* :func:`sign_visit` - signs only when nothing is left (an unacknowledged warning refuses,
  whoever calls: the Sign tab, the CLI or a script);
* :func:`add_addendum` - a correction or late entry on a signed visit (append-only).
"""

from __future__ import annotations

from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.core.visit_record import INFUSION_IN_PROGRESS, SigningState
from nurse_app.services.visit_record import load_visit
from nurse_app.store import Store
from nurse_app.store.errors import StoreError

Row = dict[str, Any]


def signing_state(store: Store, visit_id: int) -> SigningState:
    """What the Sign tab lists under "Still to do" (the rule: :func:`nurse_app.core.visit_record.signing_state`)."""
    return load_visit(store, visit_id).signing


def sign_visit(store: Store, visit_id: int) -> Row:
    """Sign the visit (seal its content); refused with a sentence while a warning of the saved
    dose calculation is unacknowledged.  Returns the signed visit."""
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
