"""Helpers of the service tests (a module of its own: ``conftest`` is not importable by name)."""

from __future__ import annotations

from nurse_app.store import Store


def add_patient(store: Store, mrn: str = "MRN-1", **values: object) -> int:
    row = dict(mrn=mrn, name="Zoë Ölund", date_of_birth="1962-05-17", sex="female", height_cm=165)
    row.update(values)
    return store.create_patient(**row)
