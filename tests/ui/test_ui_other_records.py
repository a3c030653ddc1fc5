"""Issue 27, major: File ▸ Open record… and New record… open another record in its own window
(a new process that asks for that record's passphrase), and demo data goes into a separate demo
record opened side by side — never mixed into a record that holds patients. Through the real
main window's File menu; the new window's process is really started, then ended here."""

import os
import signal
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from qt_helpers import open_main_window
from walk_helpers import make_record

from nurse_app.ui import record_windows


def _menu_action(window, text):
    [action] = [a for a in window.menuBar().actions()[0].menu().actions() if a.text() == text]
    return action


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


@pytest.fixture
def window(qtbot, tmp_path):
    path = tmp_path / "record.db"
    make_record(path)
    window, _store = open_main_window(qtbot, path, tmp_path)
    yield window
    for process in window.record_processes:  # only the windows this test started
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def _answer_file_dialog(monkeypatch, which: str, chosen: Path):
    asked = []

    def fake(parent, title, start, filter_):
        asked.append(title)
        return str(chosen), filter_

    monkeypatch.setattr(QFileDialog, which, staticmethod(fake))
    return asked


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the new process's environment")
def test_open_record_starts_its_own_window_with_its_own_passphrase(qtbot, window, tmp_path, monkeypatch):
    other = tmp_path / "other.db"
    make_record(other)
    asked = _answer_file_dialog(monkeypatch, "getOpenFileName", other)
    _menu_action(window, "&Open record…").trigger()
    assert "own passphrase" in asked[0]
    [process] = window.record_processes
    qtbot.waitUntil(lambda: Path(f"/proc/{process.pid}/environ").exists(), timeout=5000)
    env = _environ(process.pid)
    assert env["NURSE_APP_DB"] == str(other) and "NURSE_APP_PASSPHRASE" not in env
    assert process.poll() is None  # waiting for the other record's passphrase
    assert Path(window.store.path).name == "record.db"  # this window keeps its own record


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the new process's environment")
def test_new_record_refuses_an_existing_file_and_opens_a_new_one(qtbot, window, tmp_path, monkeypatch):
    from qt_helpers import run_in_dialog

    existing = tmp_path / "record.db"
    _answer_file_dialog(monkeypatch, "getSaveFileName", existing)
    seen = {}
    run_in_dialog(qtbot, lambda dialog: seen.setdefault("text", dialog.text()))
    _menu_action(window, "New reco&rd…").trigger()
    assert "already exists" in seen["text"] and window.record_processes == []
    fresh = tmp_path / "fresh.db"
    _answer_file_dialog(monkeypatch, "getSaveFileName", fresh)
    _menu_action(window, "New reco&rd…").trigger()
    [process] = window.record_processes
    qtbot.waitUntil(lambda: Path(f"/proc/{process.pid}/environ").exists(), timeout=5000)
    assert _environ(process.pid)["NURSE_APP_DB"] == str(fresh)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the new process's environment")
def test_demo_data_goes_into_a_separate_demo_record(qtbot, window, tmp_path):
    patients = len(window.store.find_patients(""))
    _menu_action(window, "Try &demo data…").trigger()
    [process] = window.record_processes
    qtbot.waitUntil(lambda: Path(f"/proc/{process.pid}/environ").exists(), timeout=5000)
    env = _environ(process.pid)
    assert env["NURSE_APP_DB"] == str(tmp_path / record_windows.DEMO_FILENAME)
    assert env[record_windows.DEMO_ENV] == "1"
    assert len(window.store.find_patients("")) == patients  # nothing added to this record
