"""Every file or folder that ARCHITECTURE.md and CONTRIBUTING.md name exists, so the
documents cannot silently go stale when code moves.

A path is any `code span` token such as ``nurse_app/store/schema.py``, ``tests/conftest.py``,
``resources/products.toml`` or, inside the package, ``store/schema.py`` / ``ui/visit/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
DOCS = ("ARCHITECTURE.md", "CONTRIBUTING.md")
TOP = ("nurse_app", "tests", "resources", "packaging", "docs", ".ci", "benchmarks")
LAYERS = ("core", "store", "services", "reports", "ui", "cli")
_SPAN = re.compile(r"`([^`\n]+)`")
_TOKEN = re.compile(r"[\w.][\w./-]*/[\w./-]*")


def named_paths(text: str) -> list[str]:
    found = []
    for span in _SPAN.findall(text):
        for token in _TOKEN.findall(span):
            token = token.rstrip(".,")
            first = token.split("/")[0]
            if first in TOP:
                found.append(token)
            elif first in LAYERS:
                found.append(f"nurse_app/{token}")
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_named_in_the_document_exists(doc):
    paths = named_paths((ROOT / doc).read_text(encoding="utf-8"))
    assert any(p.startswith("nurse_app/") for p in paths)
    missing = sorted({p for p in paths if not (ROOT / p).exists()})
    assert missing == [], f"{doc} names paths that do not exist: {missing}"


def test_the_readme_links_both_documents():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in DOCS:
        assert f"]({doc})" in readme


def test_paths_are_found_in_code_spans_only():
    text = (
        "Run `store/schema.py` and `nurse_app/ui/visit/page.py:12`; see `tests/conftest.py`, "
        "not store/api.py; `make test`, `/tmp/x/y.png`, `resources/`."
    )
    assert named_paths(text) == [
        "nurse_app/store/schema.py",
        "nurse_app/ui/visit/page.py",
        "tests/conftest.py",
        "resources/",
    ]
