"""Issue 22 §4: two windows saving the same call or order, and two first opens of a plain
record at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import new_patient, open_store

from nurse_app.services import schedule
from nurse_app.services.orders import save_order
from nurse_app.store import ConflictError, Store, crypto

pytestmark = pytest.mark.reliability

ORDER = dict(
    product_id="privigen", regimen_id="cidp-maintenance", start_date="2024-01-02", prescriber="Dr. L. Moreau"
)


def test_a_second_window_saving_a_call_it_showed_before_is_refused(tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as first, Store.open(path) as second:
        patient = new_patient(first)
        call = first.create_followup_call(patient, rule_id="rash-check-call", course_number=1)
        shown_first, shown_second = first.get_followup_call(call), second.get_followup_call(call)
        schedule.save_call(first, call, if_unchanged={"updated_at": shown_first["updated_at"]}, notes="A")
        with pytest.raises(ConflictError, match="changed in another window"):
            schedule.save_call(
                second, call, if_unchanged={"updated_at": shown_second["updated_at"]}, notes="B"
            )
        assert first.get_followup_call(call)["notes"] == "A"


def test_a_second_window_saving_an_order_it_showed_before_is_refused(tmp_path):
    from nurse_app.services.orders import shown_orders

    path = tmp_path / "record.db"
    with open_store(path) as first, Store.open(path) as second:
        patient = new_patient(first)
        order = save_order(first, patient, ORDER, if_unchanged=shown_orders(first, patient))
        shown = {"updated_at": second.get_order(order)["updated_at"]}
        save_order(first, patient, {"prescriber": "Dr. A"}, order_id=order, if_unchanged=shown)
        with pytest.raises(ConflictError):
            save_order(second, patient, {"prescriber": "Dr. B"}, order_id=order, if_unchanged=shown)
        assert first.get_order(order)["prescriber"] == "Dr. A"
        # two new-order forms opened on the same active order: the second is refused too
        shown_new = shown_orders(second, patient)
        save_order(
            first, patient, {**ORDER, "prescriber": "Dr. C"}, if_unchanged=shown_orders(first, patient)
        )
        with pytest.raises(ConflictError, match="changed in another window"):
            save_order(second, patient, {**ORDER, "prescriber": "Dr. D"}, if_unchanged=shown_new)
        active = first.patient_orders(patient, active_only=True)
        assert [o["prescriber"] for o in active] == ["Dr. C"]


def _plain_record(path: Path) -> None:
    for leftover in path.parent.glob("enc.db*"):
        leftover.unlink()
    with open_store(path.with_name("enc.db")) as store:
        for n in range(200):
            new_patient(store, f"P-{n}")
    conn = crypto.connect(path.with_name("enc.db"), isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS plain KEY ''", [str(path)])
    conn.execute("SELECT sqlcipher_export('plain')")
    for pragma in ("user_version", "application_id"):
        conn.execute(f"PRAGMA plain.{pragma} = {int(conn.execute(f'PRAGMA {pragma}').fetchone()[0])}")
    conn.execute("DETACH DATABASE plain")
    conn.close()
    assert crypto.is_plain(path)


def test_two_first_opens_of_a_plain_record_one_encrypts_the_other_waits(tmp_path):
    path = tmp_path / "record.db"
    for run in range(3):
        path.unlink(missing_ok=True)
        _plain_record(path)
        code = (
            "import sys; from nurse_app.store import Store; "
            "s = Store.open(sys.argv[1]); print(len(s.find_patients())); s.close()"
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(os.environ),
            )
            for _ in range(2)
        ]
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [r[1][-400:] for r in results]
        assert [r[0].strip() for r in results] == ["200", "200"], run
        assert not crypto.is_plain(path)
        assert not path.with_name(path.name + ".encrypting").exists()
