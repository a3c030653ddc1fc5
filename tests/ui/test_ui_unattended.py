"""Issue 27, blocker: the window left alone with a stopped infusion in observation must not die.

The crash (``Fatal Python error: none_dealloc``, in the Infusion tab's once-a-second clock) was
PySide6 6.12.0 on CPython 3.11 losing a reference to ``None`` at every void call: the clocks'
few dozen calls a second drained it in minutes (``nurse_app/ui/none_guard.py``). These tests drive
the real window's clocks, unlocked and locked, and check that ``None`` survives a long unattended
stretch; the 30-minute run at the real timer rate is ``test_soak.py`` (marker ``slow``).
"""

import sys
import tomllib

from qt_helpers import open_main_window
from repo_paths import ROOT
from walk_helpers import make_record, open_infusion, wait_until

from nurse_app.services.infusion import record_infusion_event

TICKS_PER_DAY = 24 * 3600
ROUNDS = 100


def _one_second_of_clocks(window) -> None:
    """What the timers run once a second: the Infusion tab's clock, the vital-signs strip and
    title, the lock screen's notice."""
    window.visit_page.infusion_tab._tick()
    window.update_due()
    window.locker.screen.update_state()


def _none_lost_per_second(window) -> float:
    before = sys.getrefcount(None)
    for _ in range(ROUNDS):
        _one_second_of_clocks(window)
    return (before - sys.getrefcount(None)) / ROUNDS


def test_a_stopped_infusion_in_observation_survives_a_day_unattended(qtbot, tmp_path):
    path = tmp_path / "record.db"
    pid = make_record(path)
    window, store = open_main_window(qtbot, path, tmp_path)
    vid = open_infusion(window, pid)
    record_infusion_event(store, vid, "stop", volume_ml=40, reason="stopped for a reaction")
    window.visit_page.ctx.changed.emit("events")
    tab = window.visit_page.infusion_tab
    wait_until(lambda: tab.isVisible())
    assert "Stopped after" in tab.status.text()
    assert tab.plan.rowCount() > 1  # the clock marks the plan's rows every second

    unlocked = _none_lost_per_second(window)
    window.locker.lock_now()  # the idle lock engaging, as after 8 minutes away
    locked = _none_lost_per_second(window)
    window.locker.unlock()
    worst = max(unlocked, locked)
    left = sys.getrefcount(None)
    assert left - worst * TICKS_PER_DAY > 0, (
        f"None loses {worst:.0f} references a second of the clocks and has {left}: "
        f"the process would abort after {left / max(worst, 1) / 60:.0f} min"
    )


def test_the_record_never_installs_the_pyside6_release_that_frees_none():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pyside = [d for d in project["dependencies"] if d.lower().startswith("pyside6")]
    old_pythons = [d for d in pyside if "python_version < '3.12'" in d or 'python_version < "3.12"' in d]
    assert old_pythons and all("!=6.12.0" in d for d in old_pythons), pyside


def _second_patient_with_a_voided_visit(store) -> int:
    from nurse_app.services import visits

    pid = store.create_patient(
        mrn="M-28",
        name="Ana Lima",
        date_of_birth="1970-03-03",
        sex="female",
        height_cm=160,
        indication="dermatomyositis",
    )
    store.add_weight(pid, 60, measured_on="2025-12-20")
    store.create_order(
        pid,
        product_id="octagam-10",
        regimen_id="dermatomyositis",
        start_date="2026-01-01",
        prescriber="Dr. C",
    )
    vid = visits.start_or_reopen(store, pid).visit_id
    visits.void_draft(store, vid, "opened for the wrong patient")
    return vid


def test_after_an_abnormal_exit_the_next_start_says_so_and_reopens_the_running_infusion(qtbot, tmp_path):
    import subprocess

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from nurse_app.ui import run_marker

    logs = tmp_path / "logs"
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, faulthandler; from nurse_app.ui import run_marker; "
            "run_marker.begin(sys.argv[1]); faulthandler._sigabrt()",
            str(logs),
        ],
        capture_output=True,
        check=False,
    )
    assert crashed.returncode != 0

    path = tmp_path / "record.db"
    pid = make_record(path)
    first, store = open_main_window(qtbot, path, tmp_path)
    running = open_infusion(first, pid)
    voided = _second_patient_with_a_voided_visit(store)
    first.visit_page.open_visit(voided)  # the last visit looked at was the voided one
    first.visit_page.shutdown()
    first.settings.sync()
    first.hide()
    assert QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat).value(first._visit_key()) is not None

    previous = run_marker.begin(logs)
    try:
        assert previous is not None and previous.fault_log is not None
        assert "Fatal Python error" in previous.fault_log.read_text(encoding="utf-8")
        window, _store = open_main_window(qtbot, path, tmp_path)
        assert window.visit_page.visit_id == running  # the running infusion, never the voided visit
        assert window.current_page() == "visit"
        assert window.visit_page.tabs.currentWidget() is window.visit_page.infusion_tab
        seen = {}

        def read_notice():
            box = QApplication.activeModalWidget()
            if box is not None and box.objectName() == "unexpected_close":
                seen["text"] = box.text()
                box.accept()

        poll = QTimer(window, interval=20)  # fires inside the box's own event loop too
        poll.timeout.connect(read_notice)
        poll.start()
        window.report_unexpected_close(previous)
        qtbot.waitUntil(lambda: "text" in seen, timeout=3000)
        poll.stop()
        assert "closed unexpectedly" in seen["text"]
        assert str(previous.fault_log) in seen["text"]
    finally:
        run_marker.end()
    assert not list(logs.glob("run-*.marker"))
