"""Issue 27, minor items, each through the real main window: Ctrl+E from a text field, the
Security dialog's Close, the locked title and passphrase field, the Sign tab's "still to do"
for a running infusion, a running infusion opening on the Infusion tab, the short seal, and
"1 optional item stays open"."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from qt_helpers import open_main_window, run_in_dialog
from walk_helpers import make_record, open_infusion

from nurse_app.services import signing
from nurse_app.store.errors import StoreError


@pytest.fixture
def running(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = open_infusion(window, pid)
    return window, store, vid


def test_ctrl_e_exports_fhir_while_the_cursor_is_in_a_text_field(qtbot, running):
    window, _store, _vid = running
    field = window.visit_page.infusion_tab.inputs["temperature_c"]
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    titles = []
    run_in_dialog(qtbot, lambda dialog: titles.append(dialog.windowTitle() if dialog else None))
    qtbot.keyClick(field, Qt.Key_E, Qt.ControlModifier)
    qtbot.waitUntil(lambda: bool(titles), timeout=3000)
    assert titles[0] is not None and "FHIR" in titles[0]


def test_the_security_dialog_closes_with_a_close_button(qtbot, running):
    window, _store, _vid = running
    closed = {}

    def close(dialog):
        [box] = dialog.findChildren(QDialogButtonBox)
        button = box.button(QDialogButtonBox.Close)
        assert button is not None and button.isVisible()
        button.click()
        closed["hidden"] = not dialog.isVisible()

    run_in_dialog(qtbot, close)
    window.edit_security()
    assert closed == {"hidden": True}


def test_the_locked_window_title_and_passphrase_field(qtbot, running):
    window, _store, _vid = running
    window.locker.lock_now()
    title = window.windowTitle().lstrip("! ")
    assert title == "Window locked" and "IVIG" not in title  # the platform adds the app's name once
    field = window.locker.screen.field
    qtbot.waitUntil(field.isVisible, timeout=2000)
    assert field.width() <= 420 < window.width() // 2


def test_the_sign_tab_lists_a_running_infusion_and_signing_refuses_it(qtbot, running):
    window, store, vid = running
    sign = window.visit_page.sign_tab
    assert "infusion is still in progress" in sign.problems.text()
    assert not sign.sign_button.isEnabled()
    with pytest.raises(StoreError, match="still in progress"):
        signing.sign_visit(store, vid)


def test_a_running_infusion_opens_on_the_infusion_tab(qtbot, running):
    window, _store, vid = running
    page = window.visit_page
    page.tabs.setCurrentIndex(0)
    window.open_visit(vid)
    assert page.tabs.currentWidget() is page.infusion_tab


def test_one_optional_item_stays_open(qtbot, tmp_path):
    from PySide6.QtWidgets import QTreeWidgetItemIterator

    from nurse_app.ui.visit.checklist_tab import ITEM_ROLE

    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    window.start_visit(pid)
    page = window.visit_page
    tab, vid = page.checklist_tab, page.visit_id
    phases: dict = {}
    for item in store.visit_checklist(vid):
        phases.setdefault(item["phase_id"], []).append(item)
    members = next(
        m
        for m in phases.values()
        if any(not i["required"] for i in m) and not any(i.get("locked") for i in m)
    )
    optional = [i for i in members if not i["required"]]
    answers = {i["item_id"]: "done" for i in members if i["required"]}
    answers.update({i["item_id"]: "not_applicable" for i in optional[1:]})
    store.set_checklist_items(vid, answers)
    page.ctx.changed.emit("checklist")
    tab.refresh()
    page.tabs.setCurrentWidget(tab)
    iterator = QTreeWidgetItemIterator(tab.tree)
    while iterator.value() is not None and iterator.value().data(0, ITEM_ROLE) != optional[0]["item_id"]:
        iterator += 1
    tab.tree.setCurrentItem(iterator.value())
    tab._phase_done()
    assert "1 optional item stays open" in tab.error.text(), tab.error.text()


def test_the_sign_tab_shows_the_short_seal(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)  # with a signed earlier visit
    window, store = open_main_window(qtbot, path, tmp_path)
    [signed] = [v for v in store.patient_visits(pid) if v["status"] == "signed"]
    window.open_visit(signed["id"])
    text = window.visit_page.sign_tab.signature.text()
    seal = store.get_visit(signed["id"])["content_hash"]
    assert f"Seal {seal[:12]}" in text and seal not in text
    assert seal in window.visit_page.sign_tab.signature.toolTip()
    assert QApplication.activeModalWidget() is None


def test_baseline_vital_signs_cannot_be_ticked_before_a_reading_exists(qtbot, tmp_path):
    from walk_helpers import dose_visit

    from nurse_app.core.checklists import DONE

    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = dose_visit(window, pid)
    page = window.visit_page
    tab = page.checklist_tab
    page.tabs.setCurrentWidget(tab)
    tab._select("baseline-vitals")
    row = tab.tree.currentItem()
    row.setCheckState(0, Qt.Checked)  # the nurse ticks the box
    qtbot.waitUntil(lambda: "cannot be ticked yet" in tab.error.text(), timeout=3000)
    status = {i["item_id"]: i["status"] for i in store.visit_checklist(vid)}
    assert status["baseline-vitals"] is None
    assert tab.tree.currentItem().checkState(0) != Qt.Checked

    infusion = page.infusion_tab
    page.tabs.setCurrentWidget(infusion)
    infusion.inputs["temperature_c"].setText("36.8")
    infusion.inputs["heart_rate"].setText("72")
    infusion.add_vitals_button.click()
    page.tabs.setCurrentWidget(tab)
    tab._select("baseline-vitals")
    tab._answer(DONE)
    status = {i["item_id"]: i["status"] for i in store.visit_checklist(vid)}
    assert status["baseline-vitals"] == DONE


def test_after_stop_the_lock_screen_says_when_observation_ends(qtbot, running):
    from nurse_app.services.infusion import record_infusion_event

    window, store, vid = running
    record_infusion_event(store, vid, "stop", volume_ml=30, reason="stopped for a reaction")
    window.visit_page.ctx.changed.emit("events")
    window.locker.lock_now()
    [ends] = [i["unlocks_at"] for i in store.visit_checklist(vid) if i.get("locked") and i.get("unlocks_at")]
    text = window.locker.screen.infusion.text()
    assert f"observation until {ends.astimezone():%H:%M}" in text and "since the start" not in text
    assert "open visit" in window.locker.screen.due.text() or not window.locker.screen.due.isVisible()


def test_the_vitals_due_strip_names_the_patient_and_takes_you_to_the_reading(qtbot, tmp_path):
    import datetime as dt

    from walk_helpers import dose_visit

    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = dose_visit(window, pid)
    ago = lambda minutes: (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat()  # noqa: E731
    store.add_vitals(vid, recorded_at=ago(30), temperature_c=36.8, heart_rate=72)
    store.add_infusion_event(vid, kind="start", rate_ml_h=30, occurred_at=ago(20))
    window.visit_page.infusion_tab.refresh()
    window.show_page("calculator")
    window.update_due()
    assert window.due_strip.isVisible() and "for Rosa Vidal" in window.due_strip.text()
    window.due_strip.linkActivated.emit("vitals")
    page = window.visit_page
    assert window.current_page() == "visit" and page.tabs.currentWidget() is page.infusion_tab
    qtbot.waitUntil(lambda: page.infusion_tab.inputs["temperature_c"].hasFocus(), timeout=2000)


def test_a_validation_error_goes_once_its_fields_are_cleared(qtbot, running):
    window, _store, _vid = running
    tab = window.visit_page.infusion_tab
    tab.inputs["heart_rate"].setText("7a")
    tab.add_vitals_button.click()
    assert tab.vitals_error.isVisible() and "not a number" in tab.vitals_error.text()
    tab.inputs["heart_rate"].clear()
    assert not tab.vitals_error.isVisible()


def test_after_a_restart_the_running_rate_is_ready_in_new_rate_and_the_reading(qtbot, running, tmp_path):
    window, store, vid = running
    rate = store.visit_infusion_events(vid)[0]["rate_ml_h"]
    window.visit_page.shutdown()
    window.hide()
    again, _store = open_main_window(qtbot, store.path, tmp_path)
    tab = again.visit_page.infusion_tab
    assert again.visit_page.visit_id == vid
    tab._tick()
    assert tab.new_rate.value() > 0
    assert tab.inputs["infusion_rate_ml_h"].text() == f"{rate:g}"


def test_help_has_an_offline_user_guide(qtbot, running):
    window, _store, _vid = running
    [help_menu] = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"]
    [guide] = [a for a in help_menu.actions() if a.text() == "&User guide"]
    seen = {}

    def read(dialog):
        seen["text"] = dialog.text.toPlainText()

    run_in_dialog(qtbot, read)
    guide.trigger()
    for topic in ("A visit, start to finish", "Keyboard", "Alt+T Temp", "Back up now", "After a crash"):
        assert topic in seen["text"], topic
