"""The layers of ARCHITECTURE.md, checked on every import statement of the package.

Each layer may import only what is below it (core < store < services, ui and cli on top)
and only its own third-party libraries: Qt in ui/, SQLite in store/, reportlab and the FHIR
models in reports/.  reports/ renders plain data: it imports core (the record types among
it) and nothing that reads the record, no store and no services.  Function-level (lazy)
imports count too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
PACKAGE = ROOT / "nurse_app"

QT = {"PySide6"}
SQL = {"sqlite3", "sqlite_utils"}
PDF_FHIR = {"reportlab", "fhir", "pypdfium2"}

# layer -> (nurse_app sub-packages it must not import, third-party packages it must not import)
FORBIDDEN = {
    "core": ({"store", "services", "reports", "ui", "cli"}, QT | SQL | PDF_FHIR),
    "store": ({"services", "reports", "ui", "cli"}, QT | PDF_FHIR),
    "services": ({"ui", "cli"}, QT | SQL | PDF_FHIR),
    "reports": ({"store", "services", "ui", "cli"}, QT | SQL),
    "ui": ({"cli"}, SQL | {"reportlab", "fhir"}),
    "cli": (set(), SQL),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(layer: str) -> list[str]:
    own, third_party = FORBIDDEN[layer]
    out = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in _imports(path):
            parts = module.split(".")
            if (parts[0] == "nurse_app" and len(parts) > 1 and parts[1] in own) or parts[0] in third_party:
                out.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer):
    assert (PACKAGE / layer).is_dir()
    assert _violations(layer) == []


def test_the_check_sees_a_forbidden_import(tmp_path, monkeypatch):
    core = tmp_path / "nurse_app" / "core"
    core.mkdir(parents=True)
    (core / "bad.py").write_text("def f():\n    import sqlite3\n    from nurse_app.ui import app\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "nurse_app")
    assert _violations("core") == [
        "nurse_app/core/bad.py:2 imports sqlite3",
        "nurse_app/core/bad.py:3 imports nurse_app.ui",
    ]


def test_reports_are_refused_the_store_and_the_services(tmp_path, monkeypatch):
    reports = tmp_path / "nurse_app" / "reports"
    reports.mkdir(parents=True)
    (reports / "bad.py").write_text(
        "from nurse_app.store import Store\n"
        "def f():\n    from nurse_app.services.visit_record import load_visit\n"
        "from nurse_app.core.visit_record import VisitRecord\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "nurse_app")
    assert _violations("reports") == [
        "nurse_app/reports/bad.py:1 imports nurse_app.store",
        "nurse_app/reports/bad.py:3 imports nurse_app.services.visit_record",
    ]
