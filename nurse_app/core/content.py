"""Every packaged content set, loaded and validated in one call (start-up and --selftest).

Each entry names a loader ``module:function`` that raises ResourceError on a broken
file and returns the loaded content; ``describe`` says what was found.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class ContentSet:
    name: str
    loader: str                      # "package.module:function"
    describe: Callable[[Any], str]


CONTENT_SETS: tuple[ContentSet, ...] = (
    ContentSet("IVIG catalogue (products, regimens, limits)", "nurse_app.core.catalogue:load_catalogue",
               lambda c: f"{len(c.products)} products, {len(c.regimens)} regimens"),
)


def load(content: ContentSet) -> Any:
    module, func = content.loader.split(":")
    return getattr(importlib.import_module(module), func)()


def validate_all() -> list[str]:
    """Load every content set; returns one line per set. Raises ResourceError on the first broken one."""
    return [f"{c.name}: {c.describe(load(c))}" for c in CONTENT_SETS]
