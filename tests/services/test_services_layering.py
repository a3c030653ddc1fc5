"""The service layer imports core and store, never Qt (nor SQLite itself: the store owns SQL)."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import nurse_app.services

SERVICES = Path(nurse_app.services.__file__).parent
FORBIDDEN = ("PySide6", "shiboken6", "sqlite3", "sqlite_utils", "nurse_app.ui", "nurse_app.cli", "reportlab")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_service_module_imports_qt_sqlite_ui_or_cli():
    modules = sorted(SERVICES.glob("*.py"))
    assert len(modules) >= 2
    bad = {
        path.name: sorted(
            name for name in _imports(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
        )
        for path in modules
    }
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.slow
def test_importing_every_service_loads_no_qt():
    names = [f"nurse_app.services.{m.name}" for m in pkgutil.iter_modules([str(SERVICES)])]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
