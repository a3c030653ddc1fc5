"""Start-up: ``--smoke-test``, what the window imports, pages built on first show.

The window must be ready about as fast as Qt allows (benchmarks/startup.py measures it
against a bare QMainWindow); these tests pin down the mechanisms that make it so.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from nurse_app.cli import main
from nurse_app.services import visits
from nurse_app.store import Store

HEAVY = ("reportlab", "fhir", "pydantic", "markdown_it")


def run(args: list[str], tmp_path: Path, code: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "nurse_app", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)


def demo_record(tmp_path: Path) -> Path:
    """A small demo record, made in this process (the start-up runs below are the real processes)."""
    record = tmp_path / "record.db"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--db", str(record), "demo-data", "--patients", "4", "--seed", "2"]) == 0
    return record


@pytest.mark.slow
def test_smoke_test_opens_the_record_and_reports_time_to_ready(tmp_path):
    record = demo_record(tmp_path)
    p = run(["--db", str(record), "--smoke-test"], tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    line = p.stdout.strip()
    # Week opens first, unless an infusion is in progress: then its visit (issue 27)
    with Store.open(record) as store:
        running = any(visits.infusion_in_progress(store, v["id"]) for v in store.draft_visits())
    assert line.startswith("ready in ") and f" s (page {'visit' if running else 'week'}, record " in line
    assert 0 < float(line.split()[2]) < 60
    # A normal start records nothing different: the record is intact and still opens.
    p = run(["--db", str(record), "check-db"], tmp_path)
    assert p.returncode == 0, p.stderr


@pytest.mark.slow
def test_smoke_test_failure_is_one_line_and_non_zero(tmp_path):
    bad = tmp_path / "not-a-record.db"
    bad.write_bytes(b"this is not SQLite" * 100)
    for db in (bad, tmp_path / "no-such-folder" / "x.db"):
        p = run(["--db", str(db), "--smoke-test"], tmp_path)
        assert p.returncode == 1, p.stdout + p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("nurse-app: smoke test failed: "), p.stderr
        assert "Traceback" not in p.stderr and not p.stdout.strip()
    assert bad.read_bytes() == b"this is not SQLite" * 100  # never touched


@pytest.mark.slow
def test_smoke_test_takes_no_command(tmp_path):
    p = run(["--smoke-test", "products"], tmp_path)
    assert p.returncode == 2 and "takes no command" in p.stderr


@pytest.mark.slow
def test_main_window_module_does_not_import_reports_fhir_or_markdown(tmp_path):
    code = (
        "import sys; import nurse_app.ui.main_window, nurse_app.ui.app; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    p = run([], tmp_path, code)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]", p.stdout


@pytest.mark.slow
def test_whole_start_up_loads_no_reportlab_fhir_markdown_or_guides(tmp_path):
    """Through the real entry point, up to the first painted page of a real record.

    The first start after installing (or changing content) validates the content in full,
    which parses the guides; every later start only checks the content's fingerprint.
    """
    record = demo_record(tmp_path)
    assert run(["--db", str(record), "--smoke-test"], tmp_path).returncode == 0  # first start
    code = (
        "import sys; from nurse_app.cli import main; rc = main(sys.argv[1:]); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        "or m in ('nurse_app.core.guides', 'nurse_app.ui.guides_page', 'nurse_app.cli.calc', "
        "'sqlite_utils'))); sys.exit(rc)"
    )
    p = run(["--db", str(record), "--smoke-test"], tmp_path, code)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]", p.stdout


def test_pages_are_built_when_first_shown(qtbot, tmp_path):
    from nurse_app.store import Store
    from nurse_app.ui.main_window import MainWindow

    store = Store.open(tmp_path / "r.db")
    window = MainWindow(store=store, settings=QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    assert window.current_page() == "week"  # the Week page opens first (issue 16)
    assert window.is_built("week")
    assert not any(window.is_built(k) for k in ("patients", "visit", "calculator", "guides"))
    window.show_page("guides")
    assert window.is_built("guides") and window.stack.currentWidget() is window.guides
    assert window.guides.objectName() != "" or window.guides.layout() is not None
    assert window.current_page() == "guides"
    # Keyboard shortcut to a page not built yet builds it too.
    window.show_page("calculator")
    assert window.stack.currentWidget() is window.calculator and window.is_built("calculator")
    window.close()
    store.close()
