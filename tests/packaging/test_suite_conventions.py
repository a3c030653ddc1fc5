"""The suite's own conventions (CONTRIBUTING.md, Tests), checked on the files: the commands that
CI runs run every test, property tests scale with the hypothesis profile, and test files are
named by module or feature."""

from __future__ import annotations

import re

from repo_paths import ROOT

TESTS = ROOT / "tests"


def _recipe(makefile: str, target: str) -> str:
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert match, f"Makefile has no {target} target"
    return match.group(1)


def test_make_test_runs_every_test_on_every_core():
    recipe = _recipe((ROOT / "Makefile").read_text(encoding="utf-8"), "test")
    assert "pytest" in recipe and "-n auto" in recipe and "--dist worksteal" in recipe
    options = recipe.split("pytest", 1)[1]
    assert not re.search(r"\s(-m|-k|--deselect|--ignore)\b", options), "make test must deselect nothing"


def test_ci_runs_make_test_the_thorough_profile_and_the_quick_benchmarks():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.M)
    assert "--hypothesis-profile=thorough" in ci and "-m hypothesis" in ci
    assert "benchmarks/run_all.py --quick" in ci


def test_every_property_test_takes_its_number_of_examples_from_the_profile():
    fixed = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in TESTS.rglob("test_*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"max_examples\s*=\s*\d", line)
    ]
    assert fixed == [], "write max_examples=examples(N) (tests/property_settings.py)"


def test_test_files_are_named_by_module_or_feature_not_by_issue():
    named = [str(p.relative_to(ROOT)) for p in TESTS.rglob("test_*.py") if re.search(r"issue_?\d", p.name)]
    assert named == []
