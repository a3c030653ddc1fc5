"""Issue 11 §3, the visit checklist at the bedside, through the real main window.

Answering an item keeps the list and the buttons still; "mark the rest done" marks only required,
open, unlocked items after saying which; the observation after the infusion unlocks by itself at
its time (resources/monitoring.toml via the checklist's ``unlock``), and the store refuses "done"
before it; Enter in the reason box saves and Escape cancels; source classes read as "unverified —
follow agency policy" for a nurse, never as the authors' "secondary AI-generated summary".
"""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox
from qt_helpers import open_main_window, run_in_dialog, type_text

from nurse_app.core import checklists
from nurse_app.core.checklists import DONE, NOT_APPLICABLE, NOT_DONE
from nurse_app.store import Store
from nurse_app.store.errors import RecordValueError


@pytest.fixture
def visit(qtbot, tmp_path):
    """Today's visit started in the real window (Gamunex-C pemphigus order), on the Checklist tab."""
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        pid = store.create_patient(
            mrn="MRN-4242",
            name="Zoë Ødegård",
            date_of_birth="1958-03-14",
            sex="female",
            height_cm=168,
            allergies="Penicillin (rash)",
            indication="pemphigus",
            prescriber="Dr. A. Lind",
        )
        store.add_weight(pid, 70, measured_on="2026-01-05")
        store.create_order(
            pid,
            product_id="gamunex-c",
            regimen_id="pemphigus",
            start_date="2026-01-06",
            prescriber="Dr. A. Lind",
        )
    window, store = open_main_window(qtbot, path, tmp_path)
    window.patients.select_patient(pid)
    window.start_visit(pid)
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=3000)
    vp = window.visit_page
    vp.tabs.setCurrentWidget(vp.checklist_tab)
    yield window, store, vp.checklist_tab
    window.close()
    store.close()


NURSE_UNVERIFIED = "unverified \u2014 follow agency policy"


def answers(store, tab):
    return {i["item_id"]: i for i in store.visit_checklist(tab.ctx.visit_id)}


def row_of(tab, item_id):
    return next(r for r in tab._rows() if r.data(0, Qt.UserRole) == item_id)


def button_places(tab):
    return {
        name: b.mapTo(tab, QPoint(0, 0))
        for name, b in {
            **dict(tab.buttons.items()),
            "clear": tab.clear_button,
            "phase": tab.phase_button,
        }.items()
    }


def test_answering_keeps_the_scroll_position_and_the_rows_and_buttons_still(qtbot, visit):
    _window, store, tab = visit
    tree = tab.tree
    bar = tree.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)
    bar.setValue(bar.maximum() // 2)  # the nurse has scrolled down the list
    scrolled = bar.value()
    assert scrolled > 0
    rows = list(tab._rows())
    visible = [r for r in rows if tree.viewport().rect().contains(tree.visualItemRect(r).center())]
    assert len(visible) >= 4
    for n, status in enumerate((DONE, NOT_DONE, NOT_APPLICABLE)):
        row, following = visible[n], visible[n + 1]
        item_id = row.data(0, Qt.UserRole)
        tree.setCurrentItem(row)
        qtbot.wait(50)  # the side panel laid out for this item
        before_next = tree.visualItemRect(following)
        before_buttons = button_places(tab)
        if status != DONE:
            tab.note.setText("Patient declined" if status == NOT_DONE else "None ordered")
        qtbot.mouseClick(tab.buttons[status], Qt.LeftButton)
        qtbot.waitUntil(
            lambda item_id=item_id, status=status: answers(store, tab)[item_id]["status"] == status,
            timeout=2000,
        )
        qtbot.wait(50)
        assert bar.value() == scrolled, f"answering {status!r} jumped the list"
        assert tree.visualItemRect(following) == before_next, "the next item moved"
        assert tree.currentItem() is row and row.text(1) in ("Done", "Not done", "Not applicable")
        assert button_places(tab) == before_buttons, "the answer buttons moved under the finger"


def _confirm(seen_text):
    def action(dialog):
        assert isinstance(dialog, QMessageBox)
        seen_text.append(dialog.text())
        dialog.button(QMessageBox.Yes).click()

    return action


def test_mark_the_rest_done_marks_required_open_items_only_after_saying_which(qtbot, visit):
    _window, store, tab = visit
    before = answers(store, tab)
    phase_id = "preparation"
    in_phase = [i for i in before.values() if i["phase_id"] == phase_id]
    required = {i["item_id"] for i in in_phase if i["required"]}
    optional = {i["item_id"] for i in in_phase if not i["required"]}
    assert required and optional
    tab.tree.setCurrentItem(row_of(tab, in_phase[0]["item_id"]))
    texts: list[str] = []
    seen = run_in_dialog(qtbot, _confirm(texts))
    qtbot.mouseClick(tab.phase_button, Qt.LeftButton)
    assert "dialog" in seen, "the nurse is asked first"
    assert f"Mark {len(required)} required items of 'Before the visit' done?" in texts[0]
    assert f"{len(optional)} optional items stay open" in texts[0].lower()
    after = answers(store, tab)
    assert {k for k in required if after[k]["status"] == DONE} == required
    assert all(after[k]["status"] is None for k in optional), "optional items stay for the nurse"
    for k in required:  # recorded like any answer
        assert after[k]["recorded_by"] == "Maria Santos, RN" and after[k]["answered_at"]
    audited = {r["row_id"] for r in store.audit_entries("checklist_entries") if r["action"] == "insert"}
    assert {after[k]["entry_id"] for k in required} <= audited

    # Answering No changes nothing.
    tab.tree.setCurrentItem(
        row_of(tab, next(i["item_id"] for i in after.values() if i["phase_id"] == "pre-infusion"))
    )
    run_in_dialog(qtbot, lambda d: d.button(QMessageBox.No).click())
    qtbot.mouseClick(tab.phase_button, Qt.LeftButton)
    assert all(
        answers(store, tab)[i]["status"] is None for i in after if after[i]["phase_id"] == "pre-infusion"
    )


def test_observation_unlocks_at_its_time_after_the_infusion_ended_and_not_before(qtbot, visit):
    _window, store, tab = visit
    visit_id = tab.ctx.visit_id
    item = checklists.load_template().item("observation")
    assert item.unlock is not None and item.unlock.after == checklists.INFUSION_END
    minutes = checklists.unlock_minutes(item.unlock, None)
    assert minutes == 20  # monitoring.toml [observation], source N37
    now = dt.datetime.now(dt.UTC)
    store.add_infusion_event(visit_id, kind="start", rate_ml_h=42, occurred_at=now - dt.timedelta(minutes=90))
    tab.ctx.changed.emit("events")  # what the Infusion tab says after recording
    row = row_of(tab, "observation")
    assert row.text(1) == "Locked"
    tab.tree.setCurrentItem(row)
    assert "available 20 min after the infusion ends" in tab.lock_text.text()
    assert not tab.buttons[DONE].isEnabled() and tab.buttons[NOT_DONE].isEnabled()

    ended = now - dt.timedelta(minutes=minutes) + dt.timedelta(seconds=3)  # unlocks in 3 s
    store.add_infusion_event(visit_id, kind="end", occurred_at=ended)
    tab.ctx.changed.emit("events")
    unlock_at = (ended + dt.timedelta(minutes=20)).astimezone()
    assert f"available at {unlock_at:%H:%M} (20 min after the infusion ended)" in tab.lock_text.text()
    with pytest.raises(RecordValueError, match="cannot be marked done yet: available at"):
        store.set_checklist_item(visit_id, "observation", DONE)
    with pytest.raises(RecordValueError, match="cannot be marked done yet"):
        store.set_checklist_items(visit_id, {"observation": DONE})
    # "Mark the rest done" leaves it for its time.
    texts: list[str] = []
    run_in_dialog(qtbot, _confirm(texts))
    qtbot.mouseClick(tab.phase_button, Qt.LeftButton)
    assert "1 locked item wait for their time" in texts[0].lower() or "1 locked item" in texts[0]
    assert answers(store, tab)["observation"]["status"] is None

    # It unlocks by itself (a timer, no reload) when the time comes.
    qtbot.waitUntil(lambda: row.text(1) != "Locked", timeout=8000)
    assert tab.buttons[DONE].isEnabled() and tab.lock_text.isHidden()
    qtbot.mouseClick(tab.buttons[DONE], Qt.LeftButton)
    qtbot.waitUntil(lambda: answers(store, tab)["observation"]["status"] == DONE, timeout=2000)


def test_locked_item_can_be_recorded_not_done_with_a_reason(qtbot, visit):
    _window, store, tab = visit
    store.add_infusion_event(tab.ctx.visit_id, kind="start", rate_ml_h=42)
    store.add_infusion_event(tab.ctx.visit_id, kind="stop")
    store.set_checklist_item(
        tab.ctx.visit_id, "observation", NOT_DONE, note="Sent to the emergency department"
    )
    assert answers(store, tab)["observation"]["status"] == NOT_DONE


def test_enter_in_the_reason_box_saves_and_escape_cancels(qtbot, visit):
    _window, store, tab = visit
    first, second = list(tab._rows())[:2]
    tab.tree.setCurrentItem(first)
    qtbot.mouseClick(tab.buttons[NOT_DONE], Qt.LeftButton)
    assert "reason it was not done" in tab.error.text()
    assert tab.note.hasFocus()
    type_text(qtbot, tab.note, "Patient asleep")
    qtbot.keyClick(tab.note, Qt.Key_Return)
    saved = answers(store, tab)[first.data(0, Qt.UserRole)]
    assert (saved["status"], saved["note"]) == (NOT_DONE, "Patient asleep")
    assert tab.error.isHidden()

    tab.tree.setCurrentItem(second)
    qtbot.mouseClick(tab.buttons[NOT_APPLICABLE], Qt.LeftButton)
    type_text(qtbot, tab.note, "Typo")
    qtbot.keyClick(tab.note, Qt.Key_Escape)
    assert tab.note.text() == "" and tab.error.isHidden()
    qtbot.keyClick(tab.note, Qt.Key_Return)  # nothing waiting: asks, saves nothing
    assert answers(store, tab)[second.data(0, Qt.UserRole)]["status"] is None
    assert "Choose Done, Not applicable or Not done" in tab.error.text()


def test_source_classes_read_as_unverified_follow_agency_policy(qtbot, visit):
    _window, store, tab = visit
    items = answers(store, tab)
    author_words = ("AI-generated", "secondary", "non-authoritative", "Secondary")
    for item_id in items:
        tab.tree.setCurrentItem(row_of(tab, item_id))
        shown = tab.help_text.text() + tab.item_text.text()
        assert not any(w in shown for w in author_words), (item_id, shown)
    tab.tree.setCurrentItem(row_of(tab, "premedication-as-ordered"))  # rests on an AI summary (N31)
    assert "Sources: " in tab.help_text.text() and NURSE_UNVERIFIED in tab.help_text.text()
    from nurse_app.core.resources import nurse_source_wording

    assert nurse_source_wording("secondary") == NURSE_UNVERIFIED
