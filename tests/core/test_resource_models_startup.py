"""App start and the content models (issue 10 §1): a broken file stops the start with its file
and field; a start whose content already passed never imports the models (pydantic).

Kept apart from test_resource_models.py: these start the real window (``--smoke-test``), which
the lowest-dependency run (.ci/lowest_deps.py) does not cover.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nurse_app.core.resources import resource_root

REAL = Path(str(resource_root()))
EXPECTED = "resources/products.toml: product[0].vial[0].grams: Input should be greater than 0, got -1"


def broken_copy(tmp_path: Path) -> Path:
    """A copy of resources/ whose first product's first vial is -1 g."""
    root = tmp_path / "resources"
    shutil.copytree(REAL, root, ignore=shutil.ignore_patterns("__pycache__"))
    products = root / "products.toml"
    first_vial = '{ grams = 1, ml = 10, source = "P3" }'
    text = products.read_text(encoding="utf-8")
    assert text.index(first_vial) < text.index("[[product]]", text.index("[[product]]") + 1)
    products.write_text(
        text.replace(first_vial, first_vial.replace("grams = 1", "grams = -1"), 1), encoding="utf-8"
    )
    return root


START = """
import pathlib, sys
import nurse_app.core.resources as r
root = pathlib.Path(sys.argv[1])
r.resource_root = lambda: root
from nurse_app import cli
code = cli.main(["--smoke-test", "--db", sys.argv[2]])
print("pydantic imported" if "pydantic" in sys.modules else "pydantic not imported")
sys.exit(code)
"""


def _start(root: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.pop("NURSE_APP_POLICY", None)
    return subprocess.run(
        [sys.executable, "-c", START, str(root), str(tmp_path / "record.db")],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_app_start_refuses_a_broken_file_with_file_and_field(tmp_path):
    p = _start(broken_copy(tmp_path), tmp_path)
    assert p.returncode == 1, p.stdout + p.stderr
    assert EXPECTED in p.stderr and "cannot start" in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.slow
def test_a_start_whose_content_already_passed_never_imports_the_models(tmp_path):
    """Start-up checks a fingerprint; the models (pydantic) are only imported to validate."""
    root = tmp_path / "resources"
    shutil.copytree(REAL, root, ignore=shutil.ignore_patterns("__pycache__"))
    first = _start(root, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "pydantic imported" in first.stdout  # first start: full validation
    second = _start(root, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "pydantic not imported" in second.stdout  # fingerprint matched: nothing re-validated
    products = root / "products.toml"
    products.write_text(
        products.read_text(encoding="utf-8").replace(
            "concentration_percent = 10", "concentration_percent = 10\nconcentraton = 10", 1
        ),
        encoding="utf-8",
    )
    third = _start(root, tmp_path)
    assert third.returncode == 1
    assert "resources/products.toml: product[0].concentraton: unknown field (typo?)" in third.stderr
