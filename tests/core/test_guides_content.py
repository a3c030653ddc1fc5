"""Content validation of every shipped guide in resources/guides.

Parametrised per file, so a broken guide fails under its own name with the
loader's message (file + problem).  Also checks the guide set is complete and the
contract's ISMP number style, which the loader does not enforce (a style slip
should fail CI, not stop the app from starting).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nurse_app.core.guides import REQUIRED_SECTIONS, guide_links, known_regimen_ids, load_guides, parse_guide
from nurse_app.core.resources import resource_path

GUIDE_DIR = Path(str(resource_path("guides")))
FILES = sorted(GUIDE_DIR.glob("*.md"))
EXPECTED_IDS = {
    "dermatomyositis",
    "pemphigoid",
    "pemphigus",
    "primary-immunodeficiency",
    "cidp",
    "itp",
    "multifocal-motor-neuropathy",
    "guillain-barre-syndrome",
    "myasthenia-gravis",
    "kawasaki-disease",
    "ivig-therapy",
}

LEADING_DOT = re.compile(r"(?<![\w.])\.\d")  # .5 instead of 0.5
TRAILING_ZERO = re.compile(r"(?<![\w.])\d+\.0(?![\d.])")  # 2.0 instead of 2
DASH_RANGE = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?[–-]\s?\d+(?:\.\d+)?\s?(?:g|mg|mL|kg|h|hours?|"
    r"days?|weeks?|months?|years?|%|mg/kg|g/kg)\b"
)
UNSAFE_UNITS = re.compile(r"\b(?:cc|µg|μg|q\.?d\.?|qod)\b")


@pytest.fixture(scope="module")
def regimen_ids():
    return known_regimen_ids()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_guide_file_is_valid(path, regimen_ids):
    """The loader's full validation of this one file (sections, sources, citations, links...)."""
    guide = parse_guide(
        path.read_text(encoding="utf-8"), f"resources/guides/{path.name}", path.stem, regimen_ids
    )
    assert tuple(s.title for s in guide.sections) == REQUIRED_SECTIONS
    assert guide.call_list(), "the call-your-nurse list is empty"
    assert all(item.strip() for item in guide.call_list())
    ids = {p.stem for p in FILES}
    missing = (set(guide.related) | guide_links(guide)) - ids
    assert not missing, f"{path.name}: links to missing guide(s) {sorted(missing)}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_guide_numbers_follow_ismp(path):
    body = path.read_text(encoding="utf-8").split("+++", 2)[-1]
    for rule, pattern in (
        ("leading zero missing", LEADING_DOT),
        ("trailing zero", TRAILING_ZERO),
        ("range written with a dash, use 'to'", DASH_RANGE),
        ("error-prone abbreviation", UNSAFE_UNITS),
    ):
        found = [m.group(0) for m in pattern.finditer(body)]
        assert not found, f"{path.name}: {rule}: {found}"


def test_all_guides_load_together():
    """Cross-guide checks (related ids, guide: links) and the full guide set."""
    guides = load_guides()
    assert set(guides) == EXPECTED_IDS
    assert {p.stem for p in FILES} == EXPECTED_IDS


def test_every_condition_guide_links_to_the_calculator(regimen_ids):
    for guide in load_guides().values():
        assert set(guide.regimens) <= regimen_ids
        if guide.id != "ivig-therapy":
            assert guide.regimens, f"{guide.file}: no regimen for the dose calculator"
