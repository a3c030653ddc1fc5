"""Finding and reading the packaged content in ``resources/``.

The content ships inside the installed package as ``nurse_app.resources`` (see
``pyproject.toml``), so the same code works from a checkout, an editable install
and a wheel.  :func:`validate` checks a parsed file against its pydantic model
(:mod:`nurse_app.core.resource_models`), raising :class:`ResourceError` messages that name
the file and the field path.
"""

from __future__ import annotations

import tomllib
from importlib import resources as _ilr
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from nurse_app.core.errors import ResourceError


def resource_root() -> Traversable:
    """The ``resources`` folder, wherever the package is installed.

    Installed (wheel or editable), it is the ``nurse_app.resources`` package.
    Run from a source checkout (``python -m nurse_app`` or pytest in the repository
    folder, where the plain ``nurse_app/`` folder shadows the installed mapping),
    it is the ``resources/`` folder beside ``nurse_app/``.
    """
    try:
        return _ilr.files("nurse_app.resources")
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / "resources"
        if checkout.is_dir():
            return checkout
        raise ResourceError(
            "The app's content folder (resources) is missing from the installation."
        ) from None


def resource_path(relative: str) -> Traversable:
    node = resource_root()
    for part in relative.split("/"):
        node = node / part
    return node


def load_toml(relative: str) -> tuple[dict[str, Any], str]:
    """Parse ``resources/<relative>`` with the agency policy applied (see :mod:`nurse_app.core.policy`);
    returns the data and a display name.  Every content loader reads through here, so every
    screen, PDF and CLI sees the same values."""
    data, name = read_toml(relative)
    from nurse_app.core import policy

    return policy.apply(relative, data), name


def read_toml(relative: str) -> tuple[dict[str, Any], str]:
    """Parse ``resources/<relative>`` as packaged (no agency policy)."""
    name = f"resources/{relative}"
    node = resource_path(relative)
    if not node.is_file():
        raise ResourceError(f"{name}: file is missing from the installation.")
    try:
        return tomllib.loads(node.read_text(encoding="utf-8")), name
    except tomllib.TOMLDecodeError as exc:
        raise ResourceError(f"{name}: not valid TOML ({exc}).") from exc
    except UnicodeDecodeError as exc:
        raise ResourceError(f"{name}: not UTF-8 text ({exc}).") from exc


# Every source in resources/ carries one of these classes (issue 15).  The rule for choosing
# one is written at the top of each resource file; when unsure a source is "secondary".
SOURCE_CLASSES = ("label", "guideline", "peer-reviewed", "patient-org", "agency-policy", "secondary")
SOURCE_CLASS_NAMES = {
    "label": "FDA label / manufacturer prescribing information",
    "guideline": "professional guideline or consensus",
    "peer-reviewed": "peer-reviewed paper",
    "patient-org": "patient organisation",
    "agency-policy": "agency policy default",
    "secondary": "secondary / unverified",
}
# What a patient handout may print: never secondary sources or AI summaries, nor the app's defaults.
PATIENT_SOURCE_CLASSES = ("label", "guideline", "peer-reviewed", "patient-org")
# What a nurse sees for a source's class.  "secondary" (compendia, provider pages, forums, AI
# summaries...) is a note for the resources' authors (the content report keeps it); at the
# bedside it means one thing: not confirmed, so follow agency policy.
NURSE_UNVERIFIED = "unverified \u2014 follow agency policy"


def nurse_source_wording(source_class: str) -> str:
    """The words a nurse-facing screen, PDF or CLI shows for a source of ``source_class``."""
    if source_class == "secondary" or source_class not in SOURCE_CLASS_NAMES:
        return NURSE_UNVERIFIED
    return SOURCE_CLASS_NAMES[source_class]


# The content fingerprint that passed in this process (resource root, policy digest), set by
# the start-up check when it matched a recorded one: files with that content need no second
# validation, so a normal start never imports the validation models (pydantic).
_trusted: tuple[str, str] | None = None


def trust_validated_content(policy_digest: str | None) -> None:
    """Mark the content in ``resource_root()`` (with the policy of ``policy_digest``) as validated;
    None forgets it (the policy changed, or a test points at other content)."""
    global _trusted
    _trusted = None if policy_digest is None else (str(resource_root()), policy_digest)


def _is_trusted() -> bool:
    if _trusted is None or _trusted[0] != str(resource_root()):
        return False
    from nurse_app.core.policy import load_policy

    return load_policy().digest == _trusted[1]


def validate(kind: str, data: Any, file: str, **context: Any) -> None:
    """Check one parsed content file against its model (:mod:`nurse_app.core.resource_models`);
    raises :class:`ResourceError` naming the file and the field path.  ``context`` carries what
    the rules need from other files (``indications``, ``products``, ``pump_max``...); the file's
    own ``[sources]`` keys are added here.  Skipped when the start-up check already found this
    content validated."""
    if _is_trusted():
        return
    from nurse_app.core import resource_models

    if isinstance(data, dict) and isinstance(data.get("sources"), dict):
        context.setdefault("sources", set(data["sources"]))
    resource_models.check(kind, data, file, **context)


def resource_file(relative: str) -> Path:
    """A packaged file as a filesystem path (fonts and icons are handed to reportlab and Qt by name).

    Every supported installation (checkout, wheel, frozen build) keeps the package on disk;
    a missing file is reported as a broken installation.
    """
    node = resource_path(relative)
    path = Path(str(node))
    if not path.is_file():
        raise ResourceError(f"resources/{relative}: file is missing from the installation.")
    return path
