"""Issue 11 §5: GUI messages never mention command-line flags ("use --db NEW_FILE").

Every string literal under nurse_app/ui/ is scanned for a flag pattern, and the messages the GUI
shows from the store (demo data into a record that holds patients, an unusable record folder)
are read back through the real main window / error objects.
"""

import ast
import re
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from repo_paths import ROOT

from nurse_app.store import Store
from nurse_app.store.errors import DatabaseLocationError
from nurse_app.store.location import ensure_folder
from nurse_app.ui.main_window import MainWindow

UI = ROOT / "nurse_app" / "ui"
# "--db", "--db NEW_FILE", "--patients N": two hyphens and a lower-case word (not "—" or "---").
FLAG = re.compile(r"(?<![-\w])--[a-z][a-z0-9-]*")


def _string_literals(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_string_literal_in_the_ui_names_a_command_line_flag():
    files = sorted(UI.rglob("*.py"))
    assert len(files) > 10
    found = [
        f"{p.relative_to(UI)}:{line}: {text!r}"
        for p in files
        for line, text in _string_literals(p)
        if FLAG.search(text)
    ]
    assert found == []


def test_the_pattern_catches_a_flag():
    assert FLAG.search("demo data goes into a new record file (use --db NEW_FILE).")
    assert not FLAG.search("Dose — 0.5 g/kg ---")


def test_load_demo_data_into_a_record_with_patients_says_so_without_a_flag(qtbot, tmp_path, monkeypatch):
    store = Store.open(tmp_path / "t.db")
    store.set_nurse_profile("Maria Santos", "RN")
    store.create_patient(
        mrn="M-1", name="Ana Lima", date_of_birth="1970-01-01", sex="female", height_cm=160.0
    )
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    shown = []
    # The warning is a static QMessageBox.warning (modal): record what the nurse would read.
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda parent, title, text, *a: shown.append(text))
    )
    window.load_demo_data()  # File > Load demo data
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "already holds patients" in shown[0]
    assert not FLAG.search(shown[0]), shown[0]
    window.close()
    store.close()


def test_record_folder_errors_have_no_flag_in_the_gui_text_but_the_cli_hint_has(tmp_path):
    try:
        ensure_folder(tmp_path / "missing" / "x.db", create=False)
    except DatabaseLocationError as exc:
        assert not FLAG.search(str(exc)), str(exc)
        assert "--db" in exc.cli_hint
    else:
        raise AssertionError("a missing folder was accepted")
