"""Two windows or processes editing the same field: no silent lost update (issue 12 §1).

A form saves with ``if_unchanged`` (the values it showed): if another window or program
saved those fields meanwhile, the save is refused with "changed in another window or
program ... reload" and nothing is overwritten.  Notes can also be appended atomically.
"""

from __future__ import annotations

import multiprocessing

import concurrency_workers as workers
import pytest
from PySide6.QtCore import Qt
from store_helpers import new_patient, open_store

from nurse_app.store import ConflictError
from nurse_app.ui.patient_forms import PatientDialog

CTX = multiprocessing.get_context("spawn")


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        patient = new_patient(store)
        visit = store.create_visit(patient)
    return path, visit


def _run(target, path, visit, count, processes=2):
    start, results = CTX.Event(), CTX.Queue()
    procs = [
        CTX.Process(target=target, args=(str(path), visit, tag, count, start, results))
        for tag in "AB"[:processes]
    ]
    for p in procs:
        p.start()
    start.set()
    out = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return out


@pytest.mark.slow
@pytest.mark.reliability
def test_two_processes_editing_the_same_notes_lose_nothing(record):
    path, visit = record
    count = 150
    out = _run(workers.read_modify_write, path, visit, count)
    with open_store(path) as store:
        notes = store.get_visit(visit)["notes"]
        updates = [e for e in store.audit_entries("visits", visit, limit=10_000) if e["action"] == "update"]
    tokens = [t for t in notes.split(";") if t]
    expected = {f"{tag}{i}" for tag in "AB" for i in range(count)}
    assert sorted(tokens) == sorted(expected)  # every save landed, none twice
    assert len(updates) == 2 * count  # one audited update per save
    assert sum(conflicts for _, conflicts, _ in out) > 0  # they did collide, and were told
    for _, _conflicts, messages in out:
        for message in messages:
            assert "changed in another window or program" in message and "Reload" in message


@pytest.mark.slow
@pytest.mark.reliability
def test_the_process_that_saves_second_is_told_to_reload(record):
    path, visit = record
    have_read, other_saved, results = CTX.Event(), CTX.Event(), CTX.Queue()
    slow = CTX.Process(target=workers.slow_editor, args=(str(path), visit, have_read, other_saved, results))
    fast = CTX.Process(target=workers.fast_editor, args=(str(path), visit, have_read, other_saved, results))
    slow.start()
    fast.start()
    outcome, message = results.get(timeout=120)
    slow.join(60)
    fast.join(60)
    assert slow.exitcode == 0 and fast.exitcode == 0
    assert outcome == "conflict"
    assert message.startswith(
        "This visit was changed in another window or program since you "
        "opened it (notes); your change was not saved."
    )
    with open_store(path) as store:
        assert store.get_visit(visit)["notes"] == "fast"


@pytest.mark.slow
@pytest.mark.reliability
def test_two_processes_appending_notes_all_land(record):
    path, visit = record
    count = 200
    _run(workers.append_lines, path, visit, count)
    with open_store(path) as store:
        lines = store.get_visit(visit)["notes"].split("\n")
    assert sorted(lines) == sorted(f"{tag}{i}" for tag in "AB" for i in range(count))


def test_two_windows_of_one_process_the_second_save_is_refused(record):
    path, visit = record
    with open_store(path) as window_a, open_store(path) as window_b:
        shown_a = window_a.get_visit(visit)["notes"]
        shown_b = window_b.get_visit(visit)["notes"]
        window_b.update_visit(visit, notes="from B", if_unchanged={"notes": shown_b})
        with pytest.raises(ConflictError, match="changed in another window or program"):
            window_a.update_visit(visit, notes="from A", if_unchanged={"notes": shown_a})
        assert window_a.get_visit(visit)["notes"] == "from B"
        # Other fields are not a conflict: only what this window is changing is compared.
        window_a.update_visit(visit, course_days=2, if_unchanged={"course_days": 1})
        vital = window_a.add_vitals(visit, heart_rate=70)
        window_b.update_vitals(vital, heart_rate=71, if_unchanged={"heart_rate": 70})
        with pytest.raises(ConflictError):
            window_a.update_vitals(vital, heart_rate=72, if_unchanged={"heart_rate": 70})
        order = window_a.create_order(
            window_a.get_visit(visit)["patient_id"],
            product_id="privigen",
            regimen_id="cidp-maintenance",
            start_date="2024-01-02",
            prescriber="Dr. A",
        )
        window_b.update_order(order, notes="B", if_unchanged={"notes": ""})
        with pytest.raises(ConflictError, match="order was changed"):
            window_a.update_order(order, notes="A", if_unchanged={"notes": ""})


def test_append_refuses_notes_beyond_the_field_limit(record):
    path, visit = record
    with open_store(path) as store:
        store.update_visit(visit, notes="x" * 9_990)
        with pytest.raises(Exception, match=r"10,?000|too long|at most"):
            store.append_visit_note(visit, "y" * 20)
        assert len(store.get_visit(visit)["notes"]) == 9_990


def test_patient_form_saved_after_another_window_changed_the_field_says_reload(qtbot, record):
    path, _ = record
    with open_store(path) as store, open_store(path) as other_window:
        patient = store.find_patients("")[0]["id"]
        dialog = PatientDialog(store, patient)
        qtbot.addWidget(dialog)
        dialog.show()
        other_window.update_patient(patient, allergies="Latex")
        dialog.allergies.edit.setText("Penicillin")
        qtbot.keyClick(dialog.allergies.edit, Qt.Key_Return)
        assert dialog.result() != PatientDialog.Accepted
        assert "changed in another window or program" in dialog.banner.text()
        assert store.get_patient(patient)["allergies"] == "Latex"
