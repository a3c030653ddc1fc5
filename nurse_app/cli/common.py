"""What every ``nurse-app`` command shares: opening an existing record read-only, and printing a
result as JSON (``--json``: two-space indent, text as written, never ``\\u`` escapes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nurse_app.core.errors import InputError
from nurse_app.store import Store, resolve_db_path


def open_existing(db: str | None) -> Store:
    """The record at ``db`` (or the default); refuses to create one that is not there."""
    path, _ = resolve_db_path(db)
    if not Path(path).exists():
        raise InputError(f"There is no patient record at {path}; check --db or NURSE_APP_DB.")
    return Store.open_read_only(path)


def print_json(data: Any) -> None:
    """``data`` on standard output as the commands' JSON."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
