"""Fixtures of the service tests (pure Python: no Qt is imported here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import open_store

from nurse_app.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A new record file with a nurse profile (every entry is stamped with it)."""
    with open_store(tmp_path / "record.db") as s:
        yield s
