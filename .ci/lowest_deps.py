"""CI step: the lowest version of every direct dependency really works.

Reads ``[project].dependencies`` from pyproject.toml, pins each one to its floor
(``name>=X`` becomes ``name==X``), installs those pins into a separate virtual
environment (``.venv-lowest``) together with the test tools, installs the app itself
without dependencies, and runs the headless core, store and report tests plus
``nurse-app --selftest`` (which builds the main window offscreen) there, then the GUI on the
floor PySide6: ``nurse-app --smoke-test`` offscreen (the real start-up: window shown, painted,
event loop idle) and a small slice of the pytest-qt UI tests (``UI_TESTS``).  The test tools
(the ``test`` extra) are pinned to their floors too, so their lower bounds are tested as well.

    python3 .ci/lowest_deps.py [--python python3]

A floor that is too low (an API the code uses is newer) fails here; raise the floor in
pyproject.toml to the first version that has it.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-lowest"
# Headless tests of the layers below the UI, by folder (core, store, reports, CLI, reliability).
TESTS = ["tests/core", "tests/store", "tests/reports", "tests/cli", "tests/reliability"]
# The GUI on the floor PySide6/pytest-qt: a small real slice (about a minute), not the whole UI
# suite.  Globs under tests/ by file name (any sub-folder), so a move into tests/<area>/ keeps them.
UI_TESTS = [
    "tests/**/test_visit_e2e.py",
    "tests/**/test_ui_layout_sizes.py",
    "tests/**/test_ui_timers.py",
    # pypdfium2's floor: the print path renders the visit summary PDF to a QPrinter.
    "tests/**/test_ui_dark_palette.py::test_printed_visit_summary_stays_dark_on_white_paper",
]


def floors(extra: str | None = None) -> list[str]:
    """``name==floor`` for every dependency (``extra``: of that optional-dependencies group)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["optional-dependencies"][extra] if extra else project["dependencies"]
    from packaging.markers import Marker

    pins = []
    for dep in deps:
        # name>=X, optionally with releases excluded (!=Y) and an environment marker (; python_version...)
        m = re.fullmatch(
            r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][^,;\s]*)((?:\s*,\s*!=\s*[0-9][^,;\s]*)*)\s*(?:;(.*))?",
            dep,
        )
        if not m:
            raise SystemExit(f"lowest_deps: every dependency needs a plain floor (name>=X), got {dep!r}")
        if m.group(4) and not Marker(m.group(4).strip()).evaluate():
            continue  # for another Python
        pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def run(*cmd: str, **kw) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter for the environment")
    args = parser.parse_args()
    pins = floors()
    test_tools = floors("test")
    print("lowest allowed versions:", ", ".join(pins), flush=True)
    print("lowest test tools:", ", ".join(test_tools), flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    run(args.python, "-m", "venv", str(VENV))
    py = str(VENV / "bin" / "python")
    run(py, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(py, "-m", "pip", "install", "-q", *pins, *test_tools)
    run(py, "-m", "pip", "install", "-q", "--no-deps", str(ROOT))
    run(py, "-m", "pip", "check")
    elsewhere = VENV / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    # Settings and the record file of --smoke-test go inside the venv, not the user's own.
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(elsewhere / "data"),
        "XDG_CONFIG_HOME": str(elsewhere / "config"),
    }
    env.pop("PYTHONPATH", None)
    run(
        py,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "auto",
        "--dist",
        "worksteal",  # as make test (the floor of pytest-xdist has it)
        *globbed(TESTS),
        cwd=ROOT,
        env=env,
    )
    # The installed copy (not the checkout) from another folder: imports, content, window.
    run(str(VENV / "bin" / "nurse-app"), "--selftest", cwd=elsewhere, env=env)
    # The GUI on the floor PySide6: the real start (shown, painted, idle), then pytest-qt tests.
    # The record is encrypted: a headless start takes its passphrase from the environment (a
    # throw-away one for this run's own record, never an argument).
    shutil.rmtree(elsewhere / "data", ignore_errors=True)  # a new record for this passphrase
    smoke_env = {**env, "NURSE_APP_PASSPHRASE": "lowest floors " + secrets.token_urlsafe(18)}
    run(str(VENV / "bin" / "nurse-app"), "--smoke-test", cwd=elsewhere, env=smoke_env)
    run(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *globbed(UI_TESTS), cwd=ROOT, env=env)
    return 0


def globbed(patterns: list[str]) -> list[str]:
    """The test files the patterns name; a pattern that names none fails (a stale path)."""
    files = set()
    for entry in patterns:
        pattern, sep, test = entry.partition("::")  # "file glob::test name" runs one test
        found = {str(p.relative_to(ROOT)) + sep + test for p in ROOT.glob(pattern)}
        if not found:
            raise SystemExit(f"lowest_deps: no test file matches {entry!r} (renamed? update the list)")
        files |= found
    return sorted(files)


if __name__ == "__main__":
    raise SystemExit(main())
