"""Finding and reading the packaged content in ``resources/``.

The content ships inside the installed package as ``nurse_app.resources`` (see
``pyproject.toml``), so the same code works from a checkout, an editable install
and a wheel.  :class:`Fields` wraps one TOML table and checks types and ranges,
raising :class:`ResourceError` messages that name the file and the field path.
"""

from __future__ import annotations

import tomllib
from importlib import resources as _ilr
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Iterator

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
        raise ResourceError("The app's content folder (resources) is missing from the installation.")


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


_MISSING = object()

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


class Fields:
    """Typed, range-checked access to one table of a resource file.

    ``Fields(data, "resources/products.toml", "product[3]")`` then
    ``f.number("max_mg_kg_min", minimum=0)`` returns the value or raises a
    :class:`ResourceError` such as ``resources/products.toml: product[3].max_mg_kg_min:
    expected a number greater than 0, got "fast"``.
    """

    def __init__(self, data: Any, file: str, path: str = ""):
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            self.fail("expected a table")
        self.data: dict[str, Any] = data

    def where(self, key: str | None = None) -> str:
        if key is None:
            return self.path or "(top level)"
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str, key: str | None = None) -> None:
        raise ResourceError(f"{self.file}: {self.where(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.fail("required field is missing", key)
        return default

    def text(self, key: str, default: Any = _MISSING, *, choices: tuple[str, ...] | None = None) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(f"expected non-empty text, got {value!r}", key)
        if choices is not None and value not in choices:
            self.fail(f"expected one of {', '.join(choices)}, got {value!r}", key)
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        return self.check_number(value, key, minimum=minimum, maximum=maximum,
                                 exclusive_minimum=exclusive_minimum)

    def check_number(self, value: Any, key: str, *, minimum=None, maximum=None,
                     exclusive_minimum: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"expected a number, got {value!r}", key)
        if value != value:  # NaN
            self.fail("expected a number, got NaN", key)
        if minimum is not None:
            if exclusive_minimum and not value > minimum:
                self.fail(f"expected a number greater than {minimum}, got {value!r}", key)
            if not exclusive_minimum and not value >= minimum:
                self.fail(f"expected a number of at least {minimum}, got {value!r}", key)
        if maximum is not None and not value <= maximum:
            self.fail(f"expected a number of at most {maximum}, got {value!r}", key)
        return value

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None,
                maximum: int | None = None) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"expected a whole number, got {value!r}", key)
        return self.check_number(value, key, minimum=minimum, maximum=maximum)

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if not isinstance(value, bool):
            self.fail(f"expected true or false, got {value!r}", key)
        return value

    def text_list(self, key: str, default: Any = _MISSING, *, non_empty: bool = True) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(f"expected a list of texts, got {value!r}", key)
        if non_empty and not value:
            self.fail("expected at least one entry", key)
        return list(value)

    def number_list(self, key: str, default: Any = _MISSING, *, minimum: float | None = None,
                    exclusive_minimum: bool = False) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        if not isinstance(value, list) or not value:
            self.fail(f"expected a non-empty list of numbers, got {value!r}", key)
        return [self.check_number(v, f"{key}[{i}]", minimum=minimum,
                                  exclusive_minimum=exclusive_minimum)
                for i, v in enumerate(value)]

    def table(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if value is default and key not in self.data:
            return value
        return Fields(value, self.file, self.where(key))

    def tables(self, key: str, *, non_empty: bool = True) -> Iterator["Fields"]:
        value = self._get(key, _MISSING)
        if not isinstance(value, list):
            self.fail("expected a list of tables ([[...]])", key)
        if non_empty and not value:
            self.fail("expected at least one entry", key)
        for i, item in enumerate(value):
            yield Fields(item, self.file, f"{self.where(key)}[{i}]")

    def sources_table(self, key: str = "sources") -> dict[str, str]:
        """The file's ``[sources]`` table: citation key -> full citation.

        Every key must also have a class in the ``[source_class]`` table (one of
        :data:`SOURCE_CLASSES`); a source without one is refused.
        """
        table = self.table(key)
        sources = {k: table.text(k) for k in table.data}
        self.source_classes(sources)
        return sources

    def source_classes(self, sources: dict[str, str]) -> dict[str, str]:
        """The ``[source_class]`` table, checked against ``sources``: key -> class."""
        if "source_class" not in self.data:
            self.fail("the [source_class] table is missing (every source needs a class: "
                      + ", ".join(SOURCE_CLASSES) + ")")
        classes = self.table("source_class")
        for k in sources:
            if k not in classes.data:
                classes.fail(f"source {k!r} has no class (one of {', '.join(SOURCE_CLASSES)})")
            classes.text(k, choices=SOURCE_CLASSES)
        extra = sorted(set(classes.data) - set(sources))
        if extra:
            classes.fail(f"{', '.join(extra)}: not listed in [sources]")
        return {k: classes.data[k] for k in sources}

    def source_keys(self, key: str, known: dict[str, str], default: Any = _MISSING, *,
                    non_empty: bool = True) -> tuple[str, ...]:
        """A list of citation keys, each of which must be listed in ``known`` ([sources])."""
        keys = self.text_list(key, default, non_empty=non_empty)
        for k in keys:
            if k not in known:
                self.fail(f"source {k!r} is not listed in [sources]", key)
        return tuple(keys)

    def unknown_keys(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            self.fail(f"unknown field(s) {', '.join(extra)} (typo?)")


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
