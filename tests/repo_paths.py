"""Where things are, for tests in any folder under tests/ (no ``Path(__file__).parents[N]`` that
breaks when a test file moves)."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent  # tests/
ROOT = TESTS.parent  # the checkout
FIXTURES = TESTS / "fixtures"
GUIDE_FIXTURES = FIXTURES / "guides"
