"""Issue 27, major: no visit without an order, no infusion without a dose, voiding only once the
infusion is stopped (a void ends every clock), and the destructive action never where the
previous page's main action was — through the real main window."""

import datetime as dt

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox
from qt_helpers import open_main_window, run_in_dialog
from walk_helpers import dose_visit, make_record, open_infusion

from nurse_app.core.errors import InputError
from nurse_app.services import visits
from nurse_app.services.infusion import record_infusion_event


def _box_text(seen: dict):
    def read(dialog):
        seen["text"] = dialog.text() if isinstance(dialog, QMessageBox) else None

    return read


def test_a_patient_without_an_order_gets_no_visit_and_is_told_how_to_add_it(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path, order=False)
    window, store = open_main_window(qtbot, path, tmp_path)
    seen: dict = {}
    run_in_dialog(qtbot, _box_text(seen))
    window.start_visit(pid)
    assert "no active IVIG order" in seen["text"] and "Add order…" in seen["text"]
    assert store.patient_visits(pid) == []  # nothing was created
    assert window.visit_page.visit_id is None


def test_a_visit_without_an_order_or_a_dose_cannot_start_an_infusion(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    orphan = store.create_visit(pid, started_at="2026-01-02T09:00:00+00:00")  # made by an older version
    window.open_visit(orphan)
    tab = window.visit_page.infusion_tab
    assert not tab.buttons["start"].isEnabled()
    assert "No infusion without an order" in tab.status.text() and "Add order…" in tab.status.text()
    with pytest.raises(InputError, match="without an order"):
        record_infusion_event(store, orphan, "start", rate_ml_h=100)

    window.start_visit(pid)  # today's visit from the order: no weight typed yet
    tab = window.visit_page.infusion_tab
    assert not tab.buttons["start"].isEnabled()
    assert "type today's weight on the Dose tab" in tab.status.text()
    with pytest.raises(InputError, match="before today's dose"):
        record_infusion_event(store, window.visit_page.visit_id, "start", rate_ml_h=30)


def test_start_is_offered_once_the_dose_is_worked_out(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, _store = open_main_window(qtbot, path, tmp_path)
    dose_visit(window, pid)
    tab = window.visit_page.infusion_tab
    qtbot.waitUntil(lambda: tab.buttons["start"].isEnabled(), timeout=3000)
    assert tab.status.text().startswith("Not started.")


def test_voiding_needs_the_infusion_stopped_and_the_void_ends_every_clock(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = open_infusion(window, pid)
    page = window.visit_page
    assert not page.void_button.isVisible()  # not offered while the infusion runs
    seen: dict = {}
    run_in_dialog(qtbot, _box_text(seen))
    assert page.void_current() is False
    assert "Stop it first" in seen["text"]
    with pytest.raises(InputError, match="Stop it first"):
        visits.void_draft(store, vid, "wrong patient")
    assert store.get_visit(vid)["status"] == "draft"

    record_infusion_event(store, vid, "stop", volume_ml=30, reason="opened for the wrong patient")
    page.ctx.changed.emit("events")
    qtbot.waitUntil(page.void_button.isVisible, timeout=2000)

    def give_reason(dialog):
        dialog.findChild(QLineEdit).setText("opened for the wrong patient")
        dialog.accept()

    run_in_dialog(qtbot, give_reason)
    assert page.void_current() is True
    tab = page.infusion_tab
    assert store.get_visit(vid)["status"] == "voided"
    assert not tab.clock.isActive()
    assert tab.due_message() == (None, None)
    window.update_due()
    assert not window.due_strip.isVisible()
    assert not page.void_button.isVisible()


def test_a_visit_voided_while_running_by_an_older_version_does_not_count_on(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = open_infusion(window, pid)
    store.void_visit(vid, "entered by mistake")  # the store below the rule: what older records hold
    window.open_visit(vid)
    tab = window.visit_page.infusion_tab
    visit = store.get_visit(vid)
    [start] = store.visit_infusion_events(vid)
    expected = (
        dt.datetime.fromisoformat(visit["voided_at"]) - dt.datetime.fromisoformat(start["occurred_at"])
    ).total_seconds() / 60
    assert tab.progress().elapsed_min == pytest.approx(expected, abs=0.01)  # stands at the void
    assert not tab.clock.isActive()


def test_void_draft_is_never_where_start_visit_was(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, _store = open_main_window(qtbot, path, tmp_path)
    window.show_page("patients")
    patients = window.patients
    patients.refresh(pid)
    qtbot.waitUntil(lambda: patients.current_patient_id() == pid, timeout=3000)
    start = patients.start_button
    qtbot.waitUntil(start.isVisible, timeout=2000)
    start_rect = QRect(start.mapToGlobal(start.rect().topLeft()), start.size())
    dose_visit(window, pid)
    void = window.visit_page.void_button
    qtbot.waitUntil(void.isVisible, timeout=2000)
    QApplication.processEvents()
    void_rect = QRect(void.mapToGlobal(void.rect().topLeft()), void.size())
    assert not void_rect.intersects(start_rect.adjusted(-40, -40, 40, 40)), (void_rect, start_rect)


def test_vital_sign_fields_have_alt_shortcuts_and_no_key_halts_the_infusion(qtbot, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = open_infusion(window, pid)
    tab = window.visit_page.infusion_tab
    qtbot.waitUntil(tab.isVisible, timeout=2000)
    # Temp is the first stop when the tab opens
    window.visit_page.tabs.setCurrentIndex(0)
    window.visit_page.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.inputs["temperature_c"].hasFocus(), timeout=2000)
    # every field has its own Alt shortcut, on a label whose buddy it is
    buddies = {label.buddy(): label.text() for label in tab.findChildren(QLabel) if label.buddy() is not None}
    keys = {}
    for field, edit in tab.inputs.items():
        assert edit in buddies, field
        text = buddies[edit]
        assert "&" in text, (field, text)
        keys[field] = text[text.index("&") + 1].upper()
    assert len(set(keys.values())) == len(keys) and keys["temperature_c"] == "T"
    # no button that halts the infusion has a shortcut
    for kind in ("pause", "stop", "end"):
        assert "&" not in tab.buttons[kind].text(), tab.buttons[kind].text()
    taken = {b.text()[b.text().index("&") + 1].upper() for b in tab.buttons.values() if "&" in b.text()}
    assert not taken & set(keys.values())
    # Alt+letter from a field goes to its field, and nothing is recorded
    events = len(store.visit_infusion_events(vid))
    for field, key in keys.items():
        qtbot.keyClick(tab.inputs["temperature_c"], getattr(Qt, f"Key_{key}"), Qt.AltModifier)
        qtbot.waitUntil(lambda f=field: tab.inputs[f].hasFocus(), timeout=1000)
    for key in "TUIS":  # the old Stop, Pause, Finish keys and Start
        qtbot.keyClick(tab.inputs["heart_rate"], getattr(Qt, f"Key_{key}"), Qt.AltModifier)
    assert QApplication.activeModalWidget() is None
    assert len(store.visit_infusion_events(vid)) == events


def test_a_visit_opens_under_a_busy_cursor_and_a_second_click_meanwhile_does_nothing(qtbot, tmp_path):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    window.show_page("patients")
    window.patients.refresh(pid)
    start = window.patients.start_button
    qtbot.waitUntil(start.isVisible, timeout=2000)
    starts = []
    window.patients.start_visit_requested.connect(starts.append)
    seen = {}

    def while_opening(_vid):
        cursor = QApplication.overrideCursor()
        seen["cursor"] = cursor.shape() if cursor else None
        centre = QPointF(start.rect().center())
        for kind in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease):  # the impatient second click
            QApplication.postEvent(
                start,
                QMouseEvent(
                    kind, centre, start.mapToGlobal(centre), Qt.LeftButton, Qt.LeftButton, Qt.NoModifier
                ),
            )

    window.visit_page.visit_opened.connect(while_opening)
    qtbot.mouseClick(start, Qt.LeftButton)
    assert window.visit_page.visit_id is not None
    assert seen["cursor"] == Qt.WaitCursor
    qtbot.wait(50)
    assert starts == [pid]  # the click given while it opened was dropped
    assert QApplication.overrideCursor() is None
    assert len(store.patient_visits(pid)) == 2  # the signed earlier one and today's
