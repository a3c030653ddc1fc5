"""Issue 22 §3: the passphrase changed from the command line while the window has the record
open: the window's next save does not call the record damaged; it locks, asks for the new
passphrase and carries on, with everything saved before still there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from qt_helpers import open_main_window
from store_helpers import new_patient, open_store

from nurse_app.store import RecordRekeyedError

NEW = "a brand new passphrase for the record"


def test_the_window_locks_and_takes_the_new_passphrase_after_a_cli_rekey(qtbot, tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        patient = new_patient(store, "MRN-1")
    window, store = open_main_window(qtbot, path, tmp_path)
    store.update_patient(patient, notes="Before the change.")
    env = {**os.environ, "NURSE_APP_NEW_PASSPHRASE": NEW}
    done = subprocess.run(
        [sys.executable, "-m", "nurse_app", "--db", str(path), "change-passphrase"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    with pytest.raises(RecordRekeyedError, match="Nothing is damaged"):
        store.update_patient(patient, notes="After the change.")
    qtbot.waitUntil(lambda: window.locker.locked, timeout=3000)
    screen = window.locker.screen
    assert "passphrase was changed" in screen.message.text()
    screen.field.setText(os.environ["NURSE_APP_PASSPHRASE"])  # the old one no longer opens it
    assert screen.attempt() is False and window.locker.locked
    screen.field.setText(NEW)
    assert screen.attempt() is True and not window.locker.locked
    store.update_patient(patient, notes="After the change.")
    assert store.get_patient(patient)["notes"] == "After the change."
    store.close()
