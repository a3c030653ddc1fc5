"""Worker processes for tests/reliability/test_integrity_concurrency.py (importable by a spawned child)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from nurse_app.store import ConflictError, Store, keys

THINK_SECONDS = 0.002  # between reading the field and saving it, as a form does

# The record is encrypted: a spawned worker unlocks it with the suite's passphrase
# (tests/conftest.py puts it in the environment the children inherit).
keys.unlock(os.environ["NURSE_APP_PASSPHRASE"])


def read_modify_write(path: str, visit_id: int, tag: str, count: int, start, results) -> None:
    """Append ``count`` tokens to the visit notes the way a form does (read, edit, save with
    ``if_unchanged``); on "changed elsewhere" reload and try again, as the nurse would."""
    store = Store.open(Path(path))
    conflicts, messages = 0, set()
    start.wait(30)
    try:
        for i in range(count):
            while True:
                notes = store.get_visit(visit_id)["notes"]
                time.sleep(THINK_SECONDS)
                try:
                    store.update_visit(visit_id, notes=f"{notes}{tag}{i};", if_unchanged={"notes": notes})
                    break
                except ConflictError as exc:
                    conflicts += 1
                    messages.add(str(exc))
    finally:
        store.close()
    results.put((tag, conflicts, sorted(messages)))


def append_lines(path: str, visit_id: int, tag: str, count: int, start, results) -> None:
    store = Store.open(Path(path))
    start.wait(30)
    try:
        for i in range(count):
            store.append_visit_note(visit_id, f"{tag}{i}")
    finally:
        store.close()
    results.put((tag, count, []))


def slow_editor(path: str, visit_id: int, have_read, other_saved, results) -> None:
    """Reads the notes, lets the other process save, then saves its own edit."""
    store = Store.open(Path(path))
    try:
        notes = store.get_visit(visit_id)["notes"]
        have_read.set()
        other_saved.wait(30)
        try:
            store.update_visit(visit_id, notes=notes + " slow", if_unchanged={"notes": notes})
            results.put(("saved", ""))
        except ConflictError as exc:
            results.put(("conflict", str(exc)))
    finally:
        store.close()


def fast_editor(path: str, visit_id: int, have_read, other_saved, results) -> None:
    store = Store.open(Path(path))
    try:
        have_read.wait(30)
        notes = store.get_visit(visit_id)["notes"]
        store.update_visit(visit_id, notes=notes + " fast", if_unchanged={"notes": notes})
        other_saved.set()
    finally:
        store.close()
