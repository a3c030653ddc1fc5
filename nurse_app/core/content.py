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
    ContentSet("Condition guides", "nurse_app.core.guides:load_guides", lambda g: f"{len(g)} guides"),
    ContentSet("Visit checklist templates", "nurse_app.core.checklists:list_templates",
               lambda t: ", ".join(f"{x.id} v{x.version} ({len(x.items)} items)" for x in t)),
    ContentSet("Vital-sign ranges and flags", "nurse_app.core.vitals:vital_measures",
               lambda m: f"{len(m)} measures"),
    ContentSet("Reaction guidance", "nurse_app.core.reactions:load_reactions",
               lambda r: f"{len(r.kinds)} kinds, {len(r.severities)} severities"),
    ContentSet("Vital-signs timing", "nurse_app.core.monitoring:load_monitoring",
               lambda m: f"every {m.at_max_rate_every_minutes:g} min at the maximum rate"),
)


def load(content: ContentSet) -> Any:
    module, func = content.loader.split(":")
    return getattr(importlib.import_module(module), func)()


def validate_all() -> list[str]:
    """Load every content set; returns one line per set. Raises ResourceError on the first broken one."""
    return [f"{c.name}: {c.describe(load(c))}" for c in CONTENT_SETS]
