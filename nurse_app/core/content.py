"""Every packaged content set, loaded and validated in one call (start-up and --selftest).

Each entry names a loader ``module:function`` that raises ResourceError on a broken
file and returns the loaded content; ``describe`` says what was found.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path


@dataclass(frozen=True)
class ContentSet:
    name: str
    loader: str  # "package.module:function"
    describe: Callable[[Any], str]


CONTENT_SETS: tuple[ContentSet, ...] = (
    ContentSet(
        "IVIG catalogue (products, regimens, limits)",
        "nurse_app.core.catalogue:load_catalogue",
        lambda c: f"{len(c.products)} products, {len(c.regimens)} regimens",
    ),
    ContentSet("Condition guides", "nurse_app.core.guides:load_guides", lambda g: f"{len(g)} guides"),
    ContentSet(
        "Handout translations",
        "nurse_app.core.guides:load_translations",
        lambda t: ", ".join(f"{lang}: {len(g)} handouts" for lang, g in sorted(t.items())) or "none",
    ),
    ContentSet(
        "Visit checklist templates",
        "nurse_app.core.checklists:list_templates",
        lambda t: ", ".join(f"{x.id} v{x.version} ({len(x.items)} items)" for x in t),
    ),
    ContentSet(
        "Vital-sign ranges and flags", "nurse_app.core.vitals:vital_measures", lambda m: f"{len(m)} measures"
    ),
    ContentSet(
        "Reaction guidance",
        "nurse_app.core.reactions:load_reactions",
        lambda r: f"{len(r.kinds)} kinds, {len(r.severities)} severities",
    ),
    ContentSet(
        "Vital-signs timing",
        "nurse_app.core.monitoring:load_monitoring",
        lambda m: f"every {m.at_max_rate_every_minutes:g} min at the maximum rate",
    ),
    ContentSet(
        "Schedule and follow-up rules",
        "nurse_app.core.schedule:load_followups",
        lambda f: f"{len(f.rules)} rules, tolerance {f.tolerance_days} days",
    ),
    ContentSet(
        "Proof of visit (IV line, site scales, signature, EVV)",
        "nurse_app.core.visit_proof:load_rules",
        lambda r: f"{len(r.devices)} access devices, {len(r.scales)} site scales",
    ),
    ContentSet(
        "Verification record",
        "nurse_app.core.content_report:verification_counts",
        lambda v: f"{v.get('items', 0)} re-checked items" if v else "none in this installation",
    ),
)


def load(content: ContentSet) -> Any:
    module, func = content.loader.split(":")
    return getattr(importlib.import_module(module), func)()


def validate_all() -> list[str]:
    """Load every content set (with the agency policy applied); returns one line per set.
    Raises ResourceError on the first broken one."""
    from nurse_app.core import policy

    active = policy.validate_policy()
    lines = [f"{c.name}: {c.describe(load(c))}" for c in CONTENT_SETS]
    if active.active:
        lines.append(
            f"Agency policy: {active.path} ({len(active.values)} settings, "
            f"{len(active.checklist_required) + len(active.checklist_added)} checklist changes)"
        )
    return lines


# ---------------------------------------------------------------- start-up check
#
# Full validation (above) parses every file (all guides through markdown-it): ~0.25 s.
# The content only changes when the app is installed or updated, so start-up checks a
# fingerprint of it instead: when the fingerprint matches one recorded after a full
# validation passed (the frozen build records one at build time; otherwise the first
# start records one in the user cache folder), validation is skipped.  Any change to
# any content file, or to the app version (and, from a source checkout, to the loaders'
# code), changes the fingerprint, and that start validates in full again.  --selftest
# and the test suite always validate in full.

STAMP_NAME = "content-validated.sha256"
_CONTENT_SUFFIXES = (".toml", ".md")


def _content_files(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(node.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if not entry.name.startswith(("_", ".")):
                yield from _content_files(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(_CONTENT_SUFFIXES):
            yield f"{prefix}{entry.name}", entry


def _loader_sources() -> list[bytes]:
    """Source of the modules that validate content (absent in a frozen build)."""
    import importlib.util

    sources = []
    modules = [content.loader.split(":")[0] for content in CONTENT_SETS]
    modules += ["nurse_app.core.resource_models", "nurse_app.core.resources", "nurse_app.core.policy"]
    for module in modules:
        spec = importlib.util.find_spec(module)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py"):
            try:
                with open(origin, "rb") as f:
                    sources.append(f.read())
            except OSError:
                pass
    return sources


def content_fingerprint(*, with_code: bool | None = None) -> str:
    """SHA-256 over the app version, every content file (path and bytes) and the loaders' code.

    ``with_code`` None: include the loaders' source when the app runs from source
    (not frozen).  The frozen build records its fingerprint with ``with_code=False``.
    """
    import hashlib
    import sys

    from nurse_app import __version__
    from nurse_app.core.resources import resource_root

    if with_code is None:
        with_code = not getattr(sys, "frozen", False)
    digest = hashlib.sha256(f"nurse-app {__version__}\0".encode())
    for name, entry in _content_files(resource_root()):
        data = entry.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    if with_code:
        for source in _loader_sources():
            digest.update(source)
    return digest.hexdigest()


def _stamp_files() -> list[Path]:
    from pathlib import Path

    from platformdirs import user_cache_dir

    from nurse_app.core.resources import resource_root

    stamps = []
    root = resource_root()
    if isinstance(root, Path):
        stamps.append(root / STAMP_NAME)  # written into the frozen build
    stamps.append(Path(user_cache_dir("nurse-app", appauthor=False)) / STAMP_NAME)
    return stamps


def check_content() -> bool:
    """Start-up check: validate in full unless this exact content already passed.

    Returns True when a full validation ran (and passed).  Raises ResourceError as
    :func:`validate_all` does.  Recording the fingerprint is best effort (a read-only
    cache folder only means the next start validates again).
    """
    fingerprint = content_fingerprint()
    from nurse_app.core.policy import load_policy

    policy_digest = load_policy().digest  # an agency policy file is content too (issue 15)
    if policy_digest:
        import hashlib

        fingerprint = hashlib.sha256(f"{fingerprint}\0policy\0{policy_digest}".encode()).hexdigest()
    from nurse_app.core.resources import trust_validated_content

    stamps = _stamp_files()
    for stamp in stamps:
        try:
            if stamp.read_text(encoding="ascii").strip() == fingerprint:
                # The loaders skip their per-file validation for this content (and this policy):
                # a normal start never imports the validation models.
                trust_validated_content(policy_digest)
                return False
        except (OSError, UnicodeDecodeError):
            continue
    validate_all()
    record_fingerprint(stamps[-1], fingerprint)
    return True


def record_fingerprint(stamp: Path, fingerprint: str) -> None:
    from nurse_app.core.files import write_atomically

    with contextlib.suppress(OSError):  # no stamp only means validating again next time
        stamp.parent.mkdir(parents=True, exist_ok=True)
        write_atomically((fingerprint + "\n").encode("ascii"), stamp)
