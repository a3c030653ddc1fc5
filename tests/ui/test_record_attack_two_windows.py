"""Issue 22 §4: two windows on the same follow-up call record: the second autosave is refused
with a clear line instead of erasing the first one's change without a word."""

from __future__ import annotations

from store_helpers import new_patient, open_store

from nurse_app.store import Store
from nurse_app.ui.followup_call_dialog import FollowupCallDialog


def test_a_call_form_open_in_two_windows_never_erases_the_other_ones_save(qtbot, tmp_path):
    path = tmp_path / "record.db"
    with open_store(path) as store:
        patient = new_patient(store)
        call = store.create_followup_call(patient, rule_id="rash-check-call", course_number=1)
    first_store, second_store = Store.open(path), Store.open(path)
    try:
        first = FollowupCallDialog(first_store, call)
        second = FollowupCallDialog(second_store, call)
        qtbot.addWidget(first)
        qtbot.addWidget(second)
        first.notes.setPlainText("Left a voicemail at 10:05.")
        assert first.save_now()
        second.notes.setPlainText("Spoke with the daughter.")
        assert not second.save_now()
        assert "changed in another window" in second.status.text()
        assert first_store.get_followup_call(call)["notes"] == "Left a voicemail at 10:05."
    finally:
        first_store.close()
        second_store.close()
