"""Issue 13 §2 with pytest-qt: unlock screen, Lock now, idle auto-lock, throttling.

The main window runs over an encrypted record with an infusion running; locking must
hide every patient detail, keep what the nurse was typing and keep the infusion clock
and the vital-signs prompt going on the lock screen.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil

import pytest
from conftest import TEST_PASSPHRASE
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTextEdit,
    QWidget,
)
from qt_helpers import run_in_dialog

from nurse_app.core import security
from nurse_app.store import Store, crypto, keys
from nurse_app.ui import lock as lock_module
from nurse_app.ui.lock import VITALS_DUE, PassphraseForm, StartDialog, UnlockScreen
from nurse_app.ui.main_window import MainWindow

NAME, MRN, ALLERGY, DIAGNOSIS = "Philippa Wintergreen", "MRN-55012", "Amoxicillin", "pemphigus"
UTC = dt.UTC


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "record.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
        patient = store.create_patient(
            mrn=MRN,
            name=NAME,
            date_of_birth="1955-02-03",
            sex="female",
            allergies=ALLERGY,
            indication=DIAGNOSIS,
        )
        start = dt.datetime.now(UTC) - dt.timedelta(minutes=40)
        visit = store.create_visit(patient, started_at=start.isoformat(timespec="seconds"))
        store.add_infusion_event(
            visit, kind="start", rate_ml_h=50, occurred_at=start.isoformat(timespec="seconds")
        )
    return path, visit


@pytest.fixture
def window(qtbot, record, tmp_path):
    path, visit = record
    store = Store.open(path)
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat)
    win = MainWindow(store=store, settings=settings)
    qtbot.addWidget(win)
    win.resize(1280, 760)
    win.show()
    win.open_visit(visit)
    yield win
    win.close()
    store.close()


def visible_text(win: MainWindow) -> str:
    parts = [win.windowTitle()]
    for w in win.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, (QLabel, QLineEdit, QAbstractButton)):
            parts.append(w.text())
        elif isinstance(w, (QPlainTextEdit, QTextEdit)):
            parts.append(w.toPlainText())
        elif isinstance(w, QTableWidget):
            parts += [
                w.item(r, c).text()
                for r in range(w.rowCount())
                for c in range(w.columnCount())
                if w.item(r, c)
            ]
    return "\n".join(parts)


def half_typed_field(win: MainWindow) -> QLineEdit:
    fields = [
        f for f in win.visit_page.infusion_tab.findChildren(QLineEdit) if f.isEnabled() and not f.isReadOnly()
    ]
    assert fields
    return fields[0]


def test_idle_lock_hides_the_patient_keeps_typing_and_the_infusion_runs(qtbot, window, monkeypatch):
    window.show_page("visit")
    field = half_typed_field(window)
    qtbot.keyClicks(field, "site clean, dre")
    assert NAME in visible_text(window)  # before: the patient is on screen
    window.locker.idle.set_interval_ms(300)  # (minutes in Settings)
    qtbot.waitUntil(lambda: window.locker.locked, timeout=5000)
    shown = visible_text(window)
    for secret in (NAME, MRN, ALLERGY, DIAGNOSIS, "Wintergreen"):
        assert secret not in shown
    assert "locked" in window.windowTitle() and not window.menuBar().isVisible()
    screen = window.locker.screen
    assert screen.isVisible() and screen.due.isVisible() and screen.due.text() == VITALS_DUE
    before = screen.infusion.text()
    assert before.startswith("An infusion is running: 40 min")
    later = dt.datetime.now(UTC) + dt.timedelta(minutes=7)
    monkeypatch.setattr("nurse_app.ui.visit.infusion_tab.now_utc", lambda: later)
    qtbot.waitUntil(lambda: screen.infusion.text() != before, timeout=3000)  # its own 1 s tick
    assert screen.infusion.text().startswith("An infusion is running: 47 min")
    assert window.visit_page.infusion_tab.clock.isActive()
    qtbot.keyClicks(screen.field, TEST_PASSPHRASE)
    qtbot.keyClick(screen.field, Qt.Key_Return)
    assert not window.locker.locked and window.menuBar().isVisible()
    assert field.text() == "site clean, dre"  # the half-typed text is still there
    assert NAME in visible_text(window)


def _answer_lock_question(qtbot, answer: str) -> dict:
    """Answer the "an infusion is running" question with its Lock or Cancel button."""

    def act(box):
        assert box is not None and box.objectName() == "lock_question"
        assert NAME not in box.text() and MRN not in box.text()  # no patient detail
        assert "infusion carries on" in box.text()
        if answer == "enter":  # Lock is the default button
            qtbot.keyClick(box, Qt.Key_Return)
            return
        [button] = [b for b in box.buttons() if b.text().replace("&", "") == answer]
        button.click()

    return run_in_dialog(qtbot, act)


def test_ctrl_l_and_the_file_menu_lock_now_asking_first_during_a_running_infusion(qtbot, window):
    """issue 11: "Quitting or locking during a running infusion asks first"; the infusion
    carries on while locked (its clock and the vital-signs prompt on the lock screen)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    asked = _answer_lock_question(qtbot, "Cancel")
    qtbot.keyClick(window, Qt.Key_L, Qt.ControlModifier)
    assert asked["dialog"] is not None and not window.locker.locked
    assert NAME in visible_text(window)
    window.activateWindow()  # back from the question
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    asked = _answer_lock_question(qtbot, "enter")
    qtbot.keyClick(window, Qt.Key_L, Qt.ControlModifier)
    assert asked["dialog"] is not None and window.locker.locked
    assert window.visit_page.infusion_tab.clock.isActive()
    assert window.locker.screen.infusion.text().startswith("An infusion is running")
    window.locker.unlock()
    file_menu = window.menuBar().actions()[0].menu()
    [action] = [a for a in file_menu.actions() if a.text() == "Loc&k now"]
    assert action.shortcut().toString() == "Ctrl+L"
    _answer_lock_question(qtbot, "Lock")
    action.trigger()
    assert window.locker.locked and NAME not in visible_text(window)


def test_lock_now_without_an_infusion_locks_at_once(qtbot, tmp_path):
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
    store = Store.open(path)
    win = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    assert win.locker.request_lock() and win.locker.locked
    win.close()
    store.close()


def test_the_idle_lock_never_waits_for_the_question(qtbot, window):
    """Nobody may be there to answer: the idle lock locks and closes an unanswered question."""
    from PySide6.QtWidgets import QApplication

    def idle_meanwhile(box):
        assert box is not None and box.objectName() == "lock_question"
        window.locker.idle.set_interval_ms(50)
        qtbot.waitUntil(lambda: window.locker.locked, timeout=3000)
        assert not box.isVisible()

    seen = run_in_dialog(qtbot, idle_meanwhile)
    window.locker.idle.set_interval_ms(60_000)
    assert window.locker.request_lock() is True
    assert seen["dialog"] is not None and window.locker.locked
    assert QApplication.activeModalWidget() is None
    window.locker.unlock()
    assert not window.locker._hidden and not seen["dialog"].isVisible()


def test_the_title_stays_locked_while_vital_signs_are_due(qtbot, window):
    """The window's vital-signs title ("! " every second) never puts back the unlocked title,
    and the strip over the pages is hidden with them; the lock screen says it instead."""
    window.locker.lock_now()
    qtbot.wait(1300)  # the window's due clock ticks
    assert window.windowTitle() == "! " + lock_module.LOCKED_TITLE
    assert not window.due_strip.isVisible() and window.locker.screen.due.isVisible()
    window.locker.unlock()
    window.update_due()
    assert window.windowTitle().startswith("! ") and "locked" not in window.windowTitle()
    assert window.due_strip.isVisible()


def test_lock_now_asks_exactly_when_quitting_would(qtbot, window, record):
    """Stopped for a reaction the infusion is no longer running (the quit question does not
    ask): Lock now locks at once, and the lock screen says it is stopped and when the observation
    ends (issue 27: not the minutes since the start)."""
    _, visit = record
    window.store.add_infusion_event(visit, kind="stop", volume_ml=20, reason="reaction")
    window.visit_page.infusion_tab.refresh()
    assert not window.infusion_running()
    assert window.locker.request_lock() and window.locker.locked
    assert "has been stopped: observation until" in window.locker.screen.infusion.text()


def test_no_infusion_no_notice(qtbot, tmp_path):
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        store.set_nurse_profile("Maria Santos", "RN")
    store = Store.open(path)
    win = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.locker.lock_now()
    assert not win.locker.screen.due.isVisible() and not win.locker.screen.infusion.isVisible()
    win.close()
    store.close()


def test_wrong_attempts_are_throttled_never_locked_out_and_audited(qtbot, window, monkeypatch):
    now = [1000.0]
    screen = window.locker.screen
    monkeypatch.setattr(screen, "_clock", lambda: now[0])
    window.locker.lock_now()
    rules = security.policy()
    waits = []
    for _attempt in range(rules.free_attempts + 4):
        screen.field.setText("wrong passphrase!")
        assert screen.attempt() is False
        waits.append(screen.seconds_to_wait())
        if waits[-1]:
            assert not screen.field.isEnabled() and "Try again in" in screen.message.text()
            screen.field.setText(TEST_PASSPHRASE)  # even the right one waits
            assert screen.attempt() is False and window.locker.locked
            now[0] += waits[-1]  # ... but only for a while
            screen.update_state()
            assert screen.field.isEnabled()
    assert waits[: rules.free_attempts] == [0.0] * rules.free_attempts
    growing = waits[rules.free_attempts - 1 :]
    assert growing == sorted(growing) and growing[-1] > growing[1] > 0
    assert max(waits) <= rules.max_delay_s
    screen.field.setText(TEST_PASSPHRASE)
    assert screen.attempt() is True and not window.locker.locked
    [entry] = [a for a in window.store.audit_entries() if a["table_name"] == "security"]
    assert entry["author"] == "Maria Santos, RN"
    assert "wrong passphrase attempts" in str(entry["after"]) and str(len(waits)) in str(entry["after"])


def test_a_wrong_guess_leaves_no_derived_key_in_memory():
    salt = b"0123456789abcdef"
    assert not lock_module.passphrase_matches("wrong guess, nearly it", TEST_PASSPHRASE, salt)
    assert lock_module.passphrase_matches(TEST_PASSPHRASE, TEST_PASSPHRASE, salt)
    kept = {p for p, _ in keys._derived}
    assert TEST_PASSPHRASE in kept and "wrong guess, nearly it" not in kept


def test_throttle_delays_grow_and_are_capped():
    rules = security.policy()
    delays = [security.throttle_delay(n) for n in range(1, 30)]
    assert delays[: rules.free_attempts] == [0.0] * rules.free_attempts and delays[rules.free_attempts] > 0
    assert delays == sorted(delays) and delays[-1] == rules.max_delay_s


def test_no_passphrase_in_logs_settings_or_files(qtbot, window, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    window.locker.lock_now()
    window.locker.screen.field.setText("a wrong guess here")
    window.locker.screen.attempt()
    window.locker.screen.field.setText(TEST_PASSPHRASE)
    window.locker.screen.attempt()
    window.locker.set_idle_minutes(15)
    window.settings.sync()
    ini = (tmp_path / "ui.ini").read_text(encoding="utf-8")
    assert "idle_lock_minutes=15" in ini
    for secret in (TEST_PASSPHRASE, "a wrong guess here"):
        assert secret not in ini and secret not in caplog.text
        for file in tmp_path.rglob("*"):
            if file.is_file():
                assert secret.encode() not in file.read_bytes(), file
    default = QSettings()
    assert not any(TEST_PASSPHRASE in str(default.value(k)) for k in default.allKeys())


def test_idle_minutes_setting_is_clamped_with_a_resource_default(window):
    rules = security.policy()
    assert lock_module.idle_minutes(window.settings) == rules.idle_default_minutes == 10
    assert window.locker.idle.timer.interval() == 10 * 60_000
    assert window.locker.set_idle_minutes(0) == rules.idle_min_minutes == 1
    assert window.locker.set_idle_minutes(500) == rules.idle_max_minutes == 60
    assert window.locker.idle.timer.interval() == 60 * 60_000


# --------------------------------------------------------------------------- at start


def test_first_run_chooses_a_passphrase_with_the_rules(qtbot, tmp_path):
    dialog = StartDialog(tmp_path / "new.db")
    qtbot.addWidget(dialog)
    assert dialog.mode == "new"
    form: PassphraseForm = dialog.form
    assert "cannot be recovered" in dialog.findChild(QLabel, "forgotten_warning").text()
    for typed, again, problem in (
        ("short", "short", "at least 10"),
        ("password123", "password123", "too common"),
        ("aaaaaaaaaaaa", "aaaaaaaaaaaa", "repeats"),
        ("blue kettle stairs", "blue kettle stair", "differ"),
    ):
        form.first.setText(typed)
        form.second.setText(again)
        form.submit()
        assert problem in form.problem.text() and dialog.passphrase is None
    form.first.setText("blue kettle stairs")
    assert form.strength.text().startswith(("fair", "good", "strong"))
    form.second.setText("blue kettle stairs")
    form.submit()
    assert dialog.passphrase == "blue kettle stairs" and dialog.result() == dialog.DialogCode.Accepted


def test_an_encrypted_record_asks_for_its_passphrase_and_a_plain_one_for_a_new_one(qtbot, record, tmp_path):
    path, _ = record
    keys.lock()  # as at start: nothing unlocked yet
    dialog = StartDialog(path)
    qtbot.addWidget(dialog)
    assert dialog.mode == "unlock" and isinstance(dialog.form, UnlockScreen)
    dialog.form.field.setText("not it at all")
    assert dialog.form.attempt() is False and not keys.is_unlocked()
    dialog.form.field.setText(TEST_PASSPHRASE)
    assert dialog.form.attempt() is True and dialog.passphrase == TEST_PASSPHRASE
    assert len(dialog.form.take_failures()) == 1
    plain = tmp_path / "plain.db"
    shutil.copy(__import__("store_helpers").V1_FIXTURE, plain)
    assert crypto.is_plain(plain)
    assert StartDialog(plain).mode == "encrypt"


def test_a_profile_name_change_is_audited_under_the_previous_name(tmp_path):
    with Store.open(tmp_path / "r.db") as store:
        store.set_nurse_profile("Maria Santos", "RN")
        store.set_nurse_profile("Maria Santos", "RN")  # unchanged: nothing to audit
        store.set_nurse_profile("Someone Else", "RN")
        entries = [a for a in store.audit_entries() if a["table_name"] == "nurse_profile"]
        assert len(entries) == 1
        assert entries[0]["author"] == "Maria Santos, RN"
        assert "Someone Else" in str(entries[0]["after"]) and "Maria Santos" in str(entries[0]["before"])


def test_start_encrypts_a_plain_record_with_the_passphrase_chosen(qtbot, tmp_path, monkeypatch):
    """run_gui's first step on a record of an older version: choose a passphrase, encrypt."""
    from nurse_app.ui import app

    plain = tmp_path / "record.db"
    shutil.copy(__import__("store_helpers").V1_FIXTURE, plain)
    keys.lock()
    chosen = "mossy garden gate at noon"

    def fill(dialog):
        assert dialog.mode == "encrypt"
        dialog.form.first.setText(chosen)
        dialog.form.second.setText(chosen)
        dialog.form.submit()
        return dialog.result()

    monkeypatch.setattr(StartDialog, "exec", fill)
    assert app.unlock_at_start(str(plain)) == []
    store = app.open_record(str(plain))
    try:
        assert store.find_patients("zoe")
    finally:
        store.close()
    assert not crypto.is_plain(plain)
    with pytest.raises(crypto.WrongPassphraseError):
        crypto.connect(plain, passphrases=[TEST_PASSPHRASE])
    crypto.connect(plain, passphrases=[chosen]).close()
