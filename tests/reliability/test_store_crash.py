"""Crash safety: a child process edits the record and is killed with SIGKILL mid-work.

The child reports each edit only after the store call has returned (= committed).
After every kill, every reported edit must be in the file and ``PRAGMA
integrity_check`` must say ok.  The same file goes through all rounds, so recovery
from one crash is followed by more edits and another crash.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from nurse_app.store import Store

ROUNDS = 20

CHILD = r"""
import os, sys
from nurse_app.store import Store, keys

keys.unlock(os.environ["NURSE_APP_PASSPHRASE"])   # the encrypted record's passphrase
path, round_no = sys.argv[1], int(sys.argv[2])
store = Store.open(path)
if store.nurse_profile() is None:
    store.set_nurse_profile("Crash Test", "RN")
patient = store.create_patient(mrn=f"R{round_no}", name=f"Round {round_no}",
                               date_of_birth="1970-01-01", sex="other")
visit = store.create_visit(patient, started_at="2024-06-01T09:00:00+00:00")
print("ready", patient, visit, flush=True)
required = [i["item_id"] for i in store.visit_checklist(visit) if i["required"]]
i = 0
while True:
    i += 1
    note = f"r{round_no}-{i}"
    reading = store.add_vitals(visit, heart_rate=60 + i % 40, spo2_percent=95 + i % 5, note=note)
    print("vitals", reading, note, flush=True)
    if i % 4 == 0:
        store.update_patient(patient, notes=f"{i}")
        print("notes", patient, i, flush=True)
    if i % 9 == 0:
        # A multi-row edit in one transaction: all answers or none.
        store.set_checklist_items(visit, {item: "done" for item in required})
        print("checklist", visit, len(required), flush=True)
    if i % 15 == 0:
        store.update_visit(visit, ended_at="2024-06-01T13:00:00+00:00")
        store.sign_visit(visit)
        print("signed", visit, flush=True)
        visit = store.create_visit(patient, started_at="2024-06-01T09:00:00+00:00")
        print("visit", visit, flush=True)
"""


def _run_and_kill(path, round_no: int, delay: float) -> list[list[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(round_no)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[list[str]] = []
    ready = threading.Event()

    def read() -> None:
        for line in child.stdout:
            if line.endswith("\n"):  # a line cut short by the kill was not fully reported
                lines.append(line.split())
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(timeout=30):
        child.kill()
        pytest.fail(f"child never became ready: {child.stderr.read()}")
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    reader.join(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read()
    return lines


def _check(store: Store, lines: list[list[str]]) -> int:
    """Every reported edit is present; returns how many edits were reported."""
    last_notes = {}
    for kind, *args in lines:
        if kind == "vitals":
            reading = store.db.execute("SELECT note FROM vitals WHERE id = ?", [int(args[0])]).fetchone()
            assert reading == (args[1],), f"committed reading {args} is missing"
        elif kind == "notes":
            last_notes[int(args[0])] = int(args[1])
        elif kind == "checklist":
            answered = store.db.execute(
                "SELECT count(*) FROM checklist_entries WHERE visit_id = ?", [int(args[0])]
            ).fetchone()[0]
            assert answered == int(args[1])
        elif kind == "signed":
            assert store.get_visit(int(args[0]))["status"] == "signed"
            assert store.verify_visit(int(args[0])) is True
        elif kind in ("ready", "visit"):
            store.get_visit(int(args[-1]))
    for patient, value in last_notes.items():
        # A later update may have committed without being reported, never an earlier one.
        assert int(store.get_patient(patient)["notes"]) >= value
    return len(lines)


@pytest.mark.slow
def test_every_reported_edit_survives_sigkill(tmp_path):
    path = tmp_path / "record.db"
    rng = random.Random(20240601)
    reported = 0
    for round_no in range(1, ROUNDS + 1):
        lines = _run_and_kill(path, round_no, rng.uniform(0.02, 0.3))
        with Store.open(path) as store:
            assert store.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
            reported += _check(store, lines)
            # The audit log is in step with the data it describes.
            assert (
                store.db.execute(
                    "SELECT count(*) FROM vitals WHERE id NOT IN (SELECT row_id FROM audit_log "
                    "WHERE table_name = 'vitals' AND action = 'insert')"
                ).fetchone()[0]
                == 0
            )
    assert reported > ROUNDS * 5  # the children really were killed in the middle of work
