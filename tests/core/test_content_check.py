"""Content is validated in full by tests and --selftest; start-up checks a fingerprint.

A fingerprint recorded after a full validation lets later starts skip it, but any change
to any content file changes the fingerprint, so broken content is still refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from repo_paths import ROOT

from nurse_app.core.content import CONTENT_SETS, validate_all

CHECK = """
import pathlib, sys
import nurse_app.core.resources as r
root = pathlib.Path(sys.argv[1])
r.resource_root = lambda: root
from nurse_app.core.content import check_content
from nurse_app.core.errors import ResourceError
try:
    print("validated" if check_content() else "fingerprint matched")
except ResourceError as exc:
    print(f"refused: {exc}")
"""


def test_every_packaged_resource_is_valid():
    lines = validate_all()
    assert len(lines) == len(CONTENT_SETS)


@pytest.fixture
def content_copy(tmp_path):
    copy = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", copy, ignore=shutil.ignore_patterns("__pycache__"))

    def start() -> str:
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
        p = subprocess.run(
            [sys.executable, "-c", CHECK, str(copy)], capture_output=True, text=True, timeout=120, env=env
        )
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    return copy, start


@pytest.mark.slow
def test_start_up_validates_once_then_checks_the_fingerprint(content_copy):
    _copy, start = content_copy
    assert start() == "validated"
    assert start() == "fingerprint matched"
    assert start() == "fingerprint matched"


@pytest.mark.slow
def test_changed_content_is_validated_again_and_broken_content_refused(content_copy):
    copy, start = content_copy
    assert start() == "validated"
    products = copy / "products.toml"
    text = products.read_text(encoding="utf-8")
    broken = text.replace("max_mg_kg_min = ", 'max_mg_kg_min = "fast" # ', 1)
    assert broken != text
    products.write_text(broken, encoding="utf-8")
    result = start()
    assert result.startswith("refused: resources/products.toml"), result
    products.write_text(text + "\n# a harmless comment\n", encoding="utf-8")
    assert start() == "validated"
    assert start() == "fingerprint matched"
