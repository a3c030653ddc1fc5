"""CI step: the lowest version of every direct dependency really works.

Reads ``[project].dependencies`` from pyproject.toml, pins each one to its floor
(``name>=X`` becomes ``name==X``), installs those pins into a separate virtual
environment (``.venv-lowest``) together with the test tools, installs the app itself
without dependencies, and runs the headless core, store and report tests plus
``nurse-app --selftest`` (which builds the main window offscreen) there.

    python3 .ci/lowest_deps.py [--python python3]

A floor that is too low (an API the code uses is newer) fails here; raise the floor in
pyproject.toml to the first version that has it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-lowest"
# Headless tests of the layers below the UI (core, store, reports, CLI).
TESTS = ["tests/test_dosing_cases.py", "tests/test_dosing_properties.py", "tests/test_catalogue_resources.py",
         "tests/test_formatting.py", "tests/test_visit_logic.py", "tests/test_monitoring_reactions.py",
         "tests/test_guides_content.py", "tests/test_guides_rules.py", "tests/test_guides_search.py",
         "tests/test_guides_handout.py", "tests/test_agency.py", "tests/test_visit_fhir.py",
         "tests/test_visit_summary_data.py", "tests/test_visit_summary_pdf.py", "tests/test_cli_calc.py",
         "tests/test_store_*.py", "tests/test_fonts.py", "tests/test_content_check.py",
         "tests/test_resource_models.py"]


def floors() -> list[str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = []
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][^,;\s]*)\s*", dep)
        if not m:
            raise SystemExit(f"lowest_deps: every dependency needs a plain floor (name>=X), got {dep!r}")
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
    print("lowest allowed versions:", ", ".join(pins), flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    run(args.python, "-m", "venv", str(VENV))
    py = str(VENV / "bin" / "python")
    run(py, "-m", "pip", "install", "-q", "--upgrade", "pip")
    test_tools = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    run(py, "-m", "pip", "install", "-q", *pins, *test_tools)
    run(py, "-m", "pip", "install", "-q", "--no-deps", str(ROOT))
    run(py, "-m", "pip", "check")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    tests = sorted({str(p.relative_to(ROOT)) for pattern in TESTS for p in ROOT.glob(pattern)})
    run(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, cwd=ROOT, env=env)
    # The installed copy (not the checkout) from another folder: imports, content, window.
    elsewhere = VENV / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    run(str(VENV / "bin" / "nurse-app"), "--selftest", cwd=elsewhere, env=env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
