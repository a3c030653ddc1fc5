"""pytest-qt: the Week page and the follow-up call form through the real main window."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from qt_helpers import open_main_window as open_window
from qt_helpers import run_in_dialog

from nurse_app.services.schedule import build_schedule
from nurse_app.store import Store, demo
from nurse_app.ui.followup_call_dialog import FollowupCallDialog

TODAY = dt.date.today()


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        demo.add_week_examples(store, TODAY)
    return path


def row_of(page, name, kind, date=None):
    for row, item in enumerate(page.shown):
        if item.patient_name == name and item.kind == kind and (date is None or item.date == date):
            return row
    raise AssertionError(f"no row for {name} {kind}")


def test_week_is_the_first_page_with_the_late_count_in_the_sidebar(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    assert window.current_page() == "week" and window.nav.item(0).data(Qt.UserRole) == "week"
    late = build_schedule(store).late_count
    assert late > 0 and window.nav.item(0).text() == f"Week ({late} late)"
    shortcuts = [
        a.shortcut().toString()
        for a in window.findChildren(type(window.menuBar().actions()[0]))
        if a.text() in ("Week", "Patients")
    ]
    assert "Ctrl+1" in shortcuts and "Ctrl+2" in shortcuts
    page = window.week
    dates = [i.date for i in page.shown]
    assert dates == sorted(dates)
    # the filter shows one kind at a time, and late-or-missed only
    page.filter.setCurrentIndex(page.filter.findData("rash-check-call"))
    assert page.shown and {i.kind for i in page.shown} == {"rash-check-call"}
    assert page.table.rowCount() == len(page.shown)
    page.filter.setCurrentIndex(page.filter.findText("Late or missed only"))
    assert page.shown and all(i.status in ("late", "missed") for i in page.shown)
    assert len(page.shown) == late
    page.table.viewport().grab().save(str(tmp_path / "week.png"))


def test_enter_on_a_due_course_day_starts_the_visit(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    page = window.week
    row = row_of(page, "Hana Novák", "course-day", TODAY)
    item = page.shown[row]
    assert item.status == "due" and item.course_day == 3 and item.expected_dose.endswith("g a day")
    page.table.setFocus()
    page.table.setCurrentCell(row, 0)
    qtbot.keyClick(page.table, Qt.Key_Return)
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=3000)
    visit = window.visit_page.ctx.visit
    assert visit["patient_id"] == item.patient_id and visit["course_day"] == 3
    # back on the Week page the day now has the visit: Enter reopens it, no second visit
    window.show_page("week")
    row = row_of(page, "Hana Novák", "course-day", TODAY)
    assert page.shown[row].visit_id == visit["id"]
    window.show_page("patients")
    window.show_page("week")
    page.table.setCurrentCell(row, 0)
    page.activate_row(row)
    assert window.current_page() == "visit" and window.visit_page.visit_id == visit["id"]
    assert len(store.patient_visits(item.patient_id)) == 3


def test_call_form_autosaves_signs_and_is_read_only_after(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    page = window.week
    row = row_of(page, "Omar Haddad", "rash-check-call")
    item = page.shown[row]
    assert item.status == "due" and item.call_id is None

    def fill(dialog):
        assert isinstance(dialog, FollowupCallDialog)
        assert "8 to 10 days" in dialog.findChild(type(dialog.status), "call_why").text()
        assert dialog.advice.toPlainText().startswith("Do not scratch")
        dialog.reached.setCurrentIndex(dialog.reached.findData(True))
        for qid, answer in (
            ("new-itchy-rash", "yes"),
            ("blisters", "no"),
            ("spreading", "no"),
            ("fever", "no"),
        ):
            box = dialog.answer_boxes[qid]
            box.setCurrentIndex(box.findData(answer))
        dialog.text_edits["where"].setText("left palm")
        qtbot.waitUntil(
            lambda: (
                store.get_followup_call(dialog.call_id)["answers"].get("where", {}).get("text") == "left palm"
            ),
            timeout=3000,
        )
        # a "yes" that calls for the prescriber: signing refused until escalation is recorded
        qtbot.mouseClick(dialog.sign_button, Qt.LeftButton)
        assert "prescriber" in dialog.status.text()
        assert store.get_followup_call(dialog.call_id)["status"] == "draft"
        dialog.escalated.setChecked(True)
        dialog.escalated_to.setText("Dr. L. Moreau")
        qtbot.mouseClick(dialog.sign_button, Qt.LeftButton)
        assert store.get_followup_call(dialog.call_id)["status"] == "signed"
        assert not dialog.sign_button.isEnabled() and not dialog.reached.isEnabled()
        assert "read-only" in dialog.status.text()

    page.table.setCurrentCell(row, 0)
    seen = run_in_dialog(qtbot, fill)
    page.activate_row(row)
    assert seen.get("dialog") is not None
    call = store.patient_followup_calls(item.patient_id)[0]
    assert call["status"] == "signed" and call["reached"] is True
    assert call["answers"]["new-itchy-rash"]["answer"] == "yes" and call["escalated_to"] == "Dr. L. Moreau"
    assert [e["action"] for e in store.audit_entries("followup_calls", call["id"])][-1] == "insert"
    # the Week page now shows it done; opening it again shows the signed record read-only
    row = row_of(page, "Omar Haddad", "rash-check-call")
    assert page.shown[row].status == "done" and page.shown[row].call_id == call["id"]

    def check(dialog):
        assert not dialog.sign_button.isEnabled() and dialog.notes.isReadOnly()

    run_in_dialog(qtbot, check)
    page.activate_row(row)


def test_calendar_export_warns_and_uses_initials(qtbot, record, tmp_path, monkeypatch):
    import icalendar

    window, _store = open_window(qtbot, record, tmp_path)
    page = window.week
    target = tmp_path / "week.ics"
    monkeypatch.setattr(page, "_ask_file", lambda *a: str(target))

    def accept(box):
        assert "patient information" in box.text()
        box.button(QMessageBox.Save).click()

    run_in_dialog(qtbot, accept)
    page.save_calendar()
    cal = icalendar.Calendar.from_ical(target.read_bytes())
    summaries = [str(e["summary"]) for e in cal.walk("VEVENT")]
    assert len(summaries) == len(page.schedule.items)
    assert not any("Hana Novák" in s for s in summaries) and any("H.N." in s for s in summaries)


def test_patient_page_lists_the_calls_and_opens_one(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    grace = store.find_patients("Grace MacLeod")[0]
    window.show_page("patients")
    window.patients._show_patient(grace["id"])
    table = window.patients.call_table
    assert table.rowCount() == 1
    assert table.item(0, 1).text() == "Rash check call" and table.item(0, 2).text() == "yes"
    assert table.item(0, 3).text().startswith("signed by")
    table.setCurrentCell(0, 0)
    seen = run_in_dialog(qtbot, lambda d: None)
    window.patients._open_selected_call()
    assert isinstance(seen["dialog"], FollowupCallDialog)
    assert seen["dialog"].call_id == store.patient_followup_calls(grace["id"])[0]["id"]


def test_double_click_starts_one_visit(qtbot, record, tmp_path):
    window, store = open_window(qtbot, record, tmp_path)
    page = window.week
    row = row_of(page, "Hana Novák", "course-day", TODAY)
    pid = page.shown[row].patient_id
    before = len(store.patient_visits(pid))
    page.table.scrollToItem(page.table.item(row, 3))
    rect = page.table.visualRect(page.table.model().index(row, 3))
    # a real double-click: press, release, then the double-click event
    qtbot.mouseClick(page.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.current_page() == "visit", timeout=3000)
    assert len(store.patient_visits(pid)) == before + 1
