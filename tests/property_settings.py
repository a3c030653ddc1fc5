"""The suite's hypothesis profiles (conftest.py loads one) and each test's number of examples.

* ``ci`` (the default; ``make test``): derandomised, so a run is the same run every time (a
  failure reproduces as is), with a quarter of each test's examples;
* ``thorough`` (``pytest --hypothesis-profile=thorough``; ``.ci/run`` runs every property test
  with it after ``make test``): random examples, each test's full number.

A test's number is written for the thorough profile (``@settings(max_examples=examples(300))``);
a test that names none runs the profile's own (thorough: hypothesis' default of 100).
"""

from __future__ import annotations

import math

from hypothesis import settings

THOROUGH_EXAMPLES = 100  # hypothesis' default: what the tests' own numbers are relative to
CI_EXAMPLES = 25
MIN_EXAMPLES = 10
DEFAULT_PROFILE = "ci"  # even a test with few, slow examples runs this many in every profile

settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES, deadline=None)
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, deadline=None)


def examples(thorough: int) -> int:
    """The examples to run now for a test that runs ``thorough`` in the thorough profile (the same
    share of them as the loaded profile's own number is of the thorough one's)."""
    share = settings.default.max_examples / THOROUGH_EXAMPLES
    return min(thorough, max(MIN_EXAMPLES, math.ceil(thorough * share)))
